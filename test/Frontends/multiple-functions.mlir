// RUN: strata-opt %s --strata-pipeline="system=h100-sxm" -o /dev/null 2>/dev/null | FileCheck %s
// RUN: strata-opt %s --strata-pipeline="system=h100-sxm report=json" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=JSON
// RUN: strata-opt %s --strata-pipeline="system=h100-sxm report=csv" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=CSV
// RUN: strata-opt %s --strata-pipeline="system=h100-sxm entry=decode" -o /dev/null 2>/dev/null | FileCheck %s --check-prefix=ONE

// An export with several public functions (prefill and decode, as
// ONNX-style exporters write them) sharing private callees: each public
// function is estimated and summarised in one row; entry= picks one for
// the full report. @prefill calls two different callees, @attn twice.
func.func private @proj(%x: tensor<128x512xbf16>, %w: tensor<512x512xbf16>) -> tensor<128x512xbf16> {
  %z = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<128x512xbf16>
  %f = linalg.fill ins(%z : bf16) outs(%e : tensor<128x512xbf16>) -> tensor<128x512xbf16>
  %y = linalg.matmul ins(%x, %w : tensor<128x512xbf16>, tensor<512x512xbf16>) outs(%f : tensor<128x512xbf16>) -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}
func.func private @act(%x: tensor<128x512xbf16>) -> tensor<128x512xbf16> {
  %e = tensor.empty() : tensor<128x512xbf16>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<128x512xbf16>) outs(%e : tensor<128x512xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    %t = math.tanh %a : bf16
    linalg.yield %t : bf16
  } -> tensor<128x512xbf16>
  return %y : tensor<128x512xbf16>
}
func.func @prefill(%x: tensor<128x512xbf16>, %w: tensor<512x512xbf16> {strata.role = "weight"}) -> tensor<128x512xbf16> {
  %a = call @proj(%x, %w) : (tensor<128x512xbf16>, tensor<512x512xbf16>) -> tensor<128x512xbf16>
  %b = call @act(%a) : (tensor<128x512xbf16>) -> tensor<128x512xbf16>
  %c = call @proj(%b, %w) : (tensor<128x512xbf16>, tensor<512x512xbf16>) -> tensor<128x512xbf16>
  return %c : tensor<128x512xbf16>
}
func.func @decode(%x: tensor<128x512xbf16>, %w: tensor<512x512xbf16> {strata.role = "weight"}) -> tensor<128x512xbf16> {
  %a = call @proj(%x, %w) : (tensor<128x512xbf16>, tensor<512x512xbf16>) -> tensor<128x512xbf16>
  return %a : tensor<128x512xbf16>
}
// Two projections of 2 x 128 x 512 x 512 = 67108864 FLOPs each, then one.
// CHECK: Programs: 2 public functions on h100-sxm (1 x h100-sxm); entry=<name> gives one function's full report
// CHECK: function   latency       FLOPs
// CHECK: @prefill {{.*}} 0.1342 GFLOP {{.*}} yes  0
// CHECK: @decode  {{.*}} 0.06711 GFLOP {{.*}} yes  0
// JSON: "schema": "strata.program-summary",
// JSON: "functions": [
// JSON: "entry": "prefill",
// JSON-NEXT: "latency_s":
// JSON-NEXT: "flops": 134217728,
// JSON: "entry": "decode",
// JSON-NEXT: "latency_s":
// JSON-NEXT: "flops": 67108864,
// CSV: entry,latency_s,flops,mfu,energy_j,bound_by,footprint_bytes,fits,unpriced
// CSV-NEXT: prefill,{{[^,]+}},134217728,
// CSV-NEXT: decode,{{[^,]+}},67108864,
// ONE: Cost report: @decode on h100-sxm
// ONE: FLOPs     67.11 MFLOP
