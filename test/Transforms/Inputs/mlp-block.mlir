// A SwiGLU MLP block as func + linalg on tensors: 16 tokens, hidden 64,
// intermediate 256. gate and up are column-parallel, down row-parallel.
func.func @mlp(%x: tensor<16x64xf32> {strata.role = "input"},
               %w_gate: tensor<64x256xf32> {strata.role = "weight"},
               %w_up: tensor<64x256xf32> {strata.role = "weight"},
               %w_down: tensor<256x64xf32> {strata.role = "weight"})
    -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %gate = linalg.matmul ins(%x, %w_gate : tensor<16x64xf32>, tensor<64x256xf32>)
                        outs(%acc : tensor<16x256xf32>) -> tensor<16x256xf32>
  %up = linalg.matmul ins(%x, %w_up : tensor<16x64xf32>, tensor<64x256xf32>)
                      outs(%acc : tensor<16x256xf32>) -> tensor<16x256xf32>
  %act = linalg.generic {
      indexing_maps = [affine_map<(t, f) -> (t, f)>, affine_map<(t, f) -> (t, f)>,
                       affine_map<(t, f) -> (t, f)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%gate, %up : tensor<16x256xf32>, tensor<16x256xf32>)
      outs(%e : tensor<16x256xf32>) {
  ^bb0(%g: f32, %u: f32, %out: f32):
    %neg = arith.negf %g : f32
    %exp = math.exp %neg : f32
    %one = arith.constant 1.0 : f32
    %den = arith.addf %one, %exp : f32
    %silu = arith.divf %g, %den : f32
    %prod = arith.mulf %silu, %u : f32
    linalg.yield %prod : f32
  } -> tensor<16x256xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %acc2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %down = linalg.matmul ins(%act, %w_down : tensor<16x256xf32>, tensor<256x64xf32>)
                        outs(%acc2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %down : tensor<16x64xf32>
}
