// Two batched expert matmuls of a MoE layer: 8 experts, each with a
// capacity of 32 dispatched tokens, hidden 64, expert intermediate 128.
// Tokens arrive [experts, capacity, hidden] split data-parallel on the
// capacity (token) dimension.
module attributes {strata.model = {heads = 8 : i64, kv_heads = 8 : i64, layers = 2 : i64, experts = 8 : i64}} {
func.func @experts(%x: tensor<8x32x64xf32> {strata.role = "input"},
                   %w1: tensor<8x64x128xf32> {strata.role = "weight"},
                   %w2: tensor<8x128x64xf32> {strata.role = "weight"}) -> tensor<8x32x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32x128xf32>) -> tensor<8x32x128xf32>
  %h = linalg.batch_matmul ins(%x, %w1 : tensor<8x32x64xf32>, tensor<8x64x128xf32>) outs(%acc : tensor<8x32x128xf32>) -> tensor<8x32x128xf32>
  %e2 = tensor.empty() : tensor<8x32x64xf32>
  %acc2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<8x32x64xf32>) -> tensor<8x32x64xf32>
  %y = linalg.batch_matmul ins(%h, %w2 : tensor<8x32x128xf32>, tensor<8x128x64xf32>) outs(%acc2 : tensor<8x32x64xf32>) -> tensor<8x32x64xf32>
  return %y : tensor<8x32x64xf32>
}
}
