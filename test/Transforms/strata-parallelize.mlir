// Annotation: Megatron roles, grid, axis->fabric mapping.
// RUN: strata-opt %S/Inputs/mlp-block.mlir --strata-set-system=system=dgx-h100 \
// RUN:   --strata-parallelize=tp=8 | FileCheck %s --check-prefix=ANNOTATE

// The pipeline: per-device IR with local matmuls and one all_reduce.
// (sharding-propagation and shard-partition are function passes and need
// the nested --pass-pipeline form.)
// RUN: strata-opt %S/Inputs/mlp-block.mlir --pass-pipeline="builtin.module(strata-set-system{system=dgx-h100},strata-parallelize{tp=8},func.func(sharding-propagation,shard-partition,cse))" \
// RUN:   | FileCheck %s --check-prefix=MLP

// Sequence parallelism: all_gather in, all_reduce + all_slice out.
// RUN: strata-opt %S/Inputs/mlp-block.mlir --pass-pipeline="builtin.module(strata-parallelize{system=dgx-h100 tp=4 sp=true},func.func(sharding-propagation,shard-partition,cse))" \
// RUN:   | FileCheck %s --check-prefix=SP

// Attention with dp x tp on four DGX nodes: heads split, batch split.
// RUN: strata-opt %s --pass-pipeline="builtin.module(strata-parallelize{system=dgx-h100x4 tp=8},func.func(sharding-propagation,shard-partition,cse))" \
// RUN:   | FileCheck %s --check-prefix=ATTN

// Expert parallelism: the token exchange is an all_to_all each way.
// RUN: strata-opt %S/Inputs/moe-experts.mlir --pass-pipeline="builtin.module(strata-parallelize{system=dgx-h100 tp=2 ep=4},func.func(sharding-propagation,shard-partition,cse))" \
// RUN:   | FileCheck %s --check-prefix=MOE

// An explicit axis mapping reorders the grid: dp innermost on NVLink.
// RUN: strata-opt %S/Inputs/mlp-block.mlir --strata-parallelize="system=dgx-h100x4 tp=4 axes=dp=nvlink,tp=ib" \
// RUN:   | FileCheck %s --check-prefix=AXES

// ANNOTATE: module attributes {{{.*}}strata.parallel = {axis_fabrics = {tp = "nvlink"}, dp = 1 : i64, ep = 1 : i64, interleave = 1 : i64, microbatches = 1 : i64, overlap_grad_sync = true, pp = 1 : i64, recompute = "none", schedule = "1f1b", sp = false, tp = 8 : i64, zero = 0 : i64}
// ANNOTATE: shard.grid @grid(shape = 8) {strata.axis_fabrics = {tp = "nvlink"}, strata.axis_names = ["tp"]}
// ANNOTATE-LABEL: func.func @mlp(
// ANNOTATE-SAME: %[[X:[^:]+]]: tensor<16x64xf32> {strata.role = "input"}, %[[WG:[^:]+]]: tensor<64x256xf32> {strata.role = "weight"}, %[[WU:[^:]+]]: tensor<64x256xf32> {strata.role = "weight"}, %[[WD:[^:]+]]: tensor<256x64xf32> {strata.role = "weight"})
// Weights are parameters in their per-device layout: gate/up split on the
// output dimension, down on the input dimension.
// ANNOTATE-NEXT: %[[ROW:.+]] = shard.sharding @grid split_axes = {{\[\[}}0]] : !shard.sharding
// ANNOTATE-NEXT: shard.shard %[[WD]] to %[[ROW]] : tensor<256x64xf32>
// ANNOTATE-NEXT: %[[COL:.+]] = shard.sharding @grid split_axes = {{\[\[}}], [0]] : !shard.sharding
// ANNOTATE-NEXT: shard.shard %[[WU]] to %[[COL]] : tensor<64x256xf32>
// ANNOTATE-NEXT: %[[COL2:.+]] = shard.sharding @grid split_axes = {{\[\[}}], [0]] : !shard.sharding
// ANNOTATE-NEXT: shard.shard %[[WG]] to %[[COL2]] : tensor<64x256xf32>
// ANNOTATE: linalg.matmul {strata.projection = "column"}
// ANNOTATE: linalg.matmul {strata.projection = "column"}
// ANNOTATE: linalg.generic
// ANNOTATE: linalg.matmul {strata.projection = "row"}
// The row-parallel output is replicated: its users see the reduced value.
// ANNOTATE-NEXT: %[[REP:.+]] = shard.sharding @grid split_axes = {{\[\[}}]] : !shard.sharding
// ANNOTATE-NEXT: %[[OUT:.+]] = shard.shard %{{.+}} to %[[REP]] : tensor<16x64xf32>
// ANNOTATE-NEXT: return %[[OUT]]

// MLP-LABEL: func.func @mlp(
// MLP-SAME: tensor<16x64xf32> {strata.role = "input"}, %[[WG:[^:]+]]: tensor<64x32xf32> {strata.role = "weight"}, %[[WU:[^:]+]]: tensor<64x32xf32> {strata.role = "weight"}, %[[WD:[^:]+]]: tensor<32x64xf32> {strata.role = "weight"}) -> tensor<16x64xf32>
// MLP-NOT: shard.all_
// MLP: linalg.matmul {strata.projection = "column"} ins({{.+}}, %[[WG]] : tensor<16x64xf32>, tensor<64x32xf32>) {{.*}} -> tensor<16x32xf32>
// MLP-NOT: shard.all_
// MLP: linalg.matmul {strata.projection = "column"} ins({{.+}}, %[[WU]] : tensor<16x64xf32>, tensor<64x32xf32>) {{.*}} -> tensor<16x32xf32>
// MLP-NOT: shard.all_
// MLP: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<16x32xf32>, tensor<16x32xf32>)
// MLP-NOT: shard.all_
// MLP: %[[PART:.+]] = linalg.matmul {strata.projection = "row"} ins({{.+}}, %[[WD]] : tensor<16x32xf32>, tensor<32x64xf32>) {{.*}} -> tensor<16x64xf32>
// MLP-NEXT: %[[SUM:.+]] = shard.all_reduce %[[PART]] on @grid grid_axes = [0] : tensor<16x64xf32> -> tensor<16x64xf32>
// MLP-NEXT: return %[[SUM]]
// MLP-NOT: shard.all_

// SP: shard.grid @grid(shape = 2x4) {strata.axis_fabrics = {dp = "nvlink", tp = "nvlink"}, strata.axis_names = ["dp", "tp"]}
// SP-LABEL: func.func @mlp(
// SP-SAME: %[[X:[^:]+]]: tensor<2x64xf32> {strata.role = "input"}, {{.*}} -> tensor<2x64xf32>
// SP: %[[FULL:.+]] = shard.all_gather %[[X]] on @grid grid_axes = [1] gather_axis = 0 : tensor<2x64xf32> -> tensor<8x64xf32>
// SP-NOT: shard.all_gather
// SP: linalg.matmul {strata.projection = "column"} {{.*}} -> tensor<8x64xf32>
// SP: linalg.matmul {strata.projection = "column"} {{.*}} -> tensor<8x64xf32>
// SP: %[[PART:.+]] = linalg.matmul {strata.projection = "row"} {{.*}} -> tensor<8x64xf32>
// SP-NEXT: %[[SUM:.+]] = shard.all_reduce %[[PART]] on @grid grid_axes = [1] : tensor<8x64xf32> -> tensor<8x64xf32>
// SP-NEXT: %[[MINE:.+]] = shard.all_slice %[[SUM]] on @grid grid_axes = [1] slice_axis = 0 : tensor<8x64xf32> -> tensor<2x64xf32>
// SP-NEXT: return %[[MINE]]

// ATTN: module attributes {{{.*}}strata.parallel = {axis_fabrics = {dp = "ib", tp = "nvlink"}, dp = 4 : i64, ep = 1 : i64, interleave = 1 : i64, microbatches = 1 : i64, overlap_grad_sync = true, pp = 1 : i64, recompute = "none", schedule = "1f1b", sp = false, tp = 8 : i64, zero = 0 : i64}
// ATTN: shard.grid @grid(shape = 4x8) {strata.axis_fabrics = {dp = "ib", tp = "nvlink"}, strata.axis_names = ["dp", "tp"]}
// ATTN-LABEL: func.func @attention(
// ATTN-SAME: tensor<1x8x64xf32> {strata.role = "input"}, %{{.+}}: tensor<64x1x8xf32> {strata.role = "weight"}, %{{.+}}: tensor<64x1x8xf32> {strata.role = "weight"}, %{{.+}}: tensor<64x1x8xf32> {strata.role = "weight"}, %{{.+}}: tensor<1x8x64xf32> {strata.role = "weight"}) -> tensor<1x8x64xf32>
// ATTN-NOT: shard.all_
// ATTN-COUNT-3: strata.projection = "column"
// ATTN-NOT: shard.all_
// ATTN: %[[PART:.+]] = linalg.generic {{.*}}strata.projection = "row"
// ATTN-NOT: shard.all_
// ATTN: shard.all_reduce %[[PART]] on @grid grid_axes = [1] : tensor<1x8x64xf32> -> tensor<1x8x64xf32>
// ATTN-NOT: shard.all_

// MOE: shard.grid @grid(shape = 4x2) {strata.axis_fabrics = {ep = "nvlink", tp = "nvlink"}, strata.axis_names = ["ep", "tp"]}
// MOE-LABEL: func.func @experts(
// MOE-SAME: %[[X:[^:]+]]: tensor<8x8x64xf32> {strata.role = "input"}, %{{.+}}: tensor<2x64x64xf32> {strata.role = "weight"}, %{{.+}}: tensor<2x64x64xf32> {strata.role = "weight"}) -> tensor<8x8x64xf32>
// MOE: shard.all_to_all %[[X]] on @grid grid_axes = [0] split_axis = 0 concat_axis = 1 : tensor<8x8x64xf32> -> tensor<2x32x64xf32>
// MOE: linalg.batch_matmul {strata.projection = "expert_column"} {{.*}} -> tensor<2x32x64xf32>
// MOE: %[[PART:.+]] = linalg.batch_matmul {strata.projection = "expert_row"} {{.*}} -> tensor<2x32x64xf32>
// MOE-NEXT: %[[SUM:.+]] = shard.all_reduce %[[PART]] on @grid grid_axes = [1] : tensor<2x32x64xf32> -> tensor<2x32x64xf32>
// MOE-NEXT: shard.all_to_all %[[SUM]] on @grid grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<2x32x64xf32> -> tensor<8x8x64xf32>

// AXES: strata.parallel = {axis_fabrics = {dp = "nvlink", tp = "ib"}, dp = 8 : i64
// AXES: shard.grid @grid(shape = 4x8) {strata.axis_fabrics = {dp = "nvlink", tp = "ib"}, strata.axis_names = ["tp", "dp"]}

// Multi-head attention, batch 4, 8 tokens, hidden 64, 8 heads of 8, with
// the head dimension explicit in the weights ([hidden, heads, head_dim]) so
// every op has projected-permutation maps that upstream can partition.
#x_map = affine_map<(b, s, h, d, k) -> (b, s, k)>
#w_map = affine_map<(b, s, h, d, k) -> (k, h, d)>
#qkv_map = affine_map<(b, s, h, d, k) -> (b, s, h, d)>
module attributes {strata.model = {heads = 8 : i64, kv_heads = 8 : i64, layers = 1 : i64}} {
func.func @attention(%x: tensor<4x8x64xf32> {strata.role = "input"},
                     %wq: tensor<64x8x8xf32> {strata.role = "weight"},
                     %wk: tensor<64x8x8xf32> {strata.role = "weight"},
                     %wv: tensor<64x8x8xf32> {strata.role = "weight"},
                     %wo: tensor<8x8x64xf32> {strata.role = "weight"})
    -> tensor<4x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8x8x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x8x8xf32>) -> tensor<4x8x8x8xf32>
  %q = linalg.generic {indexing_maps = [#x_map, #w_map, #qkv_map],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wq : tensor<4x8x64xf32>, tensor<64x8x8xf32>) outs(%acc : tensor<4x8x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8x8xf32>
  %k = linalg.generic {indexing_maps = [#x_map, #w_map, #qkv_map],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wk : tensor<4x8x64xf32>, tensor<64x8x8xf32>) outs(%acc : tensor<4x8x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8x8xf32>
  %v = linalg.generic {indexing_maps = [#x_map, #w_map, #qkv_map],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wv : tensor<4x8x64xf32>, tensor<64x8x8xf32>) outs(%acc : tensor<4x8x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8x8xf32>
  // scores[b, h, s, t] = sum_d q[b, s, h, d] * k[b, t, h, d]
  %es = tensor.empty() : tensor<4x8x8x8xf32>
  %accs = linalg.fill ins(%zero : f32) outs(%es : tensor<4x8x8x8xf32>) -> tensor<4x8x8x8xf32>
  %scores = linalg.generic {indexing_maps = [
        affine_map<(b, h, s, t, d) -> (b, s, h, d)>,
        affine_map<(b, h, s, t, d) -> (b, t, h, d)>,
        affine_map<(b, h, s, t, d) -> (b, h, s, t)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<4x8x8x8xf32>, tensor<4x8x8x8xf32>) outs(%accs : tensor<4x8x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8x8xf32>
  %probs = linalg.generic {indexing_maps = [
        affine_map<(b, h, s, t) -> (b, h, s, t)>,
        affine_map<(b, h, s, t) -> (b, h, s, t)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scores : tensor<4x8x8x8xf32>) outs(%es : tensor<4x8x8x8xf32>) {
  ^bb0(%a: f32, %c: f32):
    %p = math.exp %a : f32
    linalg.yield %p : f32
  } -> tensor<4x8x8x8xf32>
  // ctx[b, s, h, d] = sum_t probs[b, h, s, t] * v[b, t, h, d]
  %ctx = linalg.generic {indexing_maps = [
        affine_map<(b, s, h, d, t) -> (b, h, s, t)>,
        affine_map<(b, s, h, d, t) -> (b, t, h, d)>,
        affine_map<(b, s, h, d, t) -> (b, s, h, d)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%probs, %v : tensor<4x8x8x8xf32>, tensor<4x8x8x8xf32>) outs(%acc : tensor<4x8x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x8x8xf32>
  // out[b, s, n] = sum_{h, d} ctx[b, s, h, d] * wo[h, d, n]
  %eo = tensor.empty() : tensor<4x8x64xf32>
  %acco = linalg.fill ins(%zero : f32) outs(%eo : tensor<4x8x64xf32>) -> tensor<4x8x64xf32>
  %out = linalg.generic {indexing_maps = [
        affine_map<(b, s, n, h, d) -> (b, s, h, d)>,
        affine_map<(b, s, n, h, d) -> (h, d, n)>,
        affine_map<(b, s, n, h, d) -> (b, s, n)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%ctx, %wo : tensor<4x8x8x8xf32>, tensor<8x8x64xf32>) outs(%acco : tensor<4x8x64xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %c, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8x64xf32>
  return %out : tensor<4x8x64xf32>
}
}
