// RUN: strata-opt %s -split-input-file --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2" --strata-stage -verify-diagnostics -o /dev/null

// Pipeline stages are cut out of the loop over the layers; a program with
// no such loop cannot be staged.
module attributes {strata.model = {layers = 4 : i64}} {
  // expected-error @+1 {{strata-stage: pp=2 but @flat has no loop over the 4 layers (an scf.for with 4 trips calling the layer function)}}
  func.func @flat(%x: tensor<16x64xf32>) -> tensor<16x64xf32> {
    return %x : tensor<16x64xf32>
  }
}

// -----

// Without strata.model the layer loops cannot be told from other loops.
// expected-error @+1 {{strata-stage: pp=2 needs the model's layer count (strata.model.layers) to find the layer loops}}
module {
  func.func @f(%x: tensor<16x64xf32>) -> tensor<16x64xf32> {
    return %x : tensor<16x64xf32>
  }
}
