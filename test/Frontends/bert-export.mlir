// RUN: strata-opt %s --strata-pipeline="system=h100-sxm bind-dims=128 report=csv" -o /dev/null 2>/dev/null | FileCheck %s
// RUN: strata-opt %s --strata-pipeline="system=h100-sxm bind-dims=128 fuse=false report=csv" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=UNFUSED
// RUN: strata-opt %s --strata-pipeline="system=h100-sxm bind-dims=128" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=TEXT

// A BERT-base attention-scores block written the way exporters write it
// (hand-written for this test): weights in ml_program globals, a dynamic
// sequence dim, projections as linalg.generic, heads split by a dynamic
// tensor.expand_shape, the 1/sqrt(64) scale as a 0-d constant tensor, and
// IREE's whole linalg.softmax. bind-dims=128 gives the sequence a size.
#x = affine_map<(b, s, n, k) -> (b, s, k)>
#w = affine_map<(b, s, n, k) -> (k, n)>
#y = affine_map<(b, s, n, k) -> (b, s, n)>
#q = affine_map<(b, h, i, j, d) -> (b, i, h, d)>
#k = affine_map<(b, h, i, j, d) -> (b, j, h, d)>
#s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#all = affine_map<(b, h, i, j) -> (b, h, i, j)>
#scalar = affine_map<(b, h, i, j) -> ()>
module {
  ml_program.global private @wq(dense<0.01> : tensor<768x768xbf16>) : tensor<768x768xbf16>
  ml_program.global private @wk(dense<0.01> : tensor<768x768xbf16>) : tensor<768x768xbf16>
  func.func @main(%x: tensor<1x?x768xbf16>) -> tensor<1x12x?x?xbf16> {
    %c1 = arith.constant 1 : index
    %seq = tensor.dim %x, %c1 : tensor<1x?x768xbf16>
    %wq = ml_program.global_load_const @wq : tensor<768x768xbf16>
    %wk = ml_program.global_load_const @wk : tensor<768x768xbf16>
    %zero = arith.constant 0.0 : bf16
    %e = tensor.empty(%seq) : tensor<1x?x768xbf16>
    %f = linalg.fill ins(%zero : bf16) outs(%e : tensor<1x?x768xbf16>) -> tensor<1x?x768xbf16>
    %qp = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
        ins(%x, %wq : tensor<1x?x768xbf16>, tensor<768x768xbf16>) outs(%f : tensor<1x?x768xbf16>) {
    ^bb0(%a: bf16, %b: bf16, %o: bf16):
      %m = arith.mulf %a, %b : bf16
      %r = arith.addf %o, %m : bf16
      linalg.yield %r : bf16
    } -> tensor<1x?x768xbf16>
    %kp = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
        ins(%x, %wk : tensor<1x?x768xbf16>, tensor<768x768xbf16>) outs(%f : tensor<1x?x768xbf16>) {
    ^bb0(%a: bf16, %b: bf16, %o: bf16):
      %m = arith.mulf %a, %b : bf16
      %r = arith.addf %o, %m : bf16
      linalg.yield %r : bf16
    } -> tensor<1x?x768xbf16>
    %qh = tensor.expand_shape %qp [[0], [1], [2, 3]] output_shape [1, %seq, 12, 64] : tensor<1x?x768xbf16> into tensor<1x?x12x64xbf16>
    %kh = tensor.expand_shape %kp [[0], [1], [2, 3]] output_shape [1, %seq, 12, 64] : tensor<1x?x768xbf16> into tensor<1x?x12x64xbf16>
    %se = tensor.empty(%seq, %seq) : tensor<1x12x?x?xf32>
    %zf = arith.constant 0.0 : f32
    %s0 = linalg.fill ins(%zf : f32) outs(%se : tensor<1x12x?x?xf32>) -> tensor<1x12x?x?xf32>
    %scores = linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
        ins(%qh, %kh : tensor<1x?x12x64xbf16>, tensor<1x?x12x64xbf16>) outs(%s0 : tensor<1x12x?x?xf32>) {
    ^bb0(%a: bf16, %b: bf16, %acc: f32):
      %ae = arith.extf %a : bf16 to f32
      %be = arith.extf %b : bf16 to f32
      %p = arith.mulf %ae, %be : f32
      %r = arith.addf %acc, %p : f32
      linalg.yield %r : f32
    } -> tensor<1x12x?x?xf32>
    %scale = arith.constant dense<0.125> : tensor<f32>
    %scaled = linalg.generic {indexing_maps = [#all, #scalar, #all], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%scores, %scale : tensor<1x12x?x?xf32>, tensor<f32>) outs(%se : tensor<1x12x?x?xf32>) {
    ^bb0(%a: f32, %c: f32, %o: f32):
      %m = arith.mulf %a, %c : f32
      linalg.yield %m : f32
    } -> tensor<1x12x?x?xf32>
    %pe = tensor.empty(%seq, %seq) : tensor<1x12x?x?xf32>
    %probs = linalg.softmax dimension(3) ins(%scaled : tensor<1x12x?x?xf32>) outs(%pe : tensor<1x12x?x?xf32>) -> tensor<1x12x?x?xf32>
    %be = tensor.empty(%seq, %seq) : tensor<1x12x?x?xbf16>
    %out = linalg.generic {indexing_maps = [#all, #all], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%probs : tensor<1x12x?x?xf32>) outs(%be : tensor<1x12x?x?xbf16>) {
    ^bb0(%a: f32, %o: bf16):
      %t = arith.truncf %a : f32 to bf16
      linalg.yield %t : bf16
    } -> tensor<1x12x?x?xbf16>
    return %out : tensor<1x12x?x?xbf16>
  }
}
// Projections: 2 x 128 x 768 x 768 = 150994944 FLOPs each, tiled; the
// scores 2 x 12 x 128 x 128 x 64 = 25165824 with the 0-d scale (one
// multiply per score, 196608) fused as their epilogue: 25362432; softmax
// 4 FLOPs and an exp per score (786432, 196608).
// CHECK: name,op,block,class,count,flops,transcendentals
// CHECK: bert-export.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,150994944,
// CHECK: bert-export.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,150994944,
// CHECK: bert-export.mlir:{{[0-9]+}}:{{[0-9]+}},linalg.generic,(unnamed),contraction,1,25362432,
// CHECK: bert-export.mlir:{{[0-9]+}}:{{[0-9]+}},linalg.softmax,(unnamed),reduction,1,786432,196608,
// Unfused, the 0-d scale is its own vector kernel.
// UNFUSED: bert-export.mlir:{{[0-9]+}}:{{[0-9]+}},linalg.generic,(unnamed),contraction,1,25165824,
// UNFUSED: bert-export.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,196608,
// Both globals are weights (2 x 768 x 768 x 2 bytes); nothing is unpriced.
// TEXT: weights       2.25 MiB
// TEXT-NOT: Unpriced ops
