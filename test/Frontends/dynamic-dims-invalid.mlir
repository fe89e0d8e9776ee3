// RUN: strata-opt %s -split-input-file -verify-diagnostics --strata-bind-dims="sizes=4,128" -o /dev/null

// expected-error @+1 {{strata-bind-dims: @one has 1 dynamic dim (%arg0 dim 1) but sizes lists 2}}
func.func @one(%a: tensor<8x?xf32>) -> tensor<8x?xf32> {
  return %a : tensor<8x?xf32>
}

// -----

// expected-error @+1 {{strata-bind-dims: @three has 3 dynamic dims (%arg0 dim 0, %arg0 dim 1, %arg1 dim 0) but sizes lists 2}}
func.func @three(%a: tensor<?x?xf32>, %b: tensor<?xf32>) {
  return
}

// -----

// expected-error @+1 {{strata-bind-dims: several public functions (f, g); choose the one to bind with entry=}}
module {
  func.func @f(%a: tensor<?x?xf32>) { return }
  func.func @g(%a: tensor<?x?xf32>) { return }
}

// -----

// Sizes that contradict the program (the matmul's M is %a's dim 0 and %c's
// dim 0) make IR the verifier rejects, at the op.
func.func @contradict(%a: tensor<?x64xf32>, %b: tensor<64x64xf32>, %c: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'linalg.matmul' op inferred input/output operand #2 has shape's dimension #0 to be 4, but found 128}}
  %r = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x64xf32>) outs(%c : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

// RUN: not strata-opt %s -split-input-file --strata-bind-dims="sizes=0,4" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: error: strata-bind-dims: size #0 is 0; a dim is at least 1
func.func @zero(%a: tensor<?x?xf32>) {
  return
}
