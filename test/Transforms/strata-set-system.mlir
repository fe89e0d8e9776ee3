// RUN: strata-opt %s -split-input-file --strata-set-system=system=b200 | FileCheck %s
// RUN: strata-translate --export-system-json --system=mi300x > %t.json
// RUN: strata-opt %s -split-input-file --strata-set-system=system=%t.json | FileCheck %s --check-prefix=JSON
// RUN: echo 'module attributes {arch.system = #arch.system<"file-sys", chip = #arch.chip<"c", clock = 1 GHz, cores = 1, units = [#arch.unit<"u", kind = vector, rates = {f32 = 8}>], memory = [#arch.level<"m", scope = chip, management = scratchpad, capacity = 1 GB, bandwidth = 1 GB/s>]>>} {}' > %t.sys.mlir
// RUN: strata-opt %s -split-input-file --strata-set-system=system=%t.sys.mlir | FileCheck %s --check-prefix=MLIR
// RUN: not strata-opt %s -split-input-file --strata-set-system 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: echo '{"schema": 1, "name": 3}' > %t.bad.json
// RUN: not strata-opt %s -split-input-file --strata-set-system=system=%t.bad.json 2>&1 | FileCheck %s --check-prefix=BADJSON

// CHECK-LABEL: module attributes {arch.system = #arch.system<"b200"
// CHECK-LABEL: module attributes {arch.system = #arch.system<"b200"
// JSON: arch.system = #arch.system<"mi300x"
// MLIR: arch.system = #arch.system<"file-sys"
// EMPTY: error: strata-set-system needs system=<preset|file>
// Each problem of a JSON description is reported at its field in the file.
// BADJSON: bad.json:1:15: error: name: expected a string
// BADJSON: bad.json:1:1: error: chip: missing required field 'chip'
module {}

// -----

// An attached system is replaced.
module attributes {arch.system = #arch.system<"old", chip = #arch.chip<"c", clock = 1 GHz, cores = 1, units = [#arch.unit<"u", kind = vector, rates = {f32 = 8}>], memory = [#arch.level<"m", scope = chip, management = scratchpad, capacity = 1 GB, bandwidth = 1 GB/s>]>>} {}
