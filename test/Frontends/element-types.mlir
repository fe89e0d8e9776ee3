// RUN: strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm fuse=false" -o /dev/null 2>/dev/null | FileCheck %s
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-pipeline="system=h100-sxm fuse=false" -o /dev/null 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

// Element types exporters emit, each priced at the rate of the dtype it
// maps to (the summary's MFU names the peak it is measured against).
// int8 GEMM: tiled on the tensor cores at the int8 rate.
func.func @i8(%a: tensor<256x512xi8>, %b: tensor<512x256xi8>, %c: tensor<256x256xi32>) -> tensor<256x256xi32> {
  %r = linalg.matmul ins(%a, %b : tensor<256x512xi8>, tensor<512x256xi8>) outs(%c : tensor<256x256xi32>) -> tensor<256x256xi32>
  return %r : tensor<256x256xi32>
}
// CHECK-LABEL: Cost report: @i8
// CHECK: FLOPs     67.11 MFLOP
// CHECK: MFU {{.*}} of 1.979 PFLOP/s int8
// CHECK: tile.kernel      1  67.11 MFLOP

// -----

// int4 weights (packed two per byte: 2 x 64 KiB + the 256 KiB i32 result)
// at the int8 rate; no tile-IR MMA takes i4, so the matmul stays linalg.
func.func @i4(%a: tensor<256x512xi4>, %b: tensor<512x256xi4>, %c: tensor<256x256xi32>) -> tensor<256x256xi32> {
  %r = linalg.matmul ins(%a, %b : tensor<256x512xi4>, tensor<512x256xi4>) outs(%c : tensor<256x256xi32>) -> tensor<256x256xi32>
  return %r : tensor<256x256xi32>
}
// REMARK: remark: contraction left untiled: 'i4' x 'i4' operands have no tile-IR form; priced by the matmul formula at the int8 rate
// CHECK-LABEL: Cost report: @i4
// CHECK: MFU {{.*}} of 1.979 PFLOP/s int8
// CHECK: linalg.matmul      1  67.11 MFLOP {{.*}} 384 KiB

// -----

// FP8 with E4M3 activations and E5M2 weights (as in FP8 training): the
// fp8 rate, as linalg (an MMA's operands share one type).
func.func @f8(%a: tensor<256x512xf8E4M3FN>, %b: tensor<512x256xf8E5M2>, %c: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<256x512xf8E4M3FN>, tensor<512x256xf8E5M2>) outs(%c : tensor<256x256xf32>) -> tensor<256x256xf32>
  return %r : tensor<256x256xf32>
}
// REMARK: remark: contraction left untiled: 'f8E4M3FN' x 'f8E5M2' operands have no tile-IR form; priced by the matmul formula at the fp8 rate
// CHECK-LABEL: Cost report: @f8
// CHECK: MFU {{.*}} of 1.979 PFLOP/s fp8

// -----

// One FP8 type on both sides is tiled.
func.func @e5m2(%a: tensor<256x512xf8E5M2>, %b: tensor<512x256xf8E5M2>, %c: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>) outs(%c : tensor<256x256xf32>) -> tensor<256x256xf32>
  return %r : tensor<256x256xf32>
}
// CHECK-LABEL: Cost report: @e5m2
// CHECK: MFU {{.*}} of 1.979 PFLOP/s fp8
// CHECK: tile.kernel      1  67.11 MFLOP

// -----

// An i1 mask (bit-packed, as tile buffers count it: 2 KiB) selects
// between the scores and a constant: one select per element.
func.func @mask(%m: tensor<128x128xi1>, %x: tensor<128x128xf32>) -> tensor<128x128xf32> {
  %e = tensor.empty() : tensor<128x128xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m, %x : tensor<128x128xi1>, tensor<128x128xf32>) outs(%e : tensor<128x128xf32>) {
  ^bb0(%mm: i1, %xx: f32, %o: f32):
    %n = arith.constant -1.0e30 : f32
    %s = arith.select %mm, %xx, %n : f32
    linalg.yield %s : f32
  } -> tensor<128x128xf32>
  return %r : tensor<128x128xf32>
}
// CHECK-LABEL: Cost report: @mask
// CHECK: tile.kernel      1  16.38 kFLOP {{.*}} 130 KiB

// -----

// complex<f32>: a complex GEMM is four real f32 GEMMs (8 real FLOPs per
// multiply-accumulate: 8 x 64 x 32 x 128 = 2097152); a complex multiply
// in a map is 4 multiplies and 2 adds (6 x 64 x 32 = 12288). Neither has
// a tile-IR form; both are priced, as linalg.
func.func @cplx(%a: tensor<64x128xcomplex<f32>>, %b: tensor<128x32xcomplex<f32>>, %c: tensor<64x32xcomplex<f32>>) -> tensor<64x32xcomplex<f32>> {
  %r = linalg.matmul ins(%a, %b : tensor<64x128xcomplex<f32>>, tensor<128x32xcomplex<f32>>) outs(%c : tensor<64x32xcomplex<f32>>) -> tensor<64x32xcomplex<f32>>
  %e = tensor.empty() : tensor<64x32xcomplex<f32>>
  %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%r : tensor<64x32xcomplex<f32>>) outs(%e : tensor<64x32xcomplex<f32>>) {
  ^bb0(%x: complex<f32>, %o: complex<f32>):
    %y = complex.mul %x, %x : complex<f32>
    linalg.yield %y : complex<f32>
  } -> tensor<64x32xcomplex<f32>>
  return %m : tensor<64x32xcomplex<f32>>
}
// REMARK: remark: contraction left untiled: complex elements have no tile-IR form; priced by the matmul formula as four real ones
// REMARK: remark: vector op left untiled: its elements are not integers or floats (complex has no tile-IR form)
// CHECK-LABEL: Cost report: @cplx
// CHECK: MFU {{.*}} f32
// CHECK: linalg.matmul      1  2.097 MFLOP
// CHECK: linalg.generic      1  12.29 kFLOP
// 64 x 128 x 8 + 128 x 32 x 8 + 64 x 32 x 8 bytes of arguments.
// CHECK: inputs       112 KiB
