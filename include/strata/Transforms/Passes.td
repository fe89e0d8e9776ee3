//===- Passes.td - Strata passes ---------------------------*- tablegen -*-===//

#ifndef STRATA_TRANSFORMS_PASSES
#define STRATA_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def StrataSetSystemPass : Pass<"strata-set-system", "mlir::ModuleOp"> {
  let summary = "Attach the target system to the module";
  let description = [{
    Resolves `system` (a preset name, a `.json` file or a `.mlir` file) and
    attaches it to the module as `arch.system`, replacing any system already
    attached. Every later pass reads the target from that attribute.

    ```
    strata-opt --strata-set-system=system=h100-sxm model.mlir
    ```

    `f32-matmul` sets the precision policy for f32 contractions as the
    module attribute `strata.f32_matmul`: `f32` (PyTorch's default,
    `torch.backends.cuda.matmul.allow_tf32 = False`) prices them at the
    f32 rate of the best unit that has one; `tf32`
    (`torch.set_float32_matmul_precision("high")`) at the matrix unit's
    TF32 rate where the chip has one. With only `f32-matmul`, the system
    already attached is kept.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"f32Matmul", "f32-matmul", "std::string", /*default=*/"\"\"",
           "Precision of f32 contractions: f32 or tf32 (default: keep the "
           "module's, else f32)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect"];
}

def StrataDescribeSystemPass : Pass<"strata-describe-system", "mlir::ModuleOp"> {
  let summary = "Print the target system and its derived figures";
  let description = [{
    Prints the module's system (or the one named by `system`, which is then
    attached): peak FLOP/s per unit and dtype, aggregate capacity and
    bandwidth per memory level with roofline ridge points, and the topology
    with per-fabric and system bisection bandwidth. The IR is unchanged
    except for the attached system.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the description ('-' for stdout)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect"];
}

def StrataEstimatePass : Pass<"strata-estimate", "mlir::ModuleOp"> {
  let summary = "Estimate time, traffic, energy and footprint; write a report";
  let description = [{
    Runs the program rooted at `entry` through the cost model on the
    module's system (or `system`, which is then attached): every executed op
    is priced once (calls and static loops multiply), and the pass writes a
    report in `format` to `output`:

    - `text`: aligned tables — summary (latency, tokens/s, FLOPs, MFU,
      energy, bound-by), per block kind, per op, memory footprint;
    - `json`: the same data, schema `strata.cost-report` version 1
      (docs/cost-report.md);
    - `csv`: one row per op;
    - `trace`: a Chrome-trace timeline (open in Perfetto).

    With `annotate`, each priced op gets a `strata.cost` dictionary
    (`time_s`, `flops`, `bound_by`) for one execution. Ops Strata cannot
    model are reported in a warning with their counts and listed in the
    report as unpriced (docs/inputs.md); a footprint that does not fit the
    home memory level is an error listing the breakdown.

    Without `entry`, a module with several public functions is estimated
    function by function and the report is one summary row per function
    (text, JSON schema `strata.program-summary`, CSV; a trace needs
    `entry`).
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Entry function (default: every public function with a body; "
           "several give one summary row each)">,
    Option<"format", "format", "std::string", /*default=*/"\"text\"",
           "Report format: text, json, csv or trace">,
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the report ('-' for stdout)">,
    Option<"annotate", "annotate", "bool", /*default=*/"true",
           "Attach a strata.cost dictionary to every priced op">,
    Option<"remarkAboveFloor", "remark-above-floor", "double",
           /*default=*/"0",
           "Remark on every op with arithmetic that is modelled above this "
           "multiple of its roofline floor, naming why (0: none; else at "
           "least 1)">,
    Option<"launch", "launch", "std::string", /*default=*/"\"eager\"",
           "How the kernels are issued: eager (each pays the chip's "
           "launch_overhead) or graph (replayed from a captured CUDA graph: "
           "graph_node_overhead each, as vLLM and TensorRT-LLM run decode)">,
    Option<"fitOnly", "fit-only", "bool", /*default=*/"false",
           "Only check that the footprint fits (the error a full estimate "
           "gives, from the same estimate); no report, no annotations, no "
           "warnings. strata-pipeline's early-fit-check runs it before "
           "strata-tile; it checks nothing on a grid chip (strata-residency "
           "may change what the final estimate sees there)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect"];
}

def StrataTilePass : Pass<"strata-tile", "mlir::ModuleOp"> {
  let summary = "Tile linalg contractions for the memory hierarchy as tile IR";
  let description = [{
    Replaces each linalg contraction (matmul, batch_matmul, and generics
    with transposed or broadcast maps whose operands' last two dimensions
    are the tiled ones) by a `tile.kernel` whose schedule the cost model
    chose: output tiles spread over the cores, K stepped through buffers in
    the staging level (shared memory, SRAM, VMEM) with the pipelining depth
    that fits, MMAs on the matrix unit, the accumulator stored once. The
    tiling is `CostModel::planMatmul`'s: the pass asks, it does not
    re-derive. Ops it cannot tile stay linalg (priced by the same matmul
    formula) and are listed in a remark.

    With `vector=true` (the default) it then lowers the elementwise,
    reduction, copy/transpose and fill ops no other pass owns the same way
    (lib/Transforms/Mapping/TileVectorOps.cpp): parallel loops spread over the
    cores, row blocks streamed through the staging level by a pipelined
    `tile.loop`, `tile.map` / `tile.reduce` on the vector unit, the blocking
    the one `CostModel::kernel` prices cheapest.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"vector", "vector", "bool", /*default=*/"true",
           "Also tile elementwise, reduction, copy and fill ops">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect",
                           "::strata::tile::TileDialect",
                           "::mlir::arith::ArithDialect"];
}

def StrataParallelizePass : Pass<"strata-parallelize", "mlir::ModuleOp"> {
  let summary = "Choose a parallel plan and annotate it with upstream shard";
  let description = [{
    Validates a parallel plan (`tp`, `dp`, `pp`, `ep`, `sp`) against the
    module's system and model, creates a `shard.grid @grid` whose axes are
    the plan's degrees (size-1 axes omitted; tensor parallelism innermost),
    records which fabric carries each axis (`strata.axis_fabrics` on the
    grid, `strata.parallel` on the module), and annotates every projection
    Megatron-style with `shard.shard`: column-parallel (weight split on its
    output dimension) for projections that read a replicated activation,
    row-parallel (weight split on its input dimension) for projections that
    read the output of a column-parallel one; data parallelism splits the
    token dimension, expert parallelism the expert dimension of batched
    expert matmuls. Upstream `sharding-propagation` and `shard-partition`
    then produce the per-device program:

    ```
    strata-opt --pass-pipeline='builtin.module(strata-parallelize{tp=8},
        func.func(sharding-propagation,shard-partition))' mlp.mlir
    ```

    docs/parallelism.md describes the rules and what upstream can
    partition.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"tp", "tp", "int64_t", /*default=*/"1",
           "Tensor-parallel degree (Megatron column/row split)">,
    Option<"dp", "dp", "int64_t", /*default=*/"0",
           "Data-parallel degree (0: the devices left by tp and pp)">,
    Option<"pp", "pp", "int64_t", /*default=*/"1",
           "Pipeline-parallel degree (stages are laid out by strata-stage)">,
    Option<"ep", "ep", "int64_t", /*default=*/"1",
           "Expert-parallel degree (carved out of dp; splits the expert dim)">,
    Option<"sp", "sp", "bool", /*default=*/"false",
           "Sequence parallelism over the tp axis (Megatron-SP)">,
    Option<"cp", "cp", "int64_t", /*default=*/"1",
           "Context-parallel degree: the sequence of every activation split "
           "over a cp axis laid between tp and dp (Megatron's order tp, cp, "
           "dp, pp); causal attention takes the zigzag split (2 chunks per "
           "rank)">,
    Option<"cpComm", "cp-comm", "std::string", /*default=*/"\"p2p\"",
           "How attention reaches the other ranks' K/V under cp: p2p (ring "
           "attention, Transformer Engine's default cp_comm_type) or "
           "all_gather (all-gather K and V, then attend the local queries: "
           "the Llama 3 paper's implementation)">,
    Option<"axes", "axes", "std::string", /*default=*/"\"\"",
           "Axis-to-fabric mapping, e.g. 'tp=nvlink,dp=ib' (default: "
           "automatic, tp innermost)">,
    Option<"microbatches", "microbatches", "int64_t", /*default=*/"1",
           "Microbatches per step: the module is one microbatch of the whole "
           "data-parallel group">,
    Option<"interleave", "interleave", "int64_t", /*default=*/"1",
           "Virtual pipeline stages per device (interleaved 1F1B)">,
    Option<"zero", "zero", "int64_t", /*default=*/"0",
           "ZeRO stage 0-3 over the data-parallel axis">,
    Option<"recompute", "recompute", "std::string", /*default=*/"\"none\"",
           "Activation recomputation: none, selective (attention core, as "
           "Megatron-LM) or full (each layer's forward again)">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"1f1b\"",
           "Pipeline schedule: gpipe or 1f1b (interleaved when interleave "
           "> 1)">,
    Option<"overlapGradSync", "overlap-grad-sync", "bool", /*default=*/"true",
           "Overlap the data-parallel gradient reduction with the backward "
           "pass (bucketed, as PyTorch DDP and Megatron-LM's "
           "--overlap-grad-reduce do)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect",
                           "::mlir::shard::ShardDialect"];
}

def StrataResidencyPass : Pass<"strata-residency", "mlir::ModuleOp"> {
  let summary = "Keep activations in a grid chip's distributed SRAM between kernels";
  let description = [{
    On a chip with a core grid and an on-chip network, decides for every
    activation passed between `tile.kernel`s (through reshapes, fused
    epilogues, calls and loop-carried values) whether it lives in the
    cores' SRAM instead of at home: layer fusion across cores, as Stream
    does. An activation qualifies when no program input, output or weight
    and no op the pass does not understand touches it; it is kept when the
    cost model's residency quote says its home round trip costs more than
    re-laying it over the network, and when at every kernel of its live
    range the resident activations fit in the SRAM the kernels' own buffers
    leave free (`strata.placement`, so run after `strata-place`). Greedy in
    program order; deterministic.

    A kept activation is listed in `resident(...)` of each kernel touching
    it and its body argument moves to the staging level; one that does not
    fit is listed in `spilled(...)` and stays at home, and a remark names
    the bytes needed and free. Chips without a grid are left unchanged.

    With `retile` (the default), a contraction kernel with a resident
    operand is re-planned by the cost model knowing which operands are on
    chip and how much SRAM per core the kept tensors leave it, and its tile
    shapes, grid rectangle, multicasts and buffering are rewritten when the
    estimate of the new schedule is lower.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"retile", "retile", "bool", /*default=*/"true",
           "Re-plan contraction kernels for their resident operands">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect",
                           "::strata::tile::TileDialect"];
}

def StrataFusePass : Pass<"strata-fuse", "mlir::ModuleOp"> {
  let summary = "Fuse attention flash-style where the cost model says it pays";
  let description = [{
    Recognises attention in plain linalg — a contraction (Q·Kᵀ) whose
    result flows through elementwise and reduction ops that include an
    exponential (scale, mask, max, exp, sum, divide) into a second
    contraction (P·V) — and, when none of the intermediates is used
    elsewhere (training keeps them for the backward pass) and the cost
    model prices the fused flash-style schedule (scores never leave the
    core, online softmax, split-KV for short queries) below the sum of the
    unfused ops, marks the group: the P·V op carries
    `strata.fused_attention = {batch, heads, kv_heads, q_len, kv_len,
    head_dim, causal}` and the other members `strata.fused_into = "<name>"`.
    The estimate prices the group as one fused kernel. Grouped-query heads
    sharing K/V are packed as rows of one query block. Without this pass
    (or with `attention=false`) the unfused path is priced.

    Training: the backward group (dP = dO·Vᵀ, dS = P∘(dP − rowsum(dP∘P))
    scaled and masked, dQ = dS·K, dK = dSᵀ·Q, dV = Pᵀ·dO) is fused first,
    FlashAttention-2 style (S and P recomputed per tile): the dQ op carries
    `strata.fused_attention = {..., backward = true, recompute = "scores"}`
    and the saved-P argument `strata.recomputed_by`. A forward whose saved
    intermediates reach only such arguments then fuses as well, returning
    an empty tensor (`strata.recomputed_by`) in place of P.

    Epilogues: an elementwise op that is the only user of a contraction's
    result (bias add, activation, gating, residual add) is applied to the
    output tiles before they are stored when the model prices that below the
    two ops apart; the consumer gets `strata.fused_into` and the producer
    `strata.epilogue = {flops, transcendentals, bytes_read, bytes_written}`
    (the consumer's work beyond the intermediate's round trip). With
    `epilogue-chain` the epilogue may go on through the consumer's own
    only user (bias add, then GELU or a residual add), link by link while
    the model prices the longer chain below the shorter one plus the next
    op; every link gets `strata.fused_into`.

    Norms (`norms`): an elementwise op whose inputs include per-row
    statistics of the tensor it transforms — reductions over its last dim
    (mean, variance) and elementwise ops on them (rstd) whose results
    nothing else uses — computes them in the same pass over whole rows
    when the rows fit a core's staging level and the model prices the one
    kernel below the ops apart. The statistics' ops (and the fills of
    their inits) get `strata.fused_into`, the op applying them
    `strata.prologue = {bytes_read, bytes_written, flops,
    transcendentals}` (their work; their inputs are the row the kernel
    already holds), priced as the epilogue is and copied onto its
    `tile.kernel`, whose blocking keeps rows whole.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"attention", "attention", "bool", /*default=*/"true",
           "Fuse attention blocks">,
    Option<"epilogues", "epilogues", "bool", /*default=*/"true",
           "Fuse elementwise consumers (bias, activation, residual) into "
           "the contraction producing their input">,
    Option<"epilogueChain", "epilogue-chain", "std::string",
           /*default=*/"\"off\"",
           "Whether an epilogue may be a chain of elementwise ops (bias "
           "add, then GELU or a residual add): 'on', 'off' (one op per "
           "contraction), or 'auto' (on for a chip with a core grid and "
           "an on-chip network; strata-pipeline passes auto when it runs "
           "strata-residency, which prices the chain's resident inputs on "
           "chip)">,
    Option<"norms", "norms", "std::string", /*default=*/"\"off\"",
           "Fuse a normalisation's row statistics (mean, variance, rstd) "
           "into the elementwise op applying them, one kernel over whole "
           "rows per norm: 'on', 'off', or 'auto' (as epilogue-chain)">,
    Option<"decodeKvSharing", "decode-kv-sharing", "std::string",
           /*default=*/"\"group\"",
           "How a decode step's attention reads K/V under grouped-query "
           "attention: 'group' (once per KV head, its query heads the rows "
           "of one block: FlashDecoding, XQA, vLLM) or 'head' (once per "
           "query head: TensorRT-LLM's masked MHA kernel)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect"];
}

def StrataPlacePass : Pass<"strata-place", "mlir::ModuleOp"> {
  let summary = "Fit each kernel's buffers into its memory levels";
  let description = [{
    For every `tile.kernel`, computes the peak live bytes of each memory
    level (an allocation is live from its `tile.alloc` to its last use, and
    across every loop that uses it; per core for core-scoped levels, since
    every core of a `tile.spread` holds its own instance) and records them
    as `strata.placement = {level = bytes}`.

    A kernel whose peak exceeds a level's capacity is rewritten until it
    fits: rotating buffers are taken away (`buffers(n)` and the `pipeline`
    of the loops writing them), then buffers are spilled to the next
    scratchpad outward with room, with `tile.copy` refills and write-backs
    (marked `strata.spill`) around each compute use, so the estimate prices
    the traffic. A spill-only plan is tried too; at each step and between
    the plans the cost model picks the cheaper. Spills are listed in
    `strata.spilled`, and a remark names the levels and bytes before and
    after. A kernel no plan fits is an error listing its allocations, never
    a silent overflow. Tensors between kernels live in the home level (on a
    grid chip `strata-residency`, run after this pass, may keep them in the
    cores' SRAM); their footprint is checked by `strata-estimate`.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"spill", "spill", "bool", /*default=*/"true",
           "Spill buffers to an outer level when reducing pipelining is not "
           "enough (false: such kernels are errors)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect",
                           "::strata::tile::TileDialect"];
}

def StrataPartitionPass : Pass<"strata-partition", "mlir::ModuleOp"> {
  let summary = "Partition annotated functions with upstream shard and "
                "re-type the calls into them";
  let description = [{
    Runs upstream `sharding-propagation`, `shard-partition` and `cse` on
    every function that holds `shard` annotations (what
    `strata-parallelize` wrote), one function at a time, so functions
    upstream cannot partition — the workload generator's `@forward`, which
    only slices the stacked per-layer weights, loops over the layers and
    calls the layer function — are left alone. Upstream `shard` has no
    call-graph support: partitioning changes a callee's signature (a
    column-parallel weight argument `[4096, 8, 4, 128]` becomes
    `[4096, 1, 4, 128]` on tp=8) but not its callers. This pass then
    carries the per-device types through the plumbing between the calls:
    `func.call` operands and results, the entry block arguments of the
    callers (and their callers in turn), `scf.for` iteration arguments,
    `scf.yield`, `func.return`, and rank-reducing `tensor.extract_slice`
    of a stacked `[L, ...]` weight (its source keeps the stacked dimension
    and takes the callee's shard shape). Any other op on that path is an
    error naming it: the plumbing is re-typed, never partitioned here.
  }];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

def StrataStagePass : Pass<"strata-stage", "mlir::ModuleOp"> {
  let summary = "Cut the layer loops to one pipeline stage and make the "
                "stage boundary explicit";
  let description = [{
    With `pp` > 1 in the module's `strata.parallel` plan (written by
    `strata-parallelize`), shortens every loop of the entry function over the
    model's layers (an `scf.for` with `strata.model.layers` trips that calls
    the layer function) to `layers / pp` trips, re-types the stacked
    `[layers, ...]` values it slices — weights, saved activations, weight
    gradients — to `[layers / pp, ...]`, and inserts the stage boundary: a
    `tile.recv` of the forward activation before the first layer loop and,
    in training, a `tile.send` of the input gradient after the backward
    loop, over the fabric the plan lays the pp axis on. Under tensor
    parallelism each rank moves 1/tp of the activation and all-gathers it
    over tp (Megatron-LM's scatter/gather optimisation). The program stands
    for the last stage, which holds the head; the estimate applies the
    schedule (GPipe, 1F1B, interleaved) and its bubble from the plan.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Entry function (default: the only public function)">
  ];
  let dependentDialects = ["::strata::tile::TileDialect",
                           "::mlir::shard::ShardDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def StrataRoutePass : Pass<"strata-route", "mlir::ModuleOp"> {
  let summary = "Lower shard collectives to tile.collective on the topology";
  let description = [{
    Replaces each upstream `shard` collective left by `strata-partition`
    (`all_reduce`, `all_gather`, `reduce_scatter`, `all_to_all`) with a
    `tile.collective` bound to the system's topology: the fabric is the
    outermost one the collective's grid axes are laid on (the grid's
    `strata.axis_fabrics`, written by `strata-parallelize`), `group` the
    devices it has on each fabric, the algorithm the one the cost model
    prices cheapest for that group and payload (`CostModel::collective`;
    `hierarchical` when the group spans two fabrics and that is cheaper),
    `bytes` the per-device payload. The op keeps the grid axes it ran over
    as `strata.axes` (the estimate classifies reductions over the data axes
    alone as once-per-step gradient sync) and its location.

    An `all_reduce` whose only use is an `all_slice` over the same axes
    (upstream's form of Megatron sequence parallelism's reduce-scatter) is
    fused into one `reduce_scatter` when the cost model prices that no
    slower.

    Errors (located, never a crash): a grid without `strata.axis_fabrics`,
    an axis on a fabric the system lacks, a forced algorithm the group or
    fabric cannot run (`in_network` without switch reduction,
    `torus_dim_ordered` off a torus or mesh, `hierarchical` on one fabric),
    and shard communication ops other than the four above.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Target system: a preset name, a .json or a .mlir file "
           "(default: the module's arch.system)">,
    Option<"algorithm", "algorithm", "std::string", /*default=*/"\"auto\"",
           "auto (the cost model's cheapest), or force one of ring, tree, "
           "recursive_halving_doubling, hierarchical, torus_dim_ordered, "
           "in_network, direct">,
    Option<"reduceScatter", "reduce-scatter", "bool", /*default=*/"true",
           "Fuse all_reduce + all_slice over the same axes into one "
           "reduce_scatter when no slower">,
    Option<"hierarchicalSpanning", "hierarchical-spanning", "bool",
           /*default=*/"false",
           "Run a collective whose group spans two fabrics hierarchically "
           "(reduce inside each inner group, exchange the shares across, "
           "gather inside) where it can, other collectives as `algorithm` "
           "says">
  ];
  let dependentDialects = ["::strata::tile::TileDialect",
                           "::mlir::shard::ShardDialect"];
}

def StrataPlanSearchPass : Pass<"strata-plan-search", "mlir::ModuleOp"> {
  let summary = "plan=auto: compile and price every parallel plan, apply the "
                "fastest that fits";
  let description = [{
    Enumerates every factorisation tp x pp x dp (and ep for
    mixture-of-experts models) of the devices of the module's system,
    compiles a copy of the module under each one with the passes
    strata-pipeline runs for an explicit plan (strata-parallelize,
    strata-partition, strata-stage, strata-route, strata-fuse, strata-tile,
    strata-place),
    prices it with the estimate, and applies the plan with the highest
    throughput (lowest latency when the program has no tokens) whose
    per-device footprint fits. The passes validate each plan, so a plan the
    explicit options would refuse (tp not dividing the heads, pp not
    dividing the layers, tp across fabrics, ...) is rejected with the same
    reason. Every plan tried, with its estimate or the reason it was
    rejected, is recorded in `strata.plan_search`, which the report prints
    as a ranked table. The training plan (microbatches, schedule, ZeRO,
    recomputation) is fixed by the options and shared by all candidates.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Entry function (default: the only public function)">,
    Option<"fuse", "fuse", "bool", /*default=*/"true",
           "Run strata-fuse on each candidate">,
    Option<"tile", "tile", "bool", /*default=*/"true",
           "Run strata-tile and strata-place on each candidate">,
    Option<"microbatches", "microbatches", "int64_t", /*default=*/"1",
           "Microbatches per step">,
    Option<"interleave", "interleave", "int64_t", /*default=*/"1",
           "Virtual pipeline stages per device">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"1f1b\"",
           "Pipeline schedule: gpipe or 1f1b">,
    Option<"zero", "zero", "int64_t", /*default=*/"0", "ZeRO stage 0-3">,
    Option<"recompute", "recompute", "std::string", /*default=*/"\"none\"",
           "Activation recomputation: none, selective or full">,
    Option<"overlapGradSync", "overlap-grad-sync", "bool", /*default=*/"true",
           "Overlap the gradient reduction with the backward pass">,
    Option<"collectiveAlgorithm", "collective-algorithm", "std::string",
           /*default=*/"\"auto\"",
           "Algorithm strata-route gives every collective (auto: the cost "
           "model's cheapest)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect",
                           "::strata::tile::TileDialect",
                           "::mlir::shard::ShardDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def StrataBindDimsPass : Pass<"strata-bind-dims", "mlir::ModuleOp"> {
  let summary = "Give the entry function's dynamic dims static sizes";
  let description = [{
    Exporters leave batch and sequence dims dynamic (`tensor<?x?x768xf32>`);
    the cost model needs sizes. `sizes` lists one size per `?` of the entry
    function's argument types, in argument order and, within an argument,
    dim order. The pass rewrites the signature to the static types, casts
    the arguments back to the old types for their uses, and lets the
    upstream canonicalization patterns (tensor.cast folding into consumers,
    `tensor.dim` of a static dim, static `tensor.empty`, linalg's static
    shape inference) carry the sizes through the body.

    ```
    strata-opt --strata-bind-dims="sizes=4,2048" bert.mlir
    ```

    A count of sizes that does not match the `?`s, or a size below 1, is an
    error naming the function and its dynamic dims.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Entry function (default: the only public function with a body)">,
    ListOption<"sizes", "sizes", "int64_t",
               "One size per dynamic dim of the entry's arguments, in order">
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

#endif // STRATA_TRANSFORMS_PASSES
