// launch=: how the kernels are issued. eager (the default) charges the
// chip's launch_overhead per kernel (4 us on h100-sxm); graph charges its
// graph_node_overhead (0.6 us: a kernel node replayed from a captured CUDA
// graph, as vLLM and TensorRT-LLM run decode). The report says which.
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=json" -o /dev/null | FileCheck %s --check-prefix=EAGER
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm format=json launch=graph" -o /dev/null | FileCheck %s --check-prefix=GRAPH
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm launch=graph" -o /dev/null | FileCheck %s --check-prefix=TEXT
// RUN: strata-opt %s -split-input-file --strata-estimate="system=h100-sxm" -o /dev/null | FileCheck %s --check-prefix=TEXT-EAGER
// Through the pipeline:
// RUN: strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm report=json launch=graph" -o /dev/null | FileCheck %s --check-prefix=GRAPH
// A chip with no cheaper replay (graph_node_overhead 0) pays launch_overhead either way:
// RUN: strata-opt %s -split-input-file --strata-estimate="system=tpu-v5p format=json launch=graph" -o /dev/null | FileCheck %s --check-prefix=TPU
// An unknown mode is a one-line error, from the pass and the pipeline:
// RUN: not strata-opt %s -split-input-file --strata-estimate="system=h100-sxm launch=cuda" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not strata-opt %s -split-input-file --strata-pipeline="system=h100-sxm launch=persistent" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD-PIPE

// 4 us of launch and 0.5 us of HBM latency, then 0.6 us and 0.5 us:
// EAGER: "launch": "eager"
// EAGER: "latency_s": 4.500{{[0-9]*}}e-06
// EAGER: "name": "add"
// EAGER: "time_s": 4.500{{[0-9]*}}e-06
// EAGER: "bound_by": "launch"
// GRAPH: "launch": "graph"
// GRAPH: "latency_s": 1.100{{[0-9]*}}e-06
// GRAPH: "name": "add"
// GRAPH: "time_s": 1.100{{[0-9]*}}e-06
// GRAPH: "bound_by": "launch"
// TEXT: latency   1.1 us
// TEXT: launch    graph replay, 600 ns per kernel node
// TEXT-EAGER-NOT: graph replay
// TPU: "launch": "graph"
// TPU: "latency_s": 2.500{{[0-9]*}}e-06
// BAD: error: unknown launch mode 'cuda' (expected eager or graph)
// BAD-NOT: error
// BAD-PIPE: <strata-pipeline option 'launch'>:0:0: error: launch='persistent' must be eager or graph
// BAD-PIPE-NOT: error

// A 256-element add is over in nanoseconds: its launch is its time.
func.func @tiny(%a: tensor<256xbf16>, %b: tensor<256xbf16>) -> tensor<256xbf16> {
  %e = tensor.empty() : tensor<256xbf16>
  %r = linalg.add ins(%a, %b : tensor<256xbf16>, tensor<256xbf16>)
                  outs(%e : tensor<256xbf16>) -> tensor<256xbf16> loc("add")
  return %r : tensor<256xbf16>
}
