// RUN: strata-opt %s -split-input-file --strata-tile=system=mesh-sram 2>/dev/null | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %s -split-input-file --strata-tile=system=%S/Inputs/mesh-8x8-1mib.json 2>/dev/null | FileCheck %s --check-prefix=BIG
// RUN: strata-opt %s -split-input-file --strata-tile=system=h100-sxm 2>/dev/null | FileCheck %s --check-prefix=GPU
// RUN: strata-opt %s -split-input-file --strata-tile=system=mesh-sram --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=MESHCOST
// RUN: strata-opt %s -split-input-file --strata-tile=system=%S/Inputs/mesh-8x8-1mib.json --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=BIGCOST
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-tile=system=mesh-sram -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// One mapping search, three chips, three mappings for Llama-3-8B's
// gate_proj at 2048 tokens (2048x4096 by 4096x14336, bf16):
//  - mesh-sram: 64x64 cores with 48 KiB each. 32x112 output tiles fill the
//    whole grid (64 rows of M tiles, 64 of the 128 N tiles per wave: 2
//    waves); A tiles multicast along grid rows, B tiles down columns. DRAM
//    reads A twice (once per wave) and B once: 2 x 16 + 112 + 56 (C) MiB =
//    200 MiB; the 8x8 engines bound it (2 x 2048 x 4096 x 14336 FLOP at
//    576.7 TFLOP/s = 417 us; 419 us with fill and launch).
//  - mesh-8x8-1mib (Inputs/): 64 cores with 1 MiB each, the same peak and
//    DRAM. Large SRAM buys large tiles: 256x448 on the 8x8 grid, 4 waves;
//    A read 4 times, 232 MiB of DRAM: bound by DRAM at 476 us.
//  - h100-sxm: no core grid: the flat tiling over 132 SMs, no multicast.
func.func @gate_proj(%a: tensor<2048x4096xbf16>, %b: tensor<4096x14336xbf16>,
                     %c: tensor<2048x14336xbf16>) -> tensor<2048x14336xbf16> {
  %r = linalg.matmul ins(%a, %b : tensor<2048x4096xbf16>, tensor<4096x14336xbf16>)
                     outs(%c : tensor<2048x14336xbf16>) -> tensor<2048x14336xbf16> loc("mlp.gate_proj")
  return %r : tensor<2048x14336xbf16>
}
// MESH-LABEL: func.func @gate_proj
// MESH:       tile.spread cores(4096) over ([[M:%.+]], [[N:%.+]]) in (64, 128) grid(64, 64)
// MESH:         tile.alloc : !tile.buf<32x112xf32, "sram">
// MESH:         tile.alloc buffers(2) : !tile.buf<32x32xbf16, "sram">
// MESH:         tile.alloc buffers(2) : !tile.buf<32x112xbf16, "sram">
// MESH:         tile.loop [[K:%.+]] in 128 pipeline(2)
// MESH:           tile.copy %{{.*}}[[[M]], [[K]]] -> %{{.*}} multicast(1) bytes(2048)
// MESH:           tile.copy %{{.*}}[[[K]], [[N]]] -> %{{.*}} multicast(0) bytes(7168)
// MESHCOST: mlp.gate_proj,tile.kernel,mlp,kernel,1,240518168576,0,9722396672,209715200,9663676416,0.000419{{[0-9]+}},matrix,
// BIG-LABEL: func.func @gate_proj
// BIG:        tile.spread cores(64) over (%{{.*}}, %{{.*}}) in (8, 32) grid(8, 8)
// BIG:          tile.alloc : !tile.buf<256x448xf32, "sram">
// BIG:          tile.copy {{.*}} multicast(1) bytes(16384)
// BIG:          tile.copy {{.*}} multicast(0) bytes(28672)
// BIGCOST: mlp.gate_proj,tile.kernel,mlp,kernel,1,240518168576,0,1535115264,243269632,1476395008,0.000476{{[0-9]+}},dram,
// GPU-LABEL: func.func @gate_proj
// GPU:        tile.spread cores(132) over (%{{.*}}, %{{.*}}) in (8, 56) {
// GPU-NOT:    multicast

// -----

// A decode step's GEMV (one token): M = 1 fills one grid row (64 of 4096
// cores), each core streaming its 112 columns of the weight; DRAM-bound at
// the weight's size (117.4 MB / 512 GB/s = 229 us), so the idle cores cost
// no time and the pass says nothing.
func.func @gemv(%a: tensor<1x4096xbf16>, %b: tensor<4096x14336xbf16>,
                %c: tensor<1x14336xbf16>) -> tensor<1x14336xbf16> {
  %r = linalg.matmul ins(%a, %b : tensor<1x4096xbf16>, tensor<4096x14336xbf16>)
                     outs(%c : tensor<1x14336xbf16>) -> tensor<1x14336xbf16> loc("decode.gate_proj")
  return %r : tensor<1x14336xbf16>
}
// MESH-LABEL: func.func @gemv
// MESH:       tile.spread cores(64) over (%{{.*}}, %{{.*}}) in (1, 64) grid(1, 64)
// MESH:         tile.copy {{.*}} multicast(1) bytes(1024)
// MESH-NOT:     multicast(0)
// MESHCOST: decode.gate_proj,tile.kernel,decode,kernel,1,117440512,0,121864192,117735424,4194304,0.000231{{[0-9]+}},dram,
// REMARK-NOT: decode.gate_proj

// -----

// A contraction too small to fill the grid and paced by the cores (each
// streams a 16 x 8192 by 8192 x 8 panel pair through its scratchpad's
// write port): 16x64 output tiles fill 2 x 8 cores, and the remark says so
// and why (split-K would spread the 8192-long reduction).
func.func @small(%a: tensor<16x8192xbf16>, %b: tensor<8192x64xbf16>,
                 %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<16x8192xbf16>, tensor<8192x64xbf16>)
                     outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32> loc("small")
  return %r : tensor<16x64xf32>
}
// MESH-LABEL: func.func @small
// MESH:       tile.spread cores(16) over (%{{.*}}, %{{.*}}) in (2, 8) grid(2, 8)
// REMARK: remark: {{.*}}"small"{{.*}}contraction fills {{[0-9]+}} of 4096 cores ({{[0-9]+}}x{{[0-9]+}} of the core grid: a 16x64 output in {{[0-9]+}}x{{[0-9]+}} tiles), bound by sram; split-K over the grid is not searched yet
