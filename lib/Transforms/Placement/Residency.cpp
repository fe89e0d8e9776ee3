//===- Residency.cpp - Activations on chip between kernels (grid chips) ---===//
//
// On a chip with a core grid and an on-chip network, the tensors one
// tile.kernel writes and the next reads need not cross home: the grid's
// cores hold them together in their scratchpads (layer fusion across cores,
// as Stream does). This pass decides which do.
//
//  1. Storage classes. Tensor values that are the same data are joined:
//     a kernel's result and its outs operand, a reshape and its source, a
//     fused epilogue (strata.fused_into, priced with its root) and the
//     tensors it transforms, a call's operands and the callee's arguments,
//     the callee's returned values and the call's results, a loop's init,
//     iteration argument, yielded value and result. A class touched by a
//     program input or output (a public function's argument or result), a
//     weight or any other role-carrying argument, a dynamic shape, or an op
//     the pass does not understand stays at home.
//  2. Live ranges. Per function, kernels and calls are numbered in program
//     order; a class is live from its first to its last touch (from the
//     start for an argument, to the end for a returned value). A class live
//     across a call it is not passed to stays at home (the callee's kernels
//     would need room the pass does not see).
//  3. Decision, greedy in program order: a class is kept on chip when the
//     cost model's residency quote pays (its home round trip costs more
//     than re-laying it over the network for each read) and, at every
//     kernel of its live range, it fits beside the classes already kept in
//     the SRAM the kernel's own buffers leave free (strata.placement of
//     the staging level, per core, times the cores). Otherwise it is
//     spilled: listed in `spilled(...)` and named in a remark.
//  4. Rewrite: kept operands are listed in `resident(...)` and their body
//     arguments move to the staging level, so the copies reading and
//     writing them are priced core to core over the network.
//
//===----------------------------------------------------------------------===//

#include "strata/Analysis/OpCounts.h"
#include "strata/Cost/CostModel.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Dialect/Tile/IR/TileOps.h"
#include "strata/Hardware/Units.h"
#include "strata/Transforms/Passes.h"
#include "strata/Transforms/RetileContractions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <functional>

namespace strata {
#define GEN_PASS_DEF_STRATARESIDENCYPASS
#include "strata/Transforms/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata;

namespace {

/// Union-find over tensor values; the representative is the first value
/// seen, so classes are numbered deterministically.
class StorageClasses {
public:
  Value find(Value v) {
    auto [it, inserted] = parent.try_emplace(v, v);
    if (inserted || it->second == v)
      return v;
    Value root = find(it->second);
    parent[v] = root;
    return root;
  }
  void unite(Value a, Value b) {
    Value ra = find(a), rb = find(b);
    if (ra != rb)
      parent[rb] = ra;
  }

private:
  llvm::DenseMap<Value, Value> parent;
};

/// One use of a class by a kernel: operand `operand` (over ins then outs).
struct KernelUse {
  tile::KernelOp kernel;
  unsigned operand;
};

/// What the pass knows of one storage class.
struct ClassInfo {
  std::string homeReason; ///< non-empty: must stay at home, and why
  double bytes = 0;       ///< largest tensor of the class
  int64_t reads = 0;      ///< kernel inputs reading it
  SmallVector<KernelUse> uses;
};

/// Kernels and calls of one function, in program order.
struct FunctionEvents {
  SmallVector<Operation *> events;
  llvm::DenseMap<Operation *, unsigned> index;
};

static bool isTensor(Value v) { return isa<RankedTensorType>(v.getType()); }

static double tensorBytes(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  if (!t.hasStaticShape())
    return -1;
  return double(t.getNumElements()) *
         std::max<double>(1, double(t.getElementTypeBitWidth()) / 8);
}

/// Whether buildFill can copy `init`: a static tensor whose last-dimension
/// rows fit a core's staging level twice over.
static bool fillFits(Value init, const cost::CostModel &model) {
  auto type = dyn_cast<RankedTensorType>(init.getType());
  if (!type || type.getRank() == 0 || !type.hasStaticShape())
    return false;
  const double rowBytes =
      double(type.getShape().back()) *
      std::max<double>(1, type.getElementTypeBitWidth() / 8.0);
  return 2 * rowBytes <= double(model.stagingLevel().capacity);
}

/// A kernel copying `init` (at home) into a fresh tensor resident in the
/// grid's SRAM: one row of its last dimension per spread point, through a
/// staging buffer. None when a row does not fit a core's staging level
/// twice over.
static std::optional<tile::KernelOp> buildFill(OpBuilder &b, Location loc,
                                               Value init,
                                               const cost::CostModel &model,
                                               int64_t cores) {
  if (!fillFits(init, model))
    return std::nullopt;
  auto type = cast<RankedTensorType>(init.getType());
  const hw::MemoryLevel &staging = model.stagingLevel();
  ArrayRef<int64_t> shape = type.getShape();
  Type elt = type.getElementType();
  const double rowBytes = double(shape.back()) *
                          std::max<double>(1, elt.getIntOrFloatBitWidth() / 8.0);
  MLIRContext *ctx = b.getContext();
  Value empty = tensor::EmptyOp::create(b, loc, shape, elt);
  // Named after what it fills ("layers.residency_fill" for the layers'
  // loop), as reports name kernels by location.
  std::string name = "residency_fill";
  if (auto named = dyn_cast<NameLoc>(loc))
    name = named.getName().str() + "." + name;
  loc = NameLoc::get(b.getStringAttr(name), loc);
  auto kernel = tile::KernelOp::create(b, loc, TypeRange{type},
                                       b.getStringAttr(name),
                                       ValueRange{init}, ValueRange{empty});
  kernel.setResidentAttr(b.getDenseI64ArrayAttr({1}));
  SmallVector<Type> argTypes = {
      tile::BufType::get(ctx, shape, elt, model.homeLevel().name),
      tile::BufType::get(ctx, shape, elt, staging.name)};
  OpBuilder::InsertionGuard guard(b);
  Block *body = b.createBlock(&kernel.getBody(), {}, argTypes, {loc, loc});
  tile::KernelOp::ensureTerminator(kernel.getBody(), b, loc);
  b.setInsertionPointToStart(body);
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<int64_t> trips(shape.drop_back());
  if (trips.empty())
    trips.push_back(1);
  auto spread = tile::SpreadOp::create(b, loc, cores, trips);
  Block *spreadBody = &spread.getBody().front();
  b.setInsertionPointToStart(spreadBody);
  SmallVector<int64_t> rowShape = {1, shape.back()};
  if (shape.size() == 1)
    rowShape = {shape.back()};
  Value row = tile::AllocOp::create(
      b, loc, tile::BufType::get(ctx, rowShape, elt, staging.name), 1);
  SmallVector<Value> idx;
  for (unsigned d = 0; d + 1 < shape.size(); ++d)
    idx.push_back(spreadBody->getArgument(d));
  idx.push_back(c0);
  Value in = tile::CopyOp::create(b, loc, body->getArgument(0), idx, row,
                                  ValueRange{});
  tile::WaitOp::create(b, loc, ValueRange{in});
  Value out = tile::CopyOp::create(b, loc, row, ValueRange{},
                                   body->getArgument(1), idx);
  tile::WaitOp::create(b, loc, ValueRange{out});
  kernel->setAttr("strata.placement",
                  b.getDictionaryAttr(b.getNamedAttr(
                      staging.name, b.getI64IntegerAttr(int64_t(rowBytes)))));
  return kernel;
}

struct ResidencyPass
    : strata::impl::StrataResidencyPassBase<ResidencyPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<hw::System> resolved = arch::resolveSystemModel(module, system);
    if (failed(resolved))
      return signalPassFailure();
    hw::System sys = std::move(*resolved);
    cost::CostModel model(sys);
    if (model.distributedCapacity() <= 0)
      return; // no core grid: tensors between kernels live at home
    const hw::MemoryLevel &staging = model.stagingLevel();

    StorageClasses classes;
    // Values in the order first seen, and why some must stay at home.
    llvm::SetVector<Value> values;
    llvm::MapVector<Value, std::string> atHome;
    auto see = [&](Value v) {
      if (isTensor(v))
        values.insert(v);
    };
    auto keepHome = [&](Value v, std::string why) {
      if (isTensor(v) && !atHome.count(v))
        atHome[v] = std::move(why);
      see(v);
    };
    SymbolTable symbols(module);
    SmallVector<std::pair<scf::ForOp, unsigned>> loopInits;
    llvm::SetVector<Value> weightArgs;

    module.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (auto fn = dyn_cast<func::FuncOp>(op)) {
        for (BlockArgument arg : fn.getArguments()) {
          see(arg);
          auto role = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      "strata.role");
          bool weight = role && role.getValue() == "weight";
          // A weight may be filled into SRAM once at the program's entry
          // and stay there for every execution that reads it.
          if (weight && fn.isPublic())
            weightArgs.insert(arg);
          else if (fn.isPublic())
            keepHome(arg, "an input of @" + fn.getName().str());
          else if (role && !weight)
            keepHome(arg, "a " + role.getValue().str());
        }
        return;
      }
      if (auto kernel = dyn_cast<tile::KernelOp>(op)) {
        for (Value v : kernel->getOperands())
          see(v);
        for (auto [out, result] :
             llvm::zip(kernel.getOutputs(), kernel.getResults())) {
          see(result);
          classes.unite(out, result);
        }
        return;
      }
      if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op)) {
        see(op->getOperand(0));
        see(op->getResult(0));
        classes.unite(op->getOperand(0), op->getResult(0));
        return;
      }
      if (isa<tensor::EmptyOp>(op)) {
        see(op->getResult(0));
        return;
      }
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
          linalgOp && op->hasAttr(analysis::kFusedIntoAttrName)) {
        // A fused epilogue: the producer's output tiles, transformed before
        // they are stored. Its weights (biases) are function arguments and
        // keep their own class.
        // A norm's row statistic (a reduction, or a tensor of another
        // shape) is not the data it reads: its own class.
        for (Value in : op->getOperands()) {
          if (!isTensor(in) || isa<BlockArgument>(in))
            continue;
          see(in);
          if (linalgOp.getNumReductionLoops() == 0 &&
              in.getType() == op->getResult(0).getType())
            classes.unite(in, op->getResult(0));
        }
        for (Value r : op->getResults())
          see(r);
        return;
      }
      if (auto call = dyn_cast<func::CallOp>(op)) {
        auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
        if (!callee || callee.isExternal()) {
          for (Value v : op->getOperands())
            keepHome(v, "passed to an external function");
          for (Value v : op->getResults())
            keepHome(v, "returned by an external function");
          return;
        }
        for (auto [operand, arg] :
             llvm::zip(call.getOperands(), callee.getArguments()))
          if (isTensor(operand)) {
            see(operand);
            see(arg);
            classes.unite(operand, arg);
          }
        // A callee of several blocks: its results are not followed.
        auto ret = callee.getBody().hasOneBlock()
                       ? dyn_cast<func::ReturnOp>(callee.getBody().front().back())
                       : func::ReturnOp();
        if (!ret) {
          for (Value v : op->getResults())
            keepHome(v, "returned by a function of several blocks");
          return;
        }
        for (auto [returned, result] :
             llvm::zip(ret.getOperands(), call.getResults()))
          if (isTensor(result)) {
            see(returned);
            see(result);
            classes.unite(returned, result);
          }
        return;
      }
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
        // The carried value (iteration argument, yielded value, result) is
        // one class; the init is its own, filled into the carried storage
        // on entry when the two live in different places.
        for (auto [i, init, iterArg, yielded, result] :
             llvm::enumerate(loop.getInitArgs(), loop.getRegionIterArgs(),
                             yield.getOperands(), loop.getResults())) {
          if (!isTensor(init))
            continue;
          see(init);
          for (Value v : {Value(iterArg), yielded, Value(result)}) {
            see(v);
            classes.unite(iterArg, v);
          }
          loopInits.push_back({loop, unsigned(i)});
        }
        return;
      }
      if (isa<scf::YieldOp>(op) && isa<scf::ForOp>(op->getParentOp()))
        return;
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        auto fn = op->getParentOfType<func::FuncOp>();
        for (Value v : ret.getOperands())
          if (fn.isPublic())
            keepHome(v, "an output of @" + fn.getName().str());
          else
            see(v);
        return;
      }
      // Anything else that touches a tensor: the pass cannot follow it.
      std::string why = "used by " + op->getName().getStringRef().str();
      for (Value v : op->getOperands())
        keepHome(v, why);
      for (Value v : op->getResults())
        keepHome(v, why);
    });

    // Classes, in the order their first value was seen.
    llvm::MapVector<Value, ClassInfo> infos;
    for (Value v : values) {
      ClassInfo &info = infos[classes.find(v)];
      double bytes = tensorBytes(v);
      if (bytes < 0 && info.homeReason.empty())
        info.homeReason = "of dynamic shape";
      info.bytes = std::max(info.bytes, bytes);
    }
    for (auto &[v, why] : atHome) {
      ClassInfo &info = infos[classes.find(v)];
      if (info.homeReason.empty())
        info.homeReason = why;
    }
    llvm::DenseMap<Value, SmallVector<Value>> members;
    for (Value v : values)
      members[classes.find(v)].push_back(v);
    // Kernel uses, in program order; functions' events.
    llvm::DenseMap<Operation *, FunctionEvents> functions;
    module.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (!isa<tile::KernelOp, func::CallOp, scf::ForOp>(op))
        return;
      auto fn = op->getParentOfType<func::FuncOp>();
      FunctionEvents &f = functions[fn];
      f.index[op] = f.events.size();
      f.events.push_back(op);
      if (auto kernel = dyn_cast<tile::KernelOp>(op))
        for (auto [i, v] : llvm::enumerate(kernel->getOperands())) {
          ClassInfo &info = infos[classes.find(v)];
          info.uses.push_back({kernel, unsigned(i)});
          if (i < kernel.getInputs().size())
            ++info.reads;
        }
    });

    // Live ranges per function: [first, last] event touching the class.
    using Range = std::pair<unsigned, unsigned>;
    auto liveRanges = [&](Value root,
                          std::string &why) -> llvm::MapVector<Operation *, Range> {
      llvm::MapVector<Operation *, Range> ranges;
      auto touch = [&](Operation *fn, unsigned lo, unsigned hi) {
        auto [it, inserted] = ranges.try_emplace(fn, Range{lo, hi});
        if (!inserted) {
          it->second.first = std::min(it->second.first, lo);
          it->second.second = std::max(it->second.second, hi);
        }
      };
      for (Value v : members[root]) {
        Operation *fn = v.getParentRegion()->getParentOfType<func::FuncOp>();
        if (auto arg = dyn_cast<BlockArgument>(v))
          if (isa<func::FuncOp>(arg.getOwner()->getParentOp()))
            fn = arg.getOwner()->getParentOp();
        if (!fn)
          continue;
        FunctionEvents &f = functions[fn];
        unsigned last = f.events.empty() ? 0 : f.events.size() - 1;
        // An argument is live over its whole function: the caller may still
        // hold it after the call, a weight holds it across executions.
        if (auto arg = dyn_cast<BlockArgument>(v);
            arg && isa<func::FuncOp>(arg.getOwner()->getParentOp()))
          touch(fn, 0, last);
        auto eventOf = [&](Operation *op) -> std::optional<unsigned> {
          for (; op && op != fn; op = op->getParentOp())
            if (auto it = f.index.find(op); it != f.index.end())
              return it->second;
          return std::nullopt;
        };
        if (Operation *def = v.getDefiningOp())
          if (std::optional<unsigned> e = eventOf(def))
            touch(fn, *e, *e);
        for (Operation *user : v.getUsers()) {
          if (isa<func::ReturnOp>(user)) {
            touch(fn, last, last);
            continue;
          }
          if (std::optional<unsigned> e = eventOf(user))
            touch(fn, *e, *e);
        }
      }
      // A call inside the range that the class does not flow through.
      for (auto &[fn, range] : ranges) {
        FunctionEvents &f = functions[fn];
        for (unsigned e = range.first + 1; e < range.second; ++e) {
          auto call = dyn_cast<func::CallOp>(f.events[e]);
          if (!call)
            continue;
          bool passed = llvm::any_of(call->getOperands(), [&](Value v) {
            return isTensor(v) && classes.find(v) == root;
          }) || llvm::any_of(call->getResults(), [&](Value v) {
            return isTensor(v) && classes.find(v) == root;
          });
          if (!passed) {
            why = "live across the call to @" + call.getCallee().str();
            return {};
          }
        }
      }
      return ranges;
    };

    // SRAM each kernel leaves free over the grid, and what is kept there.
    const double cores = double(sys.chip.cores);
    auto freeBytes = [&](tile::KernelOp kernel) {
      double used = 0;
      if (auto placement =
              kernel->getAttrOfType<DictionaryAttr>("strata.placement"))
        if (auto bytes = placement.getAs<IntegerAttr>(staging.name))
          used = double(bytes.getInt());
      return cores * std::max(0.0, double(staging.capacity) - used);
    };
    llvm::DenseMap<Operation *, double> kept;
    llvm::DenseSet<Value> keptClasses;
    SmallVector<Value> keptWeights;
    // Executions of each function: 1 for a public one, else the sum over
    // its call sites of the caller's executions times the constant trip
    // counts of the loops around the call.
    llvm::DenseMap<Operation *, double> executions;
    std::function<double(func::FuncOp)> executionsOf = [&](func::FuncOp fn) {
      if (!fn)
        return 1.0; // outside any function: once
      if (auto it = executions.find(fn); it != executions.end())
        return it->second;
      executions[fn] = 0; // recursion guard
      double n = fn.isPublic() ? 1 : 0;
      if (std::optional<SymbolTable::UseRange> uses =
              SymbolTable::getSymbolUses(fn, module))
        for (const SymbolTable::SymbolUse &use : *uses) {
          auto call = dyn_cast<func::CallOp>(use.getUser());
          if (!call)
            continue;
          double times = executionsOf(call->getParentOfType<func::FuncOp>());
          for (auto loop = call->getParentOfType<scf::ForOp>(); loop;
               loop = loop->getParentOfType<scf::ForOp>())
            if (std::optional<APInt> trips = loop.getStaticTripCount())
              times *= double(trips->getZExtValue());
          n += times;
        }
      executions[fn] = n;
      return n;
    };
    auto executedReads = [&](const ClassInfo &info) {
      double reads = 0;
      for (KernelUse u : info.uses)
        if (u.operand < u.kernel.getInputs().size())
          reads += executionsOf(u.kernel->getParentOfType<func::FuncOp>());
      return reads;
    };
    llvm::DenseMap<Operation *, SmallVector<int64_t>> resident, spilled;

    for (auto &[root, info] : infos) {
      if (info.uses.empty() || !info.homeReason.empty())
        continue;
      std::string why;
      llvm::MapVector<Operation *, Range> ranges = liveRanges(root, why);
      if (!why.empty() || ranges.empty())
        continue;

      Value weight;
      for (Value w : weightArgs)
        if (classes.find(w) == root)
          weight = w;
      cost::ResidencyQuote quote =
          weight ? model.residentWeight(info.bytes, executedReads(info))
                 : model.residency(info.bytes, info.reads);
      if (!quote.pays())
        continue;
      // The tightest kernel of the live range.
      tile::KernelOp tightest;
      double tightestRoom = 0;
      SmallVector<Operation *> span;
      for (auto &[fn, range] : ranges) {
        FunctionEvents &f = functions[fn];
        for (unsigned e = range.first; e <= range.second && e < f.events.size();
             ++e) {
          auto kernel = dyn_cast<tile::KernelOp>(f.events[e]);
          if (!kernel)
            continue;
          span.push_back(kernel);
          double room = freeBytes(kernel) - kept[kernel];
          if (!tightest || room < tightestRoom) {
            tightest = kernel;
            tightestRoom = room;
          }
        }
      }
      if (tightest && info.bytes > tightestRoom) {
        for (const KernelUse &u : info.uses)
          spilled[u.kernel].push_back(u.operand);
        info.uses.front().kernel->emitRemark()
            << (weight ? "weight of " : "activation of ")
            << hw::formatBinaryBytesApprox(info.bytes)
            << " spilled to " << model.homeLevel().name
            << ": the grid's " << staging.name << " has "
            << hw::formatBinaryBytesApprox(std::max(0.0, tightestRoom))
            << " free at '" << tightest.getName() << "'";
        continue;
      }
      // A class that needs a fill (a weight, or a carried value whose init
      // is at home) is kept only if a fill kernel can be built for it.
      bool fillable = true;
      for (auto [loop, i] : loopInits)
        if (classes.find(loop.getRegionIterArgs()[i]) == root &&
            !keptClasses.count(classes.find(loop.getInitArgs()[i])) &&
            !fillFits(loop.getInitArgs()[i], model))
          fillable = false;
      for (Value w : weightArgs)
        if (classes.find(w) == root && !fillFits(w, model))
          fillable = false;
      if (!fillable) {
        info.uses.front().kernel->emitRemark()
            << (weight ? "weight of " : "activation of ")
            << hw::formatBinaryBytesApprox(info.bytes)
            << " kept at " << model.homeLevel().name
            << ": filling it on chip needs rows that fit one core's "
            << staging.name;
        continue;
      }
      for (Operation *k : span)
        kept[k] += info.bytes;
      keptClasses.insert(root);
      if (weight)
        keptWeights.push_back(weight);
      for (const KernelUse &u : info.uses)
        resident[u.kernel].push_back(u.operand);
    }

    MLIRContext *ctx = &getContext();
    // A loop whose carried value stays on chip but whose init is at home
    // (written by an op priced at home, or a program input) fills the
    // carried storage once on entry: an explicit kernel, priced as any.
    for (auto [loop, i] : loopInits) {
      Value carried = classes.find(loop.getRegionIterArgs()[i]);
      Value init = loop.getInitArgs()[i];
      if (!keptClasses.count(carried) || keptClasses.count(classes.find(init)))
        continue;
      OpBuilder b(loop);
      if (std::optional<tile::KernelOp> fill =
              buildFill(b, loop.getLoc(), init, model, sys.chip.cores)) {
        loop->setOperand(loop.getNumControlOperands() + i,
                         fill->getResult(0));
      } else {
        // No fill fits a core: the carried value must stay at home.
        loop.emitRemark() << "loop-carried activation kept at "
                          << model.homeLevel().name
                          << ": its rows do not fit one core's "
                          << staging.name << " to fill it on chip";
        signalPassFailure();
        return;
      }
    }

    // A weight kept on chip is filled once at the program's entry; every
    // reader then finds it resident.
    for (Value weight : keptWeights) {
      auto arg = cast<BlockArgument>(weight);
      auto fn = cast<func::FuncOp>(arg.getOwner()->getParentOp());
      OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
      std::optional<tile::KernelOp> fill = buildFill(
          b,
          NameLoc::get(b.getStringAttr(fn.getName() + ".arg" +
                                       std::to_string(arg.getArgNumber())),
                       fn.getLoc()),
          arg, model, sys.chip.cores);
      if (!fill) {
        fn.emitError() << "weight argument #" << arg.getArgNumber()
                       << " was kept on chip but no fill of it fits a core";
        return signalPassFailure();
      }
      arg.replaceAllUsesExcept(fill->getResult(0), *fill);
    }

    // Rewrite: resident operands' buffers move to the staging level.
    auto sorted = [](SmallVector<int64_t> v) {
      llvm::sort(v);
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
    };
    module.walk([&](tile::KernelOp kernel) {
      Builder b(ctx);
      if (auto it = resident.find(kernel); it != resident.end()) {
        SmallVector<int64_t> list = sorted(it->second);
        for (int64_t i : list) {
          BlockArgument arg = kernel.getBody().getArgument(unsigned(i));
          auto buf = cast<tile::BufType>(arg.getType());
          arg.setType(tile::BufType::get(ctx, buf.getShape(),
                                         buf.getElementType(), staging.name));
        }
        kernel.setResidentAttr(b.getDenseI64ArrayAttr(list));
      }
      if (auto it = spilled.find(kernel); it != spilled.end())
        kernel.setSpilledAttr(b.getDenseI64ArrayAttr(sorted(it->second)));
      // A fused epilogue reading a tensor kept on chip (a residual add's
      // stream) gets it over the network: those bytes leave `bytes_read`
      // (home) for `resident_bytes_read`.
      auto epilogue =
          kernel->getAttrOfType<DictionaryAttr>(analysis::kEpilogueAttrName);
      if (!epilogue || kernel->getNumResults() != 1)
        return;
      double onChip = 0;
      Value link = kernel->getResult(0);
      while (link.hasOneUse()) {
        Operation *consumer = *link.user_begin();
        if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(consumer)) {
          link = consumer->getResult(0);
          continue;
        }
        if (!isa<linalg::LinalgOp>(consumer) ||
            !consumer->hasAttr(analysis::kFusedIntoAttrName) ||
            consumer->getNumResults() != 1)
          break;
        for (Value in : consumer->getOperands())
          if (in != link && isTensor(in) &&
              keptClasses.count(classes.find(in)) &&
              llvm::is_contained(
                  cast<linalg::LinalgOp>(consumer).getDpsInputs(), in))
            onChip += tensorBytes(in);
        link = consumer->getResult(0);
      }
      auto read = epilogue.getAs<IntegerAttr>("bytes_read");
      if (onChip <= 0 || !read)
        return;
      int64_t moved = std::min(read.getInt(), int64_t(onChip));
      NamedAttrList fields(epilogue);
      fields.set("bytes_read", b.getI64IntegerAttr(read.getInt() - moved));
      fields.set("resident_bytes_read", b.getI64IntegerAttr(moved));
      kernel->setAttr(analysis::kEpilogueAttrName,
                      fields.getDictionary(ctx));
    });

    // Tiles chosen as if every operand crossed home are re-planned for the
    // operands now on chip, within the SRAM the kept tensors leave free.
    if (!retile)
      return;
    SmallVector<tile::KernelOp> withResident;
    module.walk([&](tile::KernelOp kernel) {
      if (resident.count(kernel))
        withResident.push_back(kernel);
    });
    for (tile::KernelOp kernel : withResident) {
      const double budget = double(staging.capacity) - kept[kernel] / cores;
      if (budget > 0)
        retileResidentContraction(kernel, model, budget);
    }
  }
};

} // namespace
