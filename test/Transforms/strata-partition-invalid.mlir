// RUN: strata-opt %s -split-input-file --strata-set-system=system=dgx-h100x4 --strata-parallelize=tp=8 --strata-partition -verify-diagnostics -o /dev/null

// The caller transposes the partitioned layer's result itself: upstream
// cannot partition @forward (it holds an scf.for) and strata-partition only
// re-types plumbing and elementwise ops, so the transpose is an error, not
// a silently global-shaped op on per-device data.
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
func.func @forward(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<4x64x256xf32> {strata.role = "weight"}, %w2s: tensor<4x256x64xf32> {strata.role = "weight"}) -> tensor<64x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %l = %c0 to %c4 step %c1 iter_args(%h = %x) -> (tensor<16x64xf32>) {
    %w1 = tensor.extract_slice %w1s[%l, 0, 0] [1, 64, 256] [1, 1, 1] : tensor<4x64x256xf32> to tensor<64x256xf32>
    %w2 = tensor.extract_slice %w2s[%l, 0, 0] [1, 256, 64] [1, 1, 1] : tensor<4x256x64xf32> to tensor<256x64xf32>
    %y = func.call @layer(%h, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<16x64xf32>
    scf.yield %y : tensor<16x64xf32>
  }
  %e = tensor.empty() : tensor<64x16xf32>
  // expected-error @+1 {{cannot carry the per-device type 'tensor<4x64xf32>' through 'linalg.generic': only calls, scf.for, scf.yield, func.return, elementwise ops and stacked weight slices are re-typed after partitioning}}
  %n = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j, i)>], iterator_types = ["parallel", "parallel"]} ins(%r : tensor<16x64xf32>) outs(%e : tensor<64x16xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<64x16xf32>
  return %n : tensor<64x16xf32>
}

// -----

// A layer weight taken as a partial slice of a bigger tensor (not one layer
// of a stack) would need upstream's per-device offsets: an error.
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
func.func @forward(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<64x512xf32> {strata.role = "weight"}, %w2: tensor<256x64xf32> {strata.role = "weight"}) -> tensor<16x64xf32> {
  // expected-error @+1 {{cannot re-type a partial slice of dimension 1 (256 of 512) to 'tensor<64x32xf32>': the per-device slice would need per-device offsets}}
  %w1 = tensor.extract_slice %w1s[0, 0] [64, 256] [1, 1] : tensor<64x512xf32> to tensor<64x256xf32>
  %y = func.call @layer(%x, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
