// RUN: strata-opt %s -split-input-file --strata-tile=system=h100-sxm --strata-place | FileCheck %s --check-prefix=H100
// RUN: strata-opt %s -split-input-file --strata-tile=system=mesh-sram --strata-place | FileCheck %s --check-prefix=MESH

// The tiled 4096^3 matmul: on h100-sxm a 256x256 f32 accumulator fills the
// 256 KiB register file and three stages of (256x64 + 64x256) bf16 take 3 x 64 KiB = 192 KiB of the 228 KiB shared memory; on
// mesh-sram accumulator and buffers share the 48 KiB SRAM exactly
// (16 KiB + 2 x (8 + 8) KiB).
func.func @mm(%a: tensor<4096x4096xbf16>, %b: tensor<4096x4096xbf16>,
              %c: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>)
                     outs(%c : tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}
// H100: strata.placement = {rf = 262144 : i64, smem = 196608 : i64}
// MESH: strata.placement = {sram = 49152 : i64}
