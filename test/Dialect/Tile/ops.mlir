// Round trips of every tile op and type, in the custom and the generic form,
// each part checked against the system it targets (split-file keeps one
// system per part): an H100 (matmul and flash attention), the hypothetical
// SRAM mesh (NoC transfers), multi-node DGX H100 and a TPU v5p slice
// (collectives, pipeline send/recv), and no system at all (only local
// checks run).
//
// RUN: split-file %s %t
// RUN: strata-opt %t/h100.mlir --strata-set-system=system=h100-sxm | strata-opt | FileCheck %s --check-prefix=H100
// RUN: strata-opt %t/h100.mlir --strata-set-system=system=h100-sxm --mlir-print-op-generic | strata-opt | FileCheck %s --check-prefix=H100
// RUN: strata-opt %t/mesh.mlir --strata-set-system=system=mesh-sram | strata-opt | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %t/mesh.mlir --strata-set-system=system=mesh-sram --mlir-print-op-generic | strata-opt | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %t/multichip.mlir --strata-set-system=system=dgx-h100x4 | strata-opt | FileCheck %s --check-prefix=MULTI
// RUN: strata-opt %t/multichip.mlir --strata-set-system=system=dgx-h100x4 --mlir-print-op-generic | strata-opt | FileCheck %s --check-prefix=MULTI
// RUN: strata-opt %t/torus.mlir --strata-set-system=system=tpu-v5p-4x4x4 | strata-opt | FileCheck %s --check-prefix=TORUS
// RUN: strata-opt %t/torus.mlir --strata-set-system=system=tpu-v5p-4x4x4 --mlir-print-op-generic | strata-opt | FileCheck %s --check-prefix=TORUS
// RUN: strata-opt %t/nosystem.mlir | strata-opt | FileCheck %s --check-prefix=NOSYS
// RUN: strata-opt %t/nosystem.mlir --mlir-print-op-generic | strata-opt | FileCheck %s --check-prefix=NOSYS

//--- h100.mlir

// C[4096x1280] = A[4096x8192] * B[8192x1280] on one H100. 128x256 output
// tiles (the tensor unit's native N is 256) give 32 x 5 = 160 tiles, two
// waves on 132 SMs; K runs in 128 steps of 64, double-buffered through smem.
// H100-LABEL: func.func @matmul
// H100:       tile.kernel "mlp.up" ins(%{{.*}}, %{{.*}} : tensor<4096x8192xbf16>, tensor<8192x1280xbf16>) outs(%{{.*}} : tensor<4096x1280xf32>) {
// H100-NEXT:  ^bb0([[A:%[^:]+]]: !tile.buf<4096x8192xbf16, "hbm">, [[B:%[^:]+]]: !tile.buf<8192x1280xbf16, "hbm">, [[C:%[^:]+]]: !tile.buf<4096x1280xf32, "hbm">):
// H100-NEXT:    tile.spread cores(132) over ([[M:%[^,]+]], [[N:%[^)]+]]) in (32, 5) {
// H100-NEXT:      [[ACC:%.+]] = tile.alloc : !tile.buf<128x256xf32, "rf">
// H100-NEXT:      [[SA:%.+]] = tile.alloc buffers(2) : !tile.buf<128x64xbf16, "smem">
// H100-NEXT:      [[SB:%.+]] = tile.alloc buffers(2) : !tile.buf<64x256xbf16, "smem">
// H100-NEXT:      tile.fill [[ACC]], 0.000000e+00 : f32 on "cuda" : !tile.buf<128x256xf32, "rf">
// H100-NEXT:      tile.loop [[K:%[^ ]+]] in 128 pipeline(2) {
// H100-NEXT:        [[TA:%.+]] = tile.copy [[A]][[[M]], [[K]]] -> [[SA]] bytes(16384) : !tile.buf<4096x8192xbf16, "hbm"> -> !tile.buf<128x64xbf16, "smem">
// H100-NEXT:        [[TB:%.+]] = tile.copy [[B]][[[K]], [[N]]] -> [[SB]] bytes(32768) : !tile.buf<8192x1280xbf16, "hbm"> -> !tile.buf<64x256xbf16, "smem">
// H100-NEXT:        tile.wait [[TA]], [[TB]]
// H100-NEXT:        tile.mma [[SA]], [[SB]], [[ACC]] on "tensor" : !tile.buf<128x64xbf16, "smem">, !tile.buf<64x256xbf16, "smem">, !tile.buf<128x256xf32, "rf">
// H100-NEXT:      }
// H100-NEXT:      [[TC:%.+]] = tile.copy [[ACC]] -> [[C]][[[M]], [[N]]] bytes(131072) : !tile.buf<128x256xf32, "rf"> -> !tile.buf<4096x1280xf32, "hbm">
// H100-NEXT:      tile.wait [[TC]]
// H100-NEXT:    }
// H100-NEXT:  } -> tensor<4096x1280xf32>
func.func @matmul(%a: tensor<4096x8192xbf16>, %b: tensor<8192x1280xbf16>,
                  %c: tensor<4096x1280xf32>) -> tensor<4096x1280xf32> {
  %r = tile.kernel "mlp.up" ins(%a, %b : tensor<4096x8192xbf16>, tensor<8192x1280xbf16>)
                            outs(%c : tensor<4096x1280xf32>) {
  ^bb0(%A: !tile.buf<4096x8192xbf16, "hbm">, %B: !tile.buf<8192x1280xbf16, "hbm">,
       %C: !tile.buf<4096x1280xf32, "hbm">):
    tile.spread cores(132) over (%m, %n) in (32, 5) {
      %acc = tile.alloc : !tile.buf<128x256xf32, "rf">
      %sa = tile.alloc buffers(2) : !tile.buf<128x64xbf16, "smem">
      %sb = tile.alloc buffers(2) : !tile.buf<64x256xbf16, "smem">
      tile.fill %acc, 0.0 : f32 on "cuda" : !tile.buf<128x256xf32, "rf">
      tile.loop %k in 128 pipeline(2) {
        %ta = tile.copy %A[%m, %k] -> %sa bytes(16384)
            : !tile.buf<4096x8192xbf16, "hbm"> -> !tile.buf<128x64xbf16, "smem">
        %tb = tile.copy %B[%k, %n] -> %sb bytes(32768)
            : !tile.buf<8192x1280xbf16, "hbm"> -> !tile.buf<64x256xbf16, "smem">
        tile.wait %ta, %tb
        tile.mma %sa, %sb, %acc on "tensor"
            : !tile.buf<128x64xbf16, "smem">, !tile.buf<64x256xbf16, "smem">, !tile.buf<128x256xf32, "rf">
      }
      %tc = tile.copy %acc -> %C[%m, %n] bytes(131072)
          : !tile.buf<128x256xf32, "rf"> -> !tile.buf<4096x1280xf32, "hbm">
      tile.wait %tc
    }
  } -> tensor<4096x1280xf32>
  return %r : tensor<4096x1280xf32>
}

// Flash attention forward for 32 heads of 4096 x 128: one 128-row query block
// per point, 128-row K/V blocks streamed through smem, running max and sum
// in registers. The tensor unit's native N is 256, so both 128-wide mmas
// are padded.
// H100-LABEL: func.func @flash_attention
// H100:       tile.kernel "layers.attn.flash" ins(
// H100:         tile.spread cores(132) over ({{.*}}) in (32, 32) {
// H100-COUNT-13: tile.alloc
// H100:           tile.copy %{{.*}}[%{{.*}}, %{{.*}}, %c0] -> %{{.*}} bytes(32768) : !tile.buf<32x4096x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
// H100:           tile.fill %{{.*}}, 0xFF800000 : f32 on "cuda" : !tile.buf<128x1xf32, "rf">
// H100:           tile.loop %{{.*}} in 32 pipeline(2) {
// H100:             [[TK:%.+]] = tile.copy
// H100-NEXT:        tile.copy {{.*}} after([[TK]]) bytes(32768)
// H100:             tile.mma {{.*}} on "tensor" transpose_rhs padded : !tile.buf<128x128xbf16, "smem">, !tile.buf<128x128xbf16, "smem">, !tile.buf<128x128xf32, "rf">
// H100-NEXT:        tile.reduce max {{.*}} dim(1) on "cuda" : !tile.buf<128x128xf32, "rf"> -> !tile.buf<128x1xf32, "rf">
// H100-NEXT:        tile.map max {{.*}} on "cuda" : (!tile.buf<128x1xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x1xf32, "rf">
// H100-NEXT:        tile.map sub
// H100-NEXT:        tile.map exp
// H100-NEXT:        tile.map sub {{.*}} : (!tile.buf<128x128xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x128xf32, "rf">
// H100-NEXT:        tile.map exp
// H100-NEXT:        tile.reduce sum
// H100-NEXT:        tile.map fma {{.*}} : (!tile.buf<128x1xf32, "rf">, !tile.buf<128x1xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x1xf32, "rf">
// H100-NEXT:        tile.map mul
// H100-NEXT:        tile.map cast
// H100-NEXT:        tile.map cast {{.*}} : (!tile.buf<128x128xf32, "rf">) -> !tile.buf<128x128xbf16, "rf">
// H100-NEXT:        tile.wait
// H100-NEXT:        tile.mma {{.*}} on "tensor" padded : !tile.buf<128x128xbf16, "rf">, !tile.buf<128x128xbf16, "smem">, !tile.buf<128x128xf32, "rf">
// H100-NEXT:      }
// H100-NEXT:      tile.map div
// H100-NEXT:      tile.copy {{.*}} -> %{{.*}}[%{{.*}}, %{{.*}}, %c0] bytes(32768) : !tile.buf<128x128xbf16, "rf"> -> !tile.buf<32x4096x128xbf16, "hbm">
func.func @flash_attention(%q: tensor<32x4096x128xbf16>, %k: tensor<32x4096x128xbf16>,
                           %v: tensor<32x4096x128xbf16>, %o: tensor<32x4096x128xbf16>)
    -> tensor<32x4096x128xbf16> {
  %r = tile.kernel "layers.attn.flash" ins(%q, %k, %v : tensor<32x4096x128xbf16>,
      tensor<32x4096x128xbf16>, tensor<32x4096x128xbf16>) outs(%o : tensor<32x4096x128xbf16>) {
  ^bb0(%Q: !tile.buf<32x4096x128xbf16, "hbm">, %K: !tile.buf<32x4096x128xbf16, "hbm">,
       %V: !tile.buf<32x4096x128xbf16, "hbm">, %O: !tile.buf<32x4096x128xbf16, "hbm">):
    %c0 = arith.constant 0 : index
    tile.spread cores(132) over (%h, %qb) in (32, 32) {
      %qs = tile.alloc : !tile.buf<128x128xbf16, "smem">
      %ks = tile.alloc buffers(2) : !tile.buf<128x128xbf16, "smem">
      %vs = tile.alloc buffers(2) : !tile.buf<128x128xbf16, "smem">
      %s = tile.alloc : !tile.buf<128x128xf32, "rf">
      %p = tile.alloc : !tile.buf<128x128xbf16, "rf">
      %acc = tile.alloc : !tile.buf<128x128xf32, "rf">
      %m = tile.alloc : !tile.buf<128x1xf32, "rf">
      %mb = tile.alloc : !tile.buf<128x1xf32, "rf">
      %mn = tile.alloc : !tile.buf<128x1xf32, "rf">
      %corr = tile.alloc : !tile.buf<128x1xf32, "rf">
      %l = tile.alloc : !tile.buf<128x1xf32, "rf">
      %lb = tile.alloc : !tile.buf<128x1xf32, "rf">
      %ob = tile.alloc : !tile.buf<128x128xbf16, "rf">
      %tq = tile.copy %Q[%h, %qb, %c0] -> %qs bytes(32768)
          : !tile.buf<32x4096x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
      tile.fill %m, 0xFF800000 : f32 on "cuda" : !tile.buf<128x1xf32, "rf">
      tile.fill %l, 0.0 : f32 on "cuda" : !tile.buf<128x1xf32, "rf">
      tile.fill %acc, 0.0 : f32 on "cuda" : !tile.buf<128x128xf32, "rf">
      tile.wait %tq
      tile.loop %kb in 32 pipeline(2) {
        %tk = tile.copy %K[%h, %kb, %c0] -> %ks bytes(32768)
            : !tile.buf<32x4096x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
        %tv = tile.copy %V[%h, %kb, %c0] -> %vs after(%tk) bytes(32768)
            : !tile.buf<32x4096x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
        tile.wait %tk
        // S = Q K^T (the 1/sqrt(d) scale is folded into Q upstream).
        tile.fill %s, 0.0 : f32 on "cuda" : !tile.buf<128x128xf32, "rf">
        tile.mma %qs, %ks, %s on "tensor" transpose_rhs padded
            : !tile.buf<128x128xbf16, "smem">, !tile.buf<128x128xbf16, "smem">, !tile.buf<128x128xf32, "rf">
        // Online softmax: new max, correction exp(m - m_new), P = exp(S - m_new).
        tile.reduce max %s -> %mb dim(1) on "cuda"
            : !tile.buf<128x128xf32, "rf"> -> !tile.buf<128x1xf32, "rf">
        tile.map max %m, %mb -> %mn on "cuda"
            : (!tile.buf<128x1xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x1xf32, "rf">
        tile.map sub %m, %mn -> %corr on "cuda"
            : (!tile.buf<128x1xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x1xf32, "rf">
        tile.map exp %corr -> %corr on "cuda"
            : (!tile.buf<128x1xf32, "rf">) -> !tile.buf<128x1xf32, "rf">
        tile.map sub %s, %mn -> %s on "cuda"
            : (!tile.buf<128x128xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x128xf32, "rf">
        tile.map exp %s -> %s on "cuda"
            : (!tile.buf<128x128xf32, "rf">) -> !tile.buf<128x128xf32, "rf">
        tile.reduce sum %s -> %lb dim(1) on "cuda"
            : !tile.buf<128x128xf32, "rf"> -> !tile.buf<128x1xf32, "rf">
        tile.map fma %l, %corr, %lb -> %l on "cuda"
            : (!tile.buf<128x1xf32, "rf">, !tile.buf<128x1xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x1xf32, "rf">
        tile.map mul %acc, %corr -> %acc on "cuda"
            : (!tile.buf<128x128xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x128xf32, "rf">
        tile.map cast %mn -> %m on "cuda"
            : (!tile.buf<128x1xf32, "rf">) -> !tile.buf<128x1xf32, "rf">
        tile.map cast %s -> %p on "cuda"
            : (!tile.buf<128x128xf32, "rf">) -> !tile.buf<128x128xbf16, "rf">
        // O = O * correction + P V.
        tile.wait %tv
        tile.mma %p, %vs, %acc on "tensor" padded
            : !tile.buf<128x128xbf16, "rf">, !tile.buf<128x128xbf16, "smem">, !tile.buf<128x128xf32, "rf">
      }
      tile.map div %acc, %l -> %ob on "cuda"
          : (!tile.buf<128x128xf32, "rf">, !tile.buf<128x1xf32, "rf">) -> !tile.buf<128x128xbf16, "rf">
      %to = tile.copy %ob -> %O[%h, %qb, %c0] bytes(32768)
          : !tile.buf<128x128xbf16, "rf"> -> !tile.buf<32x4096x128xbf16, "hbm">
      tile.wait %to
    }
  } -> tensor<32x4096x128xbf16>
  return %r : tensor<32x4096x128xbf16>
}

// An embedding lookup on one H100 GPU. Per block of 8 tokens the ids are
// copied in, tile.gather fetches their rows of the table (addresses from
// the ids' values, 8 x 8 KiB) and the rows are stored.
// H100-LABEL: func.func @embedding_gather
// H100:         tile.copy %{{.*}}[%{{.*}}, %{{.*}}] -> [[IDS:%.+]] bytes(32) : !tile.buf<1x2048xi32, "hbm"> -> !tile.buf<8xi32, "smem">
// H100:         [[G:%.+]] = tile.gather %{{.*}} rows([[IDS]]) -> [[ROWS:%.+]] bytes(65536) : !tile.buf<128256x4096xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<8x4096xbf16, "smem">
// H100:         tile.wait [[G]]
// H100:         tile.copy [[ROWS]] -> %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] bytes(65536)
func.func @embedding_gather(%tokens: tensor<1x2048xi32>, %table: tensor<128256x4096xbf16>, %out: tensor<1x2048x4096xbf16>) -> tensor<1x2048x4096xbf16> {
  %r = tile.kernel "embed" ins(%tokens, %table : tensor<1x2048xi32>, tensor<128256x4096xbf16>) outs(%out : tensor<1x2048x4096xbf16>) {
  ^bb0(%T: !tile.buf<1x2048xi32, "hbm">, %W: !tile.buf<128256x4096xbf16, "hbm">, %O: !tile.buf<1x2048x4096xbf16, "hbm">):
    %c0 = arith.constant 0 : index
    tile.spread cores(132) over (%b, %r) in (1, 256) {
      %ids = tile.alloc buffers(2) : !tile.buf<8xi32, "smem">
      %rows = tile.alloc buffers(2) : !tile.buf<8x4096xbf16, "smem">
      tile.loop %i in 2 pipeline(2) {
        %t0 = tile.copy %T[%b, %r] -> %ids bytes(32) : !tile.buf<1x2048xi32, "hbm"> -> !tile.buf<8xi32, "smem">
        tile.wait %t0
        %t1 = tile.gather %W rows(%ids) -> %rows bytes(65536) : !tile.buf<128256x4096xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<8x4096xbf16, "smem">
        tile.wait %t1
        %t2 = tile.copy %rows -> %O[%b, %r, %c0] bytes(65536) : !tile.buf<8x4096xbf16, "smem"> -> !tile.buf<1x2048x4096xbf16, "hbm">
        tile.wait %t2
      }
    }
  } -> tensor<1x2048x4096xbf16>
  return %r : tensor<1x2048x4096xbf16>
}

//--- mesh.mlir

// Cannon's algorithm for C[2048x2048] = A[2048x2048] * B[2048x2048] on the
// 64 x 64 mesh: every core owns one 32x32 block of C, A and B; each of the
// 64 steps multiplies the resident blocks on the 8x8x1 engine and shifts A
// one core left and B one core up over the NoC (one hop), double-buffered so
// the shift overlaps the next multiply.
// MESH-LABEL: func.func @cannon
// MESH:       tile.spread cores(4096) over ({{.*}}) in (64, 64) {
// MESH:         tile.fill %{{.*}}, 0.000000e+00 : f32 on "vector" : !tile.buf<32x32xf32, "sram">
// MESH:         tile.loop %{{.*}} in 64 pipeline(2) {
// MESH-NEXT:      tile.mma [[SA:%[^,]+]], [[SB:%[^,]+]], %{{.*}} on "matrix" : !tile.buf<32x32xbf16, "sram">, !tile.buf<32x32xbf16, "sram">, !tile.buf<32x32xf32, "sram">
// MESH-NEXT:      [[L:%.+]] = tile.noc_copy unicast [[SA]] -> [[SA]] hops(1) bytes(2048) : !tile.buf<32x32xbf16, "sram"> -> !tile.buf<32x32xbf16, "sram">
// MESH-NEXT:      [[U:%.+]] = tile.noc_copy unicast [[SB]] -> [[SB]] hops(1) bytes(2048)
// MESH-NEXT:      tile.wait [[L]], [[U]]
func.func @cannon(%a: tensor<2048x2048xbf16>, %b: tensor<2048x2048xbf16>,
                  %c: tensor<2048x2048xf32>) -> tensor<2048x2048xf32> {
  %r = tile.kernel "cannon" ins(%a, %b : tensor<2048x2048xbf16>, tensor<2048x2048xbf16>)
                            outs(%c : tensor<2048x2048xf32>) {
  ^bb0(%A: !tile.buf<2048x2048xbf16, "dram">, %B: !tile.buf<2048x2048xbf16, "dram">,
       %C: !tile.buf<2048x2048xf32, "dram">):
    %c64 = arith.constant 64 : index
    tile.spread cores(4096) over (%i, %j) in (64, 64) {
      %sa = tile.alloc buffers(2) : !tile.buf<32x32xbf16, "sram">
      %sb = tile.alloc buffers(2) : !tile.buf<32x32xbf16, "sram">
      %acc = tile.alloc : !tile.buf<32x32xf32, "sram">
      // The initial skew: core (i, j) starts with A[i, i+j] and B[i+j, j].
      %sum = arith.addi %i, %j : index
      %skew = arith.remui %sum, %c64 : index
      %ta = tile.copy %A[%i, %skew] -> %sa bytes(2048)
          : !tile.buf<2048x2048xbf16, "dram"> -> !tile.buf<32x32xbf16, "sram">
      %tb = tile.copy %B[%skew, %j] -> %sb bytes(2048)
          : !tile.buf<2048x2048xbf16, "dram"> -> !tile.buf<32x32xbf16, "sram">
      tile.fill %acc, 0.0 : f32 on "vector" : !tile.buf<32x32xf32, "sram">
      tile.wait %ta, %tb
      tile.loop %k in 64 pipeline(2) {
        tile.mma %sa, %sb, %acc on "matrix"
            : !tile.buf<32x32xbf16, "sram">, !tile.buf<32x32xbf16, "sram">, !tile.buf<32x32xf32, "sram">
        %left = tile.noc_copy unicast %sa -> %sa hops(1) bytes(2048)
            : !tile.buf<32x32xbf16, "sram"> -> !tile.buf<32x32xbf16, "sram">
        %up = tile.noc_copy unicast %sb -> %sb hops(1) bytes(2048)
            : !tile.buf<32x32xbf16, "sram"> -> !tile.buf<32x32xbf16, "sram">
        tile.wait %left, %up
      }
      %tc = tile.copy %acc -> %C[%i, %j] bytes(4096)
          : !tile.buf<32x32xf32, "sram"> -> !tile.buf<2048x2048xf32, "dram">
      tile.wait %tc
    }
  } -> tensor<2048x2048xf32>
  return %r : tensor<2048x2048xf32>
}

// SUMMA for C[2048x2048] = A[2048x4096] * B[4096x2048] on the mesh: the
// 64 x 64 output tiles of 32x32 laid on the whole core grid; each K step's
// A tile is fetched once per grid row and multicast along it, the B tile
// once per grid column and multicast down it.
// MESH-LABEL: func.func @summa
// MESH:       tile.spread cores(4096) over ([[I:%.+]], [[J:%.+]]) in (64, 64) grid(64, 64) {
// MESH:         tile.loop [[K:%.+]] in 64 pipeline(2) {
// MESH-NEXT:      tile.copy %{{.*}}[[[I]], [[K]]] -> %{{.*}} multicast(1) bytes(4096) : !tile.buf<2048x4096xbf16, "dram"> -> !tile.buf<32x64xbf16, "sram">
// MESH-NEXT:      tile.copy %{{.*}}[[[K]], [[J]]] -> %{{.*}} multicast(0) bytes(4096) : !tile.buf<4096x2048xbf16, "dram"> -> !tile.buf<64x32xbf16, "sram">
func.func @summa(%a: tensor<2048x4096xbf16>, %b: tensor<4096x2048xbf16>,
                 %c: tensor<2048x2048xf32>) -> tensor<2048x2048xf32> {
  %r = tile.kernel "summa" ins(%a, %b : tensor<2048x4096xbf16>, tensor<4096x2048xbf16>)
                           outs(%c : tensor<2048x2048xf32>) {
  ^bb0(%A: !tile.buf<2048x4096xbf16, "dram">, %B: !tile.buf<4096x2048xbf16, "dram">,
       %C: !tile.buf<2048x2048xf32, "dram">):
    tile.spread cores(4096) over (%i, %j) in (64, 64) grid(64, 64) {
      %acc = tile.alloc : !tile.buf<32x32xf32, "sram">
      %sa = tile.alloc buffers(2) : !tile.buf<32x64xbf16, "sram">
      %sb = tile.alloc buffers(2) : !tile.buf<64x32xbf16, "sram">
      tile.fill %acc, 0.0 : f32 on "vector" : !tile.buf<32x32xf32, "sram">
      tile.loop %k in 64 pipeline(2) {
        %ta = tile.copy %A[%i, %k] -> %sa multicast(1) bytes(4096)
            : !tile.buf<2048x4096xbf16, "dram"> -> !tile.buf<32x64xbf16, "sram">
        %tb = tile.copy %B[%k, %j] -> %sb multicast(0) bytes(4096)
            : !tile.buf<4096x2048xbf16, "dram"> -> !tile.buf<64x32xbf16, "sram">
        tile.wait %ta, %tb
        tile.mma %sa, %sb, %acc on "matrix"
            : !tile.buf<32x64xbf16, "sram">, !tile.buf<64x32xbf16, "sram">, !tile.buf<32x32xf32, "sram">
      }
      %tc = tile.copy %acc -> %C[%i, %j] bytes(4096)
          : !tile.buf<32x32xf32, "sram"> -> !tile.buf<2048x2048xf32, "dram">
      tile.wait %tc
    }
  } -> tensor<2048x2048xf32>
  return %r : tensor<2048x2048xf32>
}

// A norm weight gathered along each mesh row: every core loads its 1x64
// slice of the 1x4096 weight and multicasts it into the matching slot of
// the row buffer of the 63 other cores in its row (and copies it into its
// own), so DRAM is read once per mesh row (64 times) instead of once per
// core (4096 times).
// MESH-LABEL: func.func @row_all_gather
// MESH:       tile.kernel "norm.weight_gather" outs(%{{.*}} : tensor<1x4096xbf16>) {
// MESH:         [[TL:%.+]] = tile.copy {{.*}} bytes(128) : !tile.buf<1x4096xbf16, "dram"> -> !tile.buf<1x64xbf16, "sram">
// MESH-NEXT:    tile.noc_copy multicast %{{.*}} -> %{{.*}}[%c0, %{{.*}}] cores(63) hops(63) after([[TL]]) bytes(128) : !tile.buf<1x64xbf16, "sram"> -> !tile.buf<1x4096xbf16, "sram">
func.func @row_all_gather(%w: tensor<1x4096xbf16>) -> tensor<1x4096xbf16> {
  %r = tile.kernel "norm.weight_gather" outs(%w : tensor<1x4096xbf16>) {
  ^bb0(%W: !tile.buf<1x4096xbf16, "dram">):
    %c0 = arith.constant 0 : index
    tile.spread cores(4096) over (%i, %j) in (64, 64) {
      %slice = tile.alloc : !tile.buf<1x64xbf16, "sram">
      %row = tile.alloc : !tile.buf<1x4096xbf16, "sram">
      %tl = tile.copy %W[%c0, %j] -> %slice bytes(128)
          : !tile.buf<1x4096xbf16, "dram"> -> !tile.buf<1x64xbf16, "sram">
      %tm = tile.noc_copy multicast %slice -> %row[%c0, %j] cores(63) hops(63) after(%tl) bytes(128)
          : !tile.buf<1x64xbf16, "sram"> -> !tile.buf<1x4096xbf16, "sram">
      %ts = tile.copy %slice -> %row[%c0, %j] after(%tl) bytes(128)
          : !tile.buf<1x64xbf16, "sram"> -> !tile.buf<1x4096xbf16, "sram">
      tile.wait %tm, %ts
    }
  } -> tensor<1x4096xbf16>
  return %r : tensor<1x4096xbf16>
}

// An activation kept in the grid's SRAM between two kernels: the producer
// writes its output operand (#1) on chip, the consumer reads its input (#0)
// there; the other operands live at home, one activation stayed there.
// MESH-LABEL: func.func @resident_activation
// MESH:       tile.kernel "act.scale" ins(%{{.*}} : tensor<64x64xbf16>) outs(%{{.*}} : tensor<64x64xbf16>) resident([1]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<64x64xbf16, "dram">, %{{.*}}: !tile.buf<64x64xbf16, "sram">):
// MESH:       tile.kernel "act.next" ins(%{{.*}} : tensor<64x64xbf16>) outs(%{{.*}} : tensor<64x64xbf16>) resident([0]) spilled([1]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<64x64xbf16, "sram">, %{{.*}}: !tile.buf<64x64xbf16, "dram">):
func.func @resident_activation(%x: tensor<64x64xbf16>, %e: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
  %a = tile.kernel "act.scale" ins(%x : tensor<64x64xbf16>) outs(%e : tensor<64x64xbf16>) resident([1]) {
  ^bb0(%X: !tile.buf<64x64xbf16, "dram">, %A: !tile.buf<64x64xbf16, "sram">):
    tile.spread cores(64) over (%i) in (64) {
      %row = tile.alloc : !tile.buf<1x64xbf16, "sram">
      %c0 = arith.constant 0 : index
      %t0 = tile.copy %X[%i, %c0] -> %row bytes(128) : !tile.buf<64x64xbf16, "dram"> -> !tile.buf<1x64xbf16, "sram">
      tile.wait %t0
      %t1 = tile.copy %row -> %A[%i, %c0] bytes(128) : !tile.buf<1x64xbf16, "sram"> -> !tile.buf<64x64xbf16, "sram">
      tile.wait %t1
    }
  } -> tensor<64x64xbf16>
  %b = tile.kernel "act.next" ins(%a : tensor<64x64xbf16>) outs(%e : tensor<64x64xbf16>) resident([0]) spilled([1]) {
  ^bb0(%A: !tile.buf<64x64xbf16, "sram">, %B: !tile.buf<64x64xbf16, "dram">):
  } -> tensor<64x64xbf16>
  return %b : tensor<64x64xbf16>
}

//--- multichip.mlir

// Tensor- and pipeline-parallel traffic on 4 DGX H100 nodes (NVLink inside a
// node, InfiniBand between nodes).
// MULTI-LABEL: func.func @tp_allreduce
// MULTI:       tile.collective all_reduce %{{.*}} over "nvlink" algorithm(in_network) bytes(20971520) : tensor<4096x1280xf32> -> tensor<4096x1280xf32>
func.func @tp_allreduce(%x: tensor<4096x1280xf32>) -> tensor<4096x1280xf32> {
  %r = tile.collective all_reduce %x over "nvlink" algorithm(in_network) bytes(20971520)
      : tensor<4096x1280xf32> -> tensor<4096x1280xf32>
  return %r : tensor<4096x1280xf32>
}

// MULTI-LABEL: func.func @sequence_parallel
// MULTI:       tile.collective all_gather %{{.*}} over "nvlink" algorithm(ring) dim(0) bytes(4194304) : tensor<512x4096xbf16> -> tensor<4096x4096xbf16>
// MULTI:       tile.collective reduce_scatter %{{.*}} over "nvlink" algorithm(ring) dim(0) bytes(33554432) : tensor<4096x4096xbf16> -> tensor<512x4096xbf16>
func.func @sequence_parallel(%x: tensor<512x4096xbf16>, %y: tensor<4096x4096xbf16>)
    -> (tensor<4096x4096xbf16>, tensor<512x4096xbf16>) {
  %g = tile.collective all_gather %x over "nvlink" algorithm(ring) dim(0) bytes(4194304)
      : tensor<512x4096xbf16> -> tensor<4096x4096xbf16>
  %s = tile.collective reduce_scatter %y over "nvlink" algorithm(ring) dim(0) bytes(33554432)
      : tensor<4096x4096xbf16> -> tensor<512x4096xbf16>
  return %g, %s : tensor<4096x4096xbf16>, tensor<512x4096xbf16>
}

// MULTI-LABEL: func.func @experts_and_data
// MULTI:       tile.collective all_to_all %{{.*}} over "nvlink" algorithm(recursive_halving_doubling) bytes(67108864)
// MULTI:       tile.collective all_reduce %{{.*}} over "ib" algorithm(hierarchical) group([8, 4]) bytes(67108864)
// MULTI:       tile.collective all_reduce %{{.*}} over "ib" algorithm(tree) bytes(67108864)
func.func @experts_and_data(%t: tensor<8x1024x4096xbf16>, %grad: tensor<4096x4096xf32>)
    -> (tensor<8x1024x4096xbf16>, tensor<4096x4096xf32>, tensor<4096x4096xf32>) {
  %e = tile.collective all_to_all %t over "nvlink" algorithm(recursive_halving_doubling) bytes(67108864)
      : tensor<8x1024x4096xbf16> -> tensor<8x1024x4096xbf16>
  %d = tile.collective all_reduce %grad over "ib" algorithm(hierarchical) group([8, 4]) bytes(67108864)
      : tensor<4096x4096xf32> -> tensor<4096x4096xf32>
  %t2 = tile.collective all_reduce %grad over "ib" algorithm(tree) bytes(67108864)
      : tensor<4096x4096xf32> -> tensor<4096x4096xf32>
  return %e, %d, %t2 : tensor<8x1024x4096xbf16>, tensor<4096x4096xf32>, tensor<4096x4096xf32>
}

// MULTI-LABEL: func.func @pipeline_stages
// MULTI:       tile.send %{{.*}} to stage(1) over "ib" bytes(33554432) : tensor<4096x4096xf16>
// MULTI:       tile.recv from stage(0) over "ib" bytes(33554432) : tensor<4096x4096xf16>
func.func @pipeline_stages(%act: tensor<4096x4096xf16>) -> tensor<4096x4096xf16> {
  tile.send %act to stage(1) over "ib" bytes(33554432) : tensor<4096x4096xf16>
  %in = tile.recv from stage(0) over "ib" bytes(33554432) : tensor<4096x4096xf16>
  return %in : tensor<4096x4096xf16>
}

// What strata-route writes: the group's devices per fabric, innermost
// first (four of a node's eight GPUs; two GPUs in each of the four nodes),
// all_to_all moving a split from dim 0 to dim 1 by the group's size.
// MULTI-LABEL: func.func @routed_groups
// MULTI:       tile.collective all_gather %{{.*}} over "nvlink" algorithm(ring) dim(0) group([4]) bytes(2048) : tensor<16x32xf32> -> tensor<64x32xf32>
// MULTI:       tile.collective all_to_all %{{.*}} over "nvlink" algorithm(direct) group([4]) bytes(16384) : tensor<8x8x64xf32> -> tensor<2x32x64xf32>
// MULTI:       tile.collective all_reduce %{{.*}} over "ib" algorithm(ring) group([2, 4]) bytes(2048) {strata.axes = ["dp"]} : tensor<16x32xf32> -> tensor<16x32xf32>
func.func @routed_groups(%a: tensor<16x32xf32>, %t: tensor<8x8x64xf32>)
    -> (tensor<64x32xf32>, tensor<2x32x64xf32>, tensor<16x32xf32>) {
  %g = tile.collective all_gather %a over "nvlink" algorithm(ring) dim(0) group([4]) bytes(2048)
      : tensor<16x32xf32> -> tensor<64x32xf32>
  %e = tile.collective all_to_all %t over "nvlink" algorithm(direct) group([4]) bytes(16384)
      : tensor<8x8x64xf32> -> tensor<2x32x64xf32>
  %r = tile.collective all_reduce %a over "ib" algorithm(ring) group([2, 4]) bytes(2048) {strata.axes = ["dp"]}
      : tensor<16x32xf32> -> tensor<16x32xf32>
  return %g, %e, %r : tensor<64x32xf32>, tensor<2x32x64xf32>, tensor<16x32xf32>
}

//--- torus.mlir

// A 4x4x4 TPU v5p slice: dimension-ordered all-reduce on the ICI torus.
// TORUS-LABEL: func.func @torus_allreduce
// TORUS:       tile.collective all_reduce %{{.*}} over "ici" algorithm(torus_dim_ordered) bytes(134217728)
func.func @torus_allreduce(%x: tensor<8192x8192xbf16>) -> tensor<8192x8192xbf16> {
  %r = tile.collective all_reduce %x over "ici" algorithm(torus_dim_ordered) bytes(134217728)
      : tensor<8192x8192xbf16> -> tensor<8192x8192xbf16>
  return %r : tensor<8192x8192xbf16>
}

//--- nosystem.mlir

// Without an arch.system only local checks run: these names are not
// checked against any chip.
// NOSYS-LABEL: func.func @unchecked
// NOSYS:       ^bb0(%{{.*}}: !tile.buf<64x64xf16, "l3">):
// NOSYS-NEXT:    tile.spread cores(100000) over (%{{.*}}) in (7) {
// NOSYS-NEXT:      tile.alloc buffers(3) : !tile.buf<64x64xf16, "sram">
// NOSYS:           tile.loop %{{.*}} in 5 pipeline(3) {
// NOSYS-NEXT:        tile.copy %{{.*}} -> %{{.*}} bytes(8192) : !tile.buf<64x64xf16, "l3"> -> !tile.buf<64x64xf16, "sram">
// NOSYS:             tile.mma {{.*}} on "mxu" transpose_lhs :
// NOSYS-NEXT:        tile.map gelu {{.*}} on "vpu" flops(14) : (!tile.buf<64x64xf32, "acc">) -> !tile.buf<64x64xf32, "acc">
// NOSYS-NEXT:        tile.reduce min {{.*}} dim(0) on "vpu" : !tile.buf<64x64xf32, "acc"> -> !tile.buf<1x64xf32, "acc">
// NOSYS-NEXT:      }
// NOSYS-NEXT:    }
// NOSYS:       tile.collective all_reduce %{{.*}} over "anything" algorithm(ring)
func.func @unchecked(%x: tensor<64x64xf16>) -> tensor<64x64xf16> {
  %r = tile.kernel "unchecked" outs(%x : tensor<64x64xf16>) {
  ^bb0(%X: !tile.buf<64x64xf16, "l3">):
    tile.spread cores(100000) over (%i) in (7) {
      %a = tile.alloc buffers(3) : !tile.buf<64x64xf16, "sram">
      %acc = tile.alloc : !tile.buf<64x64xf32, "acc">
      %red = tile.alloc : !tile.buf<1x64xf32, "acc">
      tile.loop %k in 5 pipeline(3) {
        %t = tile.copy %X -> %a bytes(8192)
            : !tile.buf<64x64xf16, "l3"> -> !tile.buf<64x64xf16, "sram">
        tile.wait %t
        tile.mma %a, %a, %acc on "mxu" transpose_lhs
            : !tile.buf<64x64xf16, "sram">, !tile.buf<64x64xf16, "sram">, !tile.buf<64x64xf32, "acc">
        tile.map gelu %acc -> %acc on "vpu" flops(14)
            : (!tile.buf<64x64xf32, "acc">) -> !tile.buf<64x64xf32, "acc">
        tile.reduce min %acc -> %red dim(0) on "vpu"
            : !tile.buf<64x64xf32, "acc"> -> !tile.buf<1x64xf32, "acc">
      }
      tile.yield
    }
  } -> tensor<64x64xf16>
  %t = tile.collective all_reduce %r over "anything" algorithm(ring) bytes(8192)
      : tensor<64x64xf16> -> tensor<64x64xf16>
  return %t : tensor<64x64xf16>
}

// A tile placed on chosen dimensions of the indexed side (`dims`): 128
// query positions of one head out of a [batch, seq, heads, head_dim]
// tensor, whose rows are not the second-to-last dimension.
// NOSYS-LABEL: func.func @copy_dims
// NOSYS:       tile.copy %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] -> %{{.*}} dims [1, 3] bytes(32768) : !tile.buf<1x2048x32x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
// NOSYS:       tile.copy %{{.*}} -> %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] dims [1, 3] bytes(32768) : !tile.buf<128x128xbf16, "smem"> -> !tile.buf<1x2048x32x128xbf16, "hbm">
func.func @copy_dims(%q: !tile.buf<1x2048x32x128xbf16, "hbm">, %t: !tile.buf<128x128xbf16, "smem">, %i: index) {
  %a = tile.copy %q[%i, %i, %i, %i] -> %t dims [1, 3] bytes(32768)
      : !tile.buf<1x2048x32x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
  %b = tile.copy %t -> %q[%i, %i, %i, %i] dims [1, 3] bytes(32768)
      : !tile.buf<128x128xbf16, "smem"> -> !tile.buf<1x2048x32x128xbf16, "hbm">
  tile.wait %a, %b
  return
}

// Broadcast dims (-1 in dims): a [T] vector into a [rows x 1] tile and a
// [D] weight into a [1 x cols] tile, so tile.map broadcasts them; an `expr`
// map of any arity with its stated cost.
// NOSYS-LABEL: func.func @copy_broadcast_dims
// NOSYS:       tile.copy %{{.*}}[%{{.*}}] -> %{{.*}} dims [0, -1] bytes(32) : !tile.buf<2048xbf16, "hbm"> -> !tile.buf<16x1xbf16, "smem">
// NOSYS:       tile.copy %{{.*}}[%{{.*}}] -> %{{.*}} dims [-1, 0] bytes(8192) : !tile.buf<4096xbf16, "hbm"> -> !tile.buf<1x4096xbf16, "smem">
// NOSYS:       tile.map expr %{{.*}}, %{{.*}}, %{{.*}} -> %{{.*}} on "cuda" flops(7) : (!tile.buf<16x4096xbf16, "smem">, !tile.buf<16x1xbf16, "smem">, !tile.buf<1x4096xbf16, "smem">) -> !tile.buf<16x4096xbf16, "smem">
func.func @copy_broadcast_dims(%r: !tile.buf<2048xbf16, "hbm">, %w: !tile.buf<4096xbf16, "hbm">,
                               %x: !tile.buf<16x4096xbf16, "smem">, %rt: !tile.buf<16x1xbf16, "smem">,
                               %wt: !tile.buf<1x4096xbf16, "smem">, %i: index) {
  %a = tile.copy %r[%i] -> %rt dims [0, -1] bytes(32)
      : !tile.buf<2048xbf16, "hbm"> -> !tile.buf<16x1xbf16, "smem">
  %b = tile.copy %w[%i] -> %wt dims [-1, 0] bytes(8192)
      : !tile.buf<4096xbf16, "hbm"> -> !tile.buf<1x4096xbf16, "smem">
  tile.wait %a, %b
  tile.map expr %x, %rt, %wt -> %x on "cuda" flops(7)
      : (!tile.buf<16x4096xbf16, "smem">, !tile.buf<16x1xbf16, "smem">, !tile.buf<1x4096xbf16, "smem">) -> !tile.buf<16x4096xbf16, "smem">
  return
}

// An `expr` map of no inputs: each element a function of its coordinates
// alone (RoPE's table of cos - 1 and sin from linalg.index); the type list
// is empty.
// NOSYS-LABEL: func.func @map_expr_no_inputs
// NOSYS:       tile.map expr -> %{{.*}} on "cuda" flops(54) : () -> !tile.buf<8x64x2x2xbf16, "smem">
func.func @map_expr_no_inputs(%t: !tile.buf<8x64x2x2xbf16, "smem">) {
  tile.map expr -> %t on "cuda" flops(54) : () -> !tile.buf<8x64x2x2xbf16, "smem">
  return
}
