//===- Parallelize.cpp - Parallel plans as upstream shard annotations -----===//
//
// strata-parallelize validates a tp/dp/pp/ep/sp plan against the system and
// the model, lays the plan's axes on the system's fabrics, creates the
// `shard.grid` and annotates projections Megatron-style with `shard.shard`,
// so that upstream sharding-propagation and shard-partition produce the
// per-device program. docs/parallelism.md is the user-facing description.
//
//===----------------------------------------------------------------------===//

#include "ContextSplit.h"
#include "ProjectionMatch.h"

#include "strata/Analysis/OpCounts.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Cost/ContextParallel.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/System.h"
#include "strata/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>

namespace strata {
#define GEN_PASS_DEF_STRATAPARALLELIZEPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata::parallel;
namespace hw = strata::hw;

namespace {

constexpr llvm::StringLiteral kGridName = "grid";
constexpr llvm::StringLiteral kAxisFabricsAttr = "strata.axis_fabrics";
constexpr llvm::StringLiteral kAxisNamesAttr = "strata.axis_names";
constexpr llvm::StringLiteral kPlanAttr = "strata.parallel";
constexpr llvm::StringLiteral kProjectionAttr = "strata.projection";

/// One parallel dimension of the plan laid on the topology.
struct PlanAxis {
  std::string name; ///< tp, ep, dp or pp
  int64_t size = 1;
  /// The outermost fabric the axis's devices span (the slowest link its
  /// collectives cross), as an index into the topology.
  unsigned fabric = 0;
  /// Position in the shard.grid (outermost first); -1 when not a grid axis
  /// (pp, size-1 axes).
  int gridAxis = -1;
};

struct ParallelizePass
    : strata::impl::StrataParallelizePassBase<ParallelizePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult validateDegrees(ModuleOp module, const hw::System &sys,
                                const ModelDims &model);
  FailureOr<SmallVector<PlanAxis>> layAxes(ModuleOp module,
                                           const hw::System &sys);
  LogicalResult annotateFunction(FunctionOpInterface fn);
  LogicalResult annotateProjection(Projection &proj);
  LogicalResult annotateWeightGradient(linalg::LinalgOp op,
                                       MutableArrayRef<Projection> projections);

  /// Grid axes of each role, empty when the role has no grid axis.
  SmallVector<int16_t> tpAxes, epAxes, dpOuterAxes, cpAxes;
  /// The sequence length cp splits (from `strata.model`; 0 without cp).
  int64_t cpSeq = 0;
  /// Axes that split tokens in data parallelism: dp/ep then ep, in grid
  /// order.
  SmallVector<int16_t> dataAxes;
  FlatSymbolRefAttr gridRef;
  int64_t dpDegree = 1;
  int64_t modelExperts = 0;
  /// Attention heads and KV heads of the model (0 when not recorded).
  int64_t modelHeads = 0, modelKvHeads = 0;
  llvm::SmallPtrSet<Value, 8> annotatedArgs;
  /// The layout each annotated projection reads its weight in.
  llvm::DenseMap<Operation *, SmallVector<shard::GridAxesAttr>> weightSplits;
  /// The weight dimension tp splits, per weight: the entry function's
  /// argument the layers' weights are sliced from (or the function's own
  /// argument when no call passes it), so that the backward and the
  /// optimizer split each weight the way its forward projection did.
  llvm::DenseMap<Value, unsigned> weightSplitDim;
  /// Weights (keyed like weightSplitDim) of projections kept whole on every
  /// tp rank: the backward's projections on them are too.
  llvm::DenseSet<Value> replicatedWeights;
  /// Per function argument, the value `weightSplitDim` is keyed by.
  llvm::DenseMap<Value, Value> argRoots;
  Value weightRoot(Value weight) {
    Value v = weight;
    while (auto shardOp = v.getDefiningOp<shard::ShardOp>())
      v = shardOp.getSrc();
    auto it = argRoots.find(v);
    return it != argRoots.end() ? it->second : v;
  }
  /// Types of the activation arguments annotated so far: a returned value of
  /// one of these types is the layer's output, which the next call reads.
  llvm::DenseSet<Type> activationArgTypes;
};

LogicalResult ParallelizePass::validateDegrees(ModuleOp module,
                                               const hw::System &sys,
                                               const ModelDims &model) {
  auto fail = [&]() {
    return mlir::emitError(module.getLoc()) << "strata-parallelize: ";
  };
  for (auto [name, value] :
       {std::pair<StringRef, int64_t>{"tp", tp}, {"pp", pp}, {"ep", ep},
        {"cp", cp}})
    if (value < 1)
      return fail() << name << "=" << value << " must be at least 1";
  if (dp < 0)
    return fail() << "dp=" << int64_t(dp)
                  << " must be at least 1 (or 0 for automatic)";

  const int64_t devices = sys.devices;
  // Context parallelism takes its own devices: tp*cp*pp*dp of them.
  const int64_t modelDevices = int64_t(tp) * pp * cp;
  const std::string modelName =
      cp > 1 ? "tp*cp*pp = " + std::to_string(tp) + "*" + std::to_string(cp) +
                   "*" + std::to_string(pp)
             : "tp*pp = " + std::to_string(tp) + "*" + std::to_string(pp);
  if (dp == 0) {
    if (devices % modelDevices != 0)
      return fail() << modelName << " = " << modelDevices << " does not divide the "
                    << devices << " devices of system '" << sys.name << "'";
    dpDegree = devices / modelDevices;
  } else {
    dpDegree = dp;
    if (modelDevices * dp != devices)
      return fail() << (cp > 1 ? "tp*cp*pp*dp = " : "tp*pp*dp = ")
                    << int64_t(tp) << "*"
                    << (cp > 1 ? std::to_string(cp) + "*" : std::string())
                    << int64_t(pp) << "*" << int64_t(dp) << " = "
                    << modelDevices * dp << " does not match the " << devices
                    << " devices of system '" << sys.name << "'";
  }
  // Tensor parallelism all-reduces twice per layer: keep it on the fastest
  // fabric, inside one of its instances.
  if (tp > 1 && !sys.topology.empty() && axes.empty()) {
    const hw::Fabric &inner = sys.topology.front();
    if (inner.size() % tp != 0)
      return fail() << "tp=" << int64_t(tp)
                    << " does not fit in the innermost fabric '" << inner.name
                    << "' of system '" << sys.name << "' (" << inner.size()
                    << " devices per instance)";
  }
  // A dense model has no experts to spread: say that first.
  if (ep > 1 && model.experts && *model.experts == 0)
    return fail() << "ep=" << int64_t(ep) << " but the model has no experts";
  if (ep > 1 && dpDegree % ep != 0)
    return fail() << "ep=" << int64_t(ep) << " must divide dp=" << dpDegree
                  << " (experts are spread over data-parallel ranks)";
  // Replicating each expert over dp/ep groups puts a data axis next to the
  // expert axis; upstream MLIR 22's shard-partition then crashes on the
  // generator's MoE dispatch (a gather it clones with an unmapped operand).
  if (ep > 1 && dpDegree != ep)
    return fail() << "ep=" << int64_t(ep) << " with dp=" << dpDegree
                  << ": experts replicated over dp/ep = " << dpDegree / ep
                  << " groups are not supported yet (use ep=dp)";

  if (model.heads && *model.heads % tp != 0)
    return fail() << "tp=" << int64_t(tp) << " does not divide the model's "
                  << *model.heads << " attention heads";
  // One KV head (multi-query attention) is replicated over tp.
  if (model.kvHeads && *model.kvHeads != 1 && *model.kvHeads % tp != 0)
    return fail() << "tp=" << int64_t(tp) << " does not divide the model's "
                  << *model.kvHeads << " KV heads";
  // The dequantising projections (weight and scales read together) are not
  // matched as tp or ep splits, and their scales not re-typed after
  // partitioning: refused rather than priced unsplit.
  if (int64_t(tp) * pp * dpDegree > 1 && model.dequantisingWeights())
    return fail() << "tp=" << int64_t(tp) << " pp=" << int64_t(pp)
                  << " dp=" << dpDegree << " with " << model.weightFormat
                  << " weights: projections that dequantise their weights "
                     "are not partitioned yet (price them on one device, or "
                     "generate with --weight-dtype=dense or fp8)";
  // Stages may differ in depth (the deepest sets the pace, see
  // strata-stage).
  if (model.layers && pp > *model.layers)
    return fail() << "pp=" << int64_t(pp) << " exceeds the model's "
                  << *model.layers << " layers";
  if (ep > 1 && model.experts && *model.experts % ep != 0)
    return fail() << "ep=" << int64_t(ep) << " does not divide the model's "
                  << *model.experts << " experts";
  if (sp && tp == 1)
    return fail() << "sp=true needs tp > 1 (sequence parallelism splits "
                     "the sequence over the tensor-parallel group)";
  if (!llvm::is_contained({"p2p", "all_gather"}, cpComm))
    return fail() << "cp-comm='" << cpComm << "' must be p2p or all_gather";
  cpSeq = 0;
  if (cp > 1) {
    auto info = module->getAttrOfType<DictionaryAttr>(kModelAttr);
    auto seqAttr = info ? info.getAs<IntegerAttr>("seq") : IntegerAttr();
    auto modeAttr = info ? info.getAs<StringAttr>("mode") : StringAttr();
    if (!seqAttr)
      return fail() << "cp=" << int64_t(cp)
                    << " needs the model's sequence length (strata.model "
                       "seq, as the workload generator records it)";
    if (modeAttr && modeAttr.getValue() == "decode")
      return fail() << "cp=" << int64_t(cp)
                    << " splits a sequence; a decode step has no sequence "
                       "to split (generate --mode=prefill or train)";
    if (ep > 1)
      return fail() << "cp=" << int64_t(cp) << " with ep=" << int64_t(ep)
                    << " is not supported yet";
    // The causal zigzag split: 2*cp chunks, two per rank (the cost core's
    // rule, so the estimate and the plan agree on what divides).
    llvm::Expected<int64_t> perRank = strata::cost::contextTokensPerRank(
        {seqAttr.getInt(), int64_t(cp), /*causal=*/true});
    if (!perRank)
      return fail() << llvm::toString(perRank.takeError());
    cpSeq = seqAttr.getInt();
  }

  // The training plan: microbatches, the schedule, ZeRO and recomputation.
  if (microbatches < 1)
    return fail() << "microbatches=" << int64_t(microbatches)
                  << " must be at least 1";
  if (interleave < 1)
    return fail() << "interleave=" << int64_t(interleave)
                  << " must be at least 1";
  if (interleave > 1 && pp == 1)
    return fail() << "interleave=" << int64_t(interleave)
                  << " needs pp > 1 (virtual stages split pipeline stages)";
  if (interleave > 1 && microbatches % pp != 0)
    return fail() << "interleave=" << int64_t(interleave)
                  << " needs microbatches (" << int64_t(microbatches)
                  << ") to be a multiple of pp=" << int64_t(pp)
                  << ", as Megatron-LM's interleaved schedule does";
  // Stages and their model chunks may differ in depth (Llama 3 405B: 126
  // layers on 16 stages of 4 chunks); each chunk needs a layer.
  if (interleave > 1 && model.layers &&
      (*model.layers + pp - 1) / pp < interleave)
    return fail() << "interleave=" << int64_t(interleave) << " exceeds the "
                  << (*model.layers + pp - 1) / pp << " layers of a stage ("
                  << *model.layers << " layers on pp=" << int64_t(pp)
                  << "): each virtual stage needs at least one layer";
  if (zero < 0 || zero > 3)
    return fail() << "zero=" << int64_t(zero) << " must be 0, 1, 2 or 3";
  if (!llvm::is_contained({"none", "selective", "full"}, recompute))
    return fail() << "recompute='" << recompute
                  << "' must be none, selective or full";
  if (!llvm::is_contained({"gpipe", "1f1b"}, schedule))
    return fail() << "schedule='" << schedule << "' must be gpipe or 1f1b";
  if (interleave > 1 && schedule != "1f1b")
    return fail() << "interleave=" << int64_t(interleave)
                  << " is a 1f1b schedule, not " << schedule;

  return success();
}

FailureOr<SmallVector<PlanAxis>>
ParallelizePass::layAxes(ModuleOp module, const hw::System &sys) {
  auto fail = [&]() {
    return mlir::emitError(module.getLoc()) << "strata-parallelize: ";
  };
  // Innermost first: the order the automatic mapping fills fabrics in.
  SmallVector<PlanAxis> order = {
      {"tp", tp}, {"cp", cp}, {"ep", ep}, {"dp", dpDegree / ep}, {"pp", pp}};

  // An explicit mapping reorders the axes by the fabric each one asks for.
  llvm::StringMap<unsigned> requested;
  if (!axes.empty()) {
    SmallVector<StringRef> items;
    StringRef(axes).split(items, ',', -1, /*KeepEmpty=*/false);
    for (StringRef item : items) {
      auto [key, value] = item.split('=');
      key = key.trim();
      value = value.trim();
      if (!llvm::is_contained({"tp", "cp", "dp", "pp", "ep"}, key))
        return fail() << "axes: unknown axis '" << key
                      << "' (expected tp, cp, dp, pp or ep)";
      auto it = llvm::find_if(
          sys.topology, [&](const hw::Fabric &f) { return f.name == value; });
      if (it == sys.topology.end()) {
        InFlightDiagnostic diag = fail();
        diag << "axes: " << key << "=" << value << " names no fabric of '"
             << sys.name << "' (fabrics: ";
        llvm::interleaveComma(sys.topology, diag,
                              [&](const hw::Fabric &f) { diag << f.name; });
        return diag << ")";
      }
      requested[key] = it - sys.topology.begin();
    }
    // Unnamed axes keep their automatic place relative to the fabric they
    // would land on; a stable sort keeps tp before ep before dp before pp.
    llvm::stable_sort(order, [&](const PlanAxis &a, const PlanAxis &b) {
      auto rank = [&](const PlanAxis &x) -> unsigned {
        auto it = requested.find(x.name);
        return it == requested.end() ? 0 : it->second;
      };
      return rank(a) < rank(b);
    });
  }

  // Fill fabrics innermost first. `left` devices of the current fabric
  // instance are still free.
  unsigned fabric = 0;
  int64_t left = sys.topology.empty() ? sys.devices : sys.topology[0].size();
  SmallVector<PlanAxis> placed;
  for (PlanAxis axis : order) {
    if (axis.size == 1)
      continue;
    auto tooBig = [&]() {
      return fail() << axis.name << "=" << axis.size
                    << " does not fit on the topology of '" << sys.name
                    << "' once the axes inside it are laid";
    };
    auto nextFabric = [&]() {
      ++fabric;
      left = fabric < sys.topology.size() ? sys.topology[fabric].size() : 1;
    };
    if (sys.topology.empty())
      return tooBig();
    while (left == 1 && fabric + 1 < sys.topology.size())
      nextFabric();
    int64_t rest = axis.size;
    unsigned first = fabric;
    while (rest > 1) {
      if (fabric >= sys.topology.size())
        return tooBig();
      if (left == 1) {
        nextFabric();
        continue;
      }
      if (rest <= left) {
        if (left % rest != 0)
          return fail() << axis.name << "=" << axis.size
                        << " does not divide the " << left
                        << " devices left in fabric '"
                        << sys.topology[fabric].name << "'";
        left /= rest;
        rest = 1;
      } else {
        if (rest % left != 0)
          return fail() << axis.name << "=" << axis.size
                        << " cannot be laid on fabric '"
                        << sys.topology[fabric].name << "' (" << left
                        << " devices left)";
        rest /= left;
        left = 1;
      }
    }
    axis.fabric = fabric;
    if (axis.name == "tp" && first != axis.fabric)
      return fail() << "tp=" << int64_t(tp) << " spans fabrics '"
                    << sys.topology[first].name << "' and '"
                    << sys.topology[axis.fabric].name
                    << "'; tensor parallelism must stay inside one fabric";
    auto it = requested.find(axis.name);
    if (it != requested.end() && it->second != axis.fabric)
      return fail() << "axes: " << axis.name << "="
                    << sys.topology[it->second].name << " but " << axis.name
                    << "=" << axis.size << " reaches fabric '"
                    << sys.topology[axis.fabric].name
                    << "' once the axes inside it are laid";
    placed.push_back(axis);
  }
  for (auto &[key, index] : requested)
    if (llvm::none_of(placed, [&](const PlanAxis &a) { return a.name == key; }))
      return fail() << "axes: " << key << "=" << sys.topology[index].name
                    << " but " << key << " has degree 1";
  return placed;
}

/// Split axes per tensor dimension from per-loop grid axes and a map.
SmallVector<shard::GridAxesAttr>
splitAxesFor(MLIRContext *ctx, AffineMap map,
             ArrayRef<SmallVector<int16_t>> loopAxes) {
  SmallVector<shard::GridAxesAttr> split;
  for (AffineExpr expr : map.getResults()) {
    SmallVector<int16_t> axesOfDim;
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      axesOfDim = loopAxes[dim.getPosition()];
    llvm::sort(axesOfDim);
    split.push_back(DenseI16ArrayAttr::get(ctx, axesOfDim));
  }
  while (split.size() > 1 && split.back().empty())
    split.pop_back();
  if (split.empty())
    split.push_back(DenseI16ArrayAttr::get(ctx, {}));
  return split;
}

LogicalResult ParallelizePass::annotateProjection(Projection &proj) {
  linalg::LinalgOp op = proj.op;
  MLIRContext *ctx = op->getContext();
  unsigned actInput = 1 - proj.weightInput;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap actMap = maps[actInput];
  AffineMap wMap = maps[proj.weightInput];
  AffineMap outMap = maps[2];
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  unsigned numLoops = op.getNumLoops();

  auto positions = [](AffineMap map) {
    SmallVector<int64_t> pos;
    for (AffineExpr e : map.getResults())
      pos.push_back(isa<AffineDimExpr>(e) ? cast<AffineDimExpr>(e).getPosition()
                                          : -1);
    return pos;
  };
  SmallVector<int64_t> actPos = positions(actMap), wPos = positions(wMap),
                       outPos = positions(outMap);
  auto in = [](ArrayRef<int64_t> pos, int64_t d) {
    return llvm::is_contained(pos, d);
  };
  auto parallel = [&](int64_t d) {
    return iters[d] == utils::IteratorType::parallel;
  };

  // Expert (batch) loop: indexes activation, weight and output. In a
  // per-head projection that loop is the heads.
  std::optional<int64_t> expertLoop, headLoop;
  for (int64_t d : wPos)
    if (d >= 0 && parallel(d) && in(actPos, d) && in(outPos, d)) {
      (proj.headParallel ? headLoop : expertLoop) = d;
      break;
    }
  // Token loops: activation and output, not the weight, in activation order.
  SmallVector<int64_t> tokenLoops;
  for (int64_t d : actPos)
    if (d >= 0 && parallel(d) && !in(wPos, d) && in(outPos, d))
      tokenLoops.push_back(d);
  // The weight dimension tp splits: a per-head projection's head loop,
  // else by the Megatron pairing.
  std::optional<int64_t> splitLoop;
  unsigned splitWeightDim = 0;
  if (headLoop) {
    splitLoop = *headLoop;
    splitWeightDim = llvm::find(wPos, *headLoop) - wPos.begin();
  }
  for (auto [i, d] : llvm::enumerate(wPos)) {
    if (splitLoop)
      break;
    if (d < 0 || (expertLoop && d == *expertLoop))
      continue;
    bool candidate = proj.splitWeightDim ? i == *proj.splitWeightDim
                     : proj.rowParallel
                         ? !parallel(d) && in(actPos, d)
                         : parallel(d) && in(outPos, d) && !in(actPos, d);
    if (candidate) {
      splitLoop = d;
      splitWeightDim = i;
      break;
    }
  }
  // Multi-query attention under tensor parallelism (PaLM: one KV head,
  // 12-way model parallelism): the single KV-head dimension cannot carry
  // the split. The query heads split on their group dimension, the one
  // after it ([hidden, kv, group, head_dim]); a projection without one (K,
  // V) is replicated on every tp rank, as Megatron-LM and PaLM replicate
  // them (their input and weight gradients are then reduced over tp).
  bool replicatedKV = false;
  if (splitLoop && !proj.splitWeightDim && tp > 1 && modelKvHeads == 1 &&
      modelHeads > 1 && op.getStaticLoopRanges()[*splitLoop] == 1) {
    unsigned next = splitWeightDim + 1;
    int64_t d = next < wPos.size() ? wPos[next] : -1;
    if (d >= 0 && op.getStaticLoopRanges()[d] == modelHeads) {
      splitLoop = d;
      splitWeightDim = next;
    } else {
      replicatedKV = true;
    }
  }

  SmallVector<SmallVector<int16_t>> loopAxes(numLoops);
  bool expertSplit = expertLoop && !epAxes.empty();
  if (expertSplit)
    loopAxes[*expertLoop].append(epAxes);
  if (!tokenLoops.empty())
    loopAxes[tokenLoops.front()].append(expertSplit ? dpOuterAxes : dataAxes);
  // Context parallelism splits the sequence ([batch, seq, ...]: the second
  // token loop) of every projection: they are token-local.
  if (!cpAxes.empty()) {
    if (tokenLoops.size() < 2)
      return mlir::emitError(op->getLoc())
             << "strata-parallelize: cp=" << int64_t(cp)
             << " needs this projection's activation as [batch, seq, ...] "
                "(a separate sequence dimension to split)";
    int64_t size = op.getStaticLoopRanges()[tokenLoops[1]];
    if (ShapedType::isDynamic(size) || size % cp != 0)
      return mlir::emitError(op->getLoc())
             << "strata-parallelize: cp=" << int64_t(cp)
             << " does not divide the sequence (" << size
             << ") of this projection";
    loopAxes[tokenLoops[1]].append(cpAxes);
  }
  // The MoE router ([hidden, experts], no expert loop) stays whole on every
  // tensor-parallel rank, as in Megatron-LM: top-k needs every expert's
  // score of a token, and the weight is tiny.
  bool router = !expertLoop && splitLoop && modelExperts > 0 &&
                op.getStaticLoopRanges()[*splitLoop] == modelExperts;
  if (!tpAxes.empty() && !router && !replicatedKV && !proj.replicated) {
    if (!splitLoop)
      return mlir::emitError(op->getLoc())
             << "strata-parallelize: cannot find the "
             << (proj.rowParallel ? "input (reduction)" : "output")
             << " dimension of this projection's weight to split for tp";
    int64_t size = op.getStaticLoopRanges()[*splitLoop];
    if (ShapedType::isDynamic(size) || size % tp != 0) {
      // The LM head's vocabulary: say how Megatron-LM makes it divisible.
      int64_t vocab = 0;
      if (auto module = op->getParentOfType<ModuleOp>())
        if (auto info = module->getAttrOfType<DictionaryAttr>("strata.model")) {
          auto v = info.getAs<IntegerAttr>("padded_vocab");
          if (!v)
            v = info.getAs<IntegerAttr>("vocab");
          vocab = v ? v.getInt() : 0;
        }
      if (vocab > 0 && size == vocab)
        return mlir::emitError(op->getLoc())
               << "strata-parallelize: tp=" << int64_t(tp)
               << " does not divide the vocabulary (" << size
               << ") of this projection; generate the model with --pad-vocab="
               << 128 * int64_t(tp)
               << " to pad it to a multiple of 128 x tp as Megatron-LM does";
      return mlir::emitError(op->getLoc())
             << "strata-parallelize: tp=" << int64_t(tp)
             << " does not divide dimension " << splitWeightDim << " (size "
             << size << ") of the weight of this "
             << (proj.rowParallel ? "row" : "column")
             << "-parallel projection (heads, for a [hidden, heads, head_dim] "
                "weight)";
    }
    loopAxes[*splitLoop].append(tpAxes);
  }
  // The data-parallel split must divide the token dimension too.
  if (!tokenLoops.empty() && !loopAxes[tokenLoops.front()].empty()) {
    int64_t degree = expertSplit ? dpDegree / ep : dpDegree;
    int64_t size = op.getStaticLoopRanges()[tokenLoops.front()];
    // The first token loop is the batch of sequences (a [batch, seq, ...]
    // activation) or, for an expert projection, the token slots per expert.
    if (!ShapedType::isDynamic(size) && size % degree != 0) {
      auto diag = mlir::emitError(op->getLoc())
                  << "strata-parallelize: dp=" << degree << " does not divide ";
      if (expertLoop)
        diag << "the " << size
             << " token slots per expert of this expert projection (the "
                "batch's tokens x top-k spread over the experts); split the "
                "experts over the devices with ep";
      else
        diag << "the batch (" << size
             << " sequences) of this projection; use a batch that is a "
                "multiple of dp";
      return diag;
    }
  }
  if (expertSplit) {
    int64_t size = op.getStaticLoopRanges()[*expertLoop];
    if (!ShapedType::isDynamic(size) && size % ep != 0)
      return mlir::emitError(op->getLoc())
             << "strata-parallelize: ep=" << int64_t(ep)
             << " does not divide the " << size
             << " experts of this projection";
  }

  OpBuilder b(op);
  Location loc = op->getLoc();
  auto shardingOf = [&](AffineMap map,
                        ArrayRef<SmallVector<int16_t>> perLoop) -> Value {
    return shard::ShardingOp::create(b, loc, gridRef,
                                     splitAxesFor(ctx, map, perLoop));
  };

  // Weight: a def-side annotation on the argument (the per-device shard is
  // the function's parameter) and a use-side one on the projection.
  Value weight = op.getDpsInputs()[proj.weightInput];
  if (auto arg = dyn_cast<BlockArgument>(weight);
      arg && annotatedArgs.insert(arg).second) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(arg.getOwner());
    Value s = shardingOf(wMap, loopAxes);
    auto annotated = shard::ShardOp::create(b, loc, arg, s);
    arg.replaceAllUsesExcept(annotated, annotated);
    weight = annotated;
  }
  {
    Value s = shardingOf(wMap, loopAxes);
    auto use = shard::ShardOp::create(b, loc, weight, s,
                                      /*annotate_for_users=*/true);
    op->setOperand(op.getDpsInputOperand(proj.weightInput)->getOperandNumber(),
                   use);
  }

  // Activation: arguments arrive data-parallel (tokens split over every
  // data axis, and over tp too under sequence parallelism); the projection
  // reads the split it needs, and upstream reshards (all_gather for SP,
  // all_to_all for the expert dispatch).
  Value act = op.getDpsInputs()[actInput];
  SmallVector<SmallVector<int16_t>> argAxes(numLoops);
  if (!tokenLoops.empty()) {
    argAxes[tokenLoops.front()].append(dataAxes);
    if (!cpAxes.empty() && tokenLoops.size() > 1)
      argAxes[tokenLoops[1]].append(cpAxes);
    // Expert projections run on the dispatched tokens ([experts, capacity,
    // ...]): Megatron-SP gathers the sequence before the dispatch, so their
    // operands carry no sequence split.
    if (sp && !expertLoop)
      argAxes[tokenLoops.back()].append(tpAxes);
  }
  bool argSplit = llvm::any_of(argAxes, [](auto &a) { return !a.empty(); });
  if (auto arg = dyn_cast<BlockArgument>(act);
      arg && argSplit && annotatedArgs.insert(arg).second) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(arg.getOwner());
    auto annotated =
        shard::ShardOp::create(b, loc, arg, shardingOf(actMap, argAxes));
    arg.replaceAllUsesExcept(annotated, annotated);
    act = annotated;
    activationArgTypes.insert(arg.getType());
  }
  {
    auto use = shard::ShardOp::create(b, loc, act, shardingOf(actMap, loopAxes),
                                      /*annotate_for_users=*/true);
    op->setOperand(op.getDpsInputOperand(actInput)->getOperandNumber(), use);
  }

  // Result, in the op's own layout (row-parallel: reduced over tp, which
  // upstream partitions as an all_reduce).
  b.setInsertionPointAfter(op);
  Value result = op->getResult(0);
  auto resultAnnotation =
      shard::ShardOp::create(b, loc, result, shardingOf(outMap, loopAxes));
  result.replaceAllUsesExcept(resultAnnotation, resultAnnotation);
  auto sameLayout = [&](ArrayRef<SmallVector<int16_t>> a,
                        ArrayRef<SmallVector<int16_t>> c) {
    return splitAxesFor(ctx, outMap, a) == splitAxesFor(ctx, outMap, c);
  };

  // Under sequence parallelism every user of a row-parallel output reads it
  // split over tp on its sequence dimension (Megatron-SP's reduce-scatter;
  // upstream emits all_reduce + all_slice, see docs/parallelism.md).
  // Returned projection outputs leave in the layout arguments arrive in, so
  // that a layer function composes with itself: for expert projections this
  // is the combine all_to_all back to token order.
  bool spOut = proj.rowParallel && sp && !tokenLoops.empty() && !expertLoop;
  bool returnOut = argSplit && !sameLayout(argAxes, loopAxes);
  if (spOut || returnOut) {
    for (OpOperand &use :
         llvm::make_early_inc_range(resultAnnotation->getUses())) {
      Operation *user = use.getOwner();
      // Only the layer's output composes with the next call; other
      // returned values (activations saved for the backward pass) stay in
      // the layout they are computed in rather than being gathered.
      bool isReturn = user->hasTrait<OpTrait::ReturnLike>() &&
                      activationArgTypes.contains(result.getType());
      // The accumulator of another contraction (the backward's dX of up_proj
      // adds to gate_proj's) is read in the layout it is computed in.
      auto dps = dyn_cast<DestinationStyleOpInterface>(user);
      if (dps && dps.isDpsInit(&use))
        continue;
      if (!spOut && !isReturn)
        continue;
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(user);
      auto out = shard::ShardOp::create(b, loc, resultAnnotation,
                                        shardingOf(outMap, argAxes),
                                        /*annotate_for_users=*/true);
      use.set(out);
    }
  }

  weightSplits[op.getOperation()] = splitAxesFor(ctx, wMap, loopAxes);
  if (splitLoop && !replicatedKV && !proj.replicated)
    if (Value root = weightRoot(op.getDpsInputs()[proj.weightInput]))
      weightSplitDim.try_emplace(root, splitWeightDim);

  StringRef kind = proj.rowParallel ? "row" : "column";
  if (expertSplit)
    kind = proj.rowParallel ? "expert_row" : "expert_column";
  if (proj.replicated)
    kind = "replicated";
  if (proj.headParallel)
    kind = "head";
  op->setAttr(kProjectionAttr, StringAttr::get(ctx, kind));
  return success();
}


/// A weight gradient (`dW = X^T dY`, a norm's `sum dY * x_hat`) is computed
/// in its weight's layout: split over tp like the weight (no
/// communication, Megatron's column/row-parallel backward), with the token
/// reduction split over the data axes, which upstream completes with the
/// data-parallel all_reduce the step prices as gradient sync. Without an
/// annotation upstream would replicate it, computing every device's whole
/// gradient from all-gathered activations.
LogicalResult ParallelizePass::annotateWeightGradient(
    linalg::LinalgOp op, MutableArrayRef<Projection> projections) {
  MLIRContext *ctx = op->getContext();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap outMap = maps.back();
  unsigned numLoops = op.getNumLoops();
  SmallVector<SmallVector<int16_t>> loopAxes(numLoops);

  // The weight's tp layout, from the projection computing the input
  // gradient from the same output gradient (dX = dY W^T shares dY). By
  // shape: in FP8 training the weight is FP8 and its gradient BF16.
  auto shape = [](Type t) {
    auto r = dyn_cast<RankedTensorType>(t);
    return r ? r.getShape() : ArrayRef<int64_t>();
  };
  ArrayRef<int64_t> gradShape = shape(op->getResult(0).getType());
  bool paired = false;
  for (Projection &proj : projections) {
    if (shape(proj.op->getOperand(proj.weightInput).getType()) != gradShape &&
        shape(unannotated(proj.op->getOperand(proj.weightInput)).getType()) !=
            gradShape)
      continue;
    Value dy = unannotated(proj.op.getDpsInputs()[1 - proj.weightInput]);
    if (llvm::none_of(op.getDpsInputs(),
                      [&](Value in) { return unannotated(in) == dy; }))
      continue;
    auto it = weightSplits.find(proj.op.getOperation());
    if (it == weightSplits.end())
      continue;
    for (auto [dim, axes] : llvm::enumerate(it->second))
      if (auto d = dyn_cast<AffineDimExpr>(outMap.getResult(dim)))
        loopAxes[d.getPosition()].append(axes.asArrayRef().begin(),
                                         axes.asArrayRef().end());
    paired = true;
    break;
  }
  // A gradient with no projection to take a tp layout from (a bias, a
  // norm's scale) is left to propagation, which computes it in the layout
  // its inputs arrive in: replicating it would all-gather them over tp.
  if (!paired && !tpAxes.empty())
    return success();
  // Tokens: the reduction loop indexing the leading (batch) dimension of
  // the first input, split like the activations are.
  if (!dataAxes.empty() && !maps.empty() && maps[0].getNumResults() > 0)
    if (auto d = dyn_cast<AffineDimExpr>(maps[0].getResult(0))) {
      unsigned loop = d.getPosition();
      int64_t size = op.getStaticLoopRanges()[loop];
      if (op.getIteratorTypesArray()[loop] == utils::IteratorType::reduction &&
          !ShapedType::isDynamic(size) && size % dpDegree == 0)
        loopAxes[loop].append(dataAxes);
    }
  // ... and over cp on the sequence (the second dimension of the first
  // input): the weight gradients are reduced over dp x cp.
  if (!cpAxes.empty() && !maps.empty() && maps[0].getNumResults() > 1)
    if (auto d = dyn_cast<AffineDimExpr>(maps[0].getResult(1))) {
      unsigned loop = d.getPosition();
      int64_t size = op.getStaticLoopRanges()[loop];
      if (op.getIteratorTypesArray()[loop] == utils::IteratorType::reduction &&
          !ShapedType::isDynamic(size) && size % cp == 0)
        loopAxes[loop].append(cpAxes);
    }
  if (llvm::all_of(loopAxes, [](auto &a) { return a.empty(); }))
    return success();

  OpBuilder b(op);
  Location loc = op->getLoc();
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    Value s = shard::ShardingOp::create(b, loc, gridRef,
                                        splitAxesFor(ctx, map, loopAxes));
    input->set(shard::ShardOp::create(b, loc, input->get(), s,
                                      /*annotate_for_users=*/true));
  }
  b.setInsertionPointAfter(op);
  Value result = op->getResult(0);
  Value s = shard::ShardingOp::create(b, loc, gridRef,
                                      splitAxesFor(ctx, outMap, loopAxes));
  auto annotation = shard::ShardOp::create(b, loc, result, s);
  result.replaceAllUsesExcept(annotation, annotation);
  op->setAttr(kProjectionAttr, StringAttr::get(ctx, "weight_gradient"));
  return success();
}

LogicalResult ParallelizePass::annotateFunction(FunctionOpInterface fn) {
  if (fn.isExternal())
    return success();
  Region &body = fn.getFunctionBody();
  bool hasRoles = false;
  for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
    hasRoles |= static_cast<bool>(fn.getArgAttr(i, kRoleAttr));

  // Projections in program order; a projection reading a value derived from
  // a column-parallel output is row-parallel (Megatron's pairs: QKV -> O,
  // gate/up -> down).
  SmallVector<Projection> projections;
  llvm::SmallPtrSet<Value, 32> tpSplit;
  for (Operation &op : body.getOps()) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(&op);
    std::optional<unsigned> w =
        linalgOp ? findWeightInput(linalgOp, fn, hasRoles) : std::nullopt;
    if (w) {
      Projection proj{linalgOp, *w, false, std::nullopt};
      Value root = weightRoot(linalgOp.getDpsInputs()[*w]);
      if (op.hasAttr(strata::analysis::kTpReplicatedAttrName) ||
          replicatedWeights.contains(root)) {
        replicatedWeights.insert(root);
        proj.replicated = true;
        projections.push_back(proj);
        continue;
      }
      proj.rowParallel = tpSplit.contains(linalgOp.getDpsInputs()[1 - *w]);
      if (proj.rowParallel &&
          op.hasAttr(strata::analysis::kHeadParallelAttrName)) {
        proj.rowParallel = false;
        proj.headParallel = true;
      }
      // A weight an earlier projection split (the forward's, when this is
      // the backward's input gradient dX = dY W^T) is split the same way:
      // row-parallel when that dimension is reduced here.
      auto known = weightSplitDim.find(weightRoot(linalgOp.getDpsInputs()[*w]));
      if (known != weightSplitDim.end()) {
        AffineExpr e =
            linalgOp.getIndexingMapsArray()[*w].getResult(known->second);
        if (auto d = dyn_cast<AffineDimExpr>(e)) {
          proj.splitWeightDim = known->second;
          proj.rowParallel =
              linalgOp.getIteratorTypesArray()[d.getPosition()] ==
              utils::IteratorType::reduction;
        }
      }
      if (!proj.rowParallel)
        tpSplit.insert(op.getResult(0));
      projections.push_back(proj);
      continue;
    }
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return tpSplit.contains(v); }))
      for (Value r : op.getResults())
        tpSplit.insert(r);
  }
  if (projections.empty())
    return success();

  bool ok = true;
  for (Operation &op : body.getOps()) {
    std::string reason = unpartitionableReason(&op);
    if (reason.empty())
      continue;
    mlir::emitError(op.getLoc())
        << "strata-parallelize: upstream shard-partition cannot "
           "partition '"
        << op.getName() << "' in @" << fn.getName() << ": " << reason;
    ok = false;
  }
  if (!ok)
    return failure();

  // Under sequence parallelism the residual stream between layers is split
  // over the sequence too (Megatron-SP): a hidden-state argument ([tokens,
  // seq, hidden], the type a projection reads) arrives split over the data
  // axes and tp, and a returned value of that type leaves that way, so the
  // layer composes with itself. Upstream then all-gathers the sequence in
  // front of the column-parallel projections and reduce-scatters after the
  // row-parallel ones. (Without sp propagation finds the data split alone.)
  // Without a data axis (dp = 1) the batch dimension is whole.
  if (sp && !tpAxes.empty()) {
    MLIRContext *ctx = fn->getContext();
    // The residual stream is [batch, seq, hidden]: with the model's hidden
    // size known, other rank-3 activations (the router's logits read by its
    // backward) are not split.
    int64_t hidden = 0;
    if (auto module = fn->getParentOfType<ModuleOp>())
      if (auto info = module->getAttrOfType<DictionaryAttr>("strata.model"))
        if (auto h = info.getAs<IntegerAttr>("hidden"))
          hidden = h.getInt();
    // In FP8 training a projection reads the FP8 cast of the BF16 residual
    // stream; the stream itself (what crosses the layer boundary) is the
    // BF16 type of that shape. The FP8 casts saved for the weight
    // gradients stay in the layout they are computed in.
    llvm::DenseSet<Type> actTypes;
    for (Projection &proj : projections) {
      auto t = dyn_cast<RankedTensorType>(
          proj.op.getDpsInputs()[1 - proj.weightInput].getType());
      if (!t || t.getRank() != 3 || hasExpertLoop(proj) ||
          (hidden != 0 && t.getDimSize(2) != hidden))
        continue;
      if (isa<Float8E4M3FNType, Float8E5M2Type>(t.getElementType()))
        t = t.clone(BFloat16Type::get(ctx));
      actTypes.insert(t);
    }
    auto isActType = [&](Type t) { return actTypes.contains(t); };
    // Under cp the sequence is split over cp (outer) and tp (inner).
    SmallVector<int16_t> seqAxes(cpAxes);
    seqAxes.append(tpAxes);
    SmallVector<shard::GridAxesAttr> split = {
        DenseI16ArrayAttr::get(ctx, dataAxes),
        DenseI16ArrayAttr::get(ctx, seqAxes)};
    Block &entry = body.front();
    OpBuilder b = OpBuilder::atBlockBegin(&entry);
    for (BlockArgument arg : entry.getArguments()) {
      if (!isActType(arg.getType()) || !annotatedArgs.insert(arg).second)
        continue;
      int64_t seq = cast<RankedTensorType>(arg.getType()).getDimSize(1);
      if (ShapedType::isDynamic(seq) || seq % (tp * cp) != 0)
        return mlir::emitError(fn.getLoc())
               << "strata-parallelize: sp=true needs tp=" << int64_t(tp)
               << " to divide the sequence (" << seq << ")";
      Value s = shard::ShardingOp::create(b, arg.getLoc(), gridRef, split);
      auto annotated = shard::ShardOp::create(b, arg.getLoc(), arg, s);
      arg.replaceAllUsesExcept(annotated, annotated);
      activationArgTypes.insert(arg.getType());
    }
    Operation *ret = entry.getTerminator();
    for (OpOperand &operand : ret->getOpOperands()) {
      if (!isActType(operand.get().getType()))
        continue;
      b.setInsertionPoint(ret);
      Value s = shard::ShardingOp::create(b, ret->getLoc(), gridRef, split);
      operand.set(shard::ShardOp::create(b, ret->getLoc(), operand.get(), s,
                                         /*annotate_for_users=*/true));
    }
  }

  for (Projection &proj : projections)
    if (failed(annotateProjection(proj)))
      return failure();

  // Weight gradients: reductions producing a value of a weight's type that
  // are not themselves projections.
  // By shape: in FP8 training the weights are FP8 and their gradients BF16.
  auto shapeKey = [&](Type t) -> Type {
    auto r = dyn_cast<RankedTensorType>(t);
    return r ? RankedTensorType::get(r.getShape(),
                                     Float32Type::get(fn->getContext()))
             : t;
  };
  llvm::DenseSet<Type> weightTypes;
  for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
    if (auto role = fn.getArgAttrOfType<StringAttr>(i, kRoleAttr);
        role && role.getValue() == "weight")
      weightTypes.insert(shapeKey(fn.getArgument(i).getType()));
  SmallVector<linalg::LinalgOp> gradients;
  for (Operation &op : body.getOps()) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(&op);
    if (!linalgOp || op.getNumResults() != 1 ||
        linalgOp.getNumReductionLoops() == 0 || op.hasAttr(kProjectionAttr) ||
        !weightTypes.contains(shapeKey(op.getResult(0).getType())))
      continue;
    gradients.push_back(linalgOp);
  }
  for (linalg::LinalgOp op : gradients)
    if (failed(annotateWeightGradient(op, projections)))
      return failure();
  // Attention reads every rank's keys and values: gathered over cp (the
  // projections and weight gradients, annotated above, are not attention).
  if (!cpAxes.empty())
    annotateAttention(fn, cpSeq,
                      {gridRef, dataAxes, tpAxes, cpAxes, modelHeads,
                       modelKvHeads, int64_t(tp)});
  return success();
}

void ParallelizePass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = module.getContext();
  FailureOr<strata::arch::SystemAttr> systemAttr =
      strata::arch::resolveSystem(module, system);
  if (failed(systemAttr))
    return signalPassFailure();
  hw::System sys = strata::arch::toModel(*systemAttr);
  ModelDims model = readModelDims(module);
  modelExperts = model.experts.value_or(0);
  modelHeads = model.heads.value_or(0);
  modelKvHeads = model.kvHeads.value_or(0);

  if (failed(validateDegrees(module, sys, model)))
    return signalPassFailure();
  FailureOr<SmallVector<PlanAxis>> placed = layAxes(module, sys);
  if (failed(placed))
    return signalPassFailure();

  // Grid axes outermost first: the reverse of the placement order, pp
  // excluded (stages are not a grid axis).
  SmallVector<PlanAxis *> gridAxes;
  for (PlanAxis &axis : llvm::reverse(*placed))
    if (axis.name != "pp")
      gridAxes.push_back(&axis);
  for (auto [i, axis] : llvm::enumerate(gridAxes))
    axis->gridAxis = i;
  tpAxes.clear();
  epAxes.clear();
  annotatedArgs.clear();
  activationArgTypes.clear();
  weightSplits.clear();
  weightSplitDim.clear();
  replicatedWeights.clear();
  argRoots.clear();
  dpOuterAxes.clear();
  cpAxes.clear();
  dataAxes.clear();
  for (PlanAxis *axis : gridAxes) {
    int16_t i = axis->gridAxis;
    if (axis->name == "tp")
      tpAxes.push_back(i);
    else if (axis->name == "ep")
      epAxes.push_back(i);
    else if (axis->name == "dp")
      dpOuterAxes.push_back(i);
    else if (axis->name == "cp")
      cpAxes.push_back(i);
    if (axis->name == "dp" || axis->name == "ep")
      dataAxes.push_back(i);
  }

  // The plan, recorded whether or not there is anything to shard.
  Builder b(ctx);
  auto fabricName = [&](const PlanAxis &axis) -> StringRef {
    return sys.topology.empty() ? StringRef("local")
                                : StringRef(sys.topology[axis.fabric].name);
  };
  SmallVector<NamedAttribute> fabrics;
  for (const PlanAxis &axis : *placed)
    fabrics.push_back(
        b.getNamedAttr(axis.name, b.getStringAttr(fabricName(axis))));
  DictionaryAttr fabricsAttr = b.getDictionaryAttr(fabrics);
  SmallVector<NamedAttribute> planEntries = {
          b.getNamedAttr("tp", b.getI64IntegerAttr(tp)),
           b.getNamedAttr("dp", b.getI64IntegerAttr(dpDegree)),
           b.getNamedAttr("pp", b.getI64IntegerAttr(pp)),
           b.getNamedAttr("ep", b.getI64IntegerAttr(ep)),
           b.getNamedAttr("sp", b.getBoolAttr(sp)),
           b.getNamedAttr("microbatches", b.getI64IntegerAttr(microbatches)),
           b.getNamedAttr("interleave", b.getI64IntegerAttr(interleave)),
           b.getNamedAttr("schedule", b.getStringAttr(schedule)),
           b.getNamedAttr("zero", b.getI64IntegerAttr(zero)),
           b.getNamedAttr("recompute", b.getStringAttr(recompute)),
           b.getNamedAttr("overlap_grad_sync", b.getBoolAttr(overlapGradSync)),
           b.getNamedAttr("axis_fabrics", fabricsAttr)};
  // Context parallelism, recorded when the plan has it.
  if (cp > 1) {
    planEntries.push_back(b.getNamedAttr("cp", b.getI64IntegerAttr(cp)));
    planEntries.push_back(
        b.getNamedAttr("cp_comm", b.getStringAttr(cpComm)));
  }
  module->setAttr(kPlanAttr, b.getDictionaryAttr(planEntries));
  if (gridAxes.empty())
    return;

  if (SymbolTable::lookupSymbolIn(module, kGridName)) {
    mlir::emitError(module.getLoc())
        << "strata-parallelize: the module already has a "
           "symbol @"
        << kGridName << " (was the pass run twice?)";
    return signalPassFailure();
  }
  OpBuilder ob = OpBuilder::atBlockBegin(module.getBody());
  SmallVector<int64_t> shape;
  SmallVector<Attribute> names;
  SmallVector<NamedAttribute> gridFabrics;
  for (PlanAxis *axis : gridAxes) {
    shape.push_back(axis->size);
    names.push_back(b.getStringAttr(axis->name));
    gridFabrics.push_back(
        b.getNamedAttr(axis->name, b.getStringAttr(fabricName(*axis))));
  }
  auto grid = shard::GridOp::create(ob, module.getLoc(), kGridName, shape);
  grid->setAttr(kAxisNamesAttr, b.getArrayAttr(names));
  grid->setAttr(kAxisFabricsAttr, b.getDictionaryAttr(gridFabrics));
  gridRef = FlatSymbolRefAttr::get(ctx, kGridName);

  // Which entry argument each layer function's weight argument is sliced
  // from (through the layer loop's tensor.extract_slice).
  module.walk([&](func::CallOp call) {
    auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        call, call.getCalleeAttr());
    if (!callee || callee.isExternal())
      return;
    for (auto [i, operand] : llvm::enumerate(call.getOperands())) {
      Value root = operand;
      while (auto slice = root.getDefiningOp<tensor::ExtractSliceOp>())
        root = slice.getSource();
      if (isa<BlockArgument>(root))
        argRoots.try_emplace(callee.getArgument(i), root);
    }
  });
  for (auto fn : module.getOps<FunctionOpInterface>())
    if (failed(annotateFunction(fn)))
      return signalPassFailure();
}

} // namespace
