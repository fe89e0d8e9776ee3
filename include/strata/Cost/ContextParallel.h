//===- ContextParallel.h - Ring attention over a cp group -------*- C++ -*-===//
//
// Context parallelism splits one sequence over `cp` ranks; attention then
// needs every rank's keys and values, which ring attention passes around the
// cp group by point-to-point transfers overlapped with the attention of the
// chunk already there. These are the formulas over times the caller priced
// with CostModel (the attention block, the SendRecv on the cp fabric), in
// the style of Parallelism.h: no shapes of a model, no MLIR; invalid inputs
// are llvm::Error naming the numbers. docs/parallelism.md ("Context
// parallelism") gives the schedule and its sources.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COST_CONTEXTPARALLEL_H
#define STRATA_COST_CONTEXTPARALLEL_H

#include "llvm/Support/Error.h"

#include <cstdint>

namespace strata::cost {

/// How a context-parallel group of `cp` ranks splits one sequence of `seq`
/// tokens. Causal attention uses Megatron-LM / Transformer Engine's zigzag
/// (load-balanced) split: 2·cp chunks, rank r holding chunks r and
/// 2·cp−1−r, so that every rank does the same causal work.
struct ContextSplit {
  int64_t seq = 0;
  int64_t cp = 1;
  bool causal = true;
};

/// Tokens each rank holds: seq / cp. Errors name the numbers: cp < 1, seq
/// < 1, or cp (2·cp for a causal zigzag split) not dividing seq.
llvm::Expected<int64_t> contextTokensPerRank(const ContextSplit &s);

/// Bytes of one ring step's K and V payload: the keys and values of
/// `tokens` positions over the rank's `kvHeads` KV heads of `headDim`
/// (2 · tokens · kvHeads · headDim · elementBytes). The backward passes as
/// many bytes again of dK and dV.
double ringKVBytes(int64_t tokens, int64_t kvHeads, int64_t headDim,
                   double elementBytes);

/// One rank's attention under ring context parallelism (Liu et al. 2023;
/// Megatron-LM's `context_parallel` through Transformer Engine). `block*`
/// are the seconds of one *unmasked* block: the rank's seq/cp queries
/// against one rank's seq/cp keys (priced by the caller with CostModel).
/// `transfer*` are the seconds of one ring step's point-to-point transfer
/// to the next rank on the cp fabric (CollectiveKind::SendRecv priced by
/// the caller): forward the K/V chunk, backward the K/V chunk plus the
/// dK/dV accumulated so far, and `transferGradients` the dK/dV alone.
struct RingAttentionWork {
  int64_t cp = 1;
  bool causal = true;
  double blockForward = 0;
  double blockBackward = 0;
  double transferForward = 0;
  double transferBackward = 0;
  double transferGradients = 0;
};

/// One direction of the ring.
struct RingPass {
  int64_t computeSteps = 0; ///< cp: one per K/V chunk
  int64_t transfers = 0;    ///< point-to-point transfers per rank
  double stepCompute = 0;   ///< attention seconds per step
  double compute = 0;       ///< computeSteps · stepCompute
  double transfer = 0;      ///< seconds of all transfers
  double exposed = 0;       ///< transfer time not hidden under compute
  double total = 0;         ///< compute + exposed
};

struct RingAttentionEstimate {
  RingPass forward;
  RingPass backward;
};

/// Each step computes on the chunk it holds while the next chunk travels
/// (double buffering, one transfer in flight), so a step costs
/// max(stepCompute, transfer):
///
///   forward:  cp steps, cp − 1 K/V transfers,
///             exposed = (cp − 1) · max(0, transferForward − stepCompute)
///   backward: cp steps, cp − 1 K/V + dK/dV transfers overlapped the same
///             way, plus the last dK/dV hop back to the chunk's owner,
///             which has no compute left to hide behind
///             (exposed += transferGradients)
///
/// With the zigzag split every step of causal attention is half a block
/// (the diagonal step: both own chunks causally plus the later chunk
/// against the earlier; a step from a lower rank: both query chunks
/// against its first chunk; from a higher rank: the second query chunk
/// against both), so stepCompute = block / 2 and the rank's total is
/// cp/2 blocks = 1/cp of the unsplit causal attention. Without a mask
/// stepCompute = block. cp = 1 is the unsplit attention, no transfer.
/// Errors: cp < 1, a negative or non-finite time.
llvm::Expected<RingAttentionEstimate>
estimateRingAttention(const RingAttentionWork &w);

} // namespace strata::cost

#endif // STRATA_COST_CONTEXTPARALLEL_H
