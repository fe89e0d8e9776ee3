// strata-fuse's norms option: a LayerNorm's row statistics (mean, variance,
// rstd) folded into the op applying them, one kernel over whole rows. Off
// by default; auto (what strata-pipeline passes when it runs
// strata-residency) on grid chips only.
// RUN: strata-opt %s -split-input-file --strata-fuse="system=mesh-sram norms=auto" | FileCheck %s
// RUN: strata-opt %s -split-input-file --strata-fuse="system=h100-sxm norms=auto" | FileCheck %s --check-prefix=AUTO-OFF
// RUN: strata-opt %s -split-input-file --strata-fuse="system=h100-sxm norms=on" | FileCheck %s --check-prefix=ON
// RUN: strata-opt %s -split-input-file --strata-fuse=system=mesh-sram | FileCheck %s --check-prefix=AUTO-OFF
// RUN: strata-opt %s -split-input-file --strata-pipeline="system=mesh-sram report=csv" -o /dev/null | FileCheck %s --check-prefix=EST
// RUN: strata-opt %s -split-input-file --strata-fuse="system=mesh-sram norms=auto" --strata-tile=system=mesh-sram | FileCheck %s --check-prefix=TILE

#x = affine_map<(b, r, c) -> (b, r, c)>
#row = affine_map<(b, r, c) -> (b, r)>
#col = affine_map<(b, r, c) -> (c)>
#r2 = affine_map<(b, r) -> (b, r)>
func.func @layernorm(%x: tensor<1x1024x768xbf16>,
                     %w: tensor<768xbf16> {strata.role = "weight"},
                     %bias: tensor<768xbf16> {strata.role = "weight"})
    -> tensor<1x1024x768xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e0 = tensor.empty() : tensor<1x1024xbf16>
  %f0 = linalg.fill ins(%zero : bf16) outs(%e0 : tensor<1x1024xbf16>) -> tensor<1x1024xbf16> loc("ln.mean_init")
  %mean = linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<1x1024x768xbf16>) outs(%f0 : tensor<1x1024xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %s = arith.addf %out, %in : bf16
    linalg.yield %s : bf16
  } -> tensor<1x1024xbf16> loc("ln.mean")
  %e1 = tensor.empty() : tensor<1x1024xbf16>
  %f1 = linalg.fill ins(%zero : bf16) outs(%e1 : tensor<1x1024xbf16>) -> tensor<1x1024xbf16> loc("ln.var_init")
  %var = linalg.generic {indexing_maps = [#x, #row, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %mean : tensor<1x1024x768xbf16>, tensor<1x1024xbf16>) outs(%f1 : tensor<1x1024xbf16>) {
  ^bb0(%in: bf16, %m: bf16, %out: bf16):
    %inv = arith.constant 1.304630e-03 : bf16
    %mu = arith.mulf %m, %inv : bf16
    %d = arith.subf %in, %mu : bf16
    %d2 = arith.mulf %d, %d : bf16
    %s = arith.addf %out, %d2 : bf16
    linalg.yield %s : bf16
  } -> tensor<1x1024xbf16> loc("ln.var")
  %e2 = tensor.empty() : tensor<1x1024xbf16>
  %rstd = linalg.generic {indexing_maps = [#r2, #r2], iterator_types = ["parallel", "parallel"]}
      ins(%var : tensor<1x1024xbf16>) outs(%e2 : tensor<1x1024xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %inv = arith.constant 1.304630e-03 : bf16
    %eps = arith.constant 1.001360e-05 : bf16
    %v = arith.mulf %in, %inv : bf16
    %ve = arith.addf %v, %eps : bf16
    %r = math.rsqrt %ve : bf16
    linalg.yield %r : bf16
  } -> tensor<1x1024xbf16> loc("ln.rstd")
  %e3 = tensor.empty() : tensor<1x1024x768xbf16>
  %y = linalg.generic {indexing_maps = [#x, #row, #row, #col, #col, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %mean, %rstd, %w, %bias : tensor<1x1024x768xbf16>, tensor<1x1024xbf16>, tensor<1x1024xbf16>, tensor<768xbf16>, tensor<768xbf16>)
      outs(%e3 : tensor<1x1024x768xbf16>) {
  ^bb0(%in: bf16, %m: bf16, %r: bf16, %g: bf16, %b: bf16, %out: bf16):
    %inv = arith.constant 1.304630e-03 : bf16
    %mu = arith.mulf %m, %inv : bf16
    %d = arith.subf %in, %mu : bf16
    %n = arith.mulf %d, %r : bf16
    %s = arith.mulf %n, %g : bf16
    %o = arith.addf %s, %b : bf16
    linalg.yield %o : bf16
  } -> tensor<1x1024x768xbf16> loc("ln.scale")
  return %y : tensor<1x1024x768xbf16>
}
// The statistics and the fills of their inits name the op applying them,
// which carries their work: mean 786432 FLOPs, variance 4 x 786432, rstd
// 2 x 1024 and 1024 rsqrt; no bytes beyond the row it reads already.
// CHECK-LABEL: func.func @layernorm
// CHECK: linalg.fill {strata.fused_into = "ln.scale"}
// CHECK: attrs = {strata.fused_into = "ln.scale"}
// CHECK: linalg.fill {strata.fused_into = "ln.scale"}
// CHECK: attrs = {strata.fused_into = "ln.scale"}
// CHECK: attrs = {strata.fused_into = "ln.scale"}
// CHECK: attrs = {strata.prologue = {bytes_read = 0 : i64, bytes_written = 0 : i64, flops = 3934208 : i64, transcendentals = 1024 : i64}}
// AUTO-OFF-NOT: strata.fused_into
// AUTO-OFF-NOT: strata.prologue
// ON: strata.prologue = {bytes_read = 0 : i64, bytes_written = 0 : i64, flops = 3934208 : i64, transcendentals = 1024 : i64}

// One kernel: the statistics are priced with it.
// EST: ln.scale,tile.kernel,
// EST-NOT: ln.mean,
// EST-NOT: ln.rstd,

// Whole rows per core (768 columns), the row blocks split over a rectangle
// of the grid, the weight and bias fetched once per grid row and
// multicast along it.
// TILE: tile.kernel "ln.scale"
// TILE: tile.spread {{.*}} grid(
// TILE: tile.alloc : !tile.buf<{{[0-9]+}}x768xbf16, "sram">
// TILE: tile.copy {{.*}} multicast(1)
// TILE: tile.copy {{.*}} multicast(1)
// TILE: strata.prologue = {bytes_read = 0 : i64, bytes_written = 0 : i64, flops = 3934208 : i64, transcendentals = 1024 : i64}

// -----

// The mean is also returned: the kernel cannot keep it, nothing is fused.
#x = affine_map<(b, r, c) -> (b, r, c)>
#row = affine_map<(b, r, c) -> (b, r)>
func.func @mean_escapes(%x: tensor<1x1024x768xbf16>)
    -> (tensor<1x1024x768xbf16>, tensor<1x1024xbf16>) {
  %zero = arith.constant 0.0 : bf16
  %e0 = tensor.empty() : tensor<1x1024xbf16>
  %f0 = linalg.fill ins(%zero : bf16) outs(%e0 : tensor<1x1024xbf16>) -> tensor<1x1024xbf16>
  %mean = linalg.generic {indexing_maps = [#x, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<1x1024x768xbf16>) outs(%f0 : tensor<1x1024xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %s = arith.addf %out, %in : bf16
    linalg.yield %s : bf16
  } -> tensor<1x1024xbf16> loc("esc.mean")
  %e3 = tensor.empty() : tensor<1x1024x768xbf16>
  %y = linalg.generic {indexing_maps = [#x, #row, #x], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %mean : tensor<1x1024x768xbf16>, tensor<1x1024xbf16>) outs(%e3 : tensor<1x1024x768xbf16>) {
  ^bb0(%in: bf16, %m: bf16, %out: bf16):
    %d = arith.subf %in, %m : bf16
    linalg.yield %d : bf16
  } -> tensor<1x1024x768xbf16> loc("esc.center")
  return %y, %mean : tensor<1x1024x768xbf16>, tensor<1x1024xbf16>
}
// CHECK-LABEL: func.func @mean_escapes
// CHECK-NOT: strata.fused_into
// CHECK-NOT: strata.prologue
// CHECK: return
