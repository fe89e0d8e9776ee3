// RUN: strata-opt %s -split-input-file --strata-fuse=system=h100-sxm | FileCheck %s
// RUN: strata-opt %s -split-input-file --strata-fuse=system=h100-sxm --strata-estimate="format=csv" -o /dev/null | FileCheck %s --check-prefix=FUSED
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=csv" -o /dev/null | FileCheck %s --check-prefix=UNFUSED
// RUN: strata-opt %s -split-input-file --strata-fuse="system=h100-sxm attention=false epilogues=false" | FileCheck %s --check-prefix=OFF
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-fuse=system=h100-sxm -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// Attention over 8 heads x 2048 positions x head dim 64 in plain linalg:
// Q·Kᵀ, max, exp(s - max), sum, divide, P·V.
#qk_q = affine_map<(h, i, j, d) -> (h, i, d)>
#qk_k = affine_map<(h, i, j, d) -> (h, j, d)>
#qk_s = affine_map<(h, i, j, d) -> (h, i, j)>
#id = affine_map<(h, i, j) -> (h, i, j)>
#row = affine_map<(h, i, j) -> (h, i)>
#pv_p = affine_map<(h, i, d, j) -> (h, i, j)>
#pv_v = affine_map<(h, i, d, j) -> (h, j, d)>
#pv_o = affine_map<(h, i, d, j) -> (h, i, d)>
func.func @attention(%q: tensor<8x2048x64xf16>, %k: tensor<8x2048x64xf16>,
                     %v: tensor<8x2048x64xf16>) -> tensor<8x2048x64xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %se = tensor.empty() : tensor<8x2048x2048xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<8x2048x2048xf32>) -> tensor<8x2048x2048xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<8x2048x64xf16>, tensor<8x2048x64xf16>) outs(%s0 : tensor<8x2048x2048xf32>) {
  ^bb0(%a: f16, %b: f16, %acc: f32):
    %ae = arith.extf %a : f16 to f32
    %be = arith.extf %b : f16 to f32
    %p = arith.mulf %ae, %be : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<8x2048x2048xf32> loc("attn.qk")
  %me = tensor.empty() : tensor<8x2048xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%me : tensor<8x2048xf32>) -> tensor<8x2048xf32>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%s : tensor<8x2048x2048xf32>) outs(%m0 : tensor<8x2048xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8x2048xf32> loc("attn.max")
  %e = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s, %m : tensor<8x2048x2048xf32>, tensor<8x2048xf32>) outs(%se : tensor<8x2048x2048xf32>) {
  ^bb0(%a: f32, %mx: f32, %o: f32):
    %d = arith.subf %a, %mx : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<8x2048x2048xf32> loc("attn.exp")
  %z0 = linalg.fill ins(%zero : f32) outs(%me : tensor<8x2048xf32>) -> tensor<8x2048xf32>
  %z = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%e : tensor<8x2048x2048xf32>) outs(%z0 : tensor<8x2048xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8x2048xf32> loc("attn.sum")
  %pe = tensor.empty() : tensor<8x2048x2048xf16>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e, %z : tensor<8x2048x2048xf32>, tensor<8x2048xf32>) outs(%pe : tensor<8x2048x2048xf16>) {
  ^bb0(%a: f32, %sum: f32, %o: f16):
    %r = arith.divf %a, %sum : f32
    %t = arith.truncf %r : f32 to f16
    linalg.yield %t : f16
  } -> tensor<8x2048x2048xf16> loc("attn.div")
  %oe = tensor.empty() : tensor<8x2048x64xf32>
  %o0 = linalg.fill ins(%zero : f32) outs(%oe : tensor<8x2048x64xf32>) -> tensor<8x2048x64xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x2048x2048xf16>, tensor<8x2048x64xf16>) outs(%o0 : tensor<8x2048x64xf32>) {
  ^bb0(%a: f16, %b: f16, %acc: f32):
    %ae = arith.extf %a : f16 to f32
    %be = arith.extf %b : f16 to f32
    %r0 = arith.mulf %ae, %be : f32
    %r = arith.addf %acc, %r0 : f32
    linalg.yield %r : f32
  } -> tensor<8x2048x64xf32> loc("attn.pv")
  return %o : tensor<8x2048x64xf32>
}
// The group: Q·Kᵀ, the softmax chain and its fills point at the P·V root,
// which carries the fused kernel's shape.
// CHECK-LABEL: func.func @attention
// CHECK: linalg.generic {{.*}} attrs = {strata.fused_into = "attn.pv"}
// CHECK: strata.fused_into = "attn.pv"
// CHECK: linalg.generic {{.*}} attrs = {strata.fused_attention = {batch = 1 : i64, causal = false, head_dim = 64 : i64, heads = 8 : i64, kv_heads = 8 : i64, kv_len = 2048 : i64, q_len = 2048 : i64}}
// OFF-NOT: strata.fused

// Traffic: unfused, the 8 x 2048 x 2048 f32 scores (128 MiB) go to HBM and
// back several times (the exp alone moves 2 x 128 MiB + the 64 KiB row
// max); fused, HBM sees Q, K, V
// and O once at 2 B per element: 4 x (8 x 2048 x 64 x 2 B) = 8 MiB, and the
// group is one row.
// FUSED: name,op,block
// FUSED-NEXT: attn.pv,linalg.generic,attn,contraction,1,{{[0-9]+}},{{[0-9]+}},0,{{[0-9]+}},0,8388608,
// FUSED-NOT: attn.exp
// UNFUSED: attn.exp,linalg.generic,attn,elementwise,1,33554432,33554432,0,0,0,268500992,

// -----

// The softmax result is also returned (a training graph keeps it for the
// backward pass): the intermediates cannot disappear, so no attention
// fusion (no fused backward recomputes it).
// REMARK: remark: attention left unfused: the backward reads its probabilities from HBM
// The exp alone is the only user of the scores, so it becomes an
// epilogue of Q·Kᵀ: 2 x 128 x 128 = 32768 exps, and no extra bytes (it
// reads exactly the tile the contraction produced and writes as much).
#qk_q = affine_map<(h, i, j, d) -> (h, i, d)>
#qk_k = affine_map<(h, i, j, d) -> (h, j, d)>
#qk_s = affine_map<(h, i, j, d) -> (h, i, j)>
#id = affine_map<(h, i, j) -> (h, i, j)>
#pv_p = affine_map<(h, i, d, j) -> (h, i, j)>
#pv_v = affine_map<(h, i, d, j) -> (h, j, d)>
#pv_o = affine_map<(h, i, d, j) -> (h, i, d)>
func.func @kept(%q: tensor<2x128x64xf32>, %k: tensor<2x128x64xf32>, %v: tensor<2x128x64xf32>,
                %s0: tensor<2x128x128xf32>, %o0: tensor<2x128x64xf32>)
    -> (tensor<2x128x64xf32>, tensor<2x128x128xf32>) {
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x128x64xf32>, tensor<2x128x64xf32>) outs(%s0 : tensor<2x128x128xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<2x128x128xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x128x128xf32>) outs(%s0 : tensor<2x128x128xf32>) {
  ^bb0(%a: f32, %o: f32):
    %x = math.exp %a : f32
    linalg.yield %x : f32
  } -> tensor<2x128x128xf32>
  %o = linalg.generic {indexing_maps = [#pv_p, #pv_v, #pv_o],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%e, %v : tensor<2x128x128xf32>, tensor<2x128x64xf32>) outs(%o0 : tensor<2x128x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %r0 = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %r0 : f32
    linalg.yield %r : f32
  } -> tensor<2x128x64xf32>
  return %o, %e : tensor<2x128x64xf32>, tensor<2x128x128xf32>
}
// CHECK-LABEL: func.func @kept
// CHECK-NOT: strata.fused_attention
// CHECK: linalg.generic {{.*}} attrs = {strata.epilogue = {bytes_read = 0 : i64, bytes_written = 0 : i64, flops = 0 : i64, transcendentals = 32768 : i64}}
// CHECK: attrs = {strata.fused_into = "{{.*}}strata-fuse.mlir:{{[0-9]+}}:{{[0-9]+}}"}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: math.exp
// CHECK-NOT: strata.fused_attention
// OFF-NOT: strata.epilogue
