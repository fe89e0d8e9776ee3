// RUN: strata-opt %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-residency 2>/dev/null | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %s -split-input-file --strata-set-system=system=h100-sxm --strata-tile --strata-place --strata-residency 2>/dev/null | FileCheck %s --check-prefix=GPU
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-residency -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: strata-opt %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-residency --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=COST
// RUN: strata-opt %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=HOME
// RUN: strata-opt %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-residency=retile=false --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=KEEPTILES

// Two projections back to back (GPT-2's width, 1024 tokens). On mesh-sram
// the 1.5 MiB hidden activation fits the 192 MiB the 4,096 cores hold
// together beside each kernel's tiles, and its DRAM round trip (a write
// and a read, 3 MiB at 512 GB/s: 6.1 us) costs more than re-laying it over
// the mesh, so it stays on chip: the producer writes operand #2 and the
// consumer reads operand #0 in "sram". The program's inputs, weights and
// output stay in DRAM. On an H100 (no core grid) nothing changes.
func.func @two_projections(%x: tensor<1024x768xbf16>, %w1: tensor<768x768xbf16>,
                           %w2: tensor<768x768xbf16>) -> tensor<1024x768xbf16> {
  %e = tensor.empty() : tensor<1024x768xbf16>
  %h = linalg.matmul ins(%x, %w1 : tensor<1024x768xbf16>, tensor<768x768xbf16>)
                     outs(%e : tensor<1024x768xbf16>) -> tensor<1024x768xbf16> loc("attn.q_proj")
  %e2 = tensor.empty() : tensor<1024x768xbf16>
  %y = linalg.matmul ins(%h, %w2 : tensor<1024x768xbf16>, tensor<768x768xbf16>)
                     outs(%e2 : tensor<1024x768xbf16>) -> tensor<1024x768xbf16> loc("attn.o_proj")
  return %y : tensor<1024x768xbf16>
}
// MESH-LABEL: func.func @two_projections
// MESH:       tile.kernel "attn.q_proj" {{.*}} resident([2]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<1024x768xbf16, "dram">, %{{.*}}: !tile.buf<768x768xbf16, "dram">, %{{.*}}: !tile.buf<1024x768xbf16, "sram">):
// MESH:       tile.kernel "attn.o_proj" {{.*}} resident([0]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<1024x768xbf16, "sram">, %{{.*}}: !tile.buf<768x768xbf16, "dram">, %{{.*}}: !tile.buf<1024x768xbf16, "dram">):
// GPU-LABEL:  func.func @two_projections
// GPU-NOT:    resident
// GPU-NOT:    spilled
// GPU:        return

// DRAM bytes of the pair: with residency, q_proj reads x and w1 and writes
// nothing home (1.5 + 1.125 MiB = 2,752,512 B); o_proj reads w2 and writes
// y (1.125 + 1.5 MiB). Without it, each also moves h (+1,572,864 B).
// COST:       attn.q_proj,tile.kernel,attn,kernel,1,{{[^,]*,[^,]*,[^,]*}},2752512,
// COST:       attn.o_proj,tile.kernel,attn,kernel,1,{{[^,]*,[^,]*,[^,]*}},2752512,
// HOME:       attn.q_proj,tile.kernel,attn,kernel,1,{{[^,]*,[^,]*,[^,]*}},4325376,
// HOME:       attn.o_proj,tile.kernel,attn,kernel,1,{{[^,]*,[^,]*,[^,]*}},4325376,

// -----

// An intermediate larger than the grid's SRAM (8192 x 16384 bf16 = 256 MiB
// against 192 MiB in all): it is spilled to DRAM, and the IR and a remark
// say so.
func.func @too_big(%x: tensor<8192x1024xbf16>, %w1: tensor<1024x16384xbf16>,
                   %w2: tensor<16384x1024xbf16>) -> tensor<8192x1024xbf16> {
  %e = tensor.empty() : tensor<8192x16384xbf16>
  %h = linalg.matmul ins(%x, %w1 : tensor<8192x1024xbf16>, tensor<1024x16384xbf16>)
                     outs(%e : tensor<8192x16384xbf16>) -> tensor<8192x16384xbf16> loc("mlp.up")
  %e2 = tensor.empty() : tensor<8192x1024xbf16>
  %y = linalg.matmul ins(%h, %w2 : tensor<8192x16384xbf16>, tensor<16384x1024xbf16>)
                     outs(%e2 : tensor<8192x1024xbf16>) -> tensor<8192x1024xbf16> loc("mlp.down")
  return %y : tensor<8192x1024xbf16>
}
// MESH-LABEL: func.func @too_big
// MESH:       tile.kernel "mlp.up" {{.*}} spilled([2]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<8192x1024xbf16, "dram">, %{{.*}}: !tile.buf<1024x16384xbf16, "dram">, %{{.*}}: !tile.buf<8192x16384xbf16, "dram">):
// MESH:       tile.kernel "mlp.down" {{.*}} spilled([0]) {
// REMARK:     remark: loc("mlp.up"): activation of 256 MiB spilled to dram: the grid's sram has 16 MiB free at 'mlp.down'

// -----

// Weights across two decode steps. Each step is a pair of GEMVs with
// 4096 x 4096 bf16 weights (32 MiB each, 64 MiB for both: they fit the
// 192 MiB of SRAM beside the GEMVs' tiles). Read from DRAM by each step
// they cost 4 x 32 MiB; kept on chip, each is filled once at the program's
// entry (a residency_fill kernel per weight, 32 MiB of DRAM) and both steps
// read it from SRAM (resident([1]) in @step, the filled tensors passed to
// both calls).
func.func private @step(%x: tensor<1x4096xbf16>, %w1: tensor<4096x4096xbf16> {strata.role = "weight"},
                        %w2: tensor<4096x4096xbf16> {strata.role = "weight"}) -> tensor<1x4096xbf16> {
  %e = tensor.empty() : tensor<1x4096xbf16>
  %h = linalg.matmul ins(%x, %w1 : tensor<1x4096xbf16>, tensor<4096x4096xbf16>)
                     outs(%e : tensor<1x4096xbf16>) -> tensor<1x4096xbf16> loc("step.up")
  %e2 = tensor.empty() : tensor<1x4096xbf16>
  %y = linalg.matmul ins(%h, %w2 : tensor<1x4096xbf16>, tensor<4096x4096xbf16>)
                     outs(%e2 : tensor<1x4096xbf16>) -> tensor<1x4096xbf16> loc("step.down")
  return %y : tensor<1x4096xbf16>
}
func.func @two_steps(%x: tensor<1x4096xbf16> {strata.role = "input"},
                     %w1: tensor<4096x4096xbf16> {strata.role = "weight"},
                     %w2: tensor<4096x4096xbf16> {strata.role = "weight"}) -> tensor<1x4096xbf16> {
  %y1 = call @step(%x, %w1, %w2) : (tensor<1x4096xbf16>, tensor<4096x4096xbf16>, tensor<4096x4096xbf16>) -> tensor<1x4096xbf16>
  %y2 = call @step(%y1, %w1, %w2) : (tensor<1x4096xbf16>, tensor<4096x4096xbf16>, tensor<4096x4096xbf16>) -> tensor<1x4096xbf16>
  return %y2 : tensor<1x4096xbf16>
}
// MESH-LABEL: func.func private @step(
// MESH:       tile.kernel "step.up" {{.*}} resident([1]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<1x4096xbf16, "dram">, %{{.*}}: !tile.buf<4096x4096xbf16, "sram">, %{{.*}}: !tile.buf<1x4096xbf16, "dram">):
// MESH:       tile.kernel "step.down" {{.*}} resident([1]) {
// MESH-LABEL: func.func @two_steps(
// MESH:       [[W2:%.+]] = tile.kernel "two_steps.arg2.residency_fill" ins(%arg2 : tensor<4096x4096xbf16>) outs(%{{.*}} : tensor<4096x4096xbf16>) resident([1]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<4096x4096xbf16, "dram">, %{{.*}}: !tile.buf<4096x4096xbf16, "sram">):
// MESH:       [[W1:%.+]] = tile.kernel "two_steps.arg1.residency_fill" ins(%arg1
// MESH:       [[Y1:%.+]] = call @step(%arg0, [[W1]], [[W2]])
// MESH-NEXT:  call @step([[Y1]], [[W1]], [[W2]])
// COST:       two_steps.arg2.residency_fill,tile.kernel,two_steps.arg2,kernel,1,{{[^,]*,[^,]*,[^,]*}},33554432,
// COST:       two_steps.arg1.residency_fill,tile.kernel,two_steps.arg1,kernel,1,{{[^,]*,[^,]*,[^,]*}},33554432,
// With the weights on chip strata-residency re-plans the GEMVs (8 x 8
// tiles, 8 rectangles of one grid row: 62.12 us against 62.37 us for
// strata-tile's 8 x 64 tiles), which re-fetches x once per rectangle:
// 1,179,648 B of DRAM over both steps, 262,144 B with retile=false.
// COST:       step.up,tile.kernel,step,kernel,2,{{[^,]*,[^,]*,[^,]*}},1179648,
// COST:       step.down,tile.kernel,step,kernel,2,{{[^,]*,[^,]*,[^,]*}},1179648,
// KEEPTILES:  step.up,tile.kernel,step,kernel,2,{{[^,]*,[^,]*,[^,]*}},262144,
// KEEPTILES:  step.down,tile.kernel,step,kernel,2,{{[^,]*,[^,]*,[^,]*}},262144,
// HOME:       step.up,tile.kernel,step,kernel,2,{{[^,]*,[^,]*,[^,]*}},67371008,
// HOME:       step.down,tile.kernel,step,kernel,2,{{[^,]*,[^,]*,[^,]*}},67371008,

// -----

// The same two steps with weights too large to stay (8192 x 16384 bf16,
// 256 MiB each, against 192 MiB of SRAM): they are read from DRAM by each
// step, spilled([1]) says so, and a remark names the shortfall.
func.func private @big_step(%x: tensor<1x8192xbf16>, %w: tensor<8192x16384xbf16> {strata.role = "weight"}) -> tensor<1x16384xbf16> {
  %e = tensor.empty() : tensor<1x16384xbf16>
  %h = linalg.matmul ins(%x, %w : tensor<1x8192xbf16>, tensor<8192x16384xbf16>)
                     outs(%e : tensor<1x16384xbf16>) -> tensor<1x16384xbf16> loc("big.up")
  return %h : tensor<1x16384xbf16>
}
func.func @two_big_steps(%x: tensor<1x8192xbf16> {strata.role = "input"},
                         %w: tensor<8192x16384xbf16> {strata.role = "weight"}) -> (tensor<1x16384xbf16>, tensor<1x16384xbf16>) {
  %y1 = call @big_step(%x, %w) : (tensor<1x8192xbf16>, tensor<8192x16384xbf16>) -> tensor<1x16384xbf16>
  %y2 = call @big_step(%x, %w) : (tensor<1x8192xbf16>, tensor<8192x16384xbf16>) -> tensor<1x16384xbf16>
  return %y1, %y2 : tensor<1x16384xbf16>, tensor<1x16384xbf16>
}
// MESH-LABEL: func.func private @big_step(
// MESH:       tile.kernel "big.up" {{.*}} spilled([1]) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<1x8192xbf16, "dram">, %{{.*}}: !tile.buf<8192x16384xbf16, "dram">, %{{.*}}: !tile.buf<1x16384xbf16, "dram">):
// MESH-LABEL: func.func @two_big_steps(
// MESH-NOT:   residency_fill
// MESH:       return
// REMARK:     remark: loc("big.up"): weight of 256 MiB spilled to dram: the grid's sram has {{.*}} free at 'big.up'

// -----

// A weight that fits (512 x 16384 bf16, 16 MiB) but whose 32 KiB rows do
// not fit a 48 KiB core twice over: no fill kernel can load it, so it stays
// in DRAM, with a remark (and no spilled(...): capacity did not force it).
func.func private @wide_step(%x: tensor<1x512xbf16>, %w: tensor<512x16384xbf16> {strata.role = "weight"}) -> tensor<1x16384xbf16> {
  %e = tensor.empty() : tensor<1x16384xbf16>
  %h = linalg.matmul ins(%x, %w : tensor<1x512xbf16>, tensor<512x16384xbf16>)
                     outs(%e : tensor<1x16384xbf16>) -> tensor<1x16384xbf16> loc("wide.up")
  return %h : tensor<1x16384xbf16>
}
func.func @two_wide_steps(%x: tensor<1x512xbf16> {strata.role = "input"},
                          %w: tensor<512x16384xbf16> {strata.role = "weight"}) -> (tensor<1x16384xbf16>, tensor<1x16384xbf16>) {
  %y1 = call @wide_step(%x, %w) : (tensor<1x512xbf16>, tensor<512x16384xbf16>) -> tensor<1x16384xbf16>
  %y2 = call @wide_step(%x, %w) : (tensor<1x512xbf16>, tensor<512x16384xbf16>) -> tensor<1x16384xbf16>
  return %y1, %y2 : tensor<1x16384xbf16>, tensor<1x16384xbf16>
}
// MESH-LABEL: func.func private @wide_step(
// MESH:       tile.kernel "wide.up" ins({{.*}}) outs({{.*}}) {
// MESH-NEXT:  ^bb0(%{{.*}}: !tile.buf<1x512xbf16, "dram">, %{{.*}}: !tile.buf<512x16384xbf16, "dram">, %{{.*}}: !tile.buf<1x16384xbf16, "dram">):
// REMARK:     remark: loc("wide.up"): weight of 16 MiB kept at dram: filling it on chip needs rows that fit one core's sram
