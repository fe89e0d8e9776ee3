// RUN: strata-opt %s --strata-pipeline="system=h100-sxm report=json" -o /dev/null | FileCheck %s
// RUN: strata-opt %s --strata-pipeline="system=mesh-sram report=json" -o /dev/null | FileCheck %s --check-prefix=MESH
// RUN: strata-opt %s --strata-pipeline="system=h100-sxm report-file=%t.csv report=csv" -o /dev/null && FileCheck %s --check-prefix=CSV < %t.csv
// RUN: strata-opt %s --pass-pipeline="builtin.module(strata-pipeline{system=h100-sxm report=text})" -o /dev/null | FileCheck %s --check-prefix=TEXT

// The single-chip pipeline attaches the system, tiles the contraction into a
// tile.kernel and ends with the estimate.
// RUN: strata-opt %s --strata-pipeline="system=h100-sxm tile=false report=csv" -o /dev/null | FileCheck %s --check-prefix=UNTILED
// UNTILED: mlp.up,linalg.matmul,mlp,contraction,1,4294967296,
func.func @mlp(%x: tensor<512x1024xbf16>, %w: tensor<1024x4096xbf16> {strata.role = "weight"})
    -> tensor<512x4096xbf16> {
  %e = tensor.empty() : tensor<512x4096xbf16>
  %y = linalg.matmul ins(%x, %w : tensor<512x1024xbf16>, tensor<1024x4096xbf16>)
                     outs(%e : tensor<512x4096xbf16>) -> tensor<512x4096xbf16> loc("mlp.up")
  return %y : tensor<512x4096xbf16>
}
// 2 x 512 x 4096 x 1024 = 4294967296 FLOPs on either system.
// CHECK: "system": "h100-sxm",
// CHECK: "flops": 4294967296,
// CHECK: "name": "mlp.up",
// MESH: "system": "mesh-sram",
// MESH: "flops": 4294967296,
// CSV: mlp.up,tile.kernel,mlp,kernel,1,4294967296,
// TEXT: Cost report: @mlp on h100-sxm
// The report says the program it priced was lowered first.
// TEXT: program lowered to tile IR (fused, tiled, placed)

// With tp=, the pipeline first parallelizes (strata-parallelize, upstream
// sharding-propagation and shard-partition), routes the collectives
// (strata-route) and then prices one device: local matmuls on 1/8 of each
// weight (the SwiGLU gating fused into the gate projection as its
// epilogue: 65536 + 2048 FLOPs, 512 exps) and the all-reduce over
// NVSwitch, now a tile.collective with the algorithm strata-route chose
// (halving/doubling: 4096 B is too small for NVLS's 23 us), priced as the
// shard.all_reduce was (6 x 2 us + 1.75 x 4096 B / 450 GB/s).
// RUN: strata-opt %S/Inputs/mlp-block.mlir --strata-pipeline="system=dgx-h100 tp=8 report=csv" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=TP
// TP: mlp-block.mlir:11:11,linalg.matmul,(unnamed),contraction,1,67584,512,
// TP: tile.collective all_reduce,(unnamed),collective,1,0,0,0,0,0,0,0.0000120159{{[0-9]+}},nvlink,
