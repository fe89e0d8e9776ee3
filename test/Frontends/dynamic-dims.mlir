// RUN: strata-opt %s -split-input-file --strata-bind-dims="sizes=4,128" | FileCheck %s
// RUN: strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm bind-dims=4,128 report=csv" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=COST

// An export with dynamic batch and sequence dims: bind-dims gives the ?s
// of the entry's arguments sizes in order (here %x's dim 0 = 4, dim 1 =
// 128); tensor.dim, tensor.empty and the linalg ops become static.
func.func @bert(%x: tensor<?x?x768xf32>, %w: tensor<768x768xf32>) -> tensor<?x?x768xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %x, %c0 : tensor<?x?x768xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x768xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty(%b, %s) : tensor<?x?x768xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?x768xf32>) -> tensor<?x?x768xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(b, s, n, k) -> (b, s, k)>, affine_map<(b, s, n, k) -> (k, n)>, affine_map<(b, s, n, k) -> (b, s, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x?x768xf32>, tensor<768x768xf32>) outs(%f : tensor<?x?x768xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %bb : f32
    %r = arith.addf %o, %m : f32
    linalg.yield %r : f32
  } -> tensor<?x?x768xf32>
  return %y : tensor<?x?x768xf32>
}
// CHECK-LABEL: func.func @bert(%arg0: tensor<4x128x768xf32>, %arg1: tensor<768x768xf32>) -> tensor<4x128x768xf32>
// CHECK-NOT: ?x
// CHECK: tensor.empty() : tensor<4x128x768xf32>
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<4x128x768xf32>)
// CHECK-NOT: tensor.cast
// CHECK: return
// 2 x 4 x 128 x 768 x 768 = 603979776 FLOPs, priced once bound.
// COST: name,op,block,class,count,flops
// COST: dynamic-dims.mlir:{{[0-9]+}}:8,linalg.generic,(unnamed),contraction,1,603979776,

// -----

// Two dynamic arguments: sizes run over the arguments in order, %a's ?
// then %b's; the result's sizes follow from them.
func.func @two(%a: tensor<?x64xf32>, %b: tensor<64x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x64xf32>
  %n = tensor.dim %b, %c1 : tensor<64x?xf32>
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %r = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x?xf32>) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
// CHECK-LABEL: func.func @two(%arg0: tensor<4x64xf32>, %arg1: tensor<64x128xf32>) -> tensor<4x128xf32>
// 2 x 4 x 128 x 64 = 65536 FLOPs.
// COST: dynamic-dims.mlir:{{[0-9]+}}:8,linalg.matmul,(unnamed),contraction,1,65536,
