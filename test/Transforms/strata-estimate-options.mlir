// RUN: not strata-opt %s --strata-estimate="system=h100-sxm format=xml" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not strata-opt %s --strata-estimate="system=h100-sxm entry=nope" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not strata-opt %s --strata-estimate -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOSYS
// RUN: strata-opt %s --strata-estimate="system=h100-sxm entry=g annotate=false format=json" | FileCheck %s --check-prefix=PICK

// FORMAT: error: unknown report format 'xml' (expected text, json, csv or trace)
// ENTRY: error: entry function 'nope' is not defined in the module
// NOSYS: error:

func.func @f(%a: tensor<8x8xf32>) -> tensor<8x8xf32> { return %a : tensor<8x8xf32> }
func.func @g(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %r = linalg.add ins(%a, %b : tensor<8x8xf32>, tensor<8x8xf32>) outs(%a : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}
// PICK: "entry": "g",
// PICK: "op": "linalg.add",
// PICK-NOT: strata.cost
