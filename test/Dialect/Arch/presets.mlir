// Every preset attaches, verifies, prints and parses back unchanged.
// RUN: for p in a100-sxm-80g h100-sxm h200 b200 tpu-v5p mi300x dgx-a100 dgx-h100 dgx-a100x4 dgx-h100x4 tpu-v5p-4x4x4 tpu-v5p-2x2x1 mesh-sram chiplet-2x; do \
// RUN:   echo "module {}" | strata-opt --strata-set-system=system=$p > %t.$p.mlir && \
// RUN:   strata-opt %t.$p.mlir > %t.$p.2.mlir && diff %t.$p.mlir %t.$p.2.mlir && \
// RUN:   strata-opt %t.$p.mlir --mlir-print-op-generic | strata-opt | diff %t.$p.mlir - || exit 1; done
// RUN: FileCheck %s --check-prefix=H100 < %t.h100-sxm.mlir
// RUN: FileCheck %s --check-prefix=DGX4 < %t.dgx-h100x4.mlir
// RUN: FileCheck %s --check-prefix=TPU < %t.tpu-v5p-4x4x4.mlir
// RUN: FileCheck %s --check-prefix=MESH < %t.mesh-sram.mlir

// The H100 preset: 132 SMs at the 1.83 GHz clock that the 989.4 TFLOP/s bf16
// figure uses.
// H100: #arch.system<"h100-sxm", chip = #arch.chip<"h100-sxm", clock = 1.83 GHz, cores = 132
// H100-SAME: #arch.unit<"tensor", kind = matrix
// H100-SAME: bf16 = 4096
// H100-SAME: #arch.level<"hbm", scope = chip, management = scratchpad, capacity = 80 GiB, bandwidth = 3.35 TB/s

// DGX4: devices = 32
// DGX4-SAME: topology = [#arch.fabric<"nvlink", kind = switch, shape = [8], bandwidth = 450 GB/s
// DGX4-SAME: #arch.fabric<"ib", kind = fat_tree, shape = [4], bandwidth = 50 GB/s

// TPU: devices = 64, topology = [#arch.fabric<"ici", kind = torus, shape = [4, 4, 4]

// MESH: grid = [
// MESH-SAME: noc = #arch.noc<kind = mesh
