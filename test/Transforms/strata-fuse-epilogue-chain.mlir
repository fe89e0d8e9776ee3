// strata-fuse's epilogue-chain option: a contraction's epilogue goes on
// through its consumer's only user (bias add, then GELU).
// Off by default; auto (what strata-pipeline passes when it runs
// strata-residency) on grid chips only.
// RUN: strata-opt %s -split-input-file --strata-fuse="system=mesh-sram epilogue-chain=auto" | FileCheck %s --check-prefix=CHAIN
// RUN: strata-opt %s -split-input-file --strata-fuse="system=h100-sxm epilogue-chain=on" | FileCheck %s --check-prefix=CHAIN
// RUN: strata-opt %s -split-input-file --strata-fuse="system=h100-sxm epilogue-chain=auto" | FileCheck %s --check-prefix=ONE
// RUN: strata-opt %s -split-input-file --strata-fuse=system=mesh-sram | FileCheck %s --check-prefix=ONE

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>
func.func @fc(%x: tensor<1024x768xbf16>,
              %w: tensor<768x3072xbf16> {strata.role = "weight"},
              %bv: tensor<3072xbf16> {strata.role = "weight"}) -> tensor<1024x3072xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<1024x3072xbf16>
  %f = linalg.fill ins(%zero : bf16) outs(%e : tensor<1024x3072xbf16>) -> tensor<1024x3072xbf16>
  %mm = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1024x768xbf16>, tensor<768x3072xbf16>) outs(%f : tensor<1024x3072xbf16>) {
  ^bb0(%in: bf16, %in2: bf16, %out: bf16):
    %p = arith.mulf %in, %in2 : bf16
    %s = arith.addf %out, %p : bf16
    linalg.yield %s : bf16
  } -> tensor<1024x3072xbf16> loc("fc")
  %e1 = tensor.empty() : tensor<1024x3072xbf16>
  %biased = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bv : tensor<1024x3072xbf16>, tensor<3072xbf16>) outs(%e1 : tensor<1024x3072xbf16>) {
  ^bb0(%in: bf16, %b: bf16, %out: bf16):
    %s = arith.addf %in, %b : bf16
    linalg.yield %s : bf16
  } -> tensor<1024x3072xbf16> loc("fc.bias")
  %e2 = tensor.empty() : tensor<1024x3072xbf16>
  %act = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%biased : tensor<1024x3072xbf16>) outs(%e2 : tensor<1024x3072xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %half = arith.constant 5.000000e-01 : bf16
    %one = arith.constant 1.000000e+00 : bf16
    %t = math.tanh %in : bf16
    %u = arith.addf %t, %one : bf16
    %h = arith.mulf %in, %half : bf16
    %g = arith.mulf %h, %u : bf16
    linalg.yield %g : bf16
  } -> tensor<1024x3072xbf16> loc("fc.act")
  return %act : tensor<1024x3072xbf16>
}
// Chained: both links name the contraction, whose epilogue carries their
// work (bias add 1 FLOP, GELU 3 FLOPs and a tanh per element; the bias
// vector is the only byte beyond the tiles' round trip).
// CHAIN: linalg.generic {{.*}} attrs = {strata.epilogue = {bytes_read = 6144 : i64, bytes_written = 0 : i64, flops = 12582912 : i64, transcendentals = 3145728 : i64}}
// CHAIN: attrs = {strata.fused_into = "fc"}
// CHAIN: attrs = {strata.fused_into = "fc"}
// One link: the bias add only; GELU stays its own op.
// ONE: linalg.generic {{.*}} attrs = {strata.epilogue = {bytes_read = 6144 : i64, bytes_written = 0 : i64, flops = 3145728 : i64, transcendentals = 0 : i64}}
// ONE: attrs = {strata.fused_into = "fc"}
// ONE-NOT: strata.fused_into
// ONE: math.tanh
