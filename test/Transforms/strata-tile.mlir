// RUN: strata-opt %s -split-input-file --strata-tile=system=h100-sxm 2>/dev/null | FileCheck %s --check-prefix=H100
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-tile=system=h100-sxm -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: strata-opt %s -split-input-file --strata-tile=system=mesh-sram | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %s -split-input-file --strata-tile=system=mesh-sram --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=MESHCOST
// RUN: strata-opt %s -split-input-file --strata-tile=system=h100-sxm --strata-estimate=format=csv -o /dev/null | FileCheck %s --check-prefix=TILED
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=csv" -o /dev/null | FileCheck %s --check-prefix=LINALG

// A 4096^3 bf16 matmul. The cost model's search picks different schedules
// for the two staging levels:
//  - h100-sxm, 228 KiB shared memory per SM: 256x256 output tiles (256 KiB
//    of f32 accumulator fills the 256 KiB register file), K in steps of 64,
//    three 64 KiB stages (192 KiB);
//  - mesh-sram, 48 KiB SRAM per core holding operands and accumulator, on
//    a 64x64 core grid: SUMMA. 64x64 output tiles laid on the whole grid
//    (grid(64, 64)), 16 KiB accumulator + 2 stages x (4 + 4) KiB of K steps
//    of 32; each K step's A tile is fetched once per grid row and multicast
//    along it, the B tile once per column (multicast(1) / multicast(0)).
//    By hand: DRAM = A once (32 MiB) + B once (32 MiB) + C (64 MiB) =
//    134217728 B, the compulsory traffic; the network delivers 128 steps x
//    8 KiB to each of 4096 cores = 4 GiB; compute 2*4096^3 / 576.7 TFLOP/s
//    = 238 us < DRAM 134217728 B / 512 GB/s = 262.1 us, + fill/drain (DRAM
//    latency, one step, the 16 KiB store, 126 hops) and 1 us launch
//    = 264.05 us, bound by dram.
func.func @mm(%a: tensor<4096x4096xbf16>, %b: tensor<4096x4096xbf16>,
              %c: tensor<4096x4096xf32>) -> tensor<4096x4096xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>)
                     outs(%c : tensor<4096x4096xf32>) -> tensor<4096x4096xf32> loc("mm")
  return %r : tensor<4096x4096xf32>
}
// H100-LABEL: func.func @mm
// H100: tile.kernel "mm" ins(%{{.*}}, %{{.*}} : tensor<4096x4096xbf16>, tensor<4096x4096xbf16>) outs(%{{.*}} : tensor<4096x4096xf32>)
// H100: tile.spread cores(132) over ([[M:%.+]], [[N:%.+]]) in (16, 16)
// H100: [[ACC:%.+]] = tile.alloc : !tile.buf<256x256xf32, "rf">
// H100: [[SA:%.+]] = tile.alloc buffers(3) : !tile.buf<256x64xbf16, "smem">
// H100: [[SB:%.+]] = tile.alloc buffers(3) : !tile.buf<64x256xbf16, "smem">
// H100: tile.fill [[ACC]], 0.000000e+00 : f32 on "cuda"
// H100: tile.loop [[K:%.+]] in 64 pipeline(3)
// H100: tile.copy %{{.*}}[[[M]], [[K]]] -> [[SA]] bytes(32768)
// H100: tile.copy %{{.*}}[[[K]], [[N]]] -> [[SB]] bytes(32768)
// H100: tile.mma [[SA]], [[SB]], [[ACC]] on "tensor" :
// H100: tile.copy [[ACC]] -> %{{.*}}[[[M]], [[N]]] bytes(262144)
// H100-NOT: linalg.matmul

// MESH-LABEL: func.func @mm
// MESH: tile.spread cores(4096) over ([[M:%.+]], [[N:%.+]]) in (64, 64) grid(64, 64)
// MESH: tile.alloc : !tile.buf<64x64xf32, "sram">
// MESH: tile.alloc buffers(2) : !tile.buf<64x32xbf16, "sram">
// MESH: tile.alloc buffers(2) : !tile.buf<32x64xbf16, "sram">
// MESH: tile.loop [[K:%.+]] in 128 pipeline(2)
// MESH: tile.copy %{{.*}}[[[M]], [[K]]] -> %{{.*}} multicast(1) bytes(4096)
// MESH: tile.copy %{{.*}}[[[K]], [[N]]] -> %{{.*}} multicast(0) bytes(4096)
// MESH: tile.mma %{{.*}} on "matrix"
// MESHCOST: mm,tile.kernel,mm,kernel,1,137438953472,0,4362076160,134217728,4294967296,0.00026404{{[0-9]+}},dram,

// The tiled kernel is priced from its tile IR and agrees with the linalg
// formula (the formula is the same pricer applied to the same tiling).
// Same FLOPs, staged bytes, ideal HBM bytes (32 + 32 + 64 MiB) and time.
// TILED: mm,tile.kernel,mm,kernel,1,137438953472,0,0,1140850688,1140850688,134217728,0.00021332630492200695,l2,
// LINALG: mm,linalg.matmul,mm,contraction,1,137438953472,0,0,1140850688,1140850688,134217728,0.00021332630492200695,l2,

// -----

// Q·Kᵀ per head as exported by other tools: batch dims (b, h), K stored
// [t, d] so the B tile is transposed; the single query token sits in a
// 64-row tile (the native M), the rest read as zeros.
#q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
func.func @scores(%q: tensor<2x32x1x128xbf16>, %k: tensor<2x32x2048x128xbf16>,
                  %s: tensor<2x32x1x2048xf32>) -> tensor<2x32x1x2048xf32> {
  %r = linalg.generic {indexing_maps = [#q, #k, #s],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x32x1x128xbf16>, tensor<2x32x2048x128xbf16>)
      outs(%s : tensor<2x32x1x2048xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xe = arith.extf %x : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %a = arith.addf %acc, %p : f32
    linalg.yield %a : f32
  } -> tensor<2x32x1x2048xf32> loc("layers.attn.qk")
  return %r : tensor<2x32x1x2048xf32>
}
// H100-LABEL: func.func @scores
// H100: tile.spread cores(132) over ([[B:%.+]], [[H:%.+]], [[M:%.+]], [[N:%.+]]) in (2, 32, 1,
// H100: tile.loop [[K:%.+]] in 2 pipeline
// H100: tile.copy %{{.*}}[[[B]], [[H]], [[M]], [[K]]] -> %{{.*}} bytes
// H100: tile.copy %{{.*}}[[[B]], [[H]], [[N]], [[K]]] -> %{{.*}} bytes
// H100: tile.mma {{.*}} on "tensor" transpose_rhs : !tile.buf<64x64xbf16, "smem">, !tile.buf<256x64xbf16, "smem">

// -----

// Two reduction dims in different orders in the two operands: they cannot
// be grouped into one K (contiguous runs in the same order group: a
// projection out of heads, [b, s, k, g, d] x [k, g, d, h], tiles as one
// GEMM). It stays linalg and a remark says so.
// REMARK: remark: contraction left untiled: needs one reduction dim
#a2 = affine_map<(i, j, k, l) -> (i, k, l)>
#b2 = affine_map<(i, j, k, l) -> (l, k, j)>
#c2 = affine_map<(i, j, k, l) -> (i, j)>
func.func @two_k(%a: tensor<64x8x8xf32>, %b: tensor<8x8x64xf32>,
                 %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %r = linalg.generic {indexing_maps = [#a2, #b2, #c2],
      iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%a, %b : tensor<64x8x8xf32>, tensor<8x8x64xf32>)
      outs(%c : tensor<64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}
// H100-LABEL: func.func @two_k
// H100: linalg.generic

// -----

// A zero linalg.fill of the init is absorbed: the kernel zeroes its
// accumulators with tile.fill, so no pass over the output is paid for.
func.func @zero_init(%a: tensor<256x256xbf16>, %b: tensor<256x256xbf16>) -> tensor<256x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x256xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<256x256xf32>) -> tensor<256x256xf32>
  %r = linalg.matmul ins(%a, %b : tensor<256x256xbf16>, tensor<256x256xbf16>)
                     outs(%c : tensor<256x256xf32>) -> tensor<256x256xf32>
  return %r : tensor<256x256xf32>
}
// H100-LABEL: func.func @zero_init
// H100-NOT: linalg.fill
// H100: %[[E:.+]] = tensor.empty() : tensor<256x256xf32>
// H100-NOT: linalg.fill
// H100: tile.kernel {{.*}} outs(%[[E]] : tensor<256x256xf32>)
