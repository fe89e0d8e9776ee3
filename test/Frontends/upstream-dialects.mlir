// RUN: strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm" -o /dev/null 2>/dev/null | FileCheck %s
// RUN: strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm report=json" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=JSON
// RUN: strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm" -o /dev/null 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN
// RUN: strata-opt %s -split-input-file | strata-opt -split-input-file | FileCheck %s --check-prefix=ROUND

// Dialects exporters emit beside linalg parse, verify, round-trip and run to
// a report: ml_program and memref globals hold weights, vector and affine
// code on buffers, index arithmetic, cf branches, complex scalars. What
// Strata does not price is listed once per op name, with its executions
// and the first location, never dropped.
module {
  ml_program.global private @w(dense<1.0> : tensor<256x256xf32>) : tensor<256x256xf32>
  memref.global "private" constant @table : memref<1024x64xf32> = dense<0.0>
  func.func @forward(%x: tensor<128x256xf32>, %v: vector<8xf32>, %i: index) -> (tensor<128x256xf32>, vector<8xf32>) {
    %w = ml_program.global_load_const @w : tensor<256x256xf32>
    %t = memref.get_global @table : memref<1024x64xf32>
    %z = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<128x256xf32>
    %f = linalg.fill ins(%z : f32) outs(%e : tensor<128x256xf32>) -> tensor<128x256xf32>
    %y = linalg.matmul ins(%x, %w : tensor<128x256xf32>, tensor<256x256xf32>) outs(%f : tensor<128x256xf32>) -> tensor<128x256xf32>
    %b = vector.broadcast %z : f32 to vector<8xf32>
    %s = arith.addf %v, %b : vector<8xf32>
    %j = index.add %i, %i
    %c = complex.constant [1.0 : f32, 0.0 : f32] : complex<f32>
    affine.for %k = 0 to 4 {
      %r = vector.transfer_read %t[%k, %j], %z : memref<1024x64xf32>, vector<8xf32>
    }
    cf.br ^bb1
  ^bb1:
    return %y, %s : tensor<128x256xf32>, vector<8xf32>
  }
}
// ROUND: ml_program.global private @w
// ROUND: memref.global "private" constant @table
// ROUND: affine.for
// ROUND: vector.transfer_read
// ROUND: cf.br ^bb1
// The matmul (2 x 128 x 256 x 256 = 16777216 FLOPs) is priced.
// CHECK-LABEL: Cost report: @forward
// CHECK: FLOPs     16.78 MFLOP
// CHECK: linalg.matmul      1  16.78 MFLOP
// Both globals are weights: 256 x 256 x 4 + 1024 x 64 x 4 bytes.
// CHECK: weights      512 KiB
// The affine loop's 4 trips multiply its body.
// CHECK:      Unpriced ops (not in the figures above; docs/inputs.md)
// CHECK-NEXT:   op                    count                            first at
// CHECK-NEXT:   vector.broadcast          1  {{.*}}upstream-dialects.mlir:21:10
// CHECK-NEXT:   arith.addf                1  {{.*}}upstream-dialects.mlir:22:10
// CHECK-NEXT:   vector.transfer_read      4  {{.*}}upstream-dialects.mlir:26:12
// CHECK-NOT: index.add
// JSON:      "unpriced": [
// JSON-NEXT:   {
// JSON-NEXT:     "op": "vector.broadcast",
// JSON-NEXT:     "count": 1,
// JSON-NEXT:     "location": "{{.*}}upstream-dialects.mlir:21:10"
// WARN: upstream-dialects.mlir:14:3: warning: ops Strata cannot model were not costed: vector.broadcast x1, arith.addf x1, vector.transfer_read x4

// -----

// A bufferized program: linalg on memrefs is priced as on tensors; an
// llvm global and a large dense constant hold weights; the sparse matmul
// is not priced (its work depends on the stored entries).
#csr = #sparse_tensor.encoding<{ map = (d0, d1) -> (d0 : dense, d1 : compressed) }>
module {
  llvm.mlir.global internal constant @lut(dense<1.0> : tensor<4096xf32>) : !llvm.array<4096 x f32>
  func.func @bufferized(%a: memref<64x128xf32>, %b: memref<128x32xf32>, %c: memref<64x32xf32>,
                        %s: tensor<64x128xf32, #csr>, %d: tensor<128x32xf32>) -> tensor<64x32xf32> {
    %p = llvm.mlir.addressof @lut : !llvm.ptr
    %k = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
    linalg.matmul ins(%a, %b : memref<64x128xf32>, memref<128x32xf32>) outs(%c : memref<64x32xf32>)
    %t = bufferization.to_tensor %c : memref<64x32xf32> to tensor<64x32xf32>
    %o = linalg.matmul ins(%s, %d : tensor<64x128xf32, #csr>, tensor<128x32xf32>) outs(%t : tensor<64x32xf32>) -> tensor<64x32xf32>
    return %o : tensor<64x32xf32>
  }
}
// ROUND: llvm.mlir.global internal constant @lut
// ROUND: bufferization.to_tensor
// 2 x 64 x 32 x 128 = 524288 FLOPs.
// CHECK-LABEL: Cost report: @bufferized
// CHECK: linalg.matmul      1  524.3 kFLOP
// 4096 x 4 bytes of the llvm global + 16 bytes of the dense constant.
// CHECK: weights      16.02 KiB
// CHECK:      Unpriced ops
// CHECK:        linalg.matmul      1  {{.*}}upstream-dialects.mlir:72:10
// WARN: warning: ops Strata cannot model were not costed: linalg.matmul x1

// -----

// A loop written with cf branches (as lowered control flow arrives): its
// blocks are counted once and the loop is listed, never silently
// under-counted. 2 x 32 x 64 x 64 = 262144 FLOPs for one trip.
func.func @cfloop(%x: tensor<32x64xf32>, %w: tensor<64x64xf32>, %n: index) -> tensor<32x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  cf.br ^loop(%c0, %x : index, tensor<32x64xf32>)
^loop(%i: index, %h: tensor<32x64xf32>):
  %e = tensor.empty() : tensor<32x64xf32>
  %y = linalg.matmul ins(%h, %w : tensor<32x64xf32>, tensor<64x64xf32>) outs(%e : tensor<32x64xf32>) -> tensor<32x64xf32>
  %next = arith.addi %i, %c1 : index
  %more = arith.cmpi slt, %next, %n : index
  cf.cond_br %more, ^loop(%next, %y : index, tensor<32x64xf32>), ^done
^done:
  return %y : tensor<32x64xf32>
}
// CHECK-LABEL: Cost report: @cfloop
// CHECK: FLOPs     262.1 kFLOP
// CHECK: Unpriced ops
// CHECK-NEXT: op
// CHECK-NEXT: loop of cf branches (blocks counted once)      1  {{.*}}upstream-dialects.mlir:[[@LINE-8]]:3
