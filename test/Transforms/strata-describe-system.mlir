// RUN: strata-opt %s --strata-describe-system=system=h100-sxm -o %t | FileCheck %s
// RUN: FileCheck %s --check-prefix=IR < %t
// RUN: strata-opt %s --strata-describe-system=system=dgx-h100x4 -o /dev/null | FileCheck %s --check-prefix=CLUSTER
// RUN: not strata-opt %s --strata-describe-system 2>&1 | FileCheck %s --check-prefix=NOSYS
// RUN: not strata-opt %s --strata-describe-system=system=h900 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// Derived figures: 132 SMs x 4096 FLOP/cycle x 1.83 GHz = 989.4 TFLOP/s bf16,
// doubled for fp8; ridge point against HBM = 989.4e12 / 3.35e12 = 295.4 FLOP/B.
// CHECK: System h100-sxm: 1 x h100-sxm
// CHECK: Chip h100-sxm: 132 cores at 1.83 GHz
// CHECK: tensor{{ +}}matrix{{.*}}bf16{{ +}}989.4 TFLOP/s
// CHECK: tensor{{ +}}matrix{{.*}}fp8{{ +}}1.979 PFLOP/s
// CHECK: Memory (aggregate per chip; ridge = peak bf16 FLOP/s / read bandwidth)
// CHECK: hbm{{ +}}chip{{ +}}scratchpad{{ +}}80 GiB{{ +}}3.35 TB/s{{.*}}295.4

// The system stays attached for later passes.
// IR: module attributes {arch.system = #arch.system<"h100-sxm"

// 4 DGX nodes: NVSwitch inside (8 x 450 GB/s / 2 = 1.8 TB/s bisection per
// node), NDR InfiniBand fat tree across 32 GPUs (32 x 50 GB/s / 2 = 800 GB/s).
// CLUSTER: System dgx-h100x4: 32 x h100-sxm
// CLUSTER: nvlink{{ +}}switch{{ +}}8{{ +}}450 GB/s
// CLUSTER: ib{{ +}}fat_tree{{ +}}4{{ +}}50 GB/s
// CLUSTER: System bisection bandwidth:

// NOSYS: error: no target system: pass system=<preset|file.json|file.mlir> or attach 'arch.system' to the module
// UNKNOWN: error: unknown system 'h900': expected a preset name (a100-sxm-80g, h100-sxm
module {}
