// strata-fuse's auto/on/off options reject other values.
// RUN: strata-opt %s -verify-diagnostics --strata-fuse="system=mesh-sram norms=sometimes" -o /dev/null
// RUN: strata-opt %s -verify-diagnostics --strata-fuse="system=mesh-sram epilogue-chain=long" -o /dev/null

// expected-error@+1 {{(expected auto, on or off)}}
module {
  func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
    return %a : tensor<4xf32>
  }
}
