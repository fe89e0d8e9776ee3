//===- ContextParallelCost.cpp - Attention under context parallelism ------===//

#include "ContextParallelCost.h"
#include "strata/Cost/ContextParallel.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace strata::analysis {

std::optional<ContextPlan> contextPlanOf(Operation *op, const hw::System &sys) {
  auto module = op->getParentOfType<ModuleOp>();
  auto plan = module ? module->getAttrOfType<DictionaryAttr>("strata.parallel")
                     : DictionaryAttr();
  if (!plan)
    return std::nullopt;
  auto cp = plan.getAs<IntegerAttr>("cp");
  if (!cp || cp.getInt() <= 1)
    return std::nullopt;
  ContextPlan p;
  p.cp = cp.getInt();
  auto comm = plan.getAs<StringAttr>("cp_comm");
  p.ring = !comm || comm.getValue() != "all_gather";
  if (auto fabrics = plan.getAs<DictionaryAttr>("axis_fabrics"))
    if (auto name = fabrics.getAs<StringAttr>("cp"))
      for (int i = 0; i < int(sys.topology.size()); ++i)
        if (sys.topology[i].name == name.getValue())
          p.fabric = i;
  return p;
}

std::optional<cost::Estimate>
estimateContextParallelAttention(const cost::AttentionWork &w,
                                 const ContextPlan &plan,
                                 const cost::CostModel &model) {
  if (!w.causal || w.window > 0 || w.kvLen != w.qLen * plan.cp)
    return std::nullopt;
  // One block: the rank's queries against one rank's keys, unmasked.
  cost::AttentionWork block = w;
  block.kvLen = w.qLen;
  block.causal = false;
  cost::Estimate b = model.attention(block);
  if (!(b.time > 0))
    return std::nullopt;
  cost::RingAttentionWork ring;
  ring.cp = plan.cp;
  ring.causal = true;
  ring.blockForward = ring.blockBackward = b.time;
  if (plan.ring) {
    // One hop: this rank's K and V chunk (and in the backward dK, dV).
    const double elt = hw::bitWidth(w.kvDType.value_or(w.dtype)) / 8.0;
    const double kv =
        cost::ringKVBytes(w.qLen, w.batch * w.kvHeads, w.headDim, elt);
    auto hop = [&](double bytes) {
      cost::CollectiveWork c;
      c.kind = cost::CollectiveKind::SendRecv;
      c.groupSize = 2;
      c.fabric = plan.fabric;
      c.bytes = bytes;
      return model.collective(c).estimate.time;
    };
    ring.transferForward = hop(kv);
    ring.transferBackward = hop(2 * kv);
    ring.transferGradients = hop(kv);
  }
  llvm::Expected<cost::RingAttentionEstimate> r =
      cost::estimateRingAttention(ring);
  if (!r) {
    llvm::consumeError(r.takeError());
    return std::nullopt;
  }
  const cost::RingPass &pass = w.backward ? r->backward : r->forward;
  // cp steps of half a block each (the zigzag split), plus what the ring's
  // transfers leave exposed.
  cost::Estimate e;
  e.accumulate(b, double(pass.computeSteps) * pass.stepCompute / b.time);
  e.unit = b.unit;
  e.boundKind = b.boundKind;
  e.boundBy = b.boundBy;
  e.unitUtilization = b.unitUtilization;
  e.time = pass.total;
  return e;
}

bool isContextRingExchange(Operation *op) {
  return op->hasAttr("strata.cp_ring");
}

} // namespace strata::analysis
