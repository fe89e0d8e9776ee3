//===- ContextParallel.cpp - Ring attention over a cp group ---------------===//

#include "strata/Cost/ContextParallel.h"
#include "strata/Hardware/Units.h"

#include "AmountChecks.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace strata::cost {

using detail::checkAmount;
using detail::invalid;

llvm::Expected<int64_t> contextTokensPerRank(const ContextSplit &s) {
  if (s.cp < 1)
    return invalid(llvm::formatv("cp={0}: must be >= 1", s.cp));
  if (s.seq < 1)
    return invalid(llvm::formatv(
        "cp={0}: sequence length must be >= 1, got {1}", s.cp, s.seq));
  // The zigzag split cuts the sequence into two chunks per rank.
  int64_t chunks = s.causal && s.cp > 1 ? 2 * s.cp : s.cp;
  if (s.seq % chunks != 0)
    return invalid(llvm::formatv(
        "cp={0} does not divide the sequence ({1} tokens){2}", s.cp, s.seq,
        chunks != s.cp
            ? llvm::formatv(" into {0} chunks (2 per rank, the causal zigzag "
                            "split)",
                            chunks)
                  .str()
            : std::string()));
  return s.seq / s.cp;
}

double ringKVBytes(int64_t tokens, int64_t kvHeads, int64_t headDim,
                   double elementBytes) {
  return 2.0 * double(tokens) * double(kvHeads) * double(headDim) *
         elementBytes;
}

llvm::Expected<RingAttentionEstimate>
estimateRingAttention(const RingAttentionWork &w) {
  if (w.cp < 1)
    return invalid(
        llvm::formatv("ring attention: cp must be >= 1, got {0}", w.cp));
  for (auto [v, what] :
       {std::pair{w.blockForward, "ring attention: forward block time"},
        {w.blockBackward, "ring attention: backward block time"},
        {w.transferForward, "ring attention: forward transfer time"},
        {w.transferBackward, "ring attention: backward transfer time"},
        {w.transferGradients, "ring attention: dK/dV transfer time"}})
    if (llvm::Error e = checkAmount(v, what))
      return std::move(e);
  const double share = w.causal ? 0.5 : 1.0;
  const int64_t hops = w.cp - 1;
  auto pass = [&](double block, double transfer) {
    RingPass r;
    r.computeSteps = w.cp;
    r.transfers = hops;
    r.stepCompute = share * block;
    r.compute = double(w.cp) * r.stepCompute;
    r.transfer = double(hops) * transfer;
    r.exposed = double(hops) * std::max(0.0, transfer - r.stepCompute);
    return r;
  };
  RingAttentionEstimate e;
  e.forward = pass(w.blockForward, w.transferForward);
  e.backward = pass(w.blockBackward, w.transferBackward);
  if (hops > 0) {
    // dK/dV of the last chunk computed go one hop further, to their owner.
    e.backward.transfers += 1;
    e.backward.transfer += w.transferGradients;
    e.backward.exposed += w.transferGradients;
  }
  e.forward.total = e.forward.compute + e.forward.exposed;
  e.backward.total = e.backward.compute + e.backward.exposed;
  return e;
}

} // namespace strata::cost
