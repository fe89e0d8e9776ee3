// RUN: strata-opt %s -split-input-file --strata-set-system=system=dgx-h100x4 --strata-parallelize=tp=8 --strata-partition | FileCheck %s
// RUN: strata-opt %s -split-input-file --strata-set-system=system=dgx-h100x4 --strata-parallelize=tp=8 --strata-partition --strata-estimate="format=json output=-" -o /dev/null | FileCheck %s --check-prefix=COST

// The generator's form: a layer function called from an scf.for over layers,
// its weights sliced out of stacked [layers, ...] arguments. Upstream
// partitions @layer (tp=8 Megatron MLP, dp=4 over tokens); the pass carries
// the per-device signature through the slices, the loop and @forward's own
// arguments.

// CHECK-LABEL: func.func private @layer
// CHECK-SAME: (%{{.*}}: tensor<4x64xf32>, %{{.*}}: tensor<64x32xf32>, %{{.*}}: tensor<32x64xf32>) -> tensor<4x64xf32>
// CHECK: linalg.matmul {strata.projection = "column"} {{.*}} -> tensor<4x32xf32>
// CHECK: linalg.matmul {strata.projection = "row"} {{.*}} -> tensor<4x64xf32>
// CHECK: shard.all_reduce {{.*}} grid_axes = [1] : tensor<4x64xf32> -> tensor<4x64xf32>
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32> {strata.role = "input"}, %[[W1:.*]]: tensor<4x64x32xf32> {strata.role = "weight"}, %[[W2:.*]]: tensor<4x32x64xf32> {strata.role = "weight"}) -> tensor<4x64xf32>
// CHECK: scf.for %[[L:.*]] = {{.*}} iter_args(%[[H:.*]] = %[[X]]) -> (tensor<4x64xf32>)
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[W1]][%[[L]], 0, 0] [1, 64, 32] [1, 1, 1] : tensor<4x64x32xf32> to tensor<64x32xf32>
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[W2]][%[[L]], 0, 0] [1, 32, 64] [1, 1, 1] : tensor<4x32x64xf32> to tensor<32x64xf32>
// CHECK: func.call @layer(%[[H]], %[[S1]], %[[S2]]) : (tensor<4x64xf32>, tensor<64x32xf32>, tensor<32x64xf32>) -> tensor<4x64xf32>
// CHECK: scf.yield {{.*}} : tensor<4x64xf32>
// CHECK: return {{.*}} : tensor<4x64xf32>

// One device's program: 4 layers x 2 matmuls of 4x64x32 (2 * 4*64*32 * 2
// FLOP each = 32768 FLOP per layer), and one all_reduce per layer.
// COST: "flops": 131072
// COST: "op": "shard.all_reduce"
// COST-NEXT: "block"
// COST-NEXT: "class": "collective"
// COST-NEXT: "count": 4

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
func.func @forward(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<4x64x256xf32> {strata.role = "weight"}, %w2s: tensor<4x256x64xf32> {strata.role = "weight"}) -> tensor<16x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %l = %c0 to %c4 step %c1 iter_args(%h = %x) -> (tensor<16x64xf32>) {
    %w1 = tensor.extract_slice %w1s[%l, 0, 0] [1, 64, 256] [1, 1, 1] : tensor<4x64x256xf32> to tensor<64x256xf32>
    %w2 = tensor.extract_slice %w2s[%l, 0, 0] [1, 256, 64] [1, 1, 1] : tensor<4x256x64xf32> to tensor<256x64xf32>
    %y = func.call @layer(%h, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<16x64xf32>
    scf.yield %y : tensor<16x64xf32>
  }
  return %r : tensor<16x64xf32>
}

// -----

// Training's forward loop saves each layer's activations into a stack for
// the backward pass: the stack (its tensor.empty, the loop-carried value and
// the insert_slice) takes the per-device shape of what the layer returns.

// CHECK-LABEL: func.func private @layer_saving
// CHECK-SAME: -> (tensor<4x64xf32>, tensor<4x32xf32>)
// CHECK-LABEL: func.func @forward_saving
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x4x32xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[ST:.*]] = %[[E]]) -> (tensor<4x64xf32>, tensor<4x4x32xf32>)
// CHECK: %[[R:.*]]:2 = func.call @layer_saving
// CHECK: tensor.insert_slice %[[R]]#1 into %[[ST]][%{{.*}}, 0, 0] [1, 4, 32] [1, 1, 1] : tensor<4x32xf32> into tensor<4x4x32xf32>
// CHECK: return {{.*}} : tensor<4x64xf32>, tensor<4x4x32xf32>

func.func private @layer_saving(%x: tensor<16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) -> (tensor<16x64xf32>, tensor<16x256xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<16x64xf32>, tensor<64x256xf32>) outs(%f : tensor<16x256xf32>) -> tensor<16x256xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %f2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %o = linalg.matmul ins(%h, %w2 : tensor<16x256xf32>, tensor<256x64xf32>) outs(%f2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %o, %h : tensor<16x64xf32>, tensor<16x256xf32>
}
func.func @forward_saving(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<4x64x256xf32> {strata.role = "weight"}, %w2s: tensor<4x256x64xf32> {strata.role = "weight"}) -> (tensor<16x64xf32>, tensor<4x16x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %saved0 = tensor.empty() : tensor<4x16x256xf32>
  %r:2 = scf.for %l = %c0 to %c4 step %c1 iter_args(%h = %x, %saved = %saved0) -> (tensor<16x64xf32>, tensor<4x16x256xf32>) {
    %w1 = tensor.extract_slice %w1s[%l, 0, 0] [1, 64, 256] [1, 1, 1] : tensor<4x64x256xf32> to tensor<64x256xf32>
    %w2 = tensor.extract_slice %w2s[%l, 0, 0] [1, 256, 64] [1, 1, 1] : tensor<4x256x64xf32> to tensor<256x64xf32>
    %y:2 = func.call @layer_saving(%h, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> (tensor<16x64xf32>, tensor<16x256xf32>)
    %s = tensor.insert_slice %y#1 into %saved[%l, 0, 0] [1, 16, 256] [1, 1, 1] : tensor<16x256xf32> into tensor<4x16x256xf32>
    scf.yield %y#0, %s : tensor<16x64xf32>, tensor<4x16x256xf32>
  }
  return %r#0, %r#1 : tensor<16x64xf32>, tensor<4x16x256xf32>
}

// -----

// A layer that hands its input back (saved for the backward pass) would
// crash upstream shard-partition (MLIR 22) on the returned annotated
// argument: the result is dropped and the caller uses what it passed.

// CHECK-LABEL: func.func private @layer_returning_input
// CHECK-SAME: -> tensor<4x64xf32>
// CHECK-LABEL: func.func @forward_returning_input
// CHECK: %[[Y:.*]] = call @layer_returning_input(%[[X:.*]], %{{.*}}, %{{.*}}) : (tensor<4x64xf32>, tensor<64x32xf32>, tensor<32x64xf32>) -> tensor<4x64xf32>
// CHECK: return %[[Y]], %[[X]] : tensor<4x64xf32>, tensor<4x64xf32>

func.func private @layer_returning_input(%x: tensor<16x64xf32>, %w1: tensor<64x256xf32>, %w2: tensor<256x64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf32>) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<16x64xf32>, tensor<64x256xf32>) outs(%f : tensor<16x256xf32>) -> tensor<16x256xf32>
  %e2 = tensor.empty() : tensor<16x64xf32>
  %f2 = linalg.fill ins(%c0 : f32) outs(%e2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %o = linalg.matmul ins(%h, %w2 : tensor<16x256xf32>, tensor<256x64xf32>) outs(%f2 : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %o, %x : tensor<16x64xf32>, tensor<16x64xf32>
}
func.func @forward_returning_input(%x: tensor<16x64xf32> {strata.role = "input"}, %w1: tensor<64x256xf32> {strata.role = "weight"}, %w2: tensor<256x64xf32> {strata.role = "weight"}) -> (tensor<16x64xf32>, tensor<16x64xf32>) {
  %y:2 = func.call @layer_returning_input(%x, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf32>)
  return %y#0, %y#1 : tensor<16x64xf32>, tensor<16x64xf32>
}

// -----

// A partitioned function's callers are re-typed at every call: @forward
// (private) is called twice from @step, so both calls take the per-device
// operand and result types and @step's arguments follow (the retyper's
// table of each function's users, one walk of the module, must list both
// calls in order, the second of which consumes the first's re-typed
// result).

// CHECK-LABEL: func.func private @forward
// CHECK-SAME: (%{{.*}}: tensor<4x64xf32> {strata.role = "input"}, %{{.*}}: tensor<4x64x32xf32> {strata.role = "weight"}, %{{.*}}: tensor<4x32x64xf32> {strata.role = "weight"}) -> tensor<4x64xf32>
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32> {strata.role = "input"}, %[[W1:.*]]: tensor<4x64x32xf32> {strata.role = "weight"}, %[[W2:.*]]: tensor<4x32x64xf32> {strata.role = "weight"}) -> tensor<4x64xf32>
// CHECK: %[[A:.*]] = call @forward(%[[X]], %[[W1]], %[[W2]]) : (tensor<4x64xf32>, tensor<4x64x32xf32>, tensor<4x32x64xf32>) -> tensor<4x64xf32>
// CHECK: %[[B:.*]] = call @forward(%[[A]], %[[W1]], %[[W2]]) : (tensor<4x64xf32>, tensor<4x64x32xf32>, tensor<4x32x64xf32>) -> tensor<4x64xf32>
// CHECK: return %[[B]] : tensor<4x64xf32>

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
func.func private @forward(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<4x64x256xf32> {strata.role = "weight"}, %w2s: tensor<4x256x64xf32> {strata.role = "weight"}) -> tensor<16x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %l = %c0 to %c4 step %c1 iter_args(%h = %x) -> (tensor<16x64xf32>) {
    %w1 = tensor.extract_slice %w1s[%l, 0, 0] [1, 64, 256] [1, 1, 1] : tensor<4x64x256xf32> to tensor<64x256xf32>
    %w2 = tensor.extract_slice %w2s[%l, 0, 0] [1, 256, 64] [1, 1, 1] : tensor<4x256x64xf32> to tensor<256x64xf32>
    %y = func.call @layer(%h, %w1, %w2) : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256x64xf32>) -> tensor<16x64xf32>
    scf.yield %y : tensor<16x64xf32>
  }
  return %r : tensor<16x64xf32>
}

func.func @step(%x: tensor<16x64xf32> {strata.role = "input"}, %w1s: tensor<4x64x256xf32> {strata.role = "weight"}, %w2s: tensor<4x256x64xf32> {strata.role = "weight"}) -> tensor<16x64xf32> {
  %a = func.call @forward(%x, %w1s, %w2s) : (tensor<16x64xf32>, tensor<4x64x256xf32>, tensor<4x256x64xf32>) -> tensor<16x64xf32>
  %b = func.call @forward(%a, %w1s, %w2s) : (tensor<16x64xf32>, tensor<4x64x256xf32>, tensor<4x256x64xf32>) -> tensor<16x64xf32>
  return %b : tensor<16x64xf32>
}
