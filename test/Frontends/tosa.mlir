// RUN: strata-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor),strata-pipeline{system=h100-sxm report=csv})" -split-input-file -o /dev/null 2>/dev/null | FileCheck %s
// RUN: strata-opt --strata-remarks %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor),strata-pipeline{system=h100-sxm})" -split-input-file -o /dev/null 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: strata-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" -split-input-file | FileCheck %s --check-prefix=LINALG

// TOSA through the upstream conversions, then the Strata pipeline: a bf16
// MLP block (matmul, bias add, SiLU as x * sigmoid(x)).
func.func @mlp_bf16(%x: tensor<1x128x256xbf16>, %w: tensor<1x256x512xbf16>, %b: tensor<1x1x512xbf16>) -> tensor<1x128x512xbf16> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xbf16>}> : () -> tensor<1xbf16>
  %y = tosa.matmul %x, %w, %zp, %zp : (tensor<1x128x256xbf16>, tensor<1x256x512xbf16>, tensor<1xbf16>, tensor<1xbf16>) -> tensor<1x128x512xbf16>
  %z = tosa.add %y, %b : (tensor<1x128x512xbf16>, tensor<1x1x512xbf16>) -> tensor<1x128x512xbf16>
  %s = tosa.sigmoid %z : (tensor<1x128x512xbf16>) -> tensor<1x128x512xbf16>
  %zp8 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %r = tosa.mul %z, %s, %zp8 : (tensor<1x128x512xbf16>, tensor<1x128x512xbf16>, tensor<1xi8>) -> tensor<1x128x512xbf16>
  return %r : tensor<1x128x512xbf16>
}
// LINALG-LABEL: func.func @mlp_bf16
// LINALG: linalg.batch_matmul
// LINALG-NOT: tosa.
// 2 x 128 x 512 x 256 = 33554432 FLOPs on the tensor cores, tiled, with
// the bias add (128 x 512 = 65536 FLOPs) fused as its epilogue: 33619968.
// CHECK: name,op,block,class
// CHECK-NEXT: {{.*}}tosa.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,33619968,
// The sigmoid, tiled by strata-tile's vector step: one exp per element is
// still reported as a transcendental.
// CHECK-NEXT: {{.*}}tosa.mlir:{{[0-9]+}}:{{[0-9]+}},tile.kernel,(unnamed),kernel,1,196608,65536,

// -----

// In f32 the H100 tensor cores have no rate (TF32 is a separate opt-in):
// the matmul stays linalg and is priced on the CUDA cores (bias add fused as
// its epilogue), with a remark.
func.func @mlp_f32(%x: tensor<1x128x256xf32>, %w: tensor<1x256x512xf32>, %b: tensor<1x1x512xf32>) -> tensor<1x128x512xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.matmul %x, %w, %zp, %zp : (tensor<1x128x256xf32>, tensor<1x256x512xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x128x512xf32>
  %z = tosa.add %y, %b : (tensor<1x128x512xf32>, tensor<1x1x512xf32>) -> tensor<1x128x512xf32>
  %s = tosa.sigmoid %z : (tensor<1x128x512xf32>) -> tensor<1x128x512xf32>
  %zp8 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %r = tosa.mul %z, %s, %zp8 : (tensor<1x128x512xf32>, tensor<1x128x512xf32>, tensor<1xi8>) -> tensor<1x128x512xf32>
  return %r : tensor<1x128x512xf32>
}
// REMARK: remark: contraction left untiled: no matrix unit of h100-sxm computes f32; priced on the vector unit
// CHECK: linalg.batch_matmul,(unnamed),contraction,1,33619968,
