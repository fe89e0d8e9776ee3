// RUN: strata-opt --strata-remarks %s --strata-pipeline="system=h100-sxm" -o /dev/null 2>&1 | FileCheck %s --check-prefix=F32
// RUN: strata-opt --strata-remarks %s --strata-pipeline="system=h100-sxm f32-matmul=f32" -o /dev/null 2>&1 | FileCheck %s --check-prefix=F32
// RUN: strata-opt --strata-remarks %s --strata-pipeline="system=h100-sxm f32-matmul=tf32" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TF32
// RUN: strata-opt %s --strata-pipeline="system=a100-sxm-80g f32-matmul=tf32" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=A100
// RUN: strata-opt %s --strata-pipeline="system=tpu-v5p f32-matmul=tf32" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=NOTF32
// RUN: strata-opt %s --strata-set-system="system=h100-sxm" --strata-set-system="f32-matmul=tf32" | FileCheck %s --check-prefix=ATTR
// RUN: not strata-opt %s --strata-pipeline="system=h100-sxm f32-matmul=fp16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// An f32 GEMM (2 x 4096^3 = 137.4 GFLOP). By default (PyTorch's,
// torch.backends.cuda.matmul.allow_tf32 = False) it runs at the f32 rate,
// on the H100's CUDA cores; f32-matmul=tf32 (allow_tf32 = True, or
// torch.set_float32_matmul_precision("high")) prices it on the tensor
// cores' TF32 rate, with MFU against the TF32 peak.
func.func @gemm(%a: tensor<4096x4096xf32>, %b: tensor<4096x4096xf32>, %c: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<4096x4096xf32>, tensor<4096x4096xf32>) outs(%c : tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}
// F32: remark: contraction left untiled: no matrix unit of h100-sxm computes f32; priced on the vector unit
// F32: latency   2.059 ms
// F32: MFU       99.8 % of 66.91 TFLOP/s f32
// F32: bound by  cuda
// TF32: remark: contraction left untiled: f32 operands at the tf32 rate (f32-matmul=tf32) have no tile-IR form; priced by the matmul formula
// TF32: latency   408.3 us
// TF32: MFU       68.0 % of 494.7 TFLOP/s tf32
// A100: latency   1.11 ms
// A100: MFU       79.4 % of 155.9 TFLOP/s tf32
// A chip with no TF32 rate keeps the f32 one.
// NOTF32: MFU       100.0 % of 7.168 TFLOP/s f32
// ATTR: module attributes {arch.system = #arch.system<"h100-sxm"
// ATTR-SAME: strata.f32_matmul = "tf32"
// BAD: error: strata-set-system: f32-matmul must be f32 or tf32, got 'fp16'
