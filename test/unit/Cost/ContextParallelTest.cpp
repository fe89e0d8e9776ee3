//===- ContextParallelTest.cpp - Ring attention over a cp group -----------===//
//
// The zigzag split's load balance is checked against a brute-force count of
// the causal (query, key) pairs each rank computes at each ring step; the
// overlap against hand-computed schedules; the transfers against the cost
// core's point-to-point price on a DGX H100 pod.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/ContextParallel.h"
#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

using namespace strata;
using namespace strata::cost;

namespace {

constexpr double ms = 1e-3;

template <typename T> std::string errorOf(llvm::Expected<T> e) {
  if (e) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(e.takeError());
}

RingAttentionEstimate ring(const RingAttentionWork &w) {
  llvm::Expected<RingAttentionEstimate> e = estimateRingAttention(w);
  if (!e) {
    ADD_FAILURE() << llvm::toString(e.takeError());
    return {};
  }
  return *e;
}

TEST(ContextParallelTest, ZigzagSplitNeedsTwoChunksPerRank) {
  // Llama 3 405B at 131,072 tokens with cp=16 (Llama 3 paper, Table 4).
  llvm::Expected<int64_t> t = contextTokensPerRank({131072, 16, true});
  ASSERT_TRUE(bool(t)) << llvm::toString(t.takeError());
  EXPECT_EQ(*t, 8192);
  EXPECT_EQ(errorOf(contextTokensPerRank({8192, 3, true})),
            "cp=3 does not divide the sequence (8192 tokens) into 6 chunks "
            "(2 per rank, the causal zigzag split)");
  // 9 tokens divide by cp=3 but not into the 2·cp zigzag chunks.
  EXPECT_EQ(errorOf(contextTokensPerRank({9, 3, true})),
            "cp=3 does not divide the sequence (9 tokens) into 6 chunks "
            "(2 per rank, the causal zigzag split)");
  llvm::Expected<int64_t> plain = contextTokensPerRank({9, 3, false});
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  EXPECT_EQ(*plain, 3);
  EXPECT_EQ(errorOf(contextTokensPerRank({10, 3, false})),
            "cp=3 does not divide the sequence (10 tokens)");
  EXPECT_EQ(errorOf(contextTokensPerRank({8192, 0, true})),
            "cp=0: must be >= 1");
}

/// Causal (query, key) pairs rank `r` computes against the keys rank `j`
/// holds, under the zigzag split of `seq` tokens over `cp` ranks.
int64_t causalPairs(int64_t seq, int64_t cp, int64_t r, int64_t j) {
  const int64_t chunk = seq / (2 * cp);
  auto holds = [&](int64_t rank, int64_t pos) {
    int64_t c = pos / chunk;
    return c == rank || c == 2 * cp - 1 - rank;
  };
  int64_t pairs = 0;
  for (int64_t q = 0; q < seq; ++q)
    for (int64_t k = 0; k <= q; ++k)
      pairs += holds(r, q) && holds(j, k);
  return pairs;
}

TEST(ContextParallelTest, ZigzagGivesEveryStepHalfABlock) {
  // Brute force over every rank and ring step: each step's causal work is
  // half of a full (seq/cp)² block, up to the diagonal's own chunk/2 pairs
  // per diagonal chunk, and every rank does 1/cp of the causal attention.
  const int64_t seq = 64;
  for (int64_t cp : {2, 4, 8}) {
    const int64_t perRank = seq / cp, chunk = seq / (2 * cp);
    const double block = double(perRank * perRank);
    RingAttentionEstimate e =
        ring({cp, /*causal=*/true, /*blockForward=*/block, 0, 0, 0, 0});
    const int64_t unsplit = seq * (seq + 1) / 2;
    for (int64_t r = 0; r < cp; ++r) {
      int64_t total = 0;
      for (int64_t j = 0; j < cp; ++j) {
        int64_t pairs = causalPairs(seq, cp, r, j);
        total += pairs;
        // Diagonal step: two chunks against themselves causally add chunk
        // pairs each on top of the half block; every other step is exact.
        double diagonal = j == r ? double(chunk) : 0.0;
        EXPECT_DOUBLE_EQ(double(pairs), e.forward.stepCompute + diagonal)
            << "cp=" << cp << " rank " << r << " keys of rank " << j;
      }
      EXPECT_NEAR(double(total), double(unsplit) / double(cp),
                  double(chunk)) // the diagonal's half-pairs
          << "cp=" << cp << " rank " << r;
    }
    EXPECT_DOUBLE_EQ(e.forward.compute, double(cp) * block / 2);
  }
}

TEST(ContextParallelTest, ExposedTimeIsTheTransferNotHidden) {
  // cp=4, causal: a step is half of a 2 ms block. A 1.5 ms K/V transfer
  // sticks out 0.5 ms at each of the 3 hops.
  RingAttentionEstimate e =
      ring({4, true, 2 * ms, 5 * ms, 1.5 * ms, 3 * ms, 1 * ms});
  EXPECT_EQ(e.forward.computeSteps, 4);
  EXPECT_EQ(e.forward.transfers, 3);
  EXPECT_DOUBLE_EQ(e.forward.stepCompute, 1 * ms);
  EXPECT_DOUBLE_EQ(e.forward.compute, 4 * ms);
  EXPECT_DOUBLE_EQ(e.forward.transfer, 4.5 * ms);
  EXPECT_DOUBLE_EQ(e.forward.exposed, 1.5 * ms);
  EXPECT_DOUBLE_EQ(e.forward.total, 5.5 * ms);
  // Backward: 2.5 ms steps under 3 ms K/V + dK/dV transfers (0.5 ms out at
  // each of 3 hops), then the last dK/dV hop home (1 ms), all exposed.
  EXPECT_EQ(e.backward.transfers, 4);
  EXPECT_DOUBLE_EQ(e.backward.compute, 10 * ms);
  EXPECT_DOUBLE_EQ(e.backward.transfer, 10 * ms);
  EXPECT_DOUBLE_EQ(e.backward.exposed, 2.5 * ms);
  EXPECT_DOUBLE_EQ(e.backward.total, 12.5 * ms);
  // Transfers shorter than a step hide entirely (but the last dK/dV hop).
  RingAttentionEstimate hidden =
      ring({4, true, 2 * ms, 5 * ms, 0.5 * ms, 1 * ms, 0.25 * ms});
  EXPECT_DOUBLE_EQ(hidden.forward.exposed, 0);
  EXPECT_DOUBLE_EQ(hidden.backward.exposed, 0.25 * ms);
  // Without a mask a step is the whole block.
  RingAttentionEstimate full =
      ring({4, false, 2 * ms, 5 * ms, 1.5 * ms, 3 * ms, 1 * ms});
  EXPECT_DOUBLE_EQ(full.forward.stepCompute, 2 * ms);
  EXPECT_DOUBLE_EQ(full.forward.exposed, 0);
}

TEST(ContextParallelTest, OneRankIsTheUnsplitAttention) {
  RingAttentionEstimate e =
      ring({1, true, 2 * ms, 5 * ms, 1 * ms, 1 * ms, 1 * ms});
  EXPECT_EQ(e.forward.transfers, 0);
  EXPECT_EQ(e.backward.transfers, 0);
  EXPECT_DOUBLE_EQ(e.forward.total, 1 * ms); // causal: half of S²
  EXPECT_DOUBLE_EQ(e.backward.total, 2.5 * ms);
}

TEST(ContextParallelTest, RejectsBadInputs) {
  EXPECT_EQ(errorOf(estimateRingAttention({0, true, 1, 1, 1, 1, 1})),
            "ring attention: cp must be >= 1, got 0");
  EXPECT_EQ(errorOf(estimateRingAttention({2, true, 1, 1, -1, 1, 1})),
            "ring attention: forward transfer time must be finite and >= 0, "
            "got -1");
}

TEST(ContextParallelTest, LlamaThreeLongContextRingHidesOnItsFabrics) {
  // Llama 3 405B at 131,072 tokens, tp=8 cp=16 (Table 4): a rank holds
  // 8,192 tokens of its single KV head (8 KV heads / tp 8), head_dim 128,
  // BF16: 4 MiB of K and V per ring step.
  const double bytes = ringKVBytes(8192, 1, 128, 2);
  EXPECT_DOUBLE_EQ(bytes, 4.0 * 1024 * 1024);
  hw::System pod = *hw::getPreset("dgx-h100x4");
  CostModel model(pod);
  // The forward block at the H100's BF16 peak, a lower bound of its time:
  // 8,192 queries x 8,192 keys x 16 query heads per rank (128 / tp 8), QKᵀ
  // and PV at 2 FLOPs per multiply-add each over head_dim 128.
  std::optional<double> peak = hw::SystemQuery(pod).peakFlops(hw::DType::bf16);
  ASSERT_TRUE(peak.has_value());
  const double blockFlops = 4.0 * 8192 * 8192 * 16 * 128;
  const double block = blockFlops / *peak;
  for (int fabric : {0, 1}) { // nvlink, ib
    const hw::Fabric &f = pod.topology[fabric];
    CollectiveEstimate p2p =
        model.collective({CollectiveKind::SendRecv, bytes, 2, fabric,
                          CollectiveAlgorithm::Auto});
    // One hop: the link's latency plus the bytes at its achievable bandwidth.
    EXPECT_DOUBLE_EQ(p2p.estimate.time,
                     f.latency + bytes / (f.bandwidth * f.efficiency))
        << f.name;
    CollectiveEstimate back =
        model.collective({CollectiveKind::SendRecv, 2 * bytes, 2, fabric,
                          CollectiveAlgorithm::Auto});
    RingAttentionEstimate e =
        ring({16, true, block, 2.5 * block, p2p.estimate.time,
              back.estimate.time, p2p.estimate.time});
    // Even against the peak-rate block the transfers hide: only the last
    // dK/dV hop of the backward is exposed.
    EXPECT_DOUBLE_EQ(e.forward.exposed, 0) << f.name;
    EXPECT_DOUBLE_EQ(e.backward.exposed, p2p.estimate.time) << f.name;
  }
}

} // namespace
