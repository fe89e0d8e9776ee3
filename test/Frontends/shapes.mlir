// RUN: strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm fuse=false report=csv" -o /dev/null 2>/dev/null | FileCheck %s
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-set-system=system=h100-sxm --strata-tile -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: strata-opt %s -split-input-file --strata-set-system=system=h100-sxm --strata-tile | FileCheck %s --check-prefix=TILE

// BERT's attention scale as exporters write it: the scores times a 0-d
// scale plus a mask row broadcast over batch, heads and rows (an input
// with fewer dims through its indexing map). The 0-d operand enters the
// kernel as a one-element view copied onto a 1x1 tile that tile.map
// broadcasts; 2 FLOPs x 1 x 12 x 128 x 128 = 393216.
#s4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>
#row = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @scale(%scores: tensor<1x12x128x128xf32>, %scale: tensor<f32>, %mask: tensor<128xf32>) -> tensor<1x12x128x128xf32> {
  %e = tensor.empty() : tensor<1x12x128x128xf32>
  %r = linalg.generic {indexing_maps = [#s4, #sc, #row, #s4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scores, %scale, %mask : tensor<1x12x128x128xf32>, tensor<f32>, tensor<128xf32>) outs(%e : tensor<1x12x128x128xf32>) {
  ^bb0(%a: f32, %s: f32, %m: f32, %o: f32):
    %p = arith.mulf %a, %s : f32
    %q = arith.addf %p, %m : f32
    linalg.yield %q : f32
  } -> tensor<1x12x128x128xf32>
  return %r : tensor<1x12x128x128xf32>
}
// TILE-LABEL: func.func @scale
// TILE: %[[V:.*]] = tensor.expand_shape %arg1 [] output_shape [1] : tensor<f32> into tensor<1xf32>
// TILE: tile.kernel {{.*}} ins(%arg0, %[[V]], %arg2
// TILE: tile.copy %{{.*}}[%c0] -> %{{.*}} dims [-1, -1] bytes(4) : !tile.buf<1xf32, "hbm"> -> !tile.buf<1x1xf32, "smem">
// TILE: tile.copy %{{.*}}[%c0] -> %{{.*}} dims [-1, 0] bytes(512) : !tile.buf<128xf32, "hbm"> -> !tile.buf<1x128xf32, "smem">
// TILE: tile.map mul %{{.*}}, %{{.*}} -> {{.*}} : (!tile.buf<{{[0-9]+}}x128xf32, "smem">, !tile.buf<1x1xf32, "smem">)
// CHECK: name,op,block,class,count,flops
// CHECK-NEXT: shapes.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,393216,

// -----

// A per-head bias (fewer dims, not the innermost ones) and a 0-d scale
// times a 2-D tensor: 12 x 128 x 64 x 2 = 196608 FLOPs.
#m3 = affine_map<(h, s, d) -> (h, s, d)>
#head = affine_map<(h, s, d) -> (h, d)>
#one = affine_map<(h, s, d) -> ()>
func.func @bias(%x: tensor<12x128x64xbf16>, %b: tensor<12x64xbf16>, %s: tensor<bf16>) -> tensor<12x128x64xbf16> {
  %e = tensor.empty() : tensor<12x128x64xbf16>
  %r = linalg.generic {indexing_maps = [#m3, #head, #one, #m3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %b, %s : tensor<12x128x64xbf16>, tensor<12x64xbf16>, tensor<bf16>) outs(%e : tensor<12x128x64xbf16>) {
  ^bb0(%a: bf16, %bb: bf16, %ss: bf16, %o: bf16):
    %p = arith.addf %a, %bb : bf16
    %q = arith.mulf %p, %ss : bf16
    linalg.yield %q : bf16
  } -> tensor<12x128x64xbf16>
  return %r : tensor<12x128x64xbf16>
}
// TILE-LABEL: func.func @bias
// TILE: tensor.expand_shape %arg2 [] output_shape [1] : tensor<bf16> into tensor<1xbf16>
// TILE: tile.kernel
// CHECK: name,op,block,class,count,flops
// CHECK-NEXT: shapes.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,196608,

// -----

// A reduction to a 0-d result (a loss's sum) stays linalg with a remark
// and is priced from its counts: 4096 adds.
func.func @total(%x: tensor<64x64xf32>, %init: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>], iterator_types = ["reduction", "reduction"]}
      ins(%x : tensor<64x64xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}
// REMARK: remark: vector op left untiled: the result is a scalar (priced by the vector formula, without tile IR)
// CHECK: name,op,block,class,count,flops
// CHECK-NEXT: shapes.mlir:{{[0-9]+}}:{{[0-9]+}},linalg.generic,(unnamed),reduction,1,4096,
