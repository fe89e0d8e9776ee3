// RUN: strata-opt %s -split-input-file --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2" --strata-partition --strata-stage | FileCheck %s
// RUN: strata-opt %s -split-input-file --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8" --strata-partition --strata-stage | FileCheck %s --check-prefix=NOPP

// A training step in the generator's form (forward loop saving activations,
// backward loop walking the layers last to first) on 4 DGX H100 nodes with
// tp=8 pp=2 (dp=2). One stage runs 2 of the 4 layers: the loops shrink, every
// stack sliced by them holds 2 layers, the backward index becomes 1 - iv, and
// the boundary is explicit: 1/8 of the [8, 64] activation per tp rank
// (Megatron scatter/gather) received from stage 0 and all-gathered over tp,
// and the input gradient sent back, over the fabric the plan gives pp.

// CHECK-LABEL: func.func @train
// CHECK-SAME: %{{.*}}: tensor<2x64x32xf32> {strata.role = "weight"}, %{{.*}}: tensor<2x32x64xf32> {strata.role = "weight"}
// CHECK-SAME: strata.stage = {layers = 2 : i64, stage = 1 : i64}
// CHECK: %[[SAVED:.*]] = tensor.empty() : tensor<2x8x32xf32>
// CHECK: %[[R:.*]] = tile.recv from stage(0) over "ib" bytes(256) : tensor<1x64xf32>
// CHECK: shard.all_gather %[[R]] on @grid grid_axes = [1] gather_axis = 0 : tensor<1x64xf32> -> tensor<8x64xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c2{{(_[0-9]+)?}} step {{.*}} -> (tensor<8x64xf32>, tensor<2x8x32xf32>)
// CHECK: tensor.insert_slice {{.*}} : tensor<8x32xf32> into tensor<2x8x32xf32>
// CHECK: scf.for %[[IV:.*]] = %c0 to %c2{{(_[0-9]+)?}}
// CHECK: %[[L:.*]] = arith.subi %c1{{(_[0-9]+)?}}, %[[IV]] : index
// CHECK: tensor.extract_slice %{{.*}}[%[[L]], 0, 0] [1, 8, 32] [1, 1, 1] : tensor<2x8x32xf32> to tensor<8x32xf32>
// CHECK: func.call @layer_bwd
// CHECK: %[[G:.*]] = tensor.extract_slice %{{.*}}[0, 0] [1, 64] [1, 1] : tensor<8x64xf32> to tensor<1x64xf32>
// CHECK: tile.send %[[G]] to stage(0) over "ib" bytes(256) : tensor<1x64xf32>

// Without pipeline parallelism the pass changes nothing.
// NOPP-LABEL: func.func @train
// NOPP-SAME: tensor<4x64x32xf32>
// NOPP-NOT: tile.recv
// NOPP-NOT: tile.send

module attributes {strata.model = {layers = 4 : i64}} {
func.func private @layer(%x: tensor<16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) -> (tensor<16x64xf32>, tensor<16x256xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<16x64xf32>, tensor<64x256xf32>) outs(%f : tensor<16x256xf32>) -> tensor<16x256xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %f2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %o = linalg.matmul ins(%h, %w2 : tensor<16x256xf32>, tensor<256x64xf32>) outs(%f2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %o, %h : tensor<16x64xf32>, tensor<16x256xf32>
}
func.func private @layer_bwd(%dy: tensor<16x64xf32>, %h: tensor<16x256xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) -> tensor<16x64xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %dh = linalg.generic {indexing_maps = [affine_map<(t, f, d) -> (t, d)>, affine_map<(t, f, d) -> (f, d)>, affine_map<(t, f, d) -> (t, f)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%dy, %w2 : tensor<16x64xf32>, tensor<256x64xf32>) outs(%f : tensor<16x256xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<16x256xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(t, f) -> (t, f)>, affine_map<(t, f) -> (t, f)>, affine_map<(t, f) -> (t, f)>], iterator_types = ["parallel", "parallel"]} ins(%dh, %h : tensor<16x256xf32>, tensor<16x256xf32>) outs(%e : tensor<16x256xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<16x256xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %f2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %dx = linalg.generic {indexing_maps = [affine_map<(t, d, f) -> (t, f)>, affine_map<(t, d, f) -> (d, f)>, affine_map<(t, d, f) -> (t, d)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%g, %w1 : tensor<16x256xf32>, tensor<64x256xf32>) outs(%f2 : tensor<16x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<16x64xf32>
  return %dx : tensor<16x64xf32>
}
func.func @train(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<4x64x256xf32> {strata.role = "weight"}, %w2s: tensor<4x256x64xf32> {strata.role = "weight"}) -> tensor<16x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %saved0 = tensor.empty() : tensor<4x16x256xf32>
  %r:2 = scf.for %l = %c0 to %c4 step %c1 iter_args(%h = %x, %saved = %saved0) -> (tensor<16x64xf32>, tensor<4x16x256xf32>) {
    %w1 = tensor.extract_slice %w1s[%l, 0, 0] [1, 64, 256] [1, 1, 1] : tensor<4x64x256xf32> to tensor<64x256xf32>
    %w2 = tensor.extract_slice %w2s[%l, 0, 0] [1, 256, 64] [1, 1, 1] : tensor<4x256x64xf32> to tensor<256x64xf32>
    %y:2 = func.call @layer(%h, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> (tensor<16x64xf32>, tensor<16x256xf32>)
    %s = tensor.insert_slice %y#1 into %saved[%l, 0, 0] [1, 16, 256] [1, 1, 1] : tensor<16x256xf32> into tensor<4x16x256xf32>
    scf.yield %y#0, %s : tensor<16x64xf32>, tensor<4x16x256xf32>
  }
  %d = scf.for %l = %c0 to %c4 step %c1 iter_args(%g = %r#0) -> (tensor<16x64xf32>) {
    %c3 = arith.constant 3 : index
    %li = arith.subi %c3, %l : index
    %hs = tensor.extract_slice %r#1[%li, 0, 0] [1, 16, 256] [1, 1, 1] : tensor<4x16x256xf32> to tensor<16x256xf32>
    %w1 = tensor.extract_slice %w1s[%li, 0, 0] [1, 64, 256] [1, 1, 1] : tensor<4x64x256xf32> to tensor<64x256xf32>
    %w2 = tensor.extract_slice %w2s[%li, 0, 0] [1, 256, 64] [1, 1, 1] : tensor<4x256x64xf32> to tensor<256x64xf32>
    %dx = func.call @layer_bwd(%g, %hs, %w1, %w2) : (tensor<16x64xf32>, tensor<16x256xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<16x64xf32>
    scf.yield %dx : tensor<16x64xf32>
  }
  return %d : tensor<16x64xf32>
}
}
