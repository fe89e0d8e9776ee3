// RUN: strata-opt %s --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2" --strata-partition --strata-stage | FileCheck %s

// Stages of uneven depth: 3 layers on 2 stages run 2 and 1 layers (Llama 3
// 405B runs its 126 layers on 16 stages this way). The pipeline moves at
// the pace of the deepest stage, so that is the stage the program models.
// The layer missing from two equal stages comes off the last stage (it also
// runs the LM head and the loss), recorded for the estimate's pacing.

// CHECK-LABEL: func.func @forward
// CHECK-SAME: tensor<2x64x32xf32> {strata.role = "weight"}, %{{.*}}: tensor<2x32x64xf32> {strata.role = "weight"}
// CHECK-SAME: strata.stage = {first_layers = 2 : i64, last_layers = 1 : i64, layers = 2 : i64, stage = 1 : i64}
// CHECK: tile.recv from stage(0)
// CHECK: scf.for %{{.*}} = %c0 to %c2{{(_[0-9]+)?}} step

module attributes {strata.model = {layers = 3 : i64}} {
func.func private @layer(%x: tensor<16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) -> tensor<16x64xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<16x64xf32>, tensor<64x256xf32>) outs(%f : tensor<16x256xf32>) -> tensor<16x256xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %f2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %o = linalg.matmul ins(%h, %w2 : tensor<16x256xf32>, tensor<256x64xf32>) outs(%f2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %o : tensor<16x64xf32>
}
func.func @forward(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<3x64x256xf32> {strata.role = "weight"}, %w2s: tensor<3x256x64xf32> {strata.role = "weight"}) -> tensor<16x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %l = %c0 to %c3 step %c1 iter_args(%h = %x) -> (tensor<16x64xf32>) {
    %w1 = tensor.extract_slice %w1s[%l, 0, 0] [1, 64, 256] [1, 1, 1] : tensor<3x64x256xf32> to tensor<64x256xf32>
    %w2 = tensor.extract_slice %w2s[%l, 0, 0] [1, 256, 64] [1, 1, 1] : tensor<3x256x64xf32> to tensor<256x64xf32>
    %y = func.call @layer(%h, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<16x64xf32>
    scf.yield %y : tensor<16x64xf32>
  }
  return %r : tensor<16x64xf32>
}
}
