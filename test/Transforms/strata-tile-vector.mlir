// RUN: strata-opt %s -split-input-file --strata-tile="system=h100-sxm vector=true" 2>/dev/null | FileCheck %s --check-prefix=H100
// RUN: strata-opt %s -split-input-file --strata-tile="system=mesh-sram vector=true" 2>/dev/null | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %s -split-input-file --strata-tile="system=tpu-v5p vector=true" 2>/dev/null | FileCheck %s --check-prefix=TPU
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-tile="system=h100-sxm vector=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: strata-opt %s -split-input-file --strata-tile="system=h100-sxm vector=false" 2>/dev/null | FileCheck %s --check-prefix=OFF
// RUN: strata-opt %s -split-input-file --strata-tile="system=h100-sxm vector=true" --strata-place 2>/dev/null | FileCheck %s --check-prefix=PLACE
// RUN: strata-opt %s -split-input-file --strata-tile="system=h100-sxm vector=true" --strata-estimate=format=csv -o /dev/null | FileCheck %s --check-prefix=TILED
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=csv" -o /dev/null | FileCheck %s --check-prefix=LINALG

// RMSNorm as the generator writes it: a sum of squares over the row (the
// zero fill of its init is absorbed), rstd on the [T] vector, then x * rstd
// * weight with the rstd [T] and weight [D] broadcast.
func.func @norm(%x: tensor<2048x4096xbf16>, %w: tensor<4096xbf16>) -> tensor<2048x4096xbf16> {
  %e0 = tensor.empty() : tensor<2048xbf16>
  %z = arith.constant 0.0 : bf16
  %f = linalg.fill ins(%z : bf16) outs(%e0 : tensor<2048xbf16>) -> tensor<2048xbf16> loc("norm.sumsq")
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2048x4096xbf16>) outs(%f : tensor<2048xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %m = arith.mulf %in, %in : bf16
    %a = arith.addf %out, %m : bf16
    linalg.yield %a : bf16
  } -> tensor<2048xbf16> loc("norm.sumsq")
  %e1 = tensor.empty() : tensor<2048xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%s : tensor<2048xbf16>) outs(%e1 : tensor<2048xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %c = arith.constant 2.441410e-04 : bf16
    %m = arith.mulf %in, %c : bf16
    %c2 = arith.constant 1.001360e-05 : bf16
    %a = arith.addf %m, %c2 : bf16
    %q = math.rsqrt %a : bf16
    linalg.yield %q : bf16
  } -> tensor<2048xbf16> loc("norm.rstd")
  %e2 = tensor.empty() : tensor<2048x4096xbf16>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %r, %w : tensor<2048x4096xbf16>, tensor<2048xbf16>, tensor<4096xbf16>) outs(%e2 : tensor<2048x4096xbf16>) {
  ^bb0(%in: bf16, %in1: bf16, %in2: bf16, %out: bf16):
    %m = arith.mulf %in, %in1 : bf16
    %m2 = arith.mulf %m, %in2 : bf16
    linalg.yield %m2 : bf16
  } -> tensor<2048x4096xbf16> loc("norm.scale")
  return %y : tensor<2048x4096xbf16>
}
// The sum of squares absorbs its zero fill: 8 rows per block, the full
// 4096-wide row in the tile, reduced along dim 1 into an [8 x 1] tile that
// lands in the [2048] result through a broadcast dim.
// H100-LABEL: func.func @norm
// H100-NOT: linalg.fill
// H100: tile.kernel "norm.sumsq" ins(%{{.*}} : tensor<2048x4096xbf16>) outs(%{{.*}} : tensor<2048xbf16>)
// H100: tile.spread cores(132) over ([[R:%.+]]) in (256)
// H100: [[X:%[0-9]+]] = tile.alloc : !tile.buf<8x4096xbf16, "smem">
// H100: [[S:%[0-9]+]] = tile.alloc : !tile.buf<8x1xbf16, "smem">
// H100: [[SQ:%[0-9]+]] = tile.alloc : !tile.buf<8x4096xbf16, "rf">
// H100: tile.copy %{{.*}}[[[R]], %{{.*}}] -> [[X]] bytes(65536)
// H100: tile.map mul [[X]], [[X]] -> [[SQ]] on "cuda"
// H100: tile.reduce sum [[SQ]] -> [[S]] dim(1) on "cuda"
// H100: tile.copy [[S]] -> %{{.*}}[[[R]]] dims [0, -1] bytes(16)
// rstd: constants filled once per core, rsqrt weighted like the formula's
// transcendental.
// H100: tile.kernel "norm.rstd"
// H100: tile.fill %{{.*}}, 2.441410e-04 : bf16 on "cuda" : !tile.buf<1xbf16, "rf">
// H100: tile.map mul
// H100: tile.map add
// H100: tile.map rsqrt %{{.*}} on "cuda" flops(16)
// scale: the weight [D] is loaded once per core before the loop as a
// [1 x 4096] tile, rstd per block as [8 x 1]; both broadcast in tile.map.
// H100: tile.kernel "norm.scale"
// H100: tile.spread cores(132) over ([[B:%.+]]) in (256)
// H100: [[XT:%[0-9]+]] = tile.alloc : !tile.buf<8x4096xbf16, "smem">
// H100: [[RT:%[0-9]+]] = tile.alloc : !tile.buf<8x1xbf16, "smem">
// H100: [[WT:%[0-9]+]] = tile.alloc : !tile.buf<1x4096xbf16, "smem">
// H100: [[OT:%[0-9]+]] = tile.alloc : !tile.buf<8x4096xbf16, "smem">
// H100: [[T:%[0-9]+]] = tile.alloc : !tile.buf<8x4096xbf16, "rf">
// H100: tile.copy %{{.*}}[%{{.*}}] -> [[WT]] dims [-1, 0] bytes(8192)
// H100: tile.loop
// H100: tile.copy %{{.*}}[[[B]], %{{.*}}] -> [[XT]] bytes(65536)
// H100: tile.copy %{{.*}}[[[B]]] -> [[RT]] dims [0, -1] bytes(16)
// H100: tile.map mul [[XT]], [[RT]] -> [[T]] on "cuda"
// H100: tile.map mul [[T]], [[WT]] -> [[OT]] on "cuda"
// H100: tile.copy [[OT]] -> %{{.*}}[[[B]], %{{.*}}] bytes(65536)
// H100: strata.useful_flops = 16777216
// OFF-LABEL: func.func @norm
// OFF: linalg.fill
// OFF-NOT: tile.kernel
// OFF: return
// The kernel prices like the linalg ops: same FLOPs, HBM bytes and time
// for the sum of squares; the absorbed fill's launch is gone.
// TILED: norm.sumsq,tile.kernel,norm,kernel,1,16777216,0,0,16781312,16781312,16781312,0.0000095093
// LINALG: norm.sumsq,linalg.fill,norm,data_movement,1,0,0,0,0,0,4096,
// LINALG: norm.sumsq,linalg.generic,norm,reduction,1,16777216,0,0,0,0,16781312,0.0000095093

// -----

// A residual add: the case compared across the three systems.
func.func @residual(%a: tensor<2048x4096xbf16>, %b: tensor<2048x4096xbf16>) -> tensor<2048x4096xbf16> {
  %e = tensor.empty() : tensor<2048x4096xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%a, %b : tensor<2048x4096xbf16>, tensor<2048x4096xbf16>) outs(%e : tensor<2048x4096xbf16>) {
  ^bb0(%x: bf16, %y: bf16, %o: bf16):
    %s = arith.addf %x, %y : bf16
    linalg.yield %s : bf16
  } -> tensor<2048x4096xbf16> loc("residual")
  return %r : tensor<2048x4096xbf16>
}
// h100-sxm: 8-row blocks of the whole 4096-wide row, 256 blocks over 132
// SMs (3 x 64 KiB of smem); mesh-sram: 1 x 2048 tiles so all 4096 cores
// are busy in 48 KiB each; tpu-v5p: one 1024-row block per TensorCore in
// its 64 MiB VMEM.
// H100-LABEL: func.func @residual
// H100: tile.spread cores(132) over (%{{.*}}) in (256)
// H100-COUNT-3: tile.alloc : !tile.buf<8x4096xbf16, "smem">
// H100: tile.map add %{{.*}}, %{{.*}} -> %{{.*}} on "cuda" : (!tile.buf<8x4096xbf16, "smem">, !tile.buf<8x4096xbf16, "smem">) -> !tile.buf<8x4096xbf16, "smem">
// MESH-LABEL: func.func @residual
// MESH: tile.spread cores(4096) over ([[R:%.+]], [[C:%.+]]) in (2048, 2)
// MESH-COUNT-3: tile.alloc : !tile.buf<1x2048xbf16, "sram">
// MESH: tile.copy %{{.*}}[[[R]], [[C]]] -> %{{.*}} bytes(4096)
// MESH: tile.map add {{.*}} on "vector"
// TPU-LABEL: func.func @residual
// TPU: tile.spread cores(2) over (%{{.*}}) in (2)
// TPU-COUNT-3: tile.alloc : !tile.buf<1024x4096xbf16, "vmem">
// TPU: tile.map add {{.*}} on "vpu"
// PLACE-LABEL: func.func @residual
// PLACE: strata.placement = {smem = 196608 : i64}
// TILED: residual,tile.kernel,residual,kernel,1,8388608,0,0,50331648,50331648,50331648,0.0000195243
// LINALG: residual,linalg.generic,residual,elementwise,1,8388608,0,0,0,0,50331648,0.0000195243

// -----

// SiLU(gate) * up: five body ops, five maps, one scratch tile reused in
// place; exp weighted as the vector formula weighs a transcendental.
func.func @silu_mul(%g: tensor<2048x14336xbf16>, %u: tensor<2048x14336xbf16>) -> tensor<2048x14336xbf16> {
  %e = tensor.empty() : tensor<2048x14336xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g, %u : tensor<2048x14336xbf16>, tensor<2048x14336xbf16>) outs(%e : tensor<2048x14336xbf16>) {
  ^bb0(%in: bf16, %in1: bf16, %out: bf16):
    %n = arith.negf %in : bf16
    %x = math.exp %n : bf16
    %one = arith.constant 1.0 : bf16
    %d = arith.addf %one, %x : bf16
    %s = arith.divf %in, %d : bf16
    %m = arith.mulf %s, %in1 : bf16
    linalg.yield %m : bf16
  } -> tensor<2048x14336xbf16> loc("mlp.act")
  return %r : tensor<2048x14336xbf16>
}
// H100-LABEL: func.func @silu_mul
// H100: tile.kernel "mlp.act"
// H100: [[G:%[0-9]+]] = tile.alloc : !tile.buf<4x8192xbf16, "smem">
// H100: [[U:%[0-9]+]] = tile.alloc : !tile.buf<4x8192xbf16, "smem">
// H100: [[O:%[0-9]+]] = tile.alloc : !tile.buf<4x8192xbf16, "smem">
// H100: [[T:%[0-9]+]] = tile.alloc : !tile.buf<4x8192xbf16, "rf">
// H100: [[ONE:%[0-9]+]] = tile.alloc : !tile.buf<1x1xbf16, "rf">
// H100: tile.fill [[ONE]], 1.000000e+00
// H100: tile.map neg [[G]] -> [[T]]
// H100-NEXT: tile.map exp [[T]] -> [[T]] on "cuda" flops(16)
// H100-NEXT: tile.map add [[ONE]], [[T]] -> [[T]]
// H100-NEXT: tile.map div [[G]], [[T]] -> [[T]]
// H100-NEXT: tile.map mul [[T]], [[U]] -> [[O]]
// TILED: mlp.act,tile.kernel,mlp,kernel,1,117440512,29360128,0,201326592,201326592,176160768,0.0000570853
// LINALG: mlp.act,linalg.generic,mlp,elementwise,1,117440512,29360128,0,0,0,176160768,0.0000570853

// -----

// Softmax pieces when attention is not fused: a row max (init at the most
// negative bf16, the max's identity) and exp(x - max) with the max broadcast.
func.func @softmax(%s: tensor<32x2048x2048xbf16>) -> tensor<32x2048x2048xbf16> {
  %e0 = tensor.empty() : tensor<32x2048xbf16>
  %ninf = arith.constant -3.389530e+38 : bf16
  %f = linalg.fill ins(%ninf : bf16) outs(%e0 : tensor<32x2048xbf16>) -> tensor<32x2048xbf16> loc("softmax.max")
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s : tensor<32x2048x2048xbf16>) outs(%f : tensor<32x2048xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %x = arith.maximumf %out, %in : bf16
    linalg.yield %x : bf16
  } -> tensor<32x2048xbf16> loc("softmax.max")
  %e1 = tensor.empty() : tensor<32x2048x2048xbf16>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<32x2048x2048xbf16>, tensor<32x2048xbf16>) outs(%e1 : tensor<32x2048x2048xbf16>) {
  ^bb0(%in: bf16, %mx: bf16, %out: bf16):
    %d = arith.subf %in, %mx : bf16
    %x = math.exp %d : bf16
    linalg.yield %x : bf16
  } -> tensor<32x2048x2048xbf16> loc("softmax.exp")
  return %p : tensor<32x2048x2048xbf16>
}
// H100-LABEL: func.func @softmax
// H100-NOT: linalg.fill
// H100: tile.kernel "softmax.max"
// H100: tile.spread cores(132) over ([[H:%.+]], [[R:%.+]]) in (32, 64)
// H100: tile.copy %{{.*}}[[[H]], [[R]], %{{.*}}] -> [[S:%[0-9]+]] bytes(131072)
// H100: tile.reduce max [[S]] -> [[M:%[0-9]+]] dim(1) on "cuda" : !tile.buf<32x2048xbf16, "smem"> -> !tile.buf<32x1xbf16, "smem">
// H100: tile.copy [[M]] -> %{{.*}}[[[H]], [[R]]] dims [1, -1] bytes(64)
// H100: tile.kernel "softmax.exp"
// H100: tile.copy %{{.*}}[%{{.*}}, %{{.*}}] -> [[MX:%[0-9]+]] dims [1, -1] bytes(32) : !tile.buf<32x2048xbf16, "hbm"> -> !tile.buf<16x1xbf16, "smem">
// H100: tile.map sub %{{.*}}, [[MX]] -> [[T:%[0-9]+]] on "cuda"
// H100: tile.map exp [[T]] -> %{{.*}} on "cuda" flops(16)

// -----

// The generator's V transpose [b, s, h, d] -> [b, h, s, d]: the tiled dims
// (s, d) keep their order in both, so the copy places them with dims and
// the tile is stored as it is (no compute).
func.func @transpose(%v: tensor<1x2048x8x128xbf16>) -> tensor<1x8x2048x128xbf16> {
  %e = tensor.empty() : tensor<1x8x2048x128xbf16>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2048x8x128xbf16>) outs(%e : tensor<1x8x2048x128xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    linalg.yield %in : bf16
  } -> tensor<1x8x2048x128xbf16> loc("v_transpose")
  return %t : tensor<1x8x2048x128xbf16>
}
// H100-LABEL: func.func @transpose
// H100: tile.kernel "v_transpose"
// H100: tile.spread cores(132) over ([[B:%.+]], [[H:%.+]], [[S:%.+]]) in (1, 8, 32)
// H100: [[T:%[0-9]+]] = tile.alloc : !tile.buf<64x128xbf16, "smem">
// H100: tile.copy %{{.*}}[[[B]], [[S]], [[H]], %{{.*}}] -> [[T]] dims [1, 3] bytes(16384)
// H100-NOT: tile.map
// H100: tile.copy [[T]] -> %{{.*}}[[[B]], [[H]], [[S]], %{{.*}}] bytes(16384)

// -----

// A row sum too long for a mesh core's 48 KiB: on mesh-sram the reduced dim
// is walked in chunks into a [rows x 1] accumulator stored after the loop.
func.func @long_rows(%x: tensor<64x65536xf32>) -> tensor<64xf32> {
  %e = tensor.empty() : tensor<64xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32> loc("rowsum")
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<64x65536xf32>) outs(%f : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %out, %in : f32
    linalg.yield %a : f32
  } -> tensor<64xf32> loc("rowsum")
  return %s : tensor<64xf32>
}
// h100-sxm: a 256 KiB f32 row exceeds 228 KiB of smem: 2 chunks of 32768.
// mesh-sram: 8 chunks of 8192 (32 KiB). tpu-v5p: 32 whole rows per core.
// H100-LABEL: func.func @long_rows
// H100: tile.alloc : !tile.buf<1x32768xf32, "smem">
// H100: [[ACC:%[0-9]+]] = tile.alloc : !tile.buf<1x1xf32, "smem">
// H100: [[P:%[0-9]+]] = tile.alloc : !tile.buf<1x1xf32, "rf">
// H100: tile.fill [[ACC]], 0.000000e+00
// H100: tile.loop [[K:%.+]] in 2
// H100: tile.copy %{{.*}}[%{{.*}}, [[K]]] -> %{{.*}} bytes(131072)
// H100: tile.reduce sum %{{.*}} -> [[P]] dim(1)
// H100: tile.map add [[ACC]], [[P]] -> [[ACC]]
// H100: }
// H100: tile.copy [[ACC]] -> %{{.*}}[%{{.*}}] dims [0, -1] bytes(4)
// MESH-LABEL: func.func @long_rows
// MESH: tile.alloc : !tile.buf<1x8192xf32, "sram">
// MESH: tile.loop %{{.*}} in 8
// MESH: tile.map add
// TPU-LABEL: func.func @long_rows
// TPU: tile.spread cores(2) over (%{{.*}}) in (2)
// TPU: tile.alloc : !tile.buf<32x65536xf32, "vmem">
// TPU-NOT: tile.map add
// TPU: tile.reduce sum

// -----

// A standalone fill (nothing absorbs it), and an embedding lookup: a gather
// of whole table rows by token id, whose addresses depend on the ids'
// values. It becomes a tile.gather of each block's rows, indexed by a tile
// of the ids copied in first.
func.func @fill_and_gather(%ids: tensor<16xi32>, %table: tensor<1000x64xbf16>) -> (tensor<16x4096xf32>, tensor<16x64xbf16>) {
  %e = tensor.empty() : tensor<16x4096xf32>
  %one = arith.constant 1.0 : f32
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<16x4096xf32>) -> tensor<16x4096xf32> loc("ones")
  %e1 = tensor.empty() : tensor<16x64xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<16xi32>) outs(%e1 : tensor<16x64xbf16>) {
  ^bb0(%id: i32, %out: bf16):
    %i = arith.index_cast %id : i32 to index
    %j = linalg.index 1 : index
    %v = tensor.extract %table[%i, %j] : tensor<1000x64xbf16>
    linalg.yield %v : bf16
  } -> tensor<16x64xbf16> loc("embed")
  return %f, %g : tensor<16x4096xf32>, tensor<16x64xbf16>
}
// H100-LABEL: func.func @fill_and_gather
// The fill is written once per core and stored: 16 x 16 tiles of 256.
// H100: tile.kernel "ones" outs(%{{.*}} : tensor<16x4096xf32>)
// H100: tile.spread cores(132) over (%{{.*}}, %{{.*}}) in (16, 16)
// H100: [[T:%[0-9]+]] = tile.alloc : !tile.buf<1x256xf32, "smem">
// H100: tile.fill [[T]], 1.000000e+00 : f32 on "cuda"
// H100: tile.loop
// H100: tile.copy [[T]] -> %{{.*}} bytes(1024)
// The table (captured by the linalg body) is an input of the kernel; it is
// never copied whole, only the rows the ids pick. 16 rows of 128 B: one
// row per SM (the model cannot tell row sizes apart and keeps the most SMs
// busy).
// H100-NOT: linalg.generic
// H100: tile.kernel "embed" ins(%{{.*}}, %{{.*}} : tensor<16xi32>, tensor<1000x64xbf16>) outs(%{{.*}} : tensor<16x64xbf16>) {
// H100-NEXT: ^bb0([[IDS:%[^:]+]]: !tile.buf<16xi32, "hbm">, [[TAB:%[^:]+]]: !tile.buf<1000x64xbf16, "hbm">, [[OUT:%[^:]+]]: !tile.buf<16x64xbf16, "hbm">):
// H100: tile.spread cores(132) over ([[R:%.+]]) in (16) {
// H100-NEXT: [[I:%[0-9]+]] = tile.alloc : !tile.buf<1xi32, "smem">
// H100-NEXT: [[ROWS:%[0-9]+]] = tile.alloc : !tile.buf<1x64xbf16, "smem">
// H100: tile.copy [[IDS]][[[R]]] -> [[I]] bytes(4)
// H100-NEXT: tile.wait
// H100-NEXT: [[G:%[0-9]+]] = tile.gather [[TAB]] rows([[I]]) -> [[ROWS]] bytes(128) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<1xi32, "smem"> -> !tile.buf<1x64xbf16, "smem">
// H100-NEXT: tile.wait [[G]]
// H100-NEXT: tile.copy [[ROWS]] -> [[OUT]][[[R]], %c0] bytes(128)
// H100-NOT: tensor.extract
// MESH-LABEL: func.func @fill_and_gather
// MESH: tile.kernel "embed"
// MESH: tile.gather %{{.*}} rows(%{{.*}}) -> %{{.*}} bytes(128) : !tile.buf<1000x64xbf16, "dram">, !tile.buf<1xi32, "sram"> -> !tile.buf<1x64xbf16, "sram">
// The kernel and the linalg gather move the same bytes: the ids, the rows
// gathered (not the 125 KiB table) and the result.
// TILED: embed,tile.kernel,embed,kernel,1,0,0,0,{{[0-9]+}},{{[0-9]+}},4160,
// LINALG: embed,linalg.generic,embed,data_movement,1,0,0,0,0,0,4160,

// -----

// A lookup whose row is computed from the id (id + 1) is not a gather of
// the ids' rows: it stays linalg, with the reason.
func.func @gather_computed_row(%ids: tensor<16xi32>, %table: tensor<1000x64xbf16>) -> tensor<16x64xbf16> {
  %e1 = tensor.empty() : tensor<16x64xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<16xi32>) outs(%e1 : tensor<16x64xbf16>) {
  ^bb0(%id: i32, %out: bf16):
    %i = arith.index_cast %id : i32 to index
    %c1 = arith.constant 1 : index
    %n = arith.addi %i, %c1 : index
    %j = linalg.index 1 : index
    %v = tensor.extract %table[%n, %j] : tensor<1000x64xbf16>
    linalg.yield %v : bf16
  } -> tensor<16x64xbf16> loc("shifted")
  return %g : tensor<16x64xbf16>
}
// H100-LABEL: func.func @gather_computed_row
// H100: linalg.generic
// H100: tensor.extract
// REMARK: remark: loc("shifted"): gather left as linalg: its row is not an integer element of an input (priced as data movement at ideal traffic)

// -----

// RoPE as the generator writes it: the head dim split in rotation pairs
// [.., 64, 2], rotated by a K = 2 contraction with the [s, 64, 2, 2] table
// (cos - 1 on its diagonal) that accumulates into the projection itself.
// The reduction's init is a tensor, not an identity fill: the kernel copies
// the init tile in, reduces the products into a partial and adds the two.
// Two reduced elements make a tiny reduction, so the short innermost result
// dims are tiled whole as for an elementwise op: (kv, g, i, p) plus the
// reduced pair.
func.func @rope(%t: tensor<256x64x2x2xbf16>, %q: tensor<1x256x8x4x64x2xbf16>) -> tensor<1x256x8x4x64x2xbf16> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4, d6)>, affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4, d5)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%t, %q : tensor<256x64x2x2xbf16>, tensor<1x256x8x4x64x2xbf16>) outs(%q : tensor<1x256x8x4x64x2xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %out: bf16):
    %m = arith.mulf %a, %b : bf16
    %s = arith.addf %out, %m : bf16
    linalg.yield %s : bf16
  } -> tensor<1x256x8x4x64x2xbf16> loc("rope_q")
  return %r : tensor<1x256x8x4x64x2xbf16>
}
// H100-LABEL: func.func @rope
// H100: tile.kernel "rope_q" ins(%arg0, %arg1 : tensor<256x64x2x2xbf16>, tensor<1x256x8x4x64x2xbf16>) outs(%arg1 : tensor<1x256x8x4x64x2xbf16>) {
// H100-NEXT: ^bb0([[T:%[^:]+]]: {{.*}}, [[Q:%[^:]+]]: {{.*}}, [[O:%[^:]+]]: !tile.buf<1x256x8x4x64x2xbf16, "hbm">):
// H100: tile.spread cores(132) over ([[B:%[^,]+]], [[S:%[^,]+]], %{{.*}}) in (1, 256, 1) {
// H100-NEXT: [[TT:%[0-9]+]] = tile.alloc : !tile.buf<1x1x64x2x2xbf16, "smem">
// H100-NEXT: [[QT:%[0-9]+]] = tile.alloc : !tile.buf<8x4x64x1x2xbf16, "smem">
// H100-NEXT: [[OT:%[0-9]+]] = tile.alloc : !tile.buf<8x4x64x2x1xbf16, "smem">
// H100-NEXT: [[PR:%[0-9]+]] = tile.alloc : !tile.buf<8x4x64x2x2xbf16, "rf">
// H100-NEXT: [[PS:%[0-9]+]] = tile.alloc : !tile.buf<8x4x64x2x1xbf16, "rf">
// The table's row for this position, once per spread point:
// H100-NEXT: tile.copy [[T]][[[S]], %c0, %c0, %c0] -> [[TT]] dims [-1, -1, 1, 2, 3] bytes(512)
// H100: tile.loop [[KV:%[^ ]+]] in 1 {
// The same Q elements twice: as the pairs rotated (p_in) and as the init
// they are added to (p_out).
// H100-NEXT: tile.copy [[Q]][[[B]], [[S]], [[KV]], %c0, %c0, %c0] -> [[QT]] dims [2, 3, 4, -1, 5] bytes(8192)
// H100-NEXT: tile.copy [[O]][[[B]], [[S]], [[KV]], %c0, %c0, %c0] -> [[OT]] dims [2, 3, 4, 5, -1] bytes(8192)
// H100-NEXT: tile.wait
// H100-NEXT: tile.map mul [[TT]], [[QT]] -> [[PR]] on "cuda"
// H100-NEXT: tile.reduce sum [[PR]] -> [[PS]] dim(4) on "cuda"
// H100-NEXT: tile.map add [[OT]], [[PS]] -> [[OT]] on "cuda"
// H100-NEXT: tile.copy [[OT]] -> [[O]][[[B]], [[S]], [[KV]], %c0, %c0, %c0] dims [2, 3, 4, 5, -1] bytes(8192)
// MESH-LABEL: func.func @rope
// MESH: tile.spread cores(4096) over (%{{.*}}, %{{.*}}, %{{.*}}) in (1, 256, 1) {
// MESH: tile.alloc : !tile.buf<8x4x64x2x2xbf16, "sram">
// MESH: tile.reduce sum
// MESH: tile.map add
// The init's second read goes through L2 (smem and L2 bytes above HBM's):
// the same HBM bytes and FLOPs as the linalg op, 2 ns slower.
// TILED: rope_q,tile.kernel,rope_q,kernel,1,4194304,0,0,6422528,6422528,4325376,0.0000057933
// LINALG: rope_q,linalg.generic,rope_q,elementwise,1,4194304,0,0,0,0,4325376,0.0000057911

// -----

// The RoPE table: no input, every element a function of its coordinates
// (position, frequency, and the 2 x 2 rotation's row and column). One
// tile.map expr of no inputs at the body's counted cost per element (3
// transcendentals at 16 FLOPs and 6 FLOPs), stored block by block.
func.func @rope_table() -> tensor<256x64x2x2xbf16> {
  %e = tensor.empty() : tensor<256x64x2x2xbf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%e : tensor<256x64x2x2xbf16>) {
  ^bb0(%out: bf16):
    %p = linalg.index 0 : index
    %pi = arith.index_cast %p : index to i64
    %pf = arith.sitofp %pi : i64 to f32
    %f = linalg.index 1 : index
    %fi = arith.index_cast %f : index to i64
    %ff = arith.sitofp %fi : i64 to f32
    %k = arith.constant -0.205036923 : f32
    %x = arith.mulf %ff, %k : f32
    %w = math.exp %x : f32
    %a = arith.mulf %pf, %w : f32
    %c = math.cos %a : f32
    %s = math.sin %a : f32
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %diag = arith.cmpi eq, %i, %j : index
    %one = arith.constant 1.0 : f32
    %cm1 = arith.subf %c, %one : f32
    %ns = arith.negf %s : f32
    %v = arith.select %diag, %cm1, %ns : f32
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<256x64x2x2xbf16> loc("rope.table")
  return %r : tensor<256x64x2x2xbf16>
}
// H100-LABEL: func.func @rope_table
// H100: tile.kernel "rope.table" outs(%{{.*}} : tensor<256x64x2x2xbf16>) {
// H100: tile.spread cores(132) over ([[P:%[^)]+]]) in (256) {
// H100-NEXT: [[T:%[0-9]+]] = tile.alloc : !tile.buf<1x64x2x2xbf16, "smem">
// H100: tile.map expr -> [[T]] on "cuda" flops(54) : () -> !tile.buf<1x64x2x2xbf16, "smem">
// H100-NEXT: tile.copy [[T]] -> %{{.*}}[[[P]], %c0, %c0, %c0] bytes(512)
// H100: strata.useful_flops = 393216 : i64, strata.useful_transcendentals = 196608 : i64
// TILED: rope.table,tile.kernel,rope,kernel,1,393216,196608,0,131072,131072,131072,0.0000045589
// LINALG: rope.table,linalg.generic,rope,elementwise,1,393216,196608,0,0,0,131072,0.0000045528

// -----

// Decode's KV-cache append: the new token's values land at position
// kv_len = 4096 of a cache sized kv_len + 1, written in place; the rest of
// the cache keeps its values. The kernel walks the new elements (the
// token's loop stands in for the cache's position loop) and stores each
// tile 4096 rows further along the cache. Only the new 2 KiB are moved.
func.func @kv_append(%k: tensor<1x1x8x128xbf16>, %cache: tensor<1x4097x8x128xbf16>) -> tensor<1x4097x8x128xbf16> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%k : tensor<1x1x8x128xbf16>) outs(%cache : tensor<1x4097x8x128xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %c4096 = arith.constant 4096 : index
    %j = linalg.index 4 : index
    %pos = arith.addi %j, %c4096 : index
    %t = linalg.index 1 : index
    %hit = arith.cmpi eq, %t, %pos : index
    %v = arith.select %hit, %in, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<1x4097x8x128xbf16> loc("kv_append")
  return %r : tensor<1x4097x8x128xbf16>
}
// H100-LABEL: func.func @kv_append
// H100: tile.kernel "kv_append" ins(%arg0 : tensor<1x1x8x128xbf16>) outs(%arg1 : tensor<1x4097x8x128xbf16>) {
// H100-NEXT: ^bb0([[K:%[^:]+]]: {{.*}}, [[C:%[^:]+]]: !tile.buf<1x4097x8x128xbf16, "hbm">):
// H100: tile.spread cores(132) over ([[B:%[^,]+]], [[J:%[^,]+]], [[H:%[^,]+]], [[D:%[^)]+]]) in (1, 1, 8, 16) {
// H100: tile.copy [[K]][[[B]], [[J]], [[H]], [[D]]] -> [[T:%[0-9]+]] bytes(16)
// H100: [[SHIFT:%.+]] = arith.constant 4096 : index
// H100-NEXT: [[POS:%.+]] = arith.addi [[J]], [[SHIFT]] : index
// H100-NEXT: tile.copy [[T]] -> [[C]][[[B]], [[POS]], [[H]], [[D]]] bytes(16)
// H100-NOT: tile.map
// TILED: kv_append,tile.kernel,kv_append,kernel,1,0,0,0,4096,4096,4096,0.0000045012
// LINALG: kv_append,linalg.generic,kv_append,data_movement,1,0,0,0,0,0,4096,0.0000045012

// -----

// A chunk of 64 tokens appended at 4032: the token loop is blocked like any
// row dim, and its tile index moves by the offset in tiles (4032 / extent).
func.func @kv_append_chunk(%k: tensor<64x8x128xbf16>, %cache: tensor<4096x8x128xbf16>) -> tensor<4096x8x128xbf16> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d3, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%k : tensor<64x8x128xbf16>) outs(%cache : tensor<4096x8x128xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %c = arith.constant 4032 : index
    %j = linalg.index 3 : index
    %pos = arith.addi %c, %j : index
    %t = linalg.index 0 : index
    %hit = arith.cmpi eq, %pos, %t : index
    %v = arith.select %hit, %in, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<4096x8x128xbf16> loc("kv_append_chunk")
  return %r : tensor<4096x8x128xbf16>
}
// H100-LABEL: func.func @kv_append_chunk
// H100: tile.kernel "kv_append_chunk"
// H100: tile.spread cores(132) over ([[J:%[^,]+]], [[H:%[^)]+]]) in (64, 4) {
// H100: tile.alloc : !tile.buf<2x128xbf16, "smem">
// H100: [[SHIFT:%.+]] = arith.constant 4032 : index
// H100-NEXT: [[POS:%.+]] = arith.addi [[J]], [[SHIFT]] : index
// H100-NEXT: tile.copy %{{.*}} -> %{{.*}}[[[POS]], [[H]], %c0] bytes(512)

// -----

// Not an append: the select keeps the new value at every position up to
// the token's (<=), so the update is not of the new elements alone; stays
// linalg with the reason.
func.func @not_append(%k: tensor<1x8x128xbf16>, %cache: tensor<4097x8x128xbf16>) -> tensor<4097x8x128xbf16> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d3, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%k : tensor<1x8x128xbf16>) outs(%cache : tensor<4097x8x128xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %c = arith.constant 4096 : index
    %j = linalg.index 3 : index
    %pos = arith.addi %j, %c : index
    %t = linalg.index 0 : index
    %hit = arith.cmpi ule, %t, %pos : index
    %v = arith.select %hit, %in, %out : bf16
    linalg.yield %v : bf16
  } -> tensor<4097x8x128xbf16> loc("not_append")
  return %r : tensor<4097x8x128xbf16>
}
// H100-LABEL: func.func @not_append
// H100: linalg.generic
// REMARK: remark: loc("not_append"): vector op left untiled: it reads its init other than as a sum, max or min combine (an in-place update such as a KV-cache append) (priced by the vector formula, without tile IR)

// -----

// A row sum that starts from 1.0 (not the sum's identity): the fill is not
// absorbed but becomes a kernel of its own, and the reduction reads it as
// its init and adds its partial sums to it.
func.func @sum_from_one(%x: tensor<2048x4096xf32>) -> tensor<2048xf32> {
  %e = tensor.empty() : tensor<2048xf32>
  %one = arith.constant 1.0 : f32
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<2048xf32>) -> tensor<2048xf32> loc("ones")
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2048x4096xf32>) outs(%f : tensor<2048xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %out, %in : f32
    linalg.yield %a : f32
  } -> tensor<2048xf32> loc("sum1")
  return %s : tensor<2048xf32>
}
// H100-LABEL: func.func @sum_from_one
// H100: [[ONES:%.+]] = tile.kernel "ones" outs(
// H100: tile.kernel "sum1" ins(%{{.*}} : tensor<2048x4096xf32>) outs([[ONES]] : tensor<2048xf32>)
// H100: tile.copy %{{.*}}[[[R:%[a-z0-9]+]], %c0] -> [[X:%[0-9]+]] bytes(131072)
// H100-NEXT: tile.copy %{{.*}}[[[R]]] -> [[ACC:%[0-9]+]] dims [0, -1] bytes(32)
// H100: tile.reduce sum [[X]] -> [[P:%[0-9]+]] dim(1)
// H100-NEXT: tile.map add [[ACC]], [[P]] -> [[ACC]]
// H100-NEXT: tile.copy [[ACC]] -> %{{.*}}[[[R]]] dims [0, -1] bytes(32)
