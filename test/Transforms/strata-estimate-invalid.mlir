// RUN: strata-opt %s -split-input-file -verify-diagnostics --strata-estimate="system=h100-sxm output=%t" -o /dev/null

// Dynamic shapes cannot be costed: an error names the operand and the
// dimension (it used to be a warning and a report of 0 s).
func.func @dynamic(%a: tensor<?x64xf32>, %b: tensor<64x64xf32>,
                   %c: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'linalg.matmul' op operand #0 ('tensor<?x64xf32>') has a dynamic dimension 0: Strata prices static shapes only (give the dimension a size)}}
  %r = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x64xf32>)
                     outs(%c : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

// One arithmetic per contraction: integer operands into a float result are
// rejected, not priced as either.
func.func @mixed(%a: tensor<64x64xi32>, %b: tensor<64x64xi32>) -> tensor<64x64xf32> {
  %e = tensor.empty() : tensor<64x64xf32>
  // expected-error @+1 {{'linalg.matmul' op contracts 'i32' operands into a 'f32' result: a contraction's operands and result must be all integer or all floating point (convert the operands first)}}
  %r = linalg.matmul ins(%a, %b : tensor<64x64xi32>, tensor<64x64xi32>) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// A call graph that reaches a function from itself has no static count.
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = call @g(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func private @g(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = call @h(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func private @h(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{recursive call graph: @g reaches itself (@g -> @h -> @g); Strata prices only acyclic call graphs}}
  %y = call @g(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// 100 GB (93.13 GiB) of weights do not fit the 80 GiB of an H100; byte
// counts in reports and diagnostics are in binary units throughout.
// expected-error @+1 {{memory footprint 93.13 GiB exceeds hbm capacity 80 GiB of h100-sxm (weights 93.13 GiB, activations 0 B)}}
func.func @too_big(%w: tensor<100000000000xi8> {strata.role = "weight"}) {
  return
}

// -----

// Several public functions are estimated one by one
// (test/Frontends/multiple-functions.mlir); a trace is one function's.
// RUN: not strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=trace" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TRACE
// TRACE: error: report=trace is one function's timeline; several public functions (f, g): choose one with entry=
module {
  func.func @f() { return }
  func.func @g() { return }
}

// -----

// expected-error @+1 {{no public function with a body to estimate}}
module {
  func.func private @f() { return }
}
