// RUN: strata-opt %s -allow-unregistered-dialect --strata-pipeline="system=h100-sxm report=csv" -o /dev/null 2>/dev/null | FileCheck %s
// RUN: strata-opt %s -allow-unregistered-dialect --strata-pipeline="system=h100-sxm" -o /dev/null 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN

// Attention projections as torch-mlir / IREE export them: linalg.generic
// everywhere, tensor.expand_shape to split heads, batch_matmul for scores
// with K transposed by its indexing map, no op names (file locations), and
// one op Strata does not know.
#map = affine_map<(d0, d1, d2) -> (d0, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d2, d1)>
#map2 = affine_map<(d0, d1, d2) -> (d0, d1)>
#q = affine_map<(b, i, j, d) -> (b, i, d)>
#k = affine_map<(b, i, j, d) -> (b, j, d)>
#s = affine_map<(b, i, j, d) -> (b, i, j)>
func.func @forward(%x: tensor<256x1024xbf16>, %wq: tensor<1024x1024xbf16>,
                   %wk: tensor<1024x1024xbf16>) -> tensor<16x256x256xf32> {
  %cst = arith.constant 0.000000e+00 : bf16
  %zero = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<256x1024xbf16>
  %1 = linalg.fill ins(%cst : bf16) outs(%0 : tensor<256x1024xbf16>) -> tensor<256x1024xbf16>
  %q = linalg.generic {indexing_maps = [#map, #map1, #map2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wq : tensor<256x1024xbf16>, tensor<1024x1024xbf16>) outs(%1 : tensor<256x1024xbf16>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: bf16):
    %m = arith.mulf %in, %in_0 : bf16
    %a = arith.addf %out, %m : bf16
    linalg.yield %a : bf16
  } -> tensor<256x1024xbf16>
  %k = linalg.generic {indexing_maps = [#map, #map1, #map2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wk : tensor<256x1024xbf16>, tensor<1024x1024xbf16>) outs(%1 : tensor<256x1024xbf16>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: bf16):
    %m = arith.mulf %in, %in_0 : bf16
    %a = arith.addf %out, %m : bf16
    linalg.yield %a : bf16
  } -> tensor<256x1024xbf16>
  %qh = tensor.expand_shape %q [[0], [1, 2]] output_shape [256, 16, 64] : tensor<256x1024xbf16> into tensor<256x16x64xbf16>
  %kh = tensor.expand_shape %k [[0], [1, 2]] output_shape [256, 16, 64] : tensor<256x1024xbf16> into tensor<256x16x64xbf16>
  %qt = "torch.aten.transpose"(%qh) : (tensor<256x16x64xbf16>) -> tensor<16x256x64xbf16>
  %kt = "torch.aten.transpose"(%kh) : (tensor<256x16x64xbf16>) -> tensor<16x256x64xbf16>
  %se = tensor.empty() : tensor<16x256x256xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<16x256x256xf32>) -> tensor<16x256x256xf32>
  %scores = linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%qt, %kt : tensor<16x256x64xbf16>, tensor<16x256x64xbf16>) outs(%s0 : tensor<16x256x256xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ae = arith.extf %a : bf16 to f32
    %be = arith.extf %b : bf16 to f32
    %p = arith.mulf %ae, %be : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<16x256x256xf32>
  return %scores : tensor<16x256x256xf32>
}
// Both projections (2 x 256 x 1024 x 1024 = 536870912 FLOPs) and the
// per-head scores (16 x 2 x 256 x 256 x 64 = 134217728) are tiled kernels.
// CHECK: name,op,block,class
// CHECK: third-party-linalg.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,536870912,
// CHECK: third-party-linalg.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,536870912,
// CHECK: third-party-linalg.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,134217728,
// The unknown op is named, with its count, never silently dropped.
// WARN: warning: ops Strata cannot model were not costed: torch.aten.transpose x2
