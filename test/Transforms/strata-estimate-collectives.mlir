// RUN: strata-opt %S/Inputs/mlp-block.mlir --pass-pipeline="builtin.module(strata-set-system{system=dgx-h100},strata-parallelize{tp=8},func.func(sharding-propagation,shard-partition,cse),strata-estimate{format=csv})" -o /dev/null | FileCheck %s
// RUN: strata-opt %S/Inputs/mlp-block.mlir --pass-pipeline="builtin.module(strata-set-system{system=dgx-h100},strata-parallelize{tp=8},func.func(sharding-propagation,shard-partition,cse),strata-estimate{format=json})" -o /dev/null | FileCheck %s --check-prefix=JSON
// RUN: strata-opt %S/Inputs/mlp-block.mlir --pass-pipeline="builtin.module(strata-set-system{system=dgx-h100},strata-parallelize{tp=8},func.func(sharding-propagation,shard-partition,cse),strata-estimate{format=csv})" -o /dev/null | FileCheck %s --check-prefix=NOUNMODELLED

// Per-device IR after tensor parallelism over the 8 NVSwitch-connected
// GPUs: the row-parallel down projection's partial sums are all-reduced.
// The 16 x 64 f32 output is 4096 B. NVSwitch reduces in the network
// (NVLS), but NCCL's NVLS all-reduce costs 23 us before its first byte
// (23 us + 4096 B / 275 GB/s = 23.015 us), so recursive halving/doubling
// is the cheapest: 2 x log2(8) x 2 us + 1.75 x 4096 B / 450 GB/s
// = 12 us + 15.9 ns = 12.0159 us, bound by the nvlink fabric.
// CHECK: shard.all_reduce,(unnamed),collective,1,0,0,0,0,0,0,0.0000120159{{[0-9]+}},nvlink,

// Weights per device are 1/8 of each projection (gate and up 64 x 32,
// down 32 x 64, f32): 3 x 8192 B.
// JSON: "weights": 24576,

// The partition's process index and branch are priced (the branch by its
// then-region), not reported as unmodelled.
// NOUNMODELLED-NOT: scf.if
// NOUNMODELLED-NOT: process_multi_index
