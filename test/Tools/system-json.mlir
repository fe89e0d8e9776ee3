// JSON -> IR -> JSON is lossless for every preset, and IR -> JSON -> IR too.
// RUN: for p in a100-sxm-80g h100-sxm h200 b200 tpu-v5p mi300x dgx-a100 dgx-h100 dgx-a100x16 dgx-h100x4 tpu-v5p-4x4x4 mesh-sram chiplet-2x; do \
// RUN:   strata-translate --export-system-json --system=$p > %t.$p.json && \
// RUN:   strata-translate --import-system-json %t.$p.json > %t.$p.mlir && \
// RUN:   strata-translate --export-system-json %t.$p.mlir > %t.$p.2.json && \
// RUN:   diff %t.$p.json %t.$p.2.json && \
// RUN:   strata-translate --import-system-json %t.$p.2.json | diff %t.$p.mlir - || exit 1; done
// RUN: FileCheck %s --check-prefix=EXPORT < %t.h100-sxm.json
// RUN: FileCheck %s --check-prefix=IR < %t.h100-sxm.mlir

// EXPORT-DAG: "schema": 1
// EXPORT-DAG: "name": "h100-sxm"
// EXPORT-DAG: "clock": 1830000000
// EXPORT-DAG: "cores": 132

// IR: module attributes {arch.system = #arch.system<"h100-sxm"

// Errors name the JSON path and the input file, and the exit code is non-zero.
// RUN: echo '{"schema": 1, "name": "x", "devices": 1, "topology": [], "chip": {"name": "c", "clock": 1e9, "cores": 1, "units": [], "memory": []}}' > %t.empty.json
// RUN: not strata-translate --import-system-json %t.empty.json 2>&1 | FileCheck %s --check-prefix=EMPTY
// Each problem is located at its field: JSON path, line and column.
// EMPTY: empty.json:1:106: error: chip.units: a chip needs at least one compute unit
// EMPTY: empty.json:1:119: error: chip.memory: a chip needs at least one memory level
// RUN: echo '{"schema": 1, "name": ' > %t.syntax.json
// RUN: not strata-translate --import-system-json %t.syntax.json 2>&1 | FileCheck %s --check-prefix=SYNTAX
// SYNTAX: syntax.json:2:0: error: invalid JSON: Unexpected EOF
module {}
