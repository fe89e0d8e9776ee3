// strata-tile lowers each group strata-fuse marked (strata.fused_attention)
// to one tile.kernel: the flash schedule CostModel::planAttention priced,
// with its block sizes, pipelining and split-KV. Three groups: causal MHA
// prefill, causal GQA prefill whose output is [s, kv, g, d], and a GQA
// decode step split over the keys; on h100-sxm (rf + 228 KiB smem) and on
// mesh-sram (one 48 KiB SRAM per core holds everything: smaller blocks).
//
// RUN: strata-opt %s -split-input-file --strata-fuse=system=h100-sxm --strata-tile --strata-place | FileCheck %s --check-prefix=H100
// RUN: strata-opt %s -split-input-file --strata-fuse=system=mesh-sram --strata-tile --strata-place | FileCheck %s --check-prefix=MESH
//
// The kernel is priced by the same CostModel::attention call as the marked
// linalg group (same time to the last digit); its bytes per level are read
// off its copies (Q, K/V per visited block, O). Unfused, the scores make
// HBM round trips.
// RUN: strata-opt %s -split-input-file --strata-fuse=system=h100-sxm --strata-tile --strata-estimate=format=csv -o /dev/null | FileCheck %s --check-prefix=KERNEL
// RUN: strata-opt %s -split-input-file --strata-fuse=system=h100-sxm --strata-estimate=format=csv -o /dev/null | FileCheck %s --check-prefix=MARKED
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=csv" -o /dev/null | FileCheck %s --check-prefix=UNFUSED
//
// Without attention fusion nothing is lowered as a group: Q·Kᵀ is tiled as a
// contraction and the rest stays linalg.
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-fuse="system=h100-sxm attention=false epilogues=false" --strata-tile 2>&1 | FileCheck %s --check-prefix=OFF
//
// A group whose operands the flash schedule cannot cut stays marked linalg.
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-fuse=system=h100-sxm --strata-tile -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK

// 8 heads x 1024 positions x head dim 128, causal. h100-sxm: 128-row query
// blocks and 128-key blocks, 8 x 8 spread points; a third K/V buffer fits
// (32 + 3 x 64 KiB = 224 KiB of 228 KiB smem). Block qb visits qb + 1 K/V
// blocks: 36 of the 64 the loop bound allows. The bf16 result reuses the Q
// block; both MMAs are padded (N = 128 against the native 256).
// H100-LABEL: func.func @prefill_causal_mha
// H100-NOT:     linalg.generic
// H100:         tile.kernel "mha.pv" ins(%arg0, %arg1, %arg2 : tensor<8x1024x128xbf16>, tensor<8x1024x128xbf16>, tensor<8x1024x128xbf16>) outs(%{{.*}} : tensor<8x1024x128xbf16>) {
// H100-NEXT:    ^bb0([[Q:%[^:]+]]: !tile.buf<8x1024x128xbf16, "hbm">, [[K:%[^:]+]]: !tile.buf<8x1024x128xbf16, "hbm">, [[V:%[^:]+]]: !tile.buf<8x1024x128xbf16, "hbm">, [[O:%[^:]+]]: !tile.buf<8x1024x128xbf16, "hbm">):
// H100:         tile.spread cores(132) over ([[H:%[^,]+]], [[QB:%[^)]+]]) in (8, 8) {
// H100-NEXT:      [[QS:%.+]] = tile.alloc : !tile.buf<128x128xbf16, "smem">
// H100-NEXT:      [[KS:%.+]] = tile.alloc buffers(3) : !tile.buf<128x128xbf16, "smem">
// H100-NEXT:      [[VS:%.+]] = tile.alloc buffers(3) : !tile.buf<128x128xbf16, "smem">
// H100-NEXT:      [[S:%.+]] = tile.alloc : !tile.buf<128x128xf32, "rf">
// H100-NEXT:      [[P:%.+]] = tile.alloc : !tile.buf<128x128xbf16, "rf">
// H100-NEXT:      [[ACC:%.+]] = tile.alloc : !tile.buf<128x128xf32, "rf">
// H100-NEXT:      [[M:%.+]] = tile.alloc : !tile.buf<128x1xf32, "rf">
// H100-NEXT:      [[MN:%.+]] = tile.alloc : !tile.buf<128x1xf32, "rf">
// H100-NEXT:      [[CORR:%.+]] = tile.alloc : !tile.buf<128x1xf32, "rf">
// H100-NEXT:      [[L:%.+]] = tile.alloc : !tile.buf<128x1xf32, "rf">
// H100-NEXT:      [[LB:%.+]] = tile.alloc : !tile.buf<128x1xf32, "rf">
// H100-NEXT:      [[SC:%.+]] = tile.alloc : !tile.buf<1x1xf32, "rf">
// H100-NEXT:      [[TQ:%.+]] = tile.copy [[Q]][[[H]], [[QB]], %c0] -> [[QS]] bytes(32768)
// H100-NEXT:      tile.fill [[M]], 0xFF800000 : f32 on "cuda"
// H100-NEXT:      tile.fill [[L]], 0.000000e+00 : f32 on "cuda"
// H100-NEXT:      tile.fill [[ACC]], 0.000000e+00 : f32 on "cuda"
// H100-NEXT:      tile.fill [[SC]], 0.0883883461 : f32 on "cuda"
// H100-NEXT:      tile.wait [[TQ]]
// H100-NEXT:      tile.loop [[KB:%[^ ]+]] in 8 pipeline(3) {
// H100-NEXT:        [[TK:%.+]] = tile.copy [[K]][[[H]], [[KB]], %c0] -> [[KS]] bytes(32768)
// H100-NEXT:        [[TV:%.+]] = tile.copy [[V]][[[H]], [[KB]], %c0] -> [[VS]] bytes(32768)
// H100-NEXT:        tile.wait [[TK]]
// H100-NEXT:        tile.fill [[S]], 0.000000e+00
// H100-NEXT:        tile.mma [[QS]], [[KS]], [[S]] on "tensor" transpose_rhs padded
// H100-NEXT:        tile.map mul [[S]], [[SC]] -> [[S]] on "cuda" {strata.causal_mask}
// H100-NEXT:        tile.reduce max [[S]] -> [[MN]] dim(1)
// H100-NEXT:        tile.map max [[M]], [[MN]] -> [[MN]]
// H100-NEXT:        tile.map sub [[M]], [[MN]] -> [[CORR]]
// H100-NEXT:        tile.map exp [[CORR]] -> [[CORR]]
// H100-NEXT:        tile.map sub [[S]], [[MN]] -> [[S]]
// H100-NEXT:        tile.map exp [[S]] -> [[S]]
// H100-NEXT:        tile.reduce sum [[S]] -> [[LB]] dim(1)
// H100-NEXT:        tile.map fma [[L]], [[CORR]], [[LB]] -> [[L]]
// H100-NEXT:        tile.map mul [[ACC]], [[CORR]] -> [[ACC]]
// H100-NEXT:        tile.map cast [[MN]] -> [[M]]
// H100-NEXT:        tile.map cast [[S]] -> [[P]]
// H100-NEXT:        tile.wait [[TV]]
// H100-NEXT:        tile.mma [[P]], [[VS]], [[ACC]] on "tensor" padded
// H100-NEXT:      } attributes {strata.visited_blocks = 36 : i64}
// H100-NEXT:      tile.map div [[ACC]], [[L]] -> [[QS]] on "cuda" : (!tile.buf<128x128xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x128xbf16, "smem">
// H100-NEXT:      [[TO:%.+]] = tile.copy [[QS]] -> [[O]][[[H]], [[QB]], %c0] bytes(32768)
// H100-NEXT:      tile.wait [[TO]]
// H100-NEXT:    }
// H100-NEXT:  } -> tensor<8x1024x128xbf16> attributes {strata.fused_attention = {batch = 1 : i64, causal = true, dtype = "bf16", head_dim = 128 : i64, heads = 8 : i64, kv_heads = 8 : i64, kv_len = 1024 : i64, q_len = 1024 : i64}, strata.placement = {rf = 166404 : i64, smem = 229376 : i64}, strata.useful_flops = 2147483648 : i64}
//
// mesh-sram: Q block, accumulator, scores and K/V stages share 48 KiB. The
// schedule is the compiler's here, so the block sizes and the split are
// searched by cost: 8-row query blocks (the 8x8 engine's native M), each
// split 8 ways over its K/V blocks (8 x 128 x 8 points, two waves), the
// 16-key blocks dealt round-robin (block kb * 8 + split) so the causal
// skipping is balanced over the splits, triple-buffered; the splits
// reduce-scatter their partial O, max and sum over the network
// (tile.split_reduce, a row each) and each writes its row of O. Unsplit,
// the last query block's 64 K/V blocks ran on one core. (The DRAM floor
// is the same for every schedule; the tie goes to the least work under it.)
// MESH-LABEL: func.func @prefill_causal_mha
// MESH:         tile.spread cores(4096) over (%{{.*}}, %{{.*}}, [[SPLIT:%[^)]+]]) in (8, 128, 8) {
// MESH-NEXT:      tile.alloc : !tile.buf<8x128xbf16, "sram">
// MESH-NEXT:      tile.alloc buffers(3) : !tile.buf<16x128xbf16, "sram">
// MESH-NEXT:      tile.alloc buffers(3) : !tile.buf<16x128xbf16, "sram">
// MESH-NEXT:      [[ACC0:%.+]] = tile.alloc : !tile.buf<8x16xf32, "sram">
// MESH-NEXT:      tile.alloc : !tile.buf<8x16xbf16, "sram">
// MESH-NEXT:      [[ACC:%.+]] = tile.alloc : !tile.buf<8x128xf32, "sram">
// MESH:           tile.loop [[KB:%[^ ]+]] in 8 pipeline(3) {
// MESH:             [[STRIDE:%.+]] = arith.muli [[KB]], %{{.*}} : index
// MESH-NEXT:        arith.addi [[STRIDE]], [[SPLIT]] : index
// MESH:             tile.mma {{.*}} on "matrix" transpose_rhs : !tile.buf<8x128xbf16, "sram">, !tile.buf<16x128xbf16, "sram">, !tile.buf<8x16xf32, "sram">
// MESH:             tile.mma {{.*}} on "matrix" : !tile.buf<8x16xbf16, "sram">, !tile.buf<16x128xbf16, "sram">, !tile.buf<8x128xf32, "sram">
// MESH-NEXT:      } attributes {strata.visited_blocks = 4160 : i64}
// MESH:           tile.split_reduce softmax([[ACC]], %{{.*}}, %{{.*}}) -> (%{{.*}}, %{{.*}}, %{{.*}}) dim(2) hops(2) bytes(3640) : (!tile.buf<8x128xf32, "sram">, !tile.buf<8x1xf32, "sram">, !tile.buf<8x1xf32, "sram">) -> (!tile.buf<1x128xf32, "sram">, !tile.buf<1x1xf32, "sram">, !tile.buf<1x1xf32, "sram">)
// MESH:           tile.map div
// MESH:           tile.copy %{{.*}} -> %{{.*}} bytes(256) : !tile.buf<1x128xbf16, "sram"> -> !tile.buf<8x1024x128xbf16, "dram">
// MESH-NOT:     tile.spread
// MESH:         strata.placement = {sram = 31652 : i64}
//
// Estimate: the kernel's time equals the marked group's; smem and L2 see Q
// (2 MiB), K and V for the 36 x 8 visited blocks (18 MiB) and O (2 MiB);
// HBM sees Q, K, V and O once (8 MiB: the L2 holds the re-read K/V).
// KERNEL: mha.pv,tile.kernel,mha,kernel,1,2147483648,4718592,0,23068672,23068672,8388608,0.000020530203676105317,tensor,
// MARKED: mha.pv,linalg.generic,mha,contraction,1,2147483648,4718592,0,20971520,0,8388608,0.000020530203676105317,tensor,
// Unfused, 346 226 688 B (330 MiB) of HBM traffic over 11 rows, fills
// included, against 8 MiB fused: the 32 MiB f32 scores are written
// by Q·Kᵀ and read and written again by the mask, max, exp, sum and divide.
// UNFUSED: mha.qk,linalg.generic,mha,contraction,1,2147483648,0,0,58720256,58720256,37748736,
// UNFUSED: mha.mask,linalg.generic,mha,elementwise,1,25165824,0,0,0,0,67108864,
// UNFUSED: mha.max,linalg.generic,mha,reduction,1,8388608,0,0,0,0,33587200,
// UNFUSED: mha.exp,linalg.generic,mha,elementwise,1,8388608,8388608,0,0,0,67141632,
// UNFUSED: mha.sum,linalg.generic,mha,reduction,1,8388608,0,0,0,0,33587200,
// UNFUSED: mha.div,linalg.generic,mha,elementwise,1,8388608,0,0,0,0,50364416,
// UNFUSED: mha.pv,linalg.generic,mha,contraction,1,2147483648,0,0,35651584,35651584,20971520,
//
// Unfused, both contractions are plain matmul kernels (one K loop, no
// softmax inside) and the softmax pieces are kernels of their own between
// them (strata-tile's vector step).
// OFF-LABEL: func.func @prefill_causal_mha
// OFF-NOT:     strata.fused_attention
// OFF:         tile.kernel "mha.qk"
// OFF-NOT:     tile.map exp %
// OFF:         tile.kernel "mha.exp"
// OFF:         tile.map exp %
// OFF:         tile.kernel "mha.pv" ins(%{{.*}}, %arg2 : tensor<8x1024x1024xbf16>, tensor<8x1024x128xbf16>)
// OFF-NOT:     strata.visited_blocks
func.func @prefill_causal_mha(%q: tensor<8x1024x128xbf16>, %k: tensor<8x1024x128xbf16>, %v: tensor<8x1024x128xbf16>) -> tensor<8x1024x128xbf16> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %scale = arith.constant 0.0883883 : f32
  %se = tensor.empty() : tensor<8x1024x1024xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<8x1024x1024xf32>) -> tensor<8x1024x1024xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(h, i, j, d) -> (h, i, d)>, affine_map<(h, i, j, d) -> (h, j, d)>, affine_map<(h, i, j, d) -> (h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<8x1024x128xbf16>, tensor<8x1024x128xbf16>) outs(%s0 : tensor<8x1024x1024xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ae = arith.extf %a : bf16 to f32
    %be = arith.extf %b : bf16 to f32
    %p = arith.mulf %ae, %be : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<8x1024x1024xf32> loc("mha.qk")
  %mk = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<8x1024x1024xf32>) outs(%se : tensor<8x1024x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c = arith.cmpi ule, %j, %i : index
    %x = arith.mulf %a, %scale : f32
    %r = arith.select %c, %x, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x1024x1024xf32> loc("mha.mask")
  %me = tensor.empty() : tensor<8x1024xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%me : tensor<8x1024xf32>) -> tensor<8x1024xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%mk : tensor<8x1024x1024xf32>) outs(%m0 : tensor<8x1024xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8x1024xf32> loc("mha.max")
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%mk, %m : tensor<8x1024x1024xf32>, tensor<8x1024xf32>) outs(%se : tensor<8x1024x1024xf32>) {
  ^bb0(%a: f32, %mx: f32, %o: f32):
    %d = arith.subf %a, %mx : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<8x1024x1024xf32> loc("mha.exp")
  %z0 = linalg.fill ins(%zero : f32) outs(%me : tensor<8x1024xf32>) -> tensor<8x1024xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%e : tensor<8x1024x1024xf32>) outs(%z0 : tensor<8x1024xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8x1024xf32> loc("mha.sum")
  %pe = tensor.empty() : tensor<8x1024x1024xbf16>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e, %z : tensor<8x1024x1024xf32>, tensor<8x1024xf32>) outs(%pe : tensor<8x1024x1024xbf16>) {
  ^bb0(%a: f32, %sum: f32, %o: bf16):
    %r = arith.divf %a, %sum : f32
    %t = arith.truncf %r : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<8x1024x1024xbf16> loc("mha.div")
  %zb = arith.constant 0.0 : bf16
  %oe = tensor.empty() : tensor<8x1024x128xbf16>
  %o0 = linalg.fill ins(%zb : bf16) outs(%oe : tensor<8x1024x128xbf16>) -> tensor<8x1024x128xbf16>
  %o = linalg.generic {indexing_maps = [affine_map<(h, i, dd, j) -> (h, i, j)>, affine_map<(h, i, dd, j) -> (h, j, dd)>, affine_map<(h, i, dd, j) -> (h, i, dd)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x1024x1024xbf16>, tensor<8x1024x128xbf16>) outs(%o0 : tensor<8x1024x128xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %acc: bf16):
    %x = arith.mulf %a, %b : bf16
    %r = arith.addf %acc, %x : bf16
    linalg.yield %r : bf16
  } -> tensor<8x1024x128xbf16> loc("mha.pv")
  return %o : tensor<8x1024x128xbf16>
}


// -----

// GQA: 2 KV heads x 4 query heads, 512 positions, head dim 64, causal; the
// output is [s, kv, g, d], so its blocks are cut with dims [0, 3]. The
// spread walks (kv, g, query block); K and V blocks are indexed by the KV
// head only, so the four query heads of a KV head read the same K/V tiles.
// H100-LABEL: func.func @prefill_causal_gqa
// H100:         tile.kernel "gqa.pv" ins(%arg0, %arg1, %arg2 : tensor<2x4x512x64xbf16>, tensor<2x512x64xbf16>, tensor<2x512x64xbf16>) outs(%{{.*}} : tensor<512x2x4x64xbf16>) {
// H100-NEXT:    ^bb0([[Q:%[^:]+]]: {{.*}}, [[K:%[^:]+]]: {{.*}}, [[V:%[^:]+]]: {{.*}}, [[O:%[^:]+]]: !tile.buf<512x2x4x64xbf16, "hbm">):
// H100:         tile.spread cores(132) over ([[KV:%[^,]+]], [[G:%[^,]+]], [[QB:%[^)]+]]) in (2, 4, 4) {
// H100-NEXT:      [[QS:%.+]] = tile.alloc : !tile.buf<128x64xbf16, "smem">
// H100-NEXT:      tile.alloc buffers(3) : !tile.buf<128x64xbf16, "smem">
// H100-NEXT:      tile.alloc buffers(3) : !tile.buf<128x64xbf16, "smem">
// H100:           tile.copy [[Q]][[[KV]], [[G]], [[QB]], %c0] -> [[QS]] bytes(16384)
// H100:           tile.loop [[KB:%[^ ]+]] in 4 pipeline(3) {
// H100-NEXT:        tile.copy [[K]][[[KV]], [[KB]], %c0] -> %{{.*}} bytes(16384)
// H100-NEXT:        tile.copy [[V]][[[KV]], [[KB]], %c0] -> %{{.*}} bytes(16384)
// H100:           } attributes {strata.visited_blocks = 10 : i64}
// H100:           tile.copy [[QS]] -> [[O]][[[QB]], [[KV]], [[G]], %c0] dims [0, 3] bytes(16384) : !tile.buf<128x64xbf16, "smem"> -> !tile.buf<512x2x4x64xbf16, "hbm">
// H100:         strata.fused_attention = {batch = 1 : i64, causal = true, dtype = "bf16", head_dim = 64 : i64, heads = 8 : i64, kv_heads = 2 : i64, kv_len = 512 : i64, q_len = 512 : i64}
//
// mesh-sram: searched by cost as above: 8-row query blocks (2 x 4 x 64)
// split 8 ways over the 8 64-key blocks (one each, visited only where the
// causal mask lets a block see it), reduced over the network to a row per
// split.
// MESH-LABEL: func.func @prefill_causal_gqa
// MESH:         tile.spread cores(4096) over (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) in (2, 4, 64, 8) {
// MESH-NEXT:      tile.alloc : !tile.buf<8x64xbf16, "sram">
// MESH-NEXT:      tile.alloc : !tile.buf<64x64xbf16, "sram">
// MESH-NEXT:      tile.alloc : !tile.buf<64x64xbf16, "sram">
// MESH:           tile.loop %{{.*}} in 1 {
// MESH:           } attributes {strata.visited_blocks = 288 : i64}
// MESH:           tile.split_reduce softmax({{.*}}) dim(3) hops(2) bytes(1848)
// MESH:         strata.placement = {sram = 22692 : i64}
//
// KERNEL: gqa.pv,tile.kernel,gqa,kernel,1,268435456,1310720,0,3670016,3670016,1310720,0.000010600082795164762,cuda,
// MARKED: gqa.pv,linalg.generic,gqa,contraction,1,268435456,1310720,0,{{[0-9]+}},0,1310720,0.000010600082795164762,cuda,

func.func @prefill_causal_gqa(%q: tensor<2x4x512x64xbf16>, %k: tensor<2x512x64xbf16>, %v: tensor<2x512x64xbf16>) -> tensor<512x2x4x64xbf16> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %scale = arith.constant 0.0883883 : f32
  %se = tensor.empty() : tensor<2x4x512x512xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<2x4x512x512xf32>) -> tensor<2x4x512x512xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(kv, g, i, j, d) -> (kv, g, i, d)>, affine_map<(kv, g, i, j, d) -> (kv, j, d)>, affine_map<(kv, g, i, j, d) -> (kv, g, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x4x512x64xbf16>, tensor<2x512x64xbf16>) outs(%s0 : tensor<2x4x512x512xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ae = arith.extf %a : bf16 to f32
    %be = arith.extf %b : bf16 to f32
    %p = arith.mulf %ae, %be : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<2x4x512x512xf32> loc("gqa.qk")
  %mk = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x4x512x512xf32>) outs(%se : tensor<2x4x512x512xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c = arith.cmpi ule, %j, %i : index
    %x = arith.mulf %a, %scale : f32
    %r = arith.select %c, %x, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x4x512x512xf32> loc("gqa.mask")
  %me = tensor.empty() : tensor<2x4x512xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%me : tensor<2x4x512xf32>) -> tensor<2x4x512xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%mk : tensor<2x4x512x512xf32>) outs(%m0 : tensor<2x4x512xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x4x512xf32> loc("gqa.max")
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%mk, %m : tensor<2x4x512x512xf32>, tensor<2x4x512xf32>) outs(%se : tensor<2x4x512x512xf32>) {
  ^bb0(%a: f32, %mx: f32, %o: f32):
    %d = arith.subf %a, %mx : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<2x4x512x512xf32> loc("gqa.exp")
  %z0 = linalg.fill ins(%zero : f32) outs(%me : tensor<2x4x512xf32>) -> tensor<2x4x512xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%e : tensor<2x4x512x512xf32>) outs(%z0 : tensor<2x4x512xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<2x4x512xf32> loc("gqa.sum")
  %pe = tensor.empty() : tensor<2x4x512x512xbf16>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e, %z : tensor<2x4x512x512xf32>, tensor<2x4x512xf32>) outs(%pe : tensor<2x4x512x512xbf16>) {
  ^bb0(%a: f32, %sum: f32, %o: bf16):
    %r = arith.divf %a, %sum : f32
    %t = arith.truncf %r : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x4x512x512xbf16> loc("gqa.div")
  %zb = arith.constant 0.0 : bf16
  %oe = tensor.empty() : tensor<512x2x4x64xbf16>
  %o0 = linalg.fill ins(%zb : bf16) outs(%oe : tensor<512x2x4x64xbf16>) -> tensor<512x2x4x64xbf16>
  %o = linalg.generic {indexing_maps = [affine_map<(kv, g, i, dd, j) -> (kv, g, i, j)>, affine_map<(kv, g, i, dd, j) -> (kv, j, dd)>, affine_map<(kv, g, i, dd, j) -> (i, kv, g, dd)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<2x4x512x512xbf16>, tensor<2x512x64xbf16>) outs(%o0 : tensor<512x2x4x64xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %acc: bf16):
    %x = arith.mulf %a, %b : bf16
    %r = arith.addf %acc, %x : bf16
    linalg.yield %r : bf16
  } -> tensor<512x2x4x64xbf16> loc("gqa.pv")
  return %o : tensor<512x2x4x64xbf16>
}

// -----

// Decode: one query position, 8 KV heads x 4 query heads, 4096 cached
// keys. The 4 query heads of a KV head are the rows of one 64-row block
// (the unit's native M), cut with dims [1, 3] from Q's [kv, g, 1, d]. 8
// blocks are too few for 132 SMs, so the cost model splits the keys 16
// ways (2 blocks of 128 each): the partials (unnormalised O, max, sum) go
// to home workspaces and a second spread combines the 16 splits.
// H100-LABEL: func.func @decode_gqa
// H100:         tile.kernel "decode.pv"
// H100-NEXT:    ^bb0([[Q:%[^:]+]]: !tile.buf<8x4x1x128xbf16, "hbm">, [[K:%[^:]+]]: {{.*}}, [[V:%[^:]+]]: {{.*}}, [[O:%[^:]+]]: !tile.buf<1x8x4x128xbf16, "hbm">):
// H100:           [[WO:%.+]] = tile.alloc : !tile.buf<8x1x16x64x128xf32, "hbm">
// H100-NEXT:      [[WM:%.+]] = tile.alloc : !tile.buf<8x1x16x64x1xf32, "hbm">
// H100-NEXT:      [[WL:%.+]] = tile.alloc : !tile.buf<8x1x16x64x1xf32, "hbm">
// H100-NEXT:      tile.spread cores(132) over ([[KV:%[^,]+]], [[QB:%[^,]+]], [[SP:%[^)]+]]) in (8, 1, 16) {
// H100-NEXT:        [[QS:%.+]] = tile.alloc : !tile.buf<64x128xbf16, "smem">
// H100-NEXT:        tile.alloc buffers(2) : !tile.buf<128x128xbf16, "smem">
// H100-NEXT:        tile.alloc buffers(2) : !tile.buf<128x128xbf16, "smem">
// H100:             tile.copy [[Q]][[[KV]], [[QB]], %c0, %c0] -> [[QS]] dims [1, 3] bytes(16384)
// H100:             tile.loop [[KB:%[^ ]+]] in 2 pipeline(2) {
// H100-NEXT:          [[C2:%.+]] = arith.constant 2 : index
// H100-NEXT:          [[BASE:%.+]] = arith.muli [[SP]], [[C2]] : index
// H100-NEXT:          [[KG:%.+]] = arith.addi [[BASE]], [[KB]] : index
// H100-NEXT:          tile.copy [[K]][[[KV]], [[KG]], %c0]
// H100-NEXT:          tile.copy [[V]][[[KV]], [[KG]], %c0]
// H100:               tile.map mul {{.*}} on "cuda" : (
// H100:             }
// H100-NEXT:        tile.copy %{{.*}} -> [[WO]][[[KV]], [[QB]], [[SP]], %c0, %c0] bytes(32768)
// H100-NEXT:        tile.copy %{{.*}} -> [[WM]][[[KV]], [[QB]], [[SP]], %c0, %c0] bytes(256)
// H100-NEXT:        tile.copy %{{.*}} -> [[WL]][[[KV]], [[QB]], [[SP]], %c0, %c0] bytes(256)
// H100:           tile.spread cores(132) over ([[KV2:%[^,]+]], [[QB2:%[^)]+]]) in (8, 1) {
// H100:             [[PO:%.+]] = tile.alloc buffers(2) : !tile.buf<64x128xf32, "rf">
// H100:             tile.loop [[S:%[^ ]+]] in 16 pipeline(2) {
// H100-NEXT:          tile.copy [[WO]][[[KV2]], [[QB2]], [[S]], %c0, %c0] -> [[PO]] bytes(32768)
// H100:             }
// H100-NEXT:        [[OUT:%.+]] = tile.alloc : !tile.buf<64x128xbf16, "rf">
// H100-NEXT:        tile.map div %{{.*}}, %{{.*}} -> [[OUT]]
// H100-NEXT:        tile.copy [[OUT]] -> [[O]][%c0, [[KV2]], [[QB2]], %c0] bytes(16384) : !tile.buf<64x128xbf16, "rf"> -> !tile.buf<1x8x4x128xbf16, "hbm">
// H100:         strata.fused_attention = {batch = 1 : i64, causal = false, dtype = "bf16", head_dim = 128 : i64, heads = 8 : i64, kv_heads = 8 : i64, kv_len = 4096 : i64, q_len = 4 : i64}
// H100-SAME:    strata.placement = {hbm = 4259840 : i64, rf = {{[0-9]+}} : i64, smem = 147456 : i64}
//
// mesh-sram: 8-row blocks (native M 8), 16-key blocks, one per split: 256
// splits of the 4096 keys fill 2048 of the 4096 cores.
// MESH-LABEL: func.func @decode_gqa
// MESH:         tile.spread cores(4096) over (%{{.*}}, %{{.*}}, %{{.*}}) in (8, 1, 256) {
// MESH-NEXT:      tile.alloc : !tile.buf<8x128xbf16, "sram">
// MESH-NEXT:      tile.alloc : !tile.buf<16x128xbf16, "sram">
// MESH:           tile.loop %{{.*}} in 1 {
// MESH:         tile.spread cores(4096) over (%{{.*}}, %{{.*}}) in (8, 1) {
// MESH:           tile.loop %{{.*}} in 256 pipeline(2) {
// MESH:         strata.placement = {dram = 8519680 : i64, sram = {{[0-9]+}} : i64}
//
// KERNEL: decode.pv,tile.kernel,decode,kernel,1,
// MARKED: decode.pv,linalg.generic,decode,contraction,1,

func.func @decode_gqa(%q: tensor<8x4x1x128xbf16>, %k: tensor<8x4096x128xbf16>, %v: tensor<8x4096x128xbf16>) -> tensor<1x8x4x128xbf16> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %scale = arith.constant 0.0883883 : f32
  %se = tensor.empty() : tensor<8x4x1x4096xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<8x4x1x4096xf32>) -> tensor<8x4x1x4096xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(kv, g, i, j, d) -> (kv, g, i, d)>, affine_map<(kv, g, i, j, d) -> (kv, j, d)>, affine_map<(kv, g, i, j, d) -> (kv, g, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<8x4x1x128xbf16>, tensor<8x4096x128xbf16>) outs(%s0 : tensor<8x4x1x4096xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %ae = arith.extf %a : bf16 to f32
    %be = arith.extf %b : bf16 to f32
    %p = arith.mulf %ae, %be : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<8x4x1x4096xf32> loc("decode.qk")
  %me = tensor.empty() : tensor<8x4x1xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%me : tensor<8x4x1xf32>) -> tensor<8x4x1xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%s : tensor<8x4x1x4096xf32>) outs(%m0 : tensor<8x4x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8x4x1xf32> loc("decode.max")
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s, %m : tensor<8x4x1x4096xf32>, tensor<8x4x1xf32>) outs(%se : tensor<8x4x1x4096xf32>) {
  ^bb0(%a: f32, %mx: f32, %o: f32):
    %d = arith.subf %a, %mx : f32
    %x = math.exp %d : f32
    linalg.yield %x : f32
  } -> tensor<8x4x1x4096xf32> loc("decode.exp")
  %z0 = linalg.fill ins(%zero : f32) outs(%me : tensor<8x4x1xf32>) -> tensor<8x4x1xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%e : tensor<8x4x1x4096xf32>) outs(%z0 : tensor<8x4x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<8x4x1xf32> loc("decode.sum")
  %pe = tensor.empty() : tensor<8x4x1x4096xbf16>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%e, %z : tensor<8x4x1x4096xf32>, tensor<8x4x1xf32>) outs(%pe : tensor<8x4x1x4096xbf16>) {
  ^bb0(%a: f32, %sum: f32, %o: bf16):
    %r = arith.divf %a, %sum : f32
    %t = arith.truncf %r : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<8x4x1x4096xbf16> loc("decode.div")
  %zb = arith.constant 0.0 : bf16
  %oe = tensor.empty() : tensor<1x8x4x128xbf16>
  %o0 = linalg.fill ins(%zb : bf16) outs(%oe : tensor<1x8x4x128xbf16>) -> tensor<1x8x4x128xbf16>
  %o = linalg.generic {indexing_maps = [affine_map<(kv, g, i, dd, j) -> (kv, g, i, j)>, affine_map<(kv, g, i, dd, j) -> (kv, j, dd)>, affine_map<(kv, g, i, dd, j) -> (i, kv, g, dd)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x4x1x4096xbf16>, tensor<8x4096x128xbf16>) outs(%o0 : tensor<1x8x4x128xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %acc: bf16):
    %x = arith.mulf %a, %b : bf16
    %r = arith.addf %acc, %x : bf16
    linalg.yield %r : bf16
  } -> tensor<1x8x4x128xbf16> loc("decode.pv")
  return %o : tensor<1x8x4x128xbf16>
}

// -----

// As the workload generator writes it: Q and K keep the head dim split in
// RoPE's rotation pairs ([.., 32, 2], so that RoPE is a K = 2 contraction),
// and the grouped query heads come from indexing maps (Q [b, s, kv, g, d/2,
// 2], K [b, t, kv, d/2, 2], O [b, s, kv, g, d]). Q·Kᵀ reduces over the two
// loops of the pair; they are adjacent and in the same order in Q and K, so
// they are one head dim of 64: the kernel reads Q and K through
// collapse_shape views (the same bytes) and cuts [s, d] blocks with dims.
// H100-LABEL: func.func @rope_pairs_gqa
// H100-DAG:     [[QV:%.+]] = tensor.collapse_shape %arg0 {{\[\[}}0], [1], [2], [3], [4, 5]] : tensor<1x256x2x4x32x2xbf16> into tensor<1x256x2x4x64xbf16>
// H100-DAG:     [[KV:%.+]] = tensor.collapse_shape %arg1 {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x256x2x32x2xbf16> into tensor<1x256x2x64xbf16>
// H100:         tile.kernel "rope.pv" ins([[QV]], [[KV]], %arg2 : tensor<1x256x2x4x64xbf16>, tensor<1x256x2x64xbf16>, tensor<1x256x2x64xbf16>) outs(%{{.*}} : tensor<1x256x2x4x64xbf16>) {
// H100-NEXT:    ^bb0([[Q:%[^:]+]]: {{.*}}, [[K:%[^:]+]]: {{.*}}, [[V:%[^:]+]]: {{.*}}, [[O:%[^:]+]]: !tile.buf<1x256x2x4x64xbf16, "hbm">):
// H100:         tile.spread cores(132) over ([[H:%[^,]+]], [[G:%[^,]+]], [[QB:%[^)]+]]) in (2, 4, 2) {
// H100-NEXT:      [[QS:%.+]] = tile.alloc : !tile.buf<128x64xbf16, "smem">
// H100:           tile.copy [[Q]][%c0, [[QB]], [[H]], [[G]], %c0] -> [[QS]] dims [1, 4] bytes(16384)
// H100:           tile.loop [[KB:%[^ ]+]] in 2 pipeline(2) {
// H100-NEXT:        tile.copy [[K]][%c0, [[KB]], [[H]], %c0] -> %{{.*}} dims [1, 3] bytes(16384)
// H100-NEXT:        tile.copy [[V]][%c0, [[KB]], [[H]], %c0] -> %{{.*}} dims [1, 3] bytes(16384)
// H100:             tile.mma [[QS]], %{{.*}}, %{{.*}} on "tensor" transpose_rhs padded : !tile.buf<128x64xbf16, "smem">, !tile.buf<128x64xbf16, "smem">, !tile.buf<128x128xf32, "rf">
// H100:           } attributes {strata.visited_blocks = 3 : i64}
// H100:           tile.copy [[QS]] -> [[O]][%c0, [[QB]], [[H]], [[G]], %c0] dims [1, 4] bytes(16384)
// H100:         strata.fused_attention = {batch = 1 : i64, causal = true, dtype = "bf16", head_dim = 64 : i64, heads = 8 : i64, kv_heads = 2 : i64, kv_len = 256 : i64, q_len = 256 : i64}
//
// mesh-sram: 8-row query blocks (2 x 4 x 32 tiles), each split 4 ways
// over its 64-key blocks (one per split) and reduced over the network,
// searched by cost.
// MESH-LABEL: func.func @rope_pairs_gqa
// MESH:         tensor.collapse_shape
// MESH:         tile.kernel "rope.pv"
// MESH:         tile.spread cores(4096) over (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) in (2, 4, 32, 4) {
// MESH-NEXT:      tile.alloc : !tile.buf<8x64xbf16, "sram">
// MESH-NEXT:      tile.alloc : !tile.buf<64x64xbf16, "sram">
// MESH:           tile.split_reduce softmax({{.*}}) dim(3) hops(2) bytes(1584)
//
// The views move no bytes: the kernel is priced like the marked group.
// KERNEL: rope.pv,tile.kernel,rope,kernel,1,
// MARKED: rope.pv,linalg.generic,rope,contraction,1,

func.func @rope_pairs_gqa(%q: tensor<1x256x2x4x32x2xbf16>, %k: tensor<1x256x2x32x2xbf16>, %v: tensor<1x256x2x64xbf16>) -> tensor<1x256x2x4x64xbf16> {
  %zero = arith.constant 0.0 : bf16
  %ninf = arith.constant -3.389530e+38 : bf16
  %scale = arith.constant 0.125 : bf16
  %se = tensor.empty() : tensor<1x2x4x256x256xbf16>
  %s0 = linalg.fill ins(%zero : bf16) outs(%se : tensor<1x2x4x256x256xbf16>) -> tensor<1x2x4x256x256xbf16>
  %s = linalg.generic {indexing_maps = [affine_map<(b, kv, g, i, j, d, p) -> (b, i, kv, g, d, p)>, affine_map<(b, kv, g, i, j, d, p) -> (b, j, kv, d, p)>, affine_map<(b, kv, g, i, j, d, p) -> (b, kv, g, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%q, %k : tensor<1x256x2x4x32x2xbf16>, tensor<1x256x2x32x2xbf16>) outs(%s0 : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %acc: bf16):
    %p = arith.mulf %a, %b : bf16
    %r = arith.addf %acc, %p : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("rope.qk")
  %mk = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x4x256x256xbf16>) outs(%se : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    %i = linalg.index 3 : index
    %j = linalg.index 4 : index
    %c = arith.cmpi ule, %j, %i : index
    %x = arith.mulf %a, %scale : bf16
    %r = arith.select %c, %x, %ninf : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("rope.mask")
  %me = tensor.empty() : tensor<1x2x4x256xbf16>
  %m0 = linalg.fill ins(%ninf : bf16) outs(%me : tensor<1x2x4x256xbf16>) -> tensor<1x2x4x256xbf16>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%mk : tensor<1x2x4x256x256xbf16>) outs(%m0 : tensor<1x2x4x256xbf16>) {
  ^bb0(%a: bf16, %acc: bf16):
    %r = arith.maximumf %acc, %a : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256xbf16> loc("rope.max")
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%mk, %m : tensor<1x2x4x256x256xbf16>, tensor<1x2x4x256xbf16>) outs(%se : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %mx: bf16, %o: bf16):
    %d = arith.subf %a, %mx : bf16
    %x = math.exp %d : bf16
    linalg.yield %x : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("rope.exp")
  %z0 = linalg.fill ins(%zero : bf16) outs(%me : tensor<1x2x4x256xbf16>) -> tensor<1x2x4x256xbf16>
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%e : tensor<1x2x4x256x256xbf16>) outs(%z0 : tensor<1x2x4x256xbf16>) {
  ^bb0(%a: bf16, %acc: bf16):
    %r = arith.addf %acc, %a : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256xbf16> loc("rope.sum")
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%e, %z : tensor<1x2x4x256x256xbf16>, tensor<1x2x4x256xbf16>) outs(%se : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %sum: bf16, %o: bf16):
    %r = arith.divf %a, %sum : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("rope.div")
  %oe = tensor.empty() : tensor<1x256x2x4x64xbf16>
  %o0 = linalg.fill ins(%zero : bf16) outs(%oe : tensor<1x256x2x4x64xbf16>) -> tensor<1x256x2x4x64xbf16>
  %o = linalg.generic {indexing_maps = [affine_map<(b, i, kv, g, dd, j) -> (b, kv, g, i, j)>, affine_map<(b, i, kv, g, dd, j) -> (b, j, kv, dd)>, affine_map<(b, i, kv, g, dd, j) -> (b, i, kv, g, dd)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x256x256xbf16>, tensor<1x256x2x64xbf16>) outs(%o0 : tensor<1x256x2x4x64xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %acc: bf16):
    %x = arith.mulf %a, %b : bf16
    %r = arith.addf %acc, %x : bf16
    linalg.yield %r : bf16
  } -> tensor<1x256x2x4x64xbf16> loc("rope.pv")
  return %o : tensor<1x256x2x4x64xbf16>
}

// -----

// K holds the pair the other way round ([.., 2, 32]): the two head loops
// are not one run in the same order in Q and K, so no view makes them one
// dim; the group stays marked linalg (priced from its record) with a remark.
// H100-LABEL: func.func @rope_pairs_transposed_k
// H100-NOT:     tile.kernel
// H100:         linalg.generic {{.*}}strata.fused_attention
// REMARK: remark: loc("swapped.pv"): fused attention left as linalg: its operands are not Q, K, V and O tiles the flash schedule can cut (priced from strata.fused_attention)

func.func @rope_pairs_transposed_k(%q: tensor<1x256x2x4x32x2xbf16>, %k: tensor<1x256x2x2x32xbf16>, %v: tensor<1x256x2x64xbf16>) -> tensor<1x256x2x4x64xbf16> {
  %zero = arith.constant 0.0 : bf16
  %ninf = arith.constant -3.389530e+38 : bf16
  %scale = arith.constant 0.125 : bf16
  %se = tensor.empty() : tensor<1x2x4x256x256xbf16>
  %s0 = linalg.fill ins(%zero : bf16) outs(%se : tensor<1x2x4x256x256xbf16>) -> tensor<1x2x4x256x256xbf16>
  %s = linalg.generic {indexing_maps = [affine_map<(b, kv, g, i, j, d, p) -> (b, i, kv, g, d, p)>, affine_map<(b, kv, g, i, j, d, p) -> (b, j, kv, p, d)>, affine_map<(b, kv, g, i, j, d, p) -> (b, kv, g, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%q, %k : tensor<1x256x2x4x32x2xbf16>, tensor<1x256x2x2x32xbf16>) outs(%s0 : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %acc: bf16):
    %p = arith.mulf %a, %b : bf16
    %r = arith.addf %acc, %p : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("swapped.qk")
  %mk = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x4x256x256xbf16>) outs(%se : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    %i = linalg.index 3 : index
    %j = linalg.index 4 : index
    %c = arith.cmpi ule, %j, %i : index
    %x = arith.mulf %a, %scale : bf16
    %r = arith.select %c, %x, %ninf : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("swapped.mask")
  %me = tensor.empty() : tensor<1x2x4x256xbf16>
  %m0 = linalg.fill ins(%ninf : bf16) outs(%me : tensor<1x2x4x256xbf16>) -> tensor<1x2x4x256xbf16>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%mk : tensor<1x2x4x256x256xbf16>) outs(%m0 : tensor<1x2x4x256xbf16>) {
  ^bb0(%a: bf16, %acc: bf16):
    %r = arith.maximumf %acc, %a : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256xbf16> loc("swapped.max")
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%mk, %m : tensor<1x2x4x256x256xbf16>, tensor<1x2x4x256xbf16>) outs(%se : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %mx: bf16, %o: bf16):
    %d = arith.subf %a, %mx : bf16
    %x = math.exp %d : bf16
    linalg.yield %x : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("swapped.exp")
  %z0 = linalg.fill ins(%zero : bf16) outs(%me : tensor<1x2x4x256xbf16>) -> tensor<1x2x4x256xbf16>
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%e : tensor<1x2x4x256x256xbf16>) outs(%z0 : tensor<1x2x4x256xbf16>) {
  ^bb0(%a: bf16, %acc: bf16):
    %r = arith.addf %acc, %a : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256xbf16> loc("swapped.sum")
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%e, %z : tensor<1x2x4x256x256xbf16>, tensor<1x2x4x256xbf16>) outs(%se : tensor<1x2x4x256x256xbf16>) {
  ^bb0(%a: bf16, %sum: bf16, %o: bf16):
    %r = arith.divf %a, %sum : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x256x256xbf16> loc("swapped.div")
  %oe = tensor.empty() : tensor<1x256x2x4x64xbf16>
  %o0 = linalg.fill ins(%zero : bf16) outs(%oe : tensor<1x256x2x4x64xbf16>) -> tensor<1x256x2x4x64xbf16>
  %o = linalg.generic {indexing_maps = [affine_map<(b, i, kv, g, dd, j) -> (b, kv, g, i, j)>, affine_map<(b, i, kv, g, dd, j) -> (b, j, kv, dd)>, affine_map<(b, i, kv, g, dd, j) -> (b, i, kv, g, dd)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x256x256xbf16>, tensor<1x256x2x64xbf16>) outs(%o0 : tensor<1x256x2x4x64xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %acc: bf16):
    %x = arith.mulf %a, %b : bf16
    %r = arith.addf %acc, %x : bf16
    linalg.yield %r : bf16
  } -> tensor<1x256x2x4x64xbf16> loc("swapped.pv")
  return %o : tensor<1x256x2x4x64xbf16>
}
