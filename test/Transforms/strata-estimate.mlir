// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=json" -o /dev/null | FileCheck %s --check-prefix=JSON
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm" | FileCheck %s --check-prefix=IR
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=text" -o /dev/null | FileCheck %s --check-prefix=TEXT
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=csv" -o /dev/null | FileCheck %s --check-prefix=CSV
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=trace" -o /dev/null | FileCheck %s --check-prefix=TRACE

// A memory-bound elementwise add on h100-sxm, derived by hand:
//   bytes = 2 inputs x 4 MiB + 1 output x 4 MiB = 12582912 B
//   time  = 12582912 B / 3.35 TB/s + 500 ns HBM latency + 4 us launch
//         = 3.7561 us + 0.5 us + 4 us = 8.2561 us;
//   the fixed 4.5 us exceed the 3.76 us of traffic: bound by launch.
//   roofline floor = the 3.7561 us of compulsory traffic alone.
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @add(%a: tensor<1024x1024xf32>, %b: tensor<1024x1024xf32>,
               %o: tensor<1024x1024xf32>) -> tensor<1024x1024xf32> {
  %r = linalg.generic {indexing_maps = [#map, #map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<1024x1024xf32>, tensor<1024x1024xf32>)
      outs(%o : tensor<1024x1024xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<1024x1024xf32> loc("residual.add")
  return %r : tensor<1024x1024xf32>
}
// JSON: "schema": "strata.cost-report",
// JSON: "version": 3,
// JSON: "system": "h100-sxm",
// JSON: "entry": "add",
// JSON: "summary": {
// JSON-NEXT: "latency_s": 8.2560{{[0-9]+}}e-06,
// JSON-NEXT: "flops": 1048576,
// JSON: "bound_by": "launch"
// JSON: "ops": [
// JSON: "name": "residual.add",
// JSON-NEXT: "op": "linalg.generic",
// JSON-NEXT: "block": "residual",
// JSON-NEXT: "class": "elementwise",
// JSON-NEXT: "count": 1,
// JSON: "hbm": 12582912
// JSON: "time_s": 8.2560{{[0-9]+}}e-06,
// JSON-NEXT: "roofline_s": 3.7560{{[0-9]+}}e-06,
// JSON-NEXT: "bound_by": "launch",

// IR-LABEL: func.func @add
// IR: strata.cost = {bound_by = "launch", flops = 1048576 : i64, time_s = 8.2560{{[0-9]+}}E-6 : f64}

// TEXT: Cost report: @add on h100-sxm (1 x h100-sxm)
// TEXT: latency   8.256 us
// TEXT: bound by  launch
// strata-estimate alone prices the program as given, and says so.
// TEXT: program   priced as given, not fused or tiled (strata-pipeline lowers it first)
// TEXT: residual.add  linalg.generic      1  1.049 MFLOP

// CSV: name,op,block,class,count,flops,transcendentals,bytes_rf,bytes_smem,bytes_l2,bytes_hbm,time_s,bound_by,utilization,energy_j
// CSV-NEXT: residual.add,linalg.generic,residual,elementwise,1,1048576,0,0,0,0,12582912,0.0000082560{{[0-9]+}},launch,

// TRACE: "traceEvents": [
// TRACE: "name": "residual.add",
// TRACE-NEXT: "cat": "residual",
// TRACE-NEXT: "ph": "X",
// TRACE: "ts": 0,
// TRACE-NEXT: "dur": 8.2560

// -----

// Decode-style GEMV: one token through a 4096 x 4096 bf16 projection. HBM
// traffic is ideal (A, B and C once through the L2):
//   8192 + 33554432 + 8192 = 33570816 B; weight streaming bounds it.
// Layers loop twice over a called layer function: counts multiply.
module attributes {strata.model = {name = "gemv", mode = "decode", tokens = 1 : i64}} {
  func.func private @layer(%x: tensor<1x4096xbf16>, %w: tensor<4096x4096xbf16>) -> tensor<1x4096xbf16> {
    %e = tensor.empty() : tensor<1x4096xbf16>
    %y = linalg.matmul ins(%x, %w : tensor<1x4096xbf16>, tensor<4096x4096xbf16>)
                       outs(%e : tensor<1x4096xbf16>) -> tensor<1x4096xbf16> loc("layers.attn.q_proj")
    return %y : tensor<1x4096xbf16>
  }
  func.func @decode(%x: tensor<1x4096xbf16> {strata.role = "input"},
                    %ws: tensor<2x4096x4096xbf16> {strata.role = "weight"}) -> tensor<1x4096xbf16> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%h = %x) -> tensor<1x4096xbf16> {
      %w = tensor.extract_slice %ws[%i, 0, 0] [1, 4096, 4096] [1, 1, 1]
          : tensor<2x4096x4096xbf16> to tensor<4096x4096xbf16>
      %n = func.call @layer(%h, %w) : (tensor<1x4096xbf16>, tensor<4096x4096xbf16>) -> tensor<1x4096xbf16>
      scf.yield %n : tensor<1x4096xbf16>
    }
    return %r : tensor<1x4096xbf16>
  }
}
// JSON: "entry": "decode",
// JSON: "model": "gemv",
// JSON: "mode": "decode",
// JSON: "flops": 67108864,
// JSON: "tokens": 1,
// JSON: "bound_by": "hbm"
// JSON: "name": "layers.attn.q_proj",
// JSON: "block": "layers.attn",
// JSON: "class": "contraction",
// JSON-NEXT: "count": 2,
// JSON: "hbm": 67141632
// JSON: "footprint": {
// JSON-NEXT: "level": "hbm",
// JSON-NEXT: "capacity_bytes": 85899345920,
// JSON: "weights": 67108864,
// JSON-NEXT: "inputs": 8192,

// IR-LABEL: func.func private @layer
// IR: linalg.matmul {strata.cost = {bound_by = "hbm", flops = 33554432 : i64

// TEXT: Cost report: gemv decode @decode on h100-sxm
// TEXT: tokens      1
// TEXT: layers.attn.q_proj  linalg.matmul      2
// TEXT: Memory footprint per device (against hbm, 80 GiB)
// TEXT: weights

// TRACE-COUNT-2: "name": "layers.attn.q_proj",
