// RUN: strata-opt %s -split-input-file -verify-diagnostics --strata-estimate="system=h100-sxm output=%t" -o /dev/null

// Dynamic shapes cannot be costed: a warning names the op and its count.
// expected-warning @+1 {{ops Strata cannot model were not costed: linalg.matmul x1}}
func.func @dynamic(%a: tensor<?x64xf32>, %b: tensor<64x64xf32>,
                   %c: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x64xf32>)
                     outs(%c : tensor<?x64xf32>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
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
