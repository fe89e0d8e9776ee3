module attributes {strata.model = {layers = 4 : i64}} {
func.func private @layer(%x: tensor<16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) -> (tensor<16x64xf32>, tensor<16x256xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<16x64xf32>, tensor<64x256xf32>) outs(%f : tensor<16x256xf32>) -> tensor<16x256xf32> loc("layers.mlp.fc1")
  %e2 = tensor.empty() : tensor<16x64xf32>
  %f2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %o = linalg.matmul ins(%h, %w2 : tensor<16x256xf32>, tensor<256x64xf32>) outs(%f2 : tensor<16x64xf32>) -> tensor<16x64xf32> loc("layers.mlp.fc2")
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
  } -> tensor<16x256xf32> loc("layers.mlp.fc2.bwd_dx")
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
  } -> tensor<16x64xf32> loc("layers.mlp.fc1.bwd_dx")
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
