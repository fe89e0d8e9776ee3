// RUN: strata-opt %s -split-input-file -verify-diagnostics=only-expected

// Every case is one impossible system; the verifiers call the hardware
// model's validate(), so these messages are the ones JSON import gives too.

// expected-error @+1 {{rate must be positive and finite, got 0}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 0}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{unknown dtype 'bf17'}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf17 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{duplicate rate for dtype bf16}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512, bf16 = 256}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{a matrix unit needs a shape of 3 dimensions [M, N, K], got [16, 16]}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{a vector unit has at most 1 dimension [lanes], got [4, 8]}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>, #arch.unit<"vec", kind = vector, shape = [4, 8], rates = {f32 = 64}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{efficiency must be in (0, 1], got 1.5}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}, efficiency = 1.5>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{a unit needs a rate for at least one dtype}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{dimension must be positive, got -16}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, -16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{capacity must be positive, got 0}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 0 B, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{read bandwidth must be positive and finite, got 0}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 0 GB/s>]>>} {}

// -----

// expected-error @+1 {{latency must be non-negative and finite}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s, latency = -1 ns>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{unknown unit 'KHz' for a capacity; expected one of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KHz, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{capacity must be a whole, non-negative number of bytes that fits in 64 bits}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 0.5 B, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{unknown unit 'GB' for a bandwidth}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{chip.memory[0].capacity: cache 'sram' (4294967296}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = cache, capacity = 1 GiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 1 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{core-scoped level 'dram' lies outside chip-scoped level 'sram'; scopes must not narrow outwards}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = chip, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = core, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{duplicate level name 'sram'}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"sram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{duplicate unit name 'mm'}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>, #arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{clock must be positive and finite, got 0}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 0 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{cores must be positive, got 0}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 0, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{grid [2, 3] has 6 cores but the chip has 4}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, grid = [2, 3], noc = #arch.noc<kind = mesh, bandwidth = 32 GB/s, hop_latency = 1 ns>, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{a core grid needs an on-chip network (noc)}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, grid = [2, 2], units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{an on-chip network needs a core grid}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, noc = #arch.noc<kind = mesh, bandwidth = 32 GB/s, hop_latency = 1 ns>, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{a chip needs at least one compute unit}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} {}

// -----

// expected-error @+1 {{a chip needs at least one memory level}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = []>>} {}

// -----

// expected-error @+1 {{the fabric sizes multiply to 8 but devices is 16}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>, devices = 16, topology = [#arch.fabric<"nvl", kind = switch, shape = [8], bandwidth = 450 GB/s, latency = 2 us>]>} {}

// -----

// expected-error @+1 {{8 devices need a topology joining them}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>, devices = 8>} {}

// -----

// expected-error @+1 {{a switch fabric has exactly 1 dimension, got [2, 4]}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>, devices = 8, topology = [#arch.fabric<"nvl", kind = switch, shape = [2, 4], bandwidth = 450 GB/s, latency = 2 us>]>} {}

// -----

// expected-error @+1 {{in-network reduction needs a switched fabric (switch or fat_tree), not ring}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>, devices = 8, topology = [#arch.fabric<"nvl", kind = ring, shape = [8], bandwidth = 450 GB/s, latency = 2 us, in_network_reduction = true>]>} {}

// -----

// expected-error @+1 {{duplicate fabric name 'nvl'}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>, devices = 64, topology = [#arch.fabric<"nvl", kind = switch, shape = [8], bandwidth = 450 GB/s, latency = 2 us>, #arch.fabric<"nvl", kind = switch, shape = [8], bandwidth = 450 GB/s, latency = 2 us>]>} {}

// -----

// expected-error @+1 {{unknown fabric kind 'hypercube'}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>, devices = 8, topology = [#arch.fabric<"nvl", kind = hypercube, shape = [8], bandwidth = 450 GB/s, latency = 2 us>]>} {}

// -----

// expected-error @+1 {{devices must be positive, got 0}}
module attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>, devices = 0>} {}

// -----

// expected-error @+1 {{'arch.system' may only be attached to a module}}
func.func @f() attributes {arch.system = #arch.system<"s", chip = #arch.chip<"c", clock = 1 GHz, cores = 4, units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512}>], memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 100 GB/s>, #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 200 GB/s>]>>} { return }

// -----

// expected-error @+1 {{'arch.system' must be an #arch.system attribute}}
module attributes {arch.system = "h100-sxm"} {}

// -----

// expected-error @+1 {{unknown arch dialect attribute 'arch.foo'}}
module attributes {arch.foo = 1 : i32} {}
