// RUN: strata-opt %s -split-input-file -verify-diagnostics \
// RUN:   --strata-parallelize="system=dgx-h100 tp=4 pp=2"

// The model's heads must split evenly over tp.
// expected-error @below {{strata-parallelize: tp=4 does not divide the model's 6 attention heads}}
module attributes {strata.model = {heads = 6 : i64, kv_heads = 6 : i64, layers = 4 : i64}} {
}

// -----

// expected-error @below {{strata-parallelize: tp=4 does not divide the model's 2 KV heads}}
module attributes {strata.model = {heads = 8 : i64, kv_heads = 2 : i64, layers = 4 : i64}} {
}

// -----

// Stages may differ by a layer (strata-stage), but each needs one.
// expected-error @below {{strata-parallelize: pp=2 exceeds the model's 1 layers}}
module attributes {strata.model = {heads = 8 : i64, kv_heads = 8 : i64, layers = 1 : i64}} {
}

// -----

// Without strata.model, shapes decide: the split weight dimension (6
// heads of a [hidden, heads, head_dim] weight) must divide by tp.
func.func @q_proj(%x: tensor<16x64xf32>, %wq: tensor<64x6x8xf32>) -> tensor<16x6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x6x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x6x8xf32>) -> tensor<16x6x8xf32>
  // expected-error @below {{strata-parallelize: tp=4 does not divide dimension 1 (size 6) of the weight of this column-parallel projection}}
  %q = linalg.generic {
      indexing_maps = [affine_map<(t, h, d, k) -> (t, k)>,
                       affine_map<(t, h, d, k) -> (k, h, d)>,
                       affine_map<(t, h, d, k) -> (t, h, d)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %wq : tensor<16x64xf32>, tensor<64x6x8xf32>)
      outs(%acc : tensor<16x6x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<16x6x8xf32>
  return %q : tensor<16x6x8xf32>
}

// -----

// Upstream shard has no sharding model for reshapes in MLIR 22: the pass
// says so instead of leaving sharding-propagation to fail later.
func.func @reshape(%x: tensor<16x64xf32>, %w: tensor<64x64xf32>) -> tensor<16x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %q = linalg.matmul ins(%x, %w : tensor<16x64xf32>, tensor<64x64xf32>)
                     outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  // expected-error @below {{strata-parallelize: upstream shard-partition cannot partition 'tensor.expand_shape' in @reshape: it has no ShardingInterface model in MLIR 22}}
  %heads = tensor.expand_shape %q [[0], [1, 2]] output_shape [16, 8, 8]
      : tensor<16x64xf32> into tensor<16x8x8xf32>
  return %heads : tensor<16x8x8xf32>
}

// -----

// Upstream partitions linalg ops only with projected-permutation maps.
func.func @strided(%x: tensor<16x64xf32>, %w: tensor<64x64xf32>) -> tensor<8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %q = linalg.matmul ins(%x, %w : tensor<16x64xf32>, tensor<64x64xf32>)
                     outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  %e2 = tensor.empty() : tensor<8x64xf32>
  // expected-error @below {{strata-parallelize: upstream shard-partition cannot partition 'linalg.generic' in @strided: upstream partitions linalg ops only when every indexing map is a projected permutation}}
  %even = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (2 * i, j)>,
                       affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%q : tensor<16x64xf32>) outs(%e2 : tensor<8x64xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<8x64xf32>
  return %even : tensor<8x64xf32>
}

// -----

// The pass runs once: the grid symbol it creates is already taken.
// expected-error @below {{strata-parallelize: the module already has a symbol @grid (was the pass run twice?)}}
module {
  shard.grid @grid(shape = 4)
}
