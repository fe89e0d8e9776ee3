// remark-above-floor: every op with arithmetic modelled above that multiple
// of its roofline floor gets a remark naming the op, the ratio and the bound.
// RUN: strata-opt %s --strata-estimate="system=h100-sxm remark-above-floor=1.3" -o /dev/null --strata-remarks 2>&1 | FileCheck %s
// Off by default, and above the ratio only:
// RUN: strata-opt %s --strata-estimate="system=h100-sxm" -o /dev/null 2>&1 | FileCheck %s --check-prefix=OFF --allow-empty --implicit-check-not=remark
// RUN: strata-opt %s --strata-estimate="system=h100-sxm remark-above-floor=1000000" -o /dev/null 2>&1 | FileCheck %s --check-prefix=OFF --allow-empty --implicit-check-not=remark
// Below 1 no op could ever qualify: an error, also through the pipeline.
// RUN: not strata-opt %s --strata-estimate="system=h100-sxm remark-above-floor=0.5" -o /dev/null 2>&1 | FileCheck %s --check-prefix=LOW
// RUN: not strata-opt %s --strata-pipeline="system=h100-sxm remark-above-floor=-1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE

// CHECK: remark: {{.*}}'mm' modelled at {{[0-9.]+}}x its roofline floor: launch overhead: 4 us per op against a floor of {{[0-9.e-]+}} us
// OFF-NOT: roofline floor
// LOW: error: remark-above-floor=5.000000e-01 is below 1
// PIPE: <strata-pipeline option 'remark-above-floor'>:0:0: error: remark-above-floor=-1.000000e+00 must be at least 1

// A 64x64x64 matmul is over in nanoseconds at H100's peak: the per-launch
// overhead sets its time.
func.func @small(%a: tensor<64x64xbf16>, %b: tensor<64x64xbf16>,
                 %c: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
  %r = linalg.matmul ins(%a, %b : tensor<64x64xbf16>, tensor<64x64xbf16>)
                     outs(%c : tensor<64x64xbf16>) -> tensor<64x64xbf16> loc("mm")
  return %r : tensor<64x64xbf16>
}
