// A trace covers at most 100000 op executions (report::kMaxTraceEvents); a
// longer program is cut there, with a warning and `otherData.truncated`,
// while the report's totals still cover every execution. Executions that
// cost nothing count but are not drawn: each iteration here is a
// tensor.empty, the add and the yield, so 33333 adds are drawn.
// RUN: strata-opt %s --strata-estimate="system=h100-sxm format=trace output=%t.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=WARN
// RUN: %python %S/check-trace.py %t.json | FileCheck %s --check-prefix=TRACE
// RUN: strata-opt %s --strata-estimate="system=h100-sxm format=json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=JSON
// RUN: strata-opt %s --strata-estimate="system=h100-sxm format=json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOWARN

// WARN: warning: the trace is cut at 100000 events (op executions or pipeline slots); the report's totals cover the whole program
// TRACE: thread 1: compute (33333 events)
// TRACE: truncated: true
// JSON: "count": 100001,
// NOWARN-NOT: the trace is cut

func.func @main(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 100001 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%a = %x) -> tensor<8xf32> {
    %e = tensor.empty() : tensor<8xf32>
    %y = linalg.add ins(%a, %a : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) -> tensor<8xf32>
    scf.yield %y : tensor<8xf32>
  }
  return %r : tensor<8xf32>
}
