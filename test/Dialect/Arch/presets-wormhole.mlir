// The Tenstorrent Wormhole presets attach, verify, print and parse back
// unchanged, and survive JSON -> IR -> JSON (a torus NoC, a 2-device
// Ethernet fabric). docs/hardware-presets.md gives every figure's source.
// RUN: for p in wormhole-n150 wormhole-n300; do \
// RUN:   echo "module {}" | strata-opt --strata-set-system=system=$p > %t.$p.mlir && \
// RUN:   strata-opt %t.$p.mlir > %t.$p.2.mlir && diff %t.$p.mlir %t.$p.2.mlir && \
// RUN:   strata-opt %t.$p.mlir --mlir-print-op-generic | strata-opt | diff %t.$p.mlir - && \
// RUN:   strata-translate --export-system-json --system=$p > %t.$p.json && \
// RUN:   strata-translate --import-system-json %t.$p.json > %t.$p.3.mlir && \
// RUN:   strata-translate --export-system-json %t.$p.3.mlir | diff %t.$p.json - || exit 1; done
// RUN: FileCheck %s --check-prefix=N150 < %t.wormhole-n150.mlir
// RUN: FileCheck %s --check-prefix=N300 < %t.wormhole-n300.mlir

// N150: #arch.system<"wormhole-n150", chip = #arch.chip<"wormhole-n150", clock = 1 GHz, cores = 64, grid = [8, 8]
// N150-SAME: #arch.unit<"fpu", kind = matrix, shape = [8, 16, 16]
// N150-SAME: bf16 = 1024
// N150-SAME: fp8 = 4096
// N150-SAME: #arch.unit<"sfpu", kind = vector
// N150-SAME: #arch.level<"l1", scope = core, management = scratchpad, capacity = 1464 KiB
// N150-SAME: #arch.level<"dram", scope = chip, management = scratchpad, capacity = 12 GiB, bandwidth = 288 GB/s
// N150-SAME: noc = #arch.noc<kind = torus, bandwidth = 32 GB/s
// N150-NOT: topology = [#

// N300: devices = 2, topology = [#arch.fabric<"eth", kind = fully_connected, shape = [2], bandwidth = 25 GB/s
