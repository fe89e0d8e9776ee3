//===- ProgramCost.cpp - A program through the cost model -----------------===//

#include "strata/Analysis/ProgramCost.h"
#include "ContextParallelCost.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "strata/Analysis/Collectives.h"
#include "strata/Cost/Parallelism.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Hardware/System.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <map>

using namespace mlir;

namespace strata::analysis {

/// Reads a tile.kernel's schedule into the cost core's KernelWork: the
/// spread's tiles and cores, the first loop's trips and pipelining, and
/// every op's work per loop iteration (or per tile, before and after the
/// loop), through TileCostOpInterface.
/// A copy that reads or writes an operand the kernel keeps resident in the
/// grid's SRAM moves it core to core over the network, re-laid from the
/// layout another kernel left it in (priced as uniform traffic over the
/// mean route), unless it is a multicast, which the network delivers
/// already.
static cost::KernelWork kernelWork(tile::KernelOp kernel,
                                   const OpCounts &counts,
                                   const cost::CostModel &model) {
  cost::KernelWork w;
  w.idealHomeBytes = counts.bytesRead + counts.bytesWritten;
  Block *phaseBlock = &kernel.getBody().front();
  double perTile = 1; // executions of the spread body
  kernel.getBody().walk([&](tile::SpreadOp spread) {
    if (w.tiles != 1 || w.cores != 1)
      return;
    w.tiles = double(spread.getNumIterations());
    w.cores = spread.getCores();
    if (std::optional<ArrayRef<int64_t>> grid = spread.getGrid()) {
      w.gridRows = (*grid)[0];
      w.gridCols = (*grid)[1];
      w.gridWaves = double(spread.getNumWaves());
    }
    phaseBlock = &spread.getBody().front();
    perTile = double(tile::getStaticExecutionCount(spread)) * w.tiles;
  });
  tile::LoopOp mainLoop;
  for (Operation &op : *phaseBlock)
    if (auto loop = dyn_cast<tile::LoopOp>(op)) {
      mainLoop = loop;
      break;
    }
  if (mainLoop) {
    w.trips = mainLoop.getTripCount();
    w.pipeline = mainLoop.getPipeline();
  }
  bool seenLoop = false;
  for (Operation &top : *phaseBlock) {
    bool inLoop = &top == mainLoop.getOperation();
    top.walk([&](tile::TileCostOpInterface op) {
      // Work per tile (or per loop iteration inside the main loop).
      double per = double(op.getExecutionCount()) / perTile;
      if (inLoop)
        per /= double(w.trips);
      switch (op.getCostKind()) {
      case tile::CostKind::Compute: {
        Type elt;
        if (op->getNumOperands() > 0)
          if (auto buf = dyn_cast<tile::BufType>(op->getOperand(0).getType()))
            elt = buf.getElementType();
        hw::DType dtype = hw::DType::f32;
        if (elt && elt.isBF16())
          dtype = hw::DType::bf16;
        else if (elt && elt.isF16())
          dtype = hw::DType::fp16;
        else if (elt && elt.isIntOrFloat() && elt.getIntOrFloatBitWidth() == 8)
          dtype = isa<FloatType>(elt) ? hw::DType::fp8 : hw::DType::int8;
        cost::UnitWork u{op.getComputeUnit().str(),
                         double(op.getFlopsPerExecution()) * per, dtype};
        (inLoop     ? w.loopCompute
         : seenLoop ? w.epilogueCompute
                    : w.prologueCompute)
            .push_back(u);
        break;
      }
      case tile::CostKind::Dma:
      case tile::CostKind::Noc: {
        auto [from, to] = op.getTransferLevels();
        cost::TransferWork t{from.str(), to.str(),
                             double(op.getBytesMoved()) * per};
        if (auto copy = dyn_cast<tile::CopyOp>(op.getOperation())) {
          auto residentArg = [&](Value v) {
            auto arg = dyn_cast<BlockArgument>(v);
            return arg && arg.getOwner() == &kernel.getBody().front() &&
                   kernel.isResident(arg.getArgNumber());
          };
          if (std::optional<int64_t> axis = copy.getMulticast()) {
            t.share = copy.getMulticastShare();
            t.axis = int(*axis);
            t.hops = (*copy->getParentOfType<tile::SpreadOp>().getGrid())
                         [*axis] - 1;
          } else if (residentArg(copy.getSource()) ||
                     residentArg(copy.getDest())) {
            t.overNetwork = true;
            t.redistribute = true;
            t.hops = std::max<int64_t>(
                1, int64_t(std::llround(model.meanGridHops())));
          }
        } else if (auto noc = dyn_cast<tile::NocCopyOp>(op.getOperation())) {
          t.overNetwork = true;
          t.hops = noc.getHops();
        } else if (auto red =
                       dyn_cast<tile::SplitReduceOp>(op.getOperation())) {
          t.overNetwork = true;
          t.hops = red.getHops();
        }
        (inLoop     ? w.loopTransfers
         : seenLoop ? w.epilogueTransfers
                    : w.prologueTransfers)
            .push_back(t);
        break;
      }
      case tile::CostKind::Fabric:
        break; // priced as collectives by the multi-device estimate
      }
    });
    if (inLoop)
      seenLoop = true;
  }
  return w;
}

/// Bytes per level of a lowered attention kernel, read off its copies: every
/// transfer of every spread (the split-KV combine included) at its
/// execution count, a loop carrying strata.visited_blocks scaled to the
/// K/V blocks a causal mask lets it visit. They go through
/// CostModel::kernel's level accounting (staging, cache, home), so a cache
/// turns re-reads of K and V into the unique bytes at home as for any
/// kernel; the time stays the attention formula's.
static std::vector<cost::LevelTraffic>
attentionKernelTraffic(tile::KernelOp kernel, const OpCounts &counts,
                       const cost::CostModel &model) {
  cost::KernelWork w;
  w.idealHomeBytes = counts.bytesRead + counts.bytesWritten;
  kernel.getBody().walk([&](tile::SpreadOp spread) {
    if (w.tiles == 1 && w.cores == 1) {
      w.tiles = double(spread.getNumIterations());
      w.cores = spread.getCores();
    }
  });
  kernel.getBody().walk([&](tile::TileCostOpInterface op) {
    if (op.getCostKind() != tile::CostKind::Dma &&
        op.getCostKind() != tile::CostKind::Noc)
      return;
    double bytes = double(op.getTotalBytesMoved());
    if (auto loop = op->getParentOfType<tile::LoopOp>())
      if (auto visited =
              loop->getAttrOfType<IntegerAttr>("strata.visited_blocks")) {
        auto spread = loop->getParentOfType<tile::SpreadOp>();
        ArrayRef<int64_t> trips = spread.getTripCounts();
        // Per head group, the query blocks (the spread's last dim) visit
        // `visited` blocks in all, not trips x query blocks; split-KV
        // reduced over the network deals them to its splits (the last dim,
        // the query blocks before it).
        double points = double(trips.back());
        bool splitOnNetwork = false;
        spread.walk([&](tile::SplitReduceOp) { splitOnNetwork = true; });
        if (splitOnNetwork && trips.size() >= 2)
          points *= double(trips[trips.size() - 2]);
        bytes *= double(visited.getInt()) /
                 (double(loop.getTripCount()) * points);
      }
    auto [from, to] = op.getTransferLevels();
    cost::TransferWork t{from.str(), to.str(),
                         bytes / std::max(1.0, w.tiles)};
    t.overNetwork = isa<tile::SplitReduceOp>(op.getOperation());
    w.prologueTransfers.push_back(t);
  });
  return model.kernel(w).traffic;
}

/// A collective on the topology: an upstream shard collective on the
/// devices its grid axes are laid on (Collectives.h), a routed
/// tile.collective on its fabric and group with its algorithm, a pipeline
/// transfer point to point on its fabric.
static std::optional<cost::Estimate>
estimateCollective(Operation *op, const OpCounts &c,
                   const cost::CostModel &model) {
  const hw::System &sys = model.system();
  // A pipeline-stage boundary: one point-to-point transfer on its fabric.
  if (isa<tile::SendOp, tile::RecvOp>(op)) {
    StringRef fabricName = isa<tile::SendOp>(op)
                               ? cast<tile::SendOp>(op).getFabric()
                               : cast<tile::RecvOp>(op).getFabric();
    for (int i = 0; i < int(sys.topology.size()); ++i)
      if (sys.topology[i].name == fabricName) {
        cost::CollectiveWork w;
        w.kind = cost::CollectiveKind::SendRecv;
        w.groupSize = 2;
        w.fabric = i;
        w.bytes = c.bytesRead;
        cost::Estimate e = model.collective(w).estimate;
        e.unit.clear();
        return e;
      }
    return std::nullopt;
  }
  // The ring's K/V hops of context parallelism are priced by the attention
  // they overlap with (ContextParallelCost.h).
  if (isContextRingExchange(op)) {
    cost::Estimate e;
    e.boundKind = cost::BoundKind::Memory;
    return e;
  }
  std::optional<cost::CollectiveWork> w =
      collectiveWork(op, c.bytesRead, c.bytesWritten, sys);
  if (!w)
    return std::nullopt;
  if (w->groupSize < 2) {
    cost::Estimate none;
    none.boundKind = cost::BoundKind::Link;
    none.boundBy = sys.topology[w->fabric].name;
    return none;
  }
  cost::Estimate e = model.collective(*w).estimate;
  // An algorithm the cost core cannot run on this group (hand-written IR)
  // is not modelled rather than infinitely slow.
  if (!std::isfinite(e.time))
    return std::nullopt;
  e.unit.clear();
  return e;
}

static std::optional<cost::Estimate>
estimateUnfused(Operation *op, const OpCounts &c, const cost::CostModel &model);

hw::DType pricedDType(Operation *op, const OpCounts &c,
                      const hw::System &sys) {
  bool matmulLike = c.cls == OpClass::Contraction ||
                    op->hasAttr(kFusedAttentionAttrName);
  if (c.dtype != hw::DType::f32 || !matmulLike)
    return c.dtype;
  auto module = op->getParentOfType<ModuleOp>();
  auto policy = module ? module->getAttrOfType<StringAttr>("strata.f32_matmul")
                       : StringAttr();
  if (!policy || policy.getValue() != "tf32")
    return c.dtype;
  const hw::ComputeUnit *unit =
      hw::SystemQuery(sys).bestUnit(hw::DType::tf32, hw::UnitKind::Matrix);
  return unit && unit->kind == hw::UnitKind::Matrix ? hw::DType::tf32
                                                    : c.dtype;
}

std::optional<cost::Estimate> estimateOp(Operation *op, const OpCounts &c,
                                         const cost::CostModel &model) {
  std::optional<cost::Estimate> e = estimateUnfused(op, c, model);
  // Fused work in the same kernel: an epilogue on the output tiles, a
  // prologue (a norm's row statistics) on the rows the kernel holds.
  for (StringRef name : {StringRef(kEpilogueAttrName),
                         StringRef(kPrologueAttrName)}) {
    auto fused = op->getAttrOfType<DictionaryAttr>(name);
    if (!e || !fused)
      continue;
    auto get = [&](StringRef key) {
      auto a = fused.getAs<IntegerAttr>(key);
      return a ? double(a.getInt()) : 0.0;
    };
    cost::VectorWork extra;
    extra.flops = get("flops");
    extra.transcendentals = get("transcendentals");
    extra.bytesRead = get("bytes_read");
    extra.bytesWritten = get("bytes_written");
    extra.networkBytesRead = get("resident_bytes_read");
    e = model.withEpilogue(*e, extra);
  }
  return e;
}

std::optional<cost::AttentionWork>
fusedAttentionWork(Operation *op, const OpCounts &c, const hw::System &sys) {
  auto group = op->getAttrOfType<DictionaryAttr>(kFusedAttentionAttrName);
  if (!group)
    return std::nullopt;
  auto get = [&](StringRef key) {
    auto a = group.getAs<IntegerAttr>(key);
    return a ? a.getInt() : int64_t(1);
  };
  cost::AttentionWork w;
  w.batch = get("batch");
  w.heads = get("heads");
  w.kvHeads = get("kv_heads");
  w.qLen = get("q_len");
  w.kvLen = get("kv_len");
  w.headDim = get("head_dim");
  auto causal = group.getAs<BoolAttr>("causal");
  w.causal = causal && causal.getValue();
  auto backward = group.getAs<BoolAttr>("backward");
  w.backward = backward && backward.getValue();
  if (auto window = group.getAs<IntegerAttr>("window"))
    w.window = window.getInt();
  w.dtype = pricedDType(op, c, sys);
  // A lowered group records the P·V dtype it was priced with (a kernel's
  // own dtype is its first operand's).
  if (auto dtype = group.getAs<StringAttr>("dtype"))
    w.dtype = hw::parseDType(dtype.getValue().str()).value_or(c.dtype);
  if (auto kv = group.getAs<StringAttr>("kv_dtype"))
    w.kvDType = hw::parseDType(kv.getValue().str());
  // A lowered kernel's operands (Q, K, V, then O) that strata-residency
  // keeps in the grid's SRAM.
  if (auto kernel = dyn_cast<tile::KernelOp>(op);
      kernel && kernel.getInputs().size() == 3 &&
      kernel.getOutputs().size() == 1) {
    w.qOnChip = kernel.isResident(0);
    w.kOnChip = kernel.isResident(1);
    w.vOnChip = kernel.isResident(2);
    w.oOnChip = kernel.isResident(3);
  }
  return w;
}

static std::optional<cost::Estimate>
estimateUnfused(Operation *op, const OpCounts &c,
                const cost::CostModel &model) {
  if (c.cls == OpClass::Collective)
    return estimateCollective(op, c, model);
  // Members of a fused group are priced with their root.
  if (op->hasAttr(kFusedIntoAttrName))
    return std::nullopt;
  if (std::optional<cost::AttentionWork> fused =
          fusedAttentionWork(op, c, model.system())) {
    const cost::AttentionWork &w = *fused;
    // Under context parallelism: the zigzag share of the whole sequence's
    // keys, and the ring's exposed hops.
    if (std::optional<ContextPlan> cp = contextPlanOf(op, model.system()))
      if (std::optional<cost::Estimate> e =
              estimateContextParallelAttention(w, *cp, model))
        return e;
    cost::Estimate e = model.attention(w);
    if (e.time > 0) {
      if (auto kernel = dyn_cast<tile::KernelOp>(op))
        e.traffic = attentionKernelTraffic(kernel, c, model);
      return e;
    }
  }
  if (auto kernel = dyn_cast<tile::KernelOp>(op)) {
    cost::Estimate e = model.kernel(kernelWork(kernel, c, model));
    e.flops = c.flops;
    e.transcendentals = c.transcendentals;
    return e;
  }
  if (hw::DType dtype = pricedDType(op, c, model.system()); dtype != c.dtype) {
    OpCounts policy = c;
    policy.dtype = dtype;
    return estimateOp(policy, model);
  }
  return estimateOp(c, model);
}

std::optional<cost::Estimate> estimateOp(const OpCounts &c,
                                         const cost::CostModel &model) {
  switch (c.cls) {
  case OpClass::Kernel:
  case OpClass::Collective:
    return std::nullopt; // needs the IR: estimateOp(Operation *, ...)
  case OpClass::Contraction: {
    cost::MatmulWork w;
    w.batch = c.batch;
    w.m = c.m;
    w.n = c.n;
    w.k = c.k;
    w.dtype = c.dtype;
    w.aBytes = c.inputBytes.size() > 0 ? c.inputBytes[0] : 0;
    w.bBytes = c.inputBytes.size() > 1 ? c.inputBytes[1] : 0;
    w.cBytes = c.bytesWritten;
    cost::Estimate e = model.matmul(w);
    // Integer formats (int8/int4 with fp16 scales, block-float mantissas)
    // meet bf16 activations: no integer MMA takes them.
    bool floatFormat = c.storedWeightDType &&
                       (*c.storedWeightDType == hw::DType::fp8 ||
                        *c.storedWeightDType == hw::DType::fp4);
    if (c.dequantFlops > 0 && c.storedWeightDType) {
      // A quantised weight is dequantised where the hardware can: a matrix
      // unit that computes the stored dtype reads the format natively (FP8
      // on Hopper, FP4 on Blackwell); otherwise the vector unit converts
      // each weight element once (one multiply by its group's scale), not
      // overlapped with the matrix unit.
      const hw::ComputeUnit *unit = hw::SystemQuery(model.system())
                                        .bestUnit(*c.storedWeightDType,
                                                  hw::UnitKind::Matrix);
      if (!floatFormat || !unit || unit->kind != hw::UnitKind::Matrix) {
        cost::VectorWork dequant;
        dequant.flops = c.dequantFlops;
        dequant.dtype = c.dtype;
        e = model.withEpilogue(e, dequant);
      }
    }
    return e;
  }
  case OpClass::Elementwise:
  case OpClass::Reduction: {
    cost::VectorWork w;
    w.elements = c.iterations;
    w.flops = c.flops;
    w.transcendentals = c.transcendentals;
    w.dtype = c.dtype;
    w.bytesRead = c.bytesRead;
    w.bytesWritten = c.bytesWritten;
    return model.vector(w);
  }
  case OpClass::DataMovement:
    if (c.bytesRead + c.bytesWritten == 0)
      return std::nullopt;
    return model.move({c.bytesRead, c.bytesWritten});
  }
  return std::nullopt;
}

std::string reportName(Operation *op) {
  Location loc = op->getLoc();
  // Prefer a NameLoc anywhere inside (fused or call-site locations).
  std::string name;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l)) {
      name = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!name.empty())
    return name;
  if (auto f = dyn_cast<FileLineColLoc>(loc))
    return (f.getFilename().getValue() + ":" + llvm::Twine(f.getLine()) + ":" +
            llvm::Twine(f.getColumn()))
        .str();
  return op->getName().getStringRef().str();
}

std::string sourceLocation(Operation *op) {
  std::string where;
  op->getLoc()->walk([&](Location l) {
    if (auto f = dyn_cast<FileLineColLoc>(l)) {
      where = (f.getFilename().getValue() + ":" + llvm::Twine(f.getLine()) +
               ":" + llvm::Twine(f.getColumn()))
                  .str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return where.empty() ? reportName(op) : where;
}

std::string blockOf(llvm::StringRef name) {
  if (name.contains(':')) // a file location, not a structured name
    return "(unnamed)";
  llvm::SmallVector<llvm::StringRef> parts;
  name.split(parts, '.');
  if (parts.size() >= 3)
    return (parts[0] + "." + parts[1]).str();
  return parts[0].str();
}

namespace {

/// The module's `strata.model` dictionary, if the workload generator left
/// one.
DictionaryAttr modelInfo(Operation *op) {
  auto module = op->getParentOfType<ModuleOp>();
  return module ? module->getAttrOfType<DictionaryAttr>("strata.model")
                : DictionaryAttr();
}

} // namespace

ProgramTotals priceProgram(const ProgramProfile &profile,
                           const cost::CostModel &model) {
  ProgramTotals t;
  for (const ProfileEntry &e : profile.entries())
    if (std::optional<cost::Estimate> est = estimateOp(e.op, e.counts, model)) {
      t.latency += est->time * e.times;
      t.flops += est->flops * e.times;
      t.energy += est->energy * e.times;
    }
  return t;
}

/// Where an op's time goes in a step of a parallel plan.
enum class StepPart {
  Microbatch, ///< once per microbatch (compute, tp/sp/ep collectives)
  GradSync,   ///< once per step: reductions over the data axes only
  Optimizer,  ///< once per step
  Boundary,   ///< pipeline-stage transfers, priced by the schedule
};

static StepPart stepPartOf(Operation *op, StringRef block) {
  if (isa<tile::SendOp, tile::RecvOp>(op))
    return StepPart::Boundary;
  if (block.starts_with("optimizer"))
    return StepPart::Optimizer;
  // Reductions over the data axes alone are gradient (or loss) reductions:
  // accumulated over the microbatches and synchronised once per step.
  // A routed collective keeps the axes it ran over (strata.axes), so it is
  // classified as the shard op it replaced.
  auto routed = dyn_cast<tile::CollectiveOp>(op);
  if (isa<shard::AllReduceOp, shard::ReduceScatterOp, shard::AllGatherOp>(op) ||
      (routed && routed.getKind() != tile::CollectiveKind::AllToAll)) {
    SmallVector<StringRef> axes = collectiveAxisNames(op);
    if (!axes.empty() &&
        llvm::all_of(axes, [](StringRef a) { return a == "dp" || a == "ep"; }))
      return StepPart::GradSync;
    // Under context parallelism the weight gradients are summed over dp x
    // cp (an all-reduce); cp's gathers and reduce-scatters are attention's
    // K/V and dK/dV, once per microbatch.
    bool allReduce = isa<shard::AllReduceOp>(op) ||
                     (routed && routed.getKind() == tile::CollectiveKind::AllReduce);
    if (allReduce && llvm::is_contained(axes, "cp") &&
        llvm::all_of(axes, [](StringRef a) {
          return a == "dp" || a == "ep" || a == "cp";
        }))
      return StepPart::GradSync;
  }
  return StepPart::Microbatch;
}

/// Composes one step of the module's parallel plan from the per-microbatch
/// program: the schedule (GPipe, 1F1B, interleaved) with its bubble and
/// stage transfers, the data-parallel gradient sync (ZeRO's volume, the part
/// the backward does not hide) and the optimizer. Null without a plan.
static std::optional<report::StepRow>
composeStep(FunctionOpInterface entry, const std::map<StepPart, double> &time,
            double backwardTime, double boundaryTime, double tokens,
            std::string &error) {
  auto module = entry->getParentOfType<ModuleOp>();
  auto plan = module ? module->getAttrOfType<DictionaryAttr>("strata.parallel")
                     : DictionaryAttr();
  if (!plan)
    return std::nullopt;
  auto getInt = [&](StringRef key, int64_t dflt) {
    auto a = plan.getAs<IntegerAttr>(key);
    return a ? a.getInt() : dflt;
  };
  auto getStr = [&](StringRef key, StringRef dflt) {
    auto a = plan.getAs<StringAttr>(key);
    return a ? a.getValue() : dflt;
  };
  auto at = [&](StepPart p) {
    auto it = time.find(p);
    return it == time.end() ? 0.0 : it->second;
  };
  report::StepRow st;
  st.stages = getInt("pp", 1);
  st.microbatches = getInt("microbatches", 1);
  st.virtualStages = getInt("interleave", 1);
  st.dataParallel = getInt("dp", 1);
  st.zero = int(getInt("zero", 0));
  cost::PipelineWork pw;
  pw.schedule = st.virtualStages > 1 ? cost::PipelineSchedule::Interleaved1F1B
                : getStr("schedule", "1f1b") == "gpipe"
                    ? cost::PipelineSchedule::GPipe
                    : cost::PipelineSchedule::OneFOneB;
  st.schedule = std::string(cost::toString(pw.schedule));
  pw.stages = st.stages;
  pw.microbatches = st.microbatches;
  pw.virtualStages = st.virtualStages;
  if (st.virtualStages > 1)
    if (auto stage = entry->getAttrOfType<DictionaryAttr>("strata.stage"))
      if (auto l = stage.getAs<IntegerAttr>("layers"))
        pw.stageLayers = l.getInt();
  // Each of the v chunks of a device runs 1/v of its layers.
  st.microbatchTime = at(StepPart::Microbatch);
  double backward = std::min(backwardTime, st.microbatchTime);
  pw.forward = (st.microbatchTime - backward) / double(st.virtualStages);
  pw.backward = backward / double(st.virtualStages);
  st.forwardTime = pw.forward;
  st.backwardTime = pw.backward;
  st.p2pPerCrossing = st.stages > 1 ? boundaryTime : 0;
  pw.p2p = st.p2pPerCrossing;
  llvm::Expected<cost::PipelineEstimate> pe = cost::estimatePipeline(pw);
  if (!pe) {
    error = llvm::toString(pe.takeError());
    return std::nullopt;
  }
  st.pipelineTime = pe->stepTime;
  st.bubbleTime = pe->bubbleTime;
  st.bubbleFraction = pe->bubbleFraction;
  st.p2pTime = pe->p2pTime;
  st.inFlightMicrobatches = std::max(pe->inFlightMicrobatches, 1.0);

  // The IR holds ZeRO-0's gradient all-reduces; other stages move the
  // volume ZeRO's paper gives relative to it (priced by the same fabric).
  double sync = at(StepPart::GradSync);
  if (sync > 0 && st.zero > 0) {
    cost::ZeroConfig base, chosen;
    base.parameters = chosen.parameters = 1;
    // The gradients are reduced over dp x cp (ZeRO shards over both, as
    // Megatron-LM's distributed optimizer does).
    base.dataParallel = chosen.dataParallel =
        std::max<int64_t>(st.dataParallel * getInt("cp", 1), 2);
    chosen.stage = st.zero;
    llvm::Expected<cost::ZeroCommunication> v0 = cost::zeroCommunication(base);
    llvm::Expected<cost::ZeroCommunication> vz =
        cost::zeroCommunication(chosen);
    if (!v0 || !vz) {
      error =
          !v0 ? llvm::toString(v0.takeError()) : llvm::toString(vz.takeError());
      if (v0)
        llvm::consumeError(vz.takeError());
      return std::nullopt;
    }
    sync *= vz->volumeBytes / v0->volumeBytes;
  }
  st.gradSyncTime = sync;
  st.gradSyncExposed = sync;
  auto overlap = plan.getAs<BoolAttr>("overlap_grad_sync");
  if (sync > 0 && overlap && overlap.getValue()) {
    // Bucketed per layer, overlapping the last microbatch's backward.
    int64_t buckets = 1;
    if (auto stage = entry->getAttrOfType<DictionaryAttr>("strata.stage"))
      if (auto l = stage.getAs<IntegerAttr>("layers"))
        buckets = std::max<int64_t>(l.getInt(), 1);
    if (auto model = module->getAttrOfType<DictionaryAttr>("strata.model");
        model && buckets == 1)
      if (auto l = model.getAs<IntegerAttr>("layers"))
        buckets = std::max<int64_t>(l.getInt(), 1);
    cost::OverlapWork ow{backward / double(st.virtualStages),
                         sync / double(buckets), buckets};
    llvm::Expected<cost::OverlapEstimate> oe = cost::overlapGradientSync(ow);
    if (!oe) {
      error = llvm::toString(oe.takeError());
      return std::nullopt;
    }
    st.gradSyncExposed = oe->exposed;
  }
  // ZeRO stage 1 and above shard the optimizer states over the data-parallel
  // ranks: each rank updates only its 1/dp share of the parameters.
  st.optimizerTime = at(StepPart::Optimizer);
  if (st.zero >= 1 && st.dataParallel > 1)
    st.optimizerTime /= double(st.dataParallel);
  st.stepTime = st.pipelineTime + st.gradSyncExposed + st.optimizerTime;
  st.tokensPerStep = tokens * double(st.microbatches);
  return st;
}

static double storageBytes(Type t);

static double tensorBytes(Type t) {
  return isa<ShapedType>(t) ? storageBytes(t) : 0;
}

/// Whether every backward function argument a saved stack reaches (through
/// extract_slice and a call) is one a fused attention backward recomputes
/// (strata.recomputed_by) and only its members read.
static bool savedOnlyForFusedAttention(Value stack) {
  bool reached = false;
  for (Operation *user : stack.getUsers()) {
    auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
    if (!slice)
      return false;
    for (OpOperand &use : slice->getUses()) {
      auto call = dyn_cast<CallOpInterface>(use.getOwner());
      auto fn = call ? dyn_cast_if_present<FunctionOpInterface>(
                           call.resolveCallable())
                     : FunctionOpInterface();
      unsigned i = use.getOperandNumber();
      if (!fn || fn.isExternal() || i >= fn.getNumArguments() ||
          !fn.getArgAttr(i, kRecomputedByAttrName))
        return false;
      for (Operation *reader : fn.getArgument(i).getUsers())
        if (!reader->hasAttr(kFusedIntoAttrName) &&
            !reader->hasAttr(kFusedAttentionAttrName))
          return false;
      reached = true;
    }
  }
  return reached;
}

/// What one microbatch's forward saves for the backward on this device, per
/// layer: the per-layer stacks the first layer loop of `entry` carries
/// (created empty, one layer inserted per iteration), the layer's input
/// (the hidden state the loop carries) and the attention core's saves
/// (softmax probabilities and scores, named by the backward layer's
/// arguments). `layers` is the loop's trip count (0: no such loop).
struct SavedActivations {
  cost::LayerActivations perLayer;
  int64_t layers = 0;
};

static SavedActivations savedActivations(FunctionOpInterface entry) {
  SavedActivations r;
  for (Operation &op : entry.getFunctionBody().getOps()) {
    auto loop = dyn_cast<scf::ForOp>(&op);
    if (!loop || loop.getInitArgs().empty())
      continue;
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (!lb || !ub || !step || *step != 1 || *ub <= *lb)
      continue;
    int64_t trips = *ub - *lb;
    double total = 0, core = 0;
    bool found = false;
    for (auto [k, init] : llvm::enumerate(loop.getInitArgs())) {
      auto type = dyn_cast<RankedTensorType>(init.getType());
      if (!init.getDefiningOp<tensor::EmptyOp>() || !type ||
          type.getRank() < 2 || type.getDimSize(0) != trips)
        continue;
      found = true;
      double bytes = tensorBytes(type) / double(trips);
      // What the backward layer calls this value.
      std::string name;
      for (Operation *user : loop.getResult(k).getUsers())
        if (auto slice = dyn_cast<tensor::ExtractSliceOp>(user))
          for (OpOperand &use : slice->getUses())
            if (auto call = dyn_cast<CallOpInterface>(use.getOwner()))
              if (auto fn = dyn_cast_if_present<FunctionOpInterface>(
                      call.resolveCallable())) {
                unsigned i = use.getOperandNumber();
                if (i < fn.getNumArguments())
                  if (auto loc = dyn_cast<NameLoc>(fn.getArgument(i).getLoc()))
                    name = loc.getName().str();
              }
      llvm::StringRef n(name);
      // A fused attention backward recomputes S and P per tile (its
      // strata.fused_attention record); nothing reads this stack then.
      if (savedOnlyForFusedAttention(loop.getResult(k)))
        continue;
      if (n.contains("probs") || n.contains("scores"))
        core += bytes;
      total += bytes;
    }
    if (!found)
      continue;
    r.layers = trips;
    r.perLayer.total = total;
    r.perLayer.attentionCore = core;
    // Each layer's input: the hidden state the loop carries (saved as a
    // stack of its own, so a part of `total`).
    r.perLayer.layerInput =
        std::min(tensorBytes(loop.getInitArgs()[0].getType()), total - core);
    return r;
  }
  return r;
}

/// Activation bytes of a training step on this device, as the recompute
/// policy implies (cost::recomputeCost; Korthikanti et al. 2022): each layer
/// keeps `storedBytes` for every microbatch the schedule has in flight
/// (none: everything the backward reads; selective: all but the attention
/// core's probabilities and scores; full: the layer's input), and one layer
/// at a time holds its working set while it is recomputed and
/// differentiated (`transientBytes`), or the head holds its output and an
/// input of that size (the logits), whichever is larger; the embedding runs
/// before anything is saved (and its gradient after everything is freed):
///   max(layers · stored · in-flight + max(transient, 2 · largest head
///       output), 2 · largest embedding output).
static double trainingActivations(FunctionOpInterface entry,
                                  llvm::StringRef policy, double inFlight,
                                  double largestOutput, double edgeOutput) {
  SavedActivations saved = savedActivations(entry);
  cost::Recompute r = policy == "full"        ? cost::Recompute::Full
                      : policy == "selective" ? cost::Recompute::Selective
                                              : cost::Recompute::None;
  llvm::Expected<cost::RecomputeCost> c =
      cost::recomputeCost(r, cost::LayerFlops{}, saved.perLayer);
  if (!c) {
    entry->emitWarning() << "cannot size the saved activations: "
                         << llvm::toString(c.takeError());
    return 2 * std::max(largestOutput, edgeOutput);
  }
  return std::max(double(saved.layers) * c->storedBytes *
                          std::max(inFlight, 1.0) +
                      std::max(c->transientBytes, 2 * largestOutput),
                  2 * edgeOutput);
}

/// Bytes of one stored element: sub-byte types pack (two i4 per byte, as
/// OpCounts and tile buffers count them), a complex number is its parts.
static double storedElementBytes(Type t) {
  if (t.isIndex())
    return 8;
  if (auto c = dyn_cast<ComplexType>(t))
    return 2 * storedElementBytes(c.getElementType());
  if (!t.isIntOrFloat())
    return 0;
  return double(t.getIntOrFloatBitWidth()) / 8;
}

/// Bytes of a global's or constant's type: a statically shaped tensor or
/// memref, or a (nested) LLVM array; 0 for anything else.
static double storageBytes(Type t) {
  if (auto shaped = dyn_cast<ShapedType>(t))
    return shaped.hasStaticShape()
               ? double(shaped.getNumElements()) *
                     storedElementBytes(shaped.getElementType())
               : 0;
  if (auto array = dyn_cast<LLVM::LLVMArrayType>(t))
    return double(array.getNumElements()) * storageBytes(array.getElementType());
  return storedElementBytes(t);
}

/// Bytes of the weights a program holds outside its arguments: the
/// ml_program, memref and llvm globals the entry and its callees refer
/// to (each once), and their dense constants that are not splats.
static double heldWeightBytes(FunctionOpInterface entry) {
  auto module = entry->getParentOfType<ModuleOp>();
  if (!module)
    return 0;
  SymbolTableCollection tables;
  // The functions the program runs: the entry and what it calls.
  SmallVector<FunctionOpInterface> work = {entry};
  llvm::DenseSet<Operation *> seen = {entry};
  llvm::DenseSet<Operation *> globals;
  double bytes = 0;
  while (!work.empty()) {
    FunctionOpInterface fn = work.pop_back_val();
    fn->walk([&](Operation *op) {
      if (auto call = dyn_cast<CallOpInterface>(op))
        if (auto callee = dyn_cast_if_present<FunctionOpInterface>(
                call.resolveCallableInTable(&tables)))
          if (seen.insert(callee).second)
            work.push_back(callee);
      // A dense constant that is not a splat is data held in memory (a
      // splat is a fill); a resource blob is an exporter's elided weight.
      if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
        auto elements = dyn_cast<ElementsAttr>(cst.getValue());
        auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
        if (elements && !(dense && dense.isSplat()))
          bytes += storageBytes(elements.getType());
        return;
      }
      // Globals the program loads or addresses, each counted once.
      for (NamedAttribute a : op->getAttrs()) {
        auto ref = dyn_cast<SymbolRefAttr>(a.getValue());
        if (!ref)
          continue;
        Operation *sym = tables.lookupNearestSymbolFrom(op, ref);
        if (!sym || !globals.insert(sym).second)
          continue;
        if (auto g = dyn_cast<ml_program::GlobalOp>(sym))
          bytes += storageBytes(g.getType());
        else if (auto g = dyn_cast<memref::GlobalOp>(sym))
          bytes += storageBytes(g.getType());
        else if (auto g = dyn_cast<LLVM::GlobalOp>(sym))
          bytes += storageBytes(g.getGlobalType());
      }
    });
  }
  return bytes;
}

report::CostReport estimateProgram(FunctionOpInterface entry,
                                   const cost::CostModel &model,
                                   const ProgramCostOptions &options) {
  const hw::System &sys = model.system();
  hw::SystemQuery query(sys);
  report::CostReport r;
  r.system = sys.name;
  r.chip = sys.chip.name;
  r.launch = cost::toString(model.launchMode()).str();
  r.launchCost = model.launchCost();
  r.devices = sys.devices;
  r.entry = entry.getName().str();
  if (DictionaryAttr info = modelInfo(entry)) {
    if (auto s = info.getAs<StringAttr>("name"))
      r.model = s.getValue().str();
    if (auto s = info.getAs<StringAttr>("mode"))
      r.mode = s.getValue().str();
    if (auto t = info.getAs<IntegerAttr>("tokens"))
      r.tokens = double(t.getInt());
    if (auto v = info.getAs<IntegerAttr>("vocab"))
      r.vocab = v.getInt();
    if (auto v = info.getAs<IntegerAttr>("padded_vocab"))
      r.paddedVocab = v.getInt();
    if (auto v = info.getAs<IntegerAttr>("parameters"))
      r.parameters = v.getInt();
    if (auto v = info.getAs<IntegerAttr>("active_parameters"))
      r.activeParameters = v.getInt();
    if (auto v = info.getAs<IntegerAttr>("batch"))
      r.batch = v.getInt();
    if (auto v = info.getAs<IntegerAttr>("seq"))
      r.seq = v.getInt();
    if (r.mode == "decode")
      if (auto v = info.getAs<IntegerAttr>("kv_len"))
        r.context = v.getInt();
  }
  for (const hw::MemoryLevel &l : sys.chip.memory)
    r.levels.push_back(l.name);
  // Bytes delivered over a grid chip's on-chip network, beside the levels.
  if (sys.chip.noc)
    r.levels.push_back(std::string(cost::kNetworkLevel));

  ProgramProfile profile(entry);
  const std::vector<ProfileEntry> &entries = profile.entries();
  r.lowered = llvm::any_of(entries, [](const ProfileEntry &e) {
    return isa<tile::KernelOp>(e.op);
  });

  // Price each distinct op once; roll up by report name, keeping the
  // program order of first appearance.
  std::vector<std::optional<cost::Estimate>> priced;
  priced.reserve(entries.size());
  std::map<std::string, size_t> rowIndex, blockIndex;
  llvm::StringMap<double> boundTime;
  std::map<std::string, llvm::StringMap<double>> blockBoundTime;
  std::map<hw::DType, double> flopsByDType;
  // Per row, the FLOPs of the op its dtype was taken from: a row that rolls
  // up several ops (an FP8 GEMM and its BF16 gradient accumulation) reports
  // the type of the one doing most of its FLOPs, so its utilisation is
  // against that unit's peak.
  std::vector<double> rowDTypeFlops;
  double largestOutput = 0, largestStepOutput = 0, largestEdgeOutput = 0;
  std::map<StepPart, double> partTime, partFlops, partEnergy;
  double backwardTime = 0, boundaryTime = 0;
  double firstStageTime = 0, lastStageTime = 0, layersTime = 0;
  double edgeStageFlops = 0, layersFlops = 0;
  double edgeStageEnergy = 0, layersEnergy = 0;
  double layerForwardTime = 0, layerForwardFlops = 0, layerForwardEnergy = 0;
  double attentionCoreTime = 0, attentionCoreFlops = 0,
         attentionCoreEnergy = 0;
  for (const ProfileEntry &e : entries) {
    std::optional<cost::Estimate> est = estimateOp(e.op, e.counts, model);
    priced.push_back(est);
    if (!est)
      continue;
    if (options.onOp)
      options.onOp(e.op, *est);
    largestOutput = std::max(largestOutput, e.counts.bytesWritten);
    std::string name = reportName(e.op);
    // Working sets of a training step outside the layers: the embedding
    // (and its gradient) runs while no activation is saved yet (or any
    // longer), the final norm, head and loss while all of them are. The
    // optimizer updates the model states in place (the footprint counts
    // them); the layers' own working set is sized by the recompute policy.
    {
      llvm::StringRef n(name);
      if (n.starts_with("embed") || n.starts_with("rope"))
        largestEdgeOutput = std::max(largestEdgeOutput, e.counts.bytesWritten);
      else if (!n.starts_with("optimizer") && !n.starts_with("layers"))
        largestStepOutput = std::max(largestStepOutput, e.counts.bytesWritten);
    }
    std::string opName = e.op->getName().getStringRef().str();
    // Routed collectives share one op name; the kind keeps an all_to_all
    // and an all_reduce at one location apart, as their shard ops were.
    if (auto routed = dyn_cast<tile::CollectiveOp>(e.op))
      opName += " " + tile::stringifyCollectiveKind(routed.getKind()).str();
    auto [it, inserted] =
        rowIndex.try_emplace(name + "\n" + opName, r.ops.size());
    if (inserted) {
      report::OpRow row;
      row.name = name;
      row.op = opName;
      row.block = blockOf(name);
      row.opClass = stringifyOpClass(e.counts.cls).str();
      row.bytes.assign(r.levels.size(), 0);
      row.boundBy = est->boundBy;
      r.ops.push_back(std::move(row));
    }
    report::OpRow &row = r.ops[it->second];
    row.count += e.times;
    row.flops += est->flops * e.times;
    row.transcendentals += est->transcendentals * e.times;
    row.time += est->time * e.times;
    row.energy += est->energy * e.times;
    // The floor of the unit the estimate ran it on (a matrix unit for
    // contractions and attention, the vector unit for the rest).
    const bool onMatrix = llvm::any_of(sys.chip.units, [&](const auto &u) {
      return u.name == est->unit && u.kind == hw::UnitKind::Matrix;
    });
    const double compulsory = e.counts.bytesRead + e.counts.bytesWritten;
    const double floor =
        model.rooflineBound(est->flops, e.counts.dtype, onMatrix, compulsory);
    row.bound += floor * e.times;
    if (options.remarkAboveFloor > 0 && floor > 0 && est->flops > 0 &&
        est->time > options.remarkAboveFloor * floor)
      e.op->emitRemark()
          << "'" << name << "' modelled at "
          << llvm::formatv("{0:F2}", est->time / floor).str()
          << "x its roofline floor: "
          << model.explainAboveFloor(*est, floor, compulsory);
    for (const cost::LevelTraffic &t : est->traffic)
      for (size_t i = 0; i < r.levels.size(); ++i)
        if (r.levels[i] == t.level)
          row.bytes[i] += t.bytes * e.times;
    boundTime[est->boundBy] += est->time * e.times;
    blockBoundTime[row.block][est->boundBy] += est->time * e.times;
    hw::DType dtype = pricedDType(e.op, e.counts, sys);
    if (e.counts.cls == OpClass::Contraction || e.counts.cls == OpClass::Kernel)
      flopsByDType[dtype] += est->flops * e.times;
    if (rowDTypeFlops.size() <= it->second)
      rowDTypeFlops.resize(it->second + 1, -1);
    if (est->flops * e.times > rowDTypeFlops[it->second]) {
      rowDTypeFlops[it->second] = est->flops * e.times;
      row.dtype = std::string(hw::toString(dtype));
    }

    auto [bit, newBlock] = blockIndex.try_emplace(row.block, r.blocks.size());
    if (newBlock)
      r.blocks.push_back({row.block});
    report::GroupRow &block = r.blocks[bit->second];
    block.ops += e.times;
    block.flops += est->flops * e.times;
    block.time += est->time * e.times;
    block.energy += est->energy * e.times;

    r.flops += est->flops * e.times;
    r.latency += est->time * e.times;
    r.energy += est->energy * e.times;

    StepPart part = stepPartOf(e.op, row.block);
    if (part == StepPart::Boundary) {
      boundaryTime = std::max(boundaryTime, est->time);
    } else {
      partTime[part] += est->time * e.times;
      partFlops[part] += est->flops * e.times;
      partEnergy[part] += est->energy * e.times;
      llvm::StringRef n(name);
      if (part == StepPart::Microbatch && n.contains(".bwd"))
        backwardTime += est->time * e.times;
      // What only the first stage (the embedding) or only the last (the
      // final norm, LM head and loss) runs, and the layers' own time.
      if (part == StepPart::Microbatch) {
        llvm::StringRef blk(row.block);
        if (blk == "embed") {
          firstStageTime += est->time * e.times;
          edgeStageFlops += est->flops * e.times;
          edgeStageEnergy += est->energy * e.times;
        } else if (blk == "final_norm" || blk == "lm_head" || blk == "loss") {
          lastStageTime += est->time * e.times;
          edgeStageFlops += est->flops * e.times;
          edgeStageEnergy += est->energy * e.times;
        } else if (n.starts_with("layers.")) {
          layersTime += est->time * e.times;
          layersFlops += est->flops * e.times;
          layersEnergy += est->energy * e.times;
        }
      }
      // What recomputation re-runs: every forward op of the layers (full),
      // or the attention core (selective, Megatron-LM).
      if (part == StepPart::Microbatch && n.starts_with("layers.") &&
          !n.contains(".bwd") && !n.contains(".saved")) {
        layerForwardTime += est->time * e.times;
        layerForwardFlops += est->flops * e.times;
        layerForwardEnergy += est->energy * e.times;
        if (e.op->hasAttr(kFusedAttentionAttrName) ||
            llvm::any_of(llvm::ArrayRef<llvm::StringRef>{"attn.qk_matmul",
                                                         "attn.mask",
                                                         "attn.softmax",
                                                         "attn.av_matmul"},
                         [&](llvm::StringRef k) { return n.contains(k); })) {
          attentionCoreTime += est->time * e.times;
          attentionCoreFlops += est->flops * e.times;
          attentionCoreEnergy += est->energy * e.times;
        }
      }
    }
  }
  r.programTime = r.latency;
  if (auto module = entry->getParentOfType<ModuleOp>())
    if (auto plans = module->getAttrOfType<ArrayAttr>("strata.plan_search"))
      for (auto row : plans.getAsRange<DictionaryAttr>()) {
        report::PlanRow p;
        auto i64 = [&](StringRef k) {
          auto a = row.getAs<IntegerAttr>(k);
          return a ? a.getInt() : int64_t(0);
        };
        auto f64 = [&](StringRef k) {
          auto a = row.getAs<FloatAttr>(k);
          return a ? a.getValueAsDouble() : 0.0;
        };
        p.tp = i64("tp");
        p.pp = i64("pp");
        p.dp = i64("dp");
        p.ep = i64("ep");
        if (auto st = row.getAs<StringAttr>("status"))
          p.status = st.getValue().str();
        if (auto fits = row.getAs<BoolAttr>("fits"))
          p.fits = fits.getValue();
        p.latency = f64("latency_s");
        p.tokensPerSecond = f64("tokens_per_s");
        p.mfu = f64("mfu");
        p.footprint = f64("footprint_bytes");
        r.plans.push_back(std::move(p));
      }
  // Activation recomputation (train only): the backward runs the forward
  // of each layer again (full) or its attention core (selective) first.
  double recomputeTime = 0, recomputeFlops = 0, recomputeEnergy = 0;
  if (auto module = entry->getParentOfType<ModuleOp>())
    if (auto plan = module->getAttrOfType<DictionaryAttr>("strata.parallel"))
      if (auto rc = plan.getAs<StringAttr>("recompute");
          rc && backwardTime > 0) {
        if (rc.getValue() == "full") {
          recomputeTime = layerForwardTime;
          recomputeFlops = layerForwardFlops;
          recomputeEnergy = layerForwardEnergy;
        } else if (rc.getValue() == "selective") {
          recomputeTime = attentionCoreTime;
          recomputeFlops = attentionCoreFlops;
          recomputeEnergy = attentionCoreEnergy;
        }
      }
  partTime[StepPart::Microbatch] += recomputeTime;
  partFlops[StepPart::Microbatch] += recomputeFlops;
  partEnergy[StepPart::Microbatch] += recomputeEnergy;
  // Recomputation's FLOPs in one microbatch of the average device: not
  // model FLOPs (MFU leaves them out, as Megatron-LM and PaLM define it).
  double recomputeMicrobatchFlops = recomputeFlops;
  backwardTime += recomputeTime;
  // The program holds the deepest stage's layers, the embedding and the
  // head; the pipeline moves at the pace of its slowest stage: the first
  // (its layers and the embedding), a middle one (the deepest), or the last
  // (its layers, the head and the loss). Nothing changes without stages.
  if (auto stage = entry->getAttrOfType<DictionaryAttr>("strata.stage")) {
    auto layersOf = [&](StringRef key, int64_t dflt) {
      auto a = stage.getAs<IntegerAttr>(key);
      return a ? a.getInt() : dflt;
    };
    int64_t deepest = layersOf("layers", 0);
    if (deepest > 0) {
      int64_t first = layersOf("first_layers", deepest);
      int64_t last = layersOf("last_layers", deepest);
      double perLayer = (layersTime + recomputeTime) / double(deepest);
      double held = perLayer * double(deepest) + firstStageTime + lastStageTime;
      double slowest = std::max({perLayer * double(first) + firstStageTime,
                                 perLayer * double(deepest),
                                 perLayer * double(last) + lastStageTime});
      double drop = held - slowest;
      double &mb = partTime[StepPart::Microbatch];
      if (drop > 0 && mb > 0) {
        // The backward keeps its share of what the slowest stage runs.
        backwardTime *= (mb - drop) / mb;
        mb -= drop;
      }
      // The FLOPs one device executes on average: 1/pp of the model's
      // layers (the program holds the deepest stage's) and of the
      // embedding and head (one stage each).
      DictionaryAttr info = modelInfo(entry);
      auto plan =
          entry->getParentOfType<ModuleOp>()->getAttrOfType<DictionaryAttr>(
              "strata.parallel");
      auto modelLayers = info ? info.getAs<IntegerAttr>("layers") : nullptr;
      auto pp = plan ? plan.getAs<IntegerAttr>("pp") : nullptr;
      if (modelLayers && pp && pp.getInt() > 1) {
        double perLayerFlops = (layersFlops + recomputeFlops) / double(deepest);
        double perLayerEnergy =
            (layersEnergy + recomputeEnergy) / double(deepest);
        double ppD = double(pp.getInt());
        double extraLayers =
            double(modelLayers.getInt()) / ppD - double(deepest);
        partFlops[StepPart::Microbatch] +=
            perLayerFlops * extraLayers - edgeStageFlops * (1 - 1 / ppD);
        recomputeMicrobatchFlops = recomputeFlops / double(deepest) *
                                   double(modelLayers.getInt()) / ppD;
        // Energy, like the FLOPs, of the average device.
        partEnergy[StepPart::Microbatch] +=
            perLayerEnergy * extraLayers - edgeStageEnergy * (1 - 1 / ppD);
      }
    }
  }
  std::string stepError;
  r.step = composeStep(entry, partTime, backwardTime, boundaryTime, r.tokens,
                       stepError);
  if (r.step)
    r.step->recomputeTime = recomputeTime;
  if (!stepError.empty())
    entry->emitWarning() << "cannot compose the plan's step: " << stepError;
  if (r.step) {
    // The summary is one step: m microbatches and the once-per-step work.
    double m = double(r.step->microbatches);
    r.latency = r.step->stepTime;
    r.flops = partFlops[StepPart::Microbatch] * m +
              partFlops[StepPart::GradSync] + partFlops[StepPart::Optimizer];
    r.recomputeFlops = recomputeMicrobatchFlops * m;
    r.energy = partEnergy[StepPart::Microbatch] * m +
               partEnergy[StepPart::GradSync] + partEnergy[StepPart::Optimizer];
    r.tokens = r.step->tokensPerStep;
    // The generated batch is one microbatch over all data-parallel ranks
    // (strata-translate --batch); a step runs m of them.
    if (r.batch > 0) {
      r.step->sequencesPerStep = r.batch * r.step->microbatches;
      r.step->sequencesPerDevice =
          r.batch / std::max<int64_t>(r.step->dataParallel, 1);
    }
  }

  auto largestShare = [](const llvm::StringMap<double> &m) {
    std::string best;
    double bestTime = -1;
    for (const auto &kv : m) // ties broken by name for determinism
      if (kv.second > bestTime ||
          (kv.second == bestTime && kv.first() < best)) {
        best = kv.first().str();
        bestTime = kv.second;
      }
    return best;
  };
  r.boundBy = largestShare(boundTime);
  for (report::GroupRow &b : r.blocks)
    b.boundBy = largestShare(blockBoundTime[b.name]);

  // Utilisation per row: FLOPs over time at the peak of the unit it ran on.
  for (report::OpRow &row : r.ops) {
    std::optional<double> peak;
    if (row.opClass == "contraction" || row.opClass == "kernel")
      peak =
          query.peakFlops(hw::parseDType(row.dtype).value_or(hw::DType::bf16));
    else
      peak = query.peakFlops(hw::DType::f32);
    row.utilization =
        (peak && row.time > 0) ? row.flops / (row.time * *peak) : 0;
  }

  // MFU against the datasheet peak of the dtype doing most matmul FLOPs.
  hw::DType mainType = hw::DType::bf16;
  double most = -1;
  for (auto &[t, f] : flopsByDType)
    if (f > most) {
      most = f;
      mainType = t;
    }
  r.peakDType = std::string(hw::toString(mainType));
  r.peakFlops = query.peakFlops(mainType).value_or(0);
  if (r.latency > 0) {
    r.mfu = r.peakFlops > 0 ? (r.flops - r.recomputeFlops) /
                                  (r.latency * r.peakFlops)
                            : 0;
    r.hfu = r.peakFlops > 0 ? r.flops / (r.latency * r.peakFlops) : 0;
    r.tokensPerSecond = r.tokens / r.latency;
  }
  if (r.tokens > 0)
    r.energyPerToken = r.energy / r.tokens;

  // Footprint: entry arguments by role, plus the transient activations.
  llvm::MapVector<llvm::StringRef, double> byRole;
  for (llvm::StringRef role :
       {"weight", "kv_cache", "optimizer_state", "grad", "input"})
    byRole[role] = 0;
  for (unsigned i = 0, e = entry.getNumArguments(); i < e; ++i) {
    auto role = entry.getArgAttrOfType<StringAttr>(i, kRoleAttrName);
    auto shaped = dyn_cast<ShapedType>(entry.getArgument(i).getType());
    if (!shaped || !shaped.hasStaticShape())
      continue;
    double b = storageBytes(shaped);
    byRole[role ? role.getValue() : llvm::StringRef("input")] += b;
  }
  // Weights the program keeps in globals or large constants (exports hold
  // parameters there rather than in arguments).
  byRole["weight"] += heldWeightBytes(entry);
  static const std::pair<llvm::StringRef, const char *> kRoleNames[] = {
      {"weight", "weights"},
      {"kv_cache", "kv_cache"},
      {"optimizer_state", "optimizer_state"},
      {"grad", "gradients"},
      {"input", "inputs"}};
  for (auto &[role, label] : kRoleNames)
    if (byRole[role] > 0)
      r.footprint.push_back({label, byRole[role]});
  if (backwardTime > 0) {
    // A training step (with or without a plan): gradients as large as the
    // weights, ZeRO's shares of the model states, and the activations the
    // forward saves for the backward, for every microbatch the schedule
    // keeps in flight.
    auto plan =
        entry->getParentOfType<ModuleOp>()->getAttrOfType<DictionaryAttr>(
            "strata.parallel");
    auto recompute = plan ? plan.getAs<StringAttr>("recompute") : StringAttr();
    // The device's model states as the cost core partitions them for the
    // ZeRO stage (bytes per "parameter" are the program's own totals).
    cost::ZeroConfig zero;
    zero.stage = r.step ? r.step->zero : 0;
    zero.parameters = 1;
    zero.dataParallel = r.step ? std::max<int64_t>(r.step->dataParallel, 1) : 1;
    zero.weightBytes = byRole["weight"];
    zero.gradientBytes = byRole["grad"] > 0 ? byRole["grad"] : byRole["weight"];
    zero.optimizerBytes = byRole["optimizer_state"];
    llvm::Expected<cost::DeviceFootprint> states = cost::zeroModelStates(zero);
    if (!states) {
      entry->emitWarning() << "cannot partition the model states: "
                           << llvm::toString(states.takeError());
      states = cost::DeviceFootprint{zero.weightBytes, zero.gradientBytes,
                                     zero.optimizerBytes};
    }
    r.footprint.clear();
    r.footprint.push_back({"weights", states->weights});
    r.footprint.push_back({"gradients", states->gradients});
    r.footprint.push_back({"optimizer_state", states->optimizer});
    if (byRole["input"] > 0)
      r.footprint.push_back({"inputs", byRole["input"]});
    r.footprint.push_back(
        {"activations",
         trainingActivations(
             entry, recompute ? recompute.getValue() : llvm::StringRef("none"),
             r.step ? r.step->inFlightMicrobatches : 1.0, largestStepOutput,
             largestEdgeOutput)});
  } else {
    // Transient activations, approximated as the largest op's output held
    // together with an input of the same size.
    r.footprint.push_back({"activations", 2 * largestOutput});
  }
  const hw::MemoryLevel &home = model.homeLevel();
  r.capacityLevel = home.name;
  r.capacity = double(query.aggregateCapacity(home));

  for (auto &[name, n] : profile.unmodelled()) {
    Operation *first = profile.firstUnmodelled(name);
    r.unpriced.push_back(
        {name.str(), n, first ? sourceLocation(first) : std::string()});
  }

  // Timeline: executions in program order, one after the other.
  std::vector<unsigned> seq =
      profile.sequence(options.maxTraceEvents, r.timelineTruncated);
  double now = 0;
  for (unsigned i : seq) {
    if (!priced[i])
      continue;
    Operation *op = entries[i].op;
    std::string name = reportName(op);
    report::TraceEvent ev{name, blockOf(name), now, priced[i]->time};
    ev.op = op->getName().getStringRef().str();
    if (isa<tile::SendOp, tile::RecvOp>(op))
      ev.track = report::TraceTrack::P2P;
    else if (isa<tile::CollectiveOp>(op) ||
             op->getName().getDialectNamespace() == "shard" ||
             priced[i]->boundKind == cost::BoundKind::Link)
      ev.track = report::TraceTrack::Collective;
    if (auto send = dyn_cast<tile::SendOp>(op))
      ev.fabric = send.getFabric().str();
    else if (auto recv = dyn_cast<tile::RecvOp>(op))
      ev.fabric = recv.getFabric().str();
    else if (auto routed = dyn_cast<tile::CollectiveOp>(op))
      ev.fabric = routed.getFabric().str();
    else if (ev.track == report::TraceTrack::Collective)
      ev.fabric = priced[i]->boundKind == cost::BoundKind::Link
                      ? priced[i]->boundBy
                      : std::string("fabric");
    r.timeline.push_back(std::move(ev));
    now += priced[i]->time;
  }
  return r;
}

} // namespace strata::analysis
