// RUN: strata-opt %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-residency 2>/dev/null | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %s -split-input-file --strata-set-system=system=h100-sxm --strata-tile --strata-place --strata-residency 2>/dev/null | FileCheck %s --check-prefix=GPU
// RUN: strata-opt --strata-remarks %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-residency -o /dev/null 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: strata-opt %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-residency --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=COST
// RUN: strata-opt %s -split-input-file --strata-set-system=system=mesh-sram --strata-tile --strata-place --strata-estimate=format=csv -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=HOME

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
