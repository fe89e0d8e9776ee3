// RUN: strata-opt %s -split-input-file | strata-opt -split-input-file | FileCheck %s
// RUN: strata-opt %s -split-input-file --mlir-print-op-generic | strata-opt -split-input-file | FileCheck %s

// Human units are accepted in any spelling and printed canonically: the
// shortest decimal in the largest unit that reads back to the same value.

// CHECK-LABEL: module attributes {arch.system = #arch.system<"tiny"
// CHECK-SAME: chip = #arch.chip<"t1", clock = 1 GHz, cores = 4,
// CHECK-SAME: units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16], rates = {bf16 = 512, fp8 = 1024}, efficiency = 0.8>,
// CHECK-SAME: #arch.unit<"vec", kind = vector, shape = [32], rates = {f32 = 64}>]
// CHECK-SAME: memory = [#arch.level<"sram", scope = core, management = scratchpad, capacity = 64 KiB, bandwidth = 128 GB/s, write_bandwidth = 64 GB/s, latency = 2 ns, energy = 500 fJ/B>,
// CHECK-SAME: #arch.level<"dram", scope = chip, management = scratchpad, capacity = 16 GB, bandwidth = 1.5 TB/s, latency = 400 ns, energy = 7 pJ/B, efficiency = 0.9>]
// CHECK-SAME: static_power = 50 W, launch_overhead = 3 us>>
module attributes {arch.system = #arch.system<"tiny",
  chip = #arch.chip<"t1", clock = 1000 MHz, cores = 4,
    units = [#arch.unit<"mm", kind = matrix, shape = [16, 16, 16],
                        rates = {bf16 = 512, fp8 = 1024.0}, efficiency = 0.8>,
             #arch.unit<"vec", kind = vector, shape = [32], rates = {f32 = 64}>],
    memory = [#arch.level<"sram", scope = core, management = scratchpad,
                          capacity = 65536 B, bandwidth = 128000 MB/s,
                          write_bandwidth = 64 GB/s, latency = 2000 ps,
                          energy = 500 fJ/B>,
              #arch.level<"dram", scope = chip, management = scratchpad,
                          capacity = 16 GB, bandwidth = 1.5 TB/s,
                          latency = 400000 ps, energy = 7 pJ/B, efficiency = 0.9>],
    static_power = 0.05 kW, launch_overhead = 3 us>>} {}

// -----

// A mesh-style chip: a core grid, its on-chip network and a cache level.
// CHECK-LABEL: #arch.system<"grid"
// CHECK-SAME: cores = 16, grid = [4, 4]
// CHECK-SAME: management = cache
// CHECK-SAME: noc = #arch.noc<kind = mesh, bandwidth = 32 GB/s, hop_latency = 1 ns, energy = 100 fJ/B>
module attributes {arch.system = #arch.system<"grid",
  chip = #arch.chip<"g", clock = 1 GHz, cores = 16, grid = [4, 4],
    noc = #arch.noc<kind = mesh, bandwidth = 32 GB/s, hop_latency = 1 ns, energy = 0.1 pJ/B>,
    units = [#arch.unit<"v", kind = vector, rates = {fp16 = 32}>],
    memory = [#arch.level<"l1", scope = core, management = cache, capacity = 48 KiB, bandwidth = 64 GB/s>,
              #arch.level<"dram", scope = chip, management = scratchpad, capacity = 8 GiB, bandwidth = 400 GB/s>]>>} {}

// -----

// Multi-chip: fabrics innermost first, sizes multiplying to the devices.
// CHECK-LABEL: #arch.system<"pod"
// CHECK-SAME: devices = 32
// CHECK-SAME: topology = [#arch.fabric<"nvl", kind = switch, shape = [8], bandwidth = 450 GB/s, latency = 2 us, in_network_reduction = true>,
// CHECK-SAME: #arch.fabric<"ib", kind = fat_tree, shape = [4], bandwidth = 50 GB/s, latency = 5 us, energy = 20 pJ/B, efficiency = 0.8>]
module attributes {arch.system = #arch.system<"pod",
  chip = #arch.chip<"c", clock = 1 GHz, cores = 1,
    units = [#arch.unit<"mm", kind = matrix, shape = [8, 8, 8], rates = {bf16 = 1024}>],
    memory = [#arch.level<"hbm", scope = chip, management = scratchpad, capacity = 80 GB, bandwidth = 2 TB/s>]>,
  devices = 32,
  topology = [#arch.fabric<"nvl", kind = switch, shape = [8], bandwidth = 450 GB/s, latency = 2 us, in_network_reduction = true>,
              #arch.fabric<"ib", kind = fat_tree, shape = [4], bandwidth = 50 GB/s, latency = 5 us, energy = 20 pJ/B, efficiency = 0.8>]>} {}

// -----

// A 3D torus.
// CHECK-LABEL: #arch.system<"torus"
// CHECK-SAME: #arch.fabric<"ici", kind = torus, shape = [4, 4, 4]
module attributes {arch.system = #arch.system<"torus",
  chip = #arch.chip<"c", clock = 1 GHz, cores = 1,
    units = [#arch.unit<"mxu", kind = matrix, shape = [128, 128, 128], rates = {bf16 = 65536}>],
    memory = [#arch.level<"hbm", scope = chip, management = scratchpad, capacity = 95 GB, bandwidth = 2.765 TB/s>]>,
  devices = 64,
  topology = [#arch.fabric<"ici", kind = torus, shape = [4, 4, 4], bandwidth = 100 GB/s, latency = 1 us>]>} {}

// -----

// Hopper-style: one set of tensor cores as two matrix units, the wgmma path
// (reached only asynchronously) and the synchronous mma.sync path;
// `asynchronous` is printed only when set.
// CHECK-LABEL: #arch.system<"hopperish"
// CHECK-SAME: #arch.unit<"tensor", kind = matrix, shape = [64, 256, 16], rates = {bf16 = 4096}, asynchronous = true>
// CHECK-SAME: #arch.unit<"tensor-sync", kind = matrix, shape = [16, 8, 16], rates = {bf16 = 2730.5}, efficiency = 0.8>
module attributes {arch.system = #arch.system<"hopperish",
  chip = #arch.chip<"h", clock = 1.83 GHz, cores = 132,
    units = [#arch.unit<"tensor", kind = matrix, shape = [64, 256, 16],
                        rates = {bf16 = 4096}, asynchronous = true>,
             #arch.unit<"tensor-sync", kind = matrix, shape = [16, 8, 16],
                        rates = {bf16 = 2730.5}, efficiency = 0.8, asynchronous = false>,
             #arch.unit<"cuda", kind = vector, shape = [32], rates = {f32 = 256}>],
    memory = [#arch.level<"smem", scope = core, management = scratchpad, capacity = 228 KiB, bandwidth = 234 GB/s>,
              #arch.level<"hbm", scope = chip, management = scratchpad, capacity = 80 GiB, bandwidth = 3.35 TB/s>]>>} {}

// -----

// A kernel node of a replayed CUDA graph: graph_node_overhead, printed when
// set (0: as launch_overhead).
// CHECK-LABEL: #arch.system<"graphs"
// CHECK-SAME: launch_overhead = 4 us, graph_node_overhead = 600 ns>>
module attributes {arch.system = #arch.system<"graphs",
  chip = #arch.chip<"g", clock = 1 GHz, cores = 1,
    units = [#arch.unit<"cuda", kind = vector, shape = [32], rates = {f32 = 64}>],
    memory = [#arch.level<"hbm", scope = chip, management = scratchpad, capacity = 80 GiB, bandwidth = 3.35 TB/s>],
    launch_overhead = 4 us, graph_node_overhead = 0.6 us>>} {}
