// Plan options checked against the system, one invocation each.
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=3" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=2 dp=2" 2>&1 | FileCheck %s --check-prefix=MATCH
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100x4 tp=16" 2>&1 | FileCheck %s --check-prefix=FIT
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=8 ep=2" 2>&1 | FileCheck %s --check-prefix=EP
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=2 ep=2" 2>&1 | FileCheck %s --check-prefix=EP-REPLICAS
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=0" 2>&1 | FileCheck %s --check-prefix=POSITIVE
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 sp=true" 2>&1 | FileCheck %s --check-prefix=SP
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100x4 tp=8 axes=dp=nvlink" 2>&1 | FileCheck %s --check-prefix=AXES
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 axes=tp=ib" 2>&1 | FileCheck %s --check-prefix=FABRIC
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 axes=mp=nvlink" 2>&1 | FileCheck %s --check-prefix=NAME
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=4 dp=2 ep=2 pp=1" --mlir-print-debuginfo 2>&1 | FileCheck %s --check-prefix=EXPERTS
// A dense model given ep is told it has no experts (before dp's constraints).
// RUN: sed 's/experts = 3/experts = 0/' %s | not strata-opt --strata-parallelize="system=dgx-h100 tp=8 ep=2" 2>&1 | FileCheck %s --check-prefix=DENSE
// DENSE: error: strata-parallelize: ep=2 but the model has no experts

// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=4 pp=2 interleave=2 microbatches=3" 2>&1 | FileCheck %s --check-prefix=INTERLEAVE-M
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=8 interleave=2" 2>&1 | FileCheck %s --check-prefix=INTERLEAVE-PP
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=2 pp=4 interleave=2 microbatches=8" 2>&1 | FileCheck %s --check-prefix=INTERLEAVE-LAYERS
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=8 microbatches=0" 2>&1 | FileCheck %s --check-prefix=MICRO
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=8 zero=4" 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=8 recompute=some" 2>&1 | FileCheck %s --check-prefix=RECOMPUTE
// RUN: not strata-opt %s --strata-parallelize="system=dgx-h100 tp=4 pp=2 schedule=gpipe interleave=2 microbatches=2" 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// DIVIDE: error: strata-parallelize: tp*pp = 3*1 = 3 does not divide the 8 devices of system 'dgx-h100'
// MATCH: error: strata-parallelize: tp*pp*dp = 2*1*2 = 4 does not match the 8 devices of system 'dgx-h100'
// FIT: error: strata-parallelize: tp=16 does not fit in the innermost fabric 'nvlink' of system 'dgx-h100x4' (8 devices per instance)
// EP: error: strata-parallelize: ep=2 must divide dp=1 (experts are spread over data-parallel ranks)
// EP-REPLICAS: error: strata-parallelize: ep=2 with dp=4: experts replicated over dp/ep = 2 groups are not supported yet (use ep=dp)
// POSITIVE: error: strata-parallelize: tp=0 must be at least 1
// SP: error: strata-parallelize: sp=true needs tp > 1
// AXES: error: strata-parallelize: axes: dp=nvlink but dp=4 reaches fabric 'ib' once the axes inside it are laid
// FABRIC: error: strata-parallelize: axes: tp=ib names no fabric of 'dgx-h100' (fabrics: nvlink)
// NAME: error: strata-parallelize: axes: unknown axis 'mp' (expected tp, cp, dp, pp or ep)
// INTERLEAVE-M: error: strata-parallelize: interleave=2 needs microbatches (3) to be a multiple of pp=2, as Megatron-LM's interleaved schedule does
// INTERLEAVE-PP: error: strata-parallelize: interleave=2 needs pp > 1 (virtual stages split pipeline stages)
// INTERLEAVE-LAYERS: error: strata-parallelize: interleave=2 exceeds the 1 layers of a stage (4 layers on pp=4): each virtual stage needs at least one layer
// MICRO: error: strata-parallelize: microbatches=0 must be at least 1
// ZERO: error: strata-parallelize: zero=4 must be 0, 1, 2 or 3
// RECOMPUTE: error: strata-parallelize: recompute='some' must be none, selective or full
// SCHEDULE: error: strata-parallelize: interleave=2 is a 1f1b schedule, not gpipe
// EXPERTS: strata-parallelize-options.mlir:[[@LINE+1]]:1: error: strata-parallelize: ep=2 does not divide the model's 3 experts
module attributes {strata.model = {heads = 8 : i64, kv_heads = 8 : i64, layers = 4 : i64, experts = 3 : i64}} {
}
