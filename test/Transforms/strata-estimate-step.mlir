// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2 microbatches=4" --strata-partition --strata-stage --strata-estimate="format=json output=-" -o /dev/null | FileCheck %s --check-prefix=ONEF
// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2 microbatches=4 interleave=2" --strata-partition --strata-stage --strata-estimate="format=json output=-" -o /dev/null | FileCheck %s --check-prefix=INTER
// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 microbatches=4" --strata-partition --strata-stage --strata-estimate="format=json output=-" -o /dev/null | FileCheck %s --check-prefix=NOPIPE
// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2 microbatches=4" --strata-partition --strata-stage --strata-estimate -o /dev/null | FileCheck %s --check-prefix=TEXT
// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2 microbatches=4 recompute=full" --strata-partition --strata-stage --strata-estimate -o /dev/null | FileCheck %s --check-prefix=FULL
// strata-route binds the collectives to the topology without changing the
// step: the same checks after it.
// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2 microbatches=4" --strata-partition --strata-stage --strata-route --strata-estimate="format=json output=-" -o /dev/null | FileCheck %s --check-prefix=ONEF
// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2 microbatches=4" --strata-partition --strata-stage --strata-route --strata-estimate -o /dev/null | FileCheck %s --check-prefix=TEXT
// RUN: strata-opt %S/Inputs/train-step.mlir --strata-set-system=system=dgx-h100x4 --strata-parallelize="tp=8 pp=2 microbatches=4 recompute=full" --strata-partition --strata-stage --strata-route --strata-estimate -o /dev/null | FileCheck %s --check-prefix=FULL

// Full recomputation runs each layer's forward again before its backward:
// layers.mlp.fc1 and fc2 with fc2's tp all-reduce (9.007 + 9.007 + 24.02
// us over this stage's 2 layers: each small all-reduce 12.01 us by
// halving/doubling, cheaper than NVLS's 23 us), as Megatron-LM does.
// FULL: microbatch  177.1 us (compute and tp/ep collectives)
// FULL-NEXT: recompute   42.03 us of it (forward again in the backward)

// A training step of a 4-layer toy (Inputs/train-step.mlir) on 4 DGX H100
// nodes. The estimate prices one microbatch of one stage's program and
// composes the plan's step: with pp=2 and m=4, 1F1B idles (p-1)/m = 25 % of
// the ideal time, one slot per microbatch carries the blocking boundary
// transfer both ways (2 x 4 + 2 bubble slots = 10 crossings of 5.005 us);
// interleaving two virtual stages halves the bubble fraction and doubles
// the crossings; without pp there is no bubble and no transfer. Saving
// fc1's output into the stack costs nothing: the layer writes it in place.

// ONEF: "summary": {
// ONEF-NEXT: "latency_s": [[STEP:[0-9.e-]+]],
// ONEF: "step": {
// ONEF-NEXT: "schedule": "1f1b",
// ONEF-NEXT: "stages": 2,
// ONEF-NEXT: "microbatches": 4,
// ONEF-NEXT: "virtual_stages": 1,
// ONEF-NEXT: "data_parallel": 2,
// ONEF-NEXT: "zero": 0,
// ONEF-NEXT: "microbatch_s":
// ONEF-NEXT: "recompute_s": 0,
// ONEF-NEXT: "p2p_per_crossing_s": 5.0051{{[0-9]*}}e-06,
// ONEF-NEXT: "pipeline_s": [[STEP]],
// ONEF-NEXT: "bubble_s":
// ONEF-NEXT: "bubble_fraction": 0.25,
// ONEF-NEXT: "p2p_s": 5.0051{{[0-9]*}}e-05,
// ONEF: "step_s": [[STEP]],

// INTER: "schedule": "interleaved-1f1b",
// INTER: "virtual_stages": 2,
// INTER: "bubble_fraction": 0.125,
// INTER-NEXT: "p2p_s": 9.009{{[0-9]*}}e-05,

// NOPIPE: "schedule": "1f1b",
// NOPIPE-NEXT: "stages": 1,
// NOPIPE: "bubble_fraction": 0,
// NOPIPE-NEXT: "p2p_s": 0,

// TEXT: Step (1f1b, pp=2, microbatches=4, dp=2, zero=0)
// TEXT-NEXT: microbatch  135.1 us (compute and tp/ep collectives)
// TEXT-NEXT: bubble      145.1 us (25.0 % of the ideal)
// TEXT-NEXT: stage p2p   50.05 us (5.005 us per crossing)
// TEXT-NEXT: pipeline    725.4 us
// TEXT: step        725.4 us
// TEXT: Blocks (share of one microbatch's program, per-step work included once)
