//===- ParallelismTest.cpp - Multi-chip training formulas -----------------===//
//
// Each test checks a formula against the figure or equation of its source,
// cited where the numbers come from.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/Parallelism.h"
#include "strata/Hardware/Presets.h"
#include "strata/Hardware/Units.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace strata;
using namespace strata::cost;

namespace {

constexpr double ms = 1e-3;

PipelineEstimate pipeline(PipelineSchedule s, int64_t p, int64_t m, int64_t v,
                          double tf, double tb, double c = 0) {
  llvm::Expected<PipelineEstimate> e =
      estimatePipeline({s, p, m, v, tf, tb, c});
  if (!e) {
    ADD_FAILURE() << llvm::toString(e.takeError());
    return {};
  }
  return *e;
}

/// The error message of `e`, which must be an error.
template <typename T> std::string errorOf(llvm::Expected<T> e) {
  if (e) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(e.takeError());
}

//===----------------------------------------------------------------------===//
// Pipeline schedules
//===----------------------------------------------------------------------===//

TEST(ParallelismTest, GPipeBubble) {
  // Huang et al. 2019 (GPipe), Sec. 2.3: with K partitions and M
  // micro-batches the bubble is O((K − 1)/(M + K − 1)) of the step,
  // "negligible when M >= 4 x K". Narayanan et al. 2021, Sec. 2.2.1: the
  // step is (m + p − 1)(tf + tb), the bubble fraction (p − 1)/m.
  PipelineEstimate e =
      pipeline(PipelineSchedule::GPipe, 4, 16, 1, 1 * ms, 2 * ms);
  EXPECT_DOUBLE_EQ(e.stepTime, (16 + 4 - 1) * 3 * ms); // 57 ms
  EXPECT_DOUBLE_EQ(e.bubbleTime, 3 * 3 * ms);
  EXPECT_DOUBLE_EQ(e.bubbleFraction, 3.0 / 16);
  EXPECT_DOUBLE_EQ(e.bubbleTime / e.stepTime, 3.0 / 19);
  // GPipe stashes every microbatch before the first backward.
  EXPECT_DOUBLE_EQ(e.inFlightMicrobatches, 16);
  EXPECT_EQ(e.inFlightChunks, 16);
  // One stage: no bubble, no transfers.
  PipelineEstimate one =
      pipeline(PipelineSchedule::GPipe, 1, 8, 1, 1 * ms, 2 * ms, 5 * ms);
  EXPECT_DOUBLE_EQ(one.stepTime, 8 * 3 * ms);
  EXPECT_DOUBLE_EQ(one.bubbleFraction, 0);
  EXPECT_EQ(one.p2pTransfers, 0);
}

TEST(ParallelismTest, OneFOneBHasGPipesBubbleAndAtMostPInFlight) {
  // Narayanan et al. 2021, Sec. 2.2.1 (PipeDream-Flush): "the time spent in
  // the bubble is the same" as GPipe, (p − 1)/m, but in-flight microbatches
  // are limited to p — "at most p" (the first stage holds the most).
  PipelineEstimate gpipe =
      pipeline(PipelineSchedule::GPipe, 4, 8, 1, 1 * ms, 2 * ms);
  PipelineEstimate f1b1 =
      pipeline(PipelineSchedule::OneFOneB, 4, 8, 1, 1 * ms, 2 * ms);
  EXPECT_DOUBLE_EQ(f1b1.bubbleFraction, 3.0 / 8);
  EXPECT_DOUBLE_EQ(f1b1.stepTime, gpipe.stepTime);
  EXPECT_DOUBLE_EQ(gpipe.inFlightMicrobatches, 8);
  EXPECT_DOUBLE_EQ(f1b1.inFlightMicrobatches, 4);
  // Fewer microbatches than stages: Megatron-LM's warm-up is clipped to m.
  EXPECT_DOUBLE_EQ(pipeline(PipelineSchedule::OneFOneB, 4, 2, 1, 1 * ms, 2 * ms)
                       .inFlightMicrobatches,
                   2);
}

TEST(ParallelismTest, InterleavingDividesTheBubbleByV) {
  // Narayanan et al. 2021, Sec. 2.2.2: with v chunks per device each chunk
  // takes tf/v and tb/v, the bubble is (p − 1)(tf + tb)/v and its fraction
  // (p − 1)/(v·m). p = 4, m = 8, v = 2: 3/16 instead of 3/8.
  const double tf = 2 * ms, tb = 4 * ms; // a whole stage
  PipelineEstimate plain =
      pipeline(PipelineSchedule::OneFOneB, 4, 8, 1, tf, tb);
  PipelineEstimate inter =
      pipeline(PipelineSchedule::Interleaved1F1B, 4, 8, 2, tf / 2, tb / 2);
  EXPECT_DOUBLE_EQ(plain.bubbleFraction, 3.0 / 8);
  EXPECT_DOUBLE_EQ(inter.bubbleFraction, 3.0 / 16);
  EXPECT_DOUBLE_EQ(inter.bubbleTime, 3 * (tf + tb) / 2); // 9 ms
  EXPECT_DOUBLE_EQ(inter.idealTime, plain.idealTime);    // 48 ms of work
  EXPECT_DOUBLE_EQ(inter.stepTime, 57 * ms);
  EXPECT_DOUBLE_EQ(plain.stepTime, 66 * ms);
  // "the amount of communication also increases by v".
  EXPECT_EQ(plain.p2pTransfers, 16);
  EXPECT_EQ(inter.p2pTransfers, 32);
}

TEST(ParallelismTest, UnevenChunksWidenTheBubble) {
  // Llama 3 405B: 126 layers on p = 16 stages of v = 4 chunks. A stage of 8
  // layers has chunks of 2 (the mean): the bubble is (p - 1)/(v m).
  const double tf = 4 * ms, tb = 8 * ms; // one mean chunk
  PipelineWork even{PipelineSchedule::Interleaved1F1B, 16, 32, 4, tf, tb, 0, 8};
  llvm::Expected<PipelineEstimate> e = estimatePipeline(even);
  ASSERT_TRUE(bool(e)) << llvm::toString(e.takeError());
  EXPECT_DOUBLE_EQ(e->bubbleFraction, 15.0 / 128);
  EXPECT_DOUBLE_EQ(e->bubbleTime, 15 * (tf + tb));
  // 6 layers in 4 chunks (2, 2, 1, 1): the mean chunk is 1.5 layers, the
  // deepest 2, so each of the p - 1 fill/drain slots is 4/3 of the mean
  // while the work itself is unchanged.
  PipelineWork uneven = even;
  uneven.stageLayers = 6;
  llvm::Expected<PipelineEstimate> u = estimatePipeline(uneven);
  ASSERT_TRUE(bool(u)) << llvm::toString(u.takeError());
  EXPECT_DOUBLE_EQ(u->idealTime, e->idealTime);
  EXPECT_DOUBLE_EQ(u->bubbleTime, 15 * (tf + tb) * 4 / 3);
  EXPECT_DOUBLE_EQ(u->bubbleFraction, 15.0 / 128 * 4 / 3);
  // A chunk without a layer is an error naming the numbers.
  PipelineWork empty = even;
  empty.stageLayers = 3;
  EXPECT_EQ(errorOf(estimatePipeline(empty)),
            "interleaved-1f1b: 3 layers per stage cannot fill 4 virtual "
            "stages");
}

TEST(ParallelismTest, InterleavedActivationMultiplier) {
  // Megatron-LM schedules.py (forward_backward_pipelining_with_
  // interleaving): rank 0 runs (p − 1)·2 + (v − 1)·p warm-up chunk forwards,
  // one more in the steady state, all v·m if m == p. In microbatches this
  // is p·(1 + (p − 1)/(p·v)) (Korthikanti et al. 2022, Sec. 4.2.3).
  for (auto [p, v] : {std::pair<int64_t, int64_t>{4, 2}, {8, 3}, {2, 4}}) {
    PipelineEstimate e = pipeline(PipelineSchedule::Interleaved1F1B, p, 4 * p,
                                  v, 1 * ms, 2 * ms);
    double paper = p * (1 + double(p - 1) / double(p * v));
    EXPECT_DOUBLE_EQ(e.inFlightMicrobatches, paper) << "p=" << p << " v=" << v;
    EXPECT_EQ(e.inFlightChunks, 2 * (p - 1) + (v - 1) * p + 1);
  }
  // p = 4, v = 2: 11 chunk activations, 5.5 microbatches' worth.
  EXPECT_DOUBLE_EQ(
      pipeline(PipelineSchedule::Interleaved1F1B, 4, 8, 2, 1 * ms, 2 * ms)
          .inFlightMicrobatches,
      5.5);
  // m == p: Megatron runs every forward first (all warm-up): v·m chunks.
  PipelineEstimate allWarm =
      pipeline(PipelineSchedule::Interleaved1F1B, 4, 4, 2, 1 * ms, 2 * ms);
  EXPECT_EQ(allWarm.inFlightChunks, 8);
  EXPECT_DOUBLE_EQ(allWarm.inFlightMicrobatches, 4);
}

TEST(ParallelismTest, BlockingP2PLengthensEverySlot) {
  // Megatron-LM's default p2p (batched isend/irecv, then wait) is blocking:
  // each forward and backward slot carries one transfer. p = 4, m = 8,
  // tf = 1 ms, tb = 2 ms, 0.1 ms per crossing: 11 slots of 3.2 ms.
  PipelineEstimate e =
      pipeline(PipelineSchedule::OneFOneB, 4, 8, 1, 1 * ms, 2 * ms, 0.1 * ms);
  EXPECT_NEAR(e.stepTime, 35.2 * ms, 1e-12);
  EXPECT_NEAR(e.p2pTime, 2.2 * ms, 1e-12);
  EXPECT_DOUBLE_EQ(e.bubbleFraction, 3.0 / 8); // the fraction is unchanged
  // Interleaving halves the compute per slot but not the transfer: the
  // transfers grow from 11 to 19 slots' worth.
  PipelineEstimate i = pipeline(PipelineSchedule::Interleaved1F1B, 4, 8, 2,
                                0.5 * ms, 1 * ms, 0.1 * ms);
  EXPECT_NEAR(i.stepTime, 19 * 1.7 * ms, 1e-12);
  EXPECT_NEAR(i.p2pTime, 3.8 * ms, 1e-12);

  // The transfer time is what the caller priced: one 2048 x 12288 bf16
  // activation across the InfiniBand fabric of dgx-h100x4 as a send/recv
  // (docs/cost-model.md, Collectives: α + n/(bandwidth·η)).
  hw::System sys = *hw::getPreset("dgx-h100x4");
  CostModel model(sys);
  CollectiveWork sr{CollectiveKind::SendRecv, 2048.0 * 12288 * 2, 2,
                    int(sys.topology.size()) - 1};
  double c = model.collective(sr).estimate.time;
  const hw::Fabric &ib = sys.topology.back();
  EXPECT_DOUBLE_EQ(c, ib.latency + sr.bytes / (ib.bandwidth * ib.efficiency));
  PipelineEstimate priced =
      pipeline(PipelineSchedule::OneFOneB, 4, 8, 1, 1 * ms, 2 * ms, c);
  EXPECT_DOUBLE_EQ(priced.p2pTime, 11 * 2 * c);
}

TEST(ParallelismTest, PipelineRejectsBadInputsWithAMessage) {
  EXPECT_NE(
      errorOf(estimatePipeline({PipelineSchedule::GPipe, 4, 0, 1, 1, 1, 0}))
          .find("microbatches must be >= 1"),
      std::string::npos);
  EXPECT_NE(
      errorOf(estimatePipeline({PipelineSchedule::OneFOneB, 0, 4, 1, 1, 1, 0}))
          .find("stages must be >= 1"),
      std::string::npos);
  // Megatron-LM requires m % p == 0 for the interleaved schedule.
  EXPECT_EQ(errorOf(estimatePipeline(
                {PipelineSchedule::Interleaved1F1B, 4, 6, 2, 1, 1, 0})),
            "interleaved-1f1b: microbatches (6) must be a multiple of stages "
            "(4)");
  EXPECT_NE(
      errorOf(estimatePipeline({PipelineSchedule::OneFOneB, 4, 8, 2, 1, 1, 0}))
          .find("need the interleaved schedule"),
      std::string::npos);
  EXPECT_NE(
      errorOf(estimatePipeline({PipelineSchedule::OneFOneB, 4, 8, 1, -1, 1, 0}))
          .find("forward time must be finite and >= 0"),
      std::string::npos);
  EXPECT_NE(errorOf(estimatePipeline(
                        {PipelineSchedule::OneFOneB, 4, 8, 1, 1, 1, NAN}))
                .find("p2p time"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// ZeRO
//===----------------------------------------------------------------------===//

DeviceFootprint states(int stage, double psi, int64_t nd) {
  ZeroConfig c;
  c.stage = stage;
  c.parameters = psi;
  c.dataParallel = nd;
  llvm::Expected<DeviceFootprint> f = zeroModelStates(c);
  if (!f) {
    ADD_FAILURE() << llvm::toString(f.takeError());
    return {};
  }
  return *f;
}

TEST(ParallelismTest, ZeroFigure1) {
  // Rajbhandari et al. 2020 (ZeRO), Figure 1: Ψ = 7.5B, Nd = 64, K = 12:
  // baseline (2 + 2 + K)Ψ = 120 GB; P_os 2Ψ + 2Ψ + KΨ/Nd = 31.4 GB;
  // P_os+g 2Ψ + (2 + K)Ψ/Nd = 16.6 GB; P_os+g+p (2 + 2 + K)Ψ/Nd = 1.9 GB.
  const double psi = 7.5e9, GB = 1e9;
  auto rounded = [&](double bytes) { return std::round(bytes / GB * 10) / 10; };
  DeviceFootprint s0 = states(0, psi, 64), s1 = states(1, psi, 64),
                  s2 = states(2, psi, 64), s3 = states(3, psi, 64);
  EXPECT_DOUBLE_EQ(s0.total(), 120 * GB);
  EXPECT_DOUBLE_EQ(rounded(s1.total()), 31.4);
  EXPECT_DOUBLE_EQ(rounded(s2.total()), 16.6);
  EXPECT_DOUBLE_EQ(rounded(s3.total()), 1.9);
  // The unrounded terms.
  EXPECT_DOUBLE_EQ(s1.weights, 15 * GB);
  EXPECT_DOUBLE_EQ(s1.gradients, 15 * GB);
  EXPECT_DOUBLE_EQ(s1.optimizer, 90 * GB / 64);
  EXPECT_DOUBLE_EQ(s2.gradients, 15 * GB / 64);
  EXPECT_DOUBLE_EQ(s3.total(), 120 * GB / 64);
  EXPECT_DOUBLE_EQ(s3.activations + s3.kvCache + s3.other, 0);
  // Nd = 1: partitioning changes nothing.
  EXPECT_DOUBLE_EQ(states(3, psi, 1).total(), 120 * GB);
}

TEST(ParallelismTest, ZeroCommunicationVolume) {
  // ZeRO Sec. 7.2: data parallelism and P_os+g move 2Ψ per step (reduce-
  // scatter + all-gather, or one all-reduce); P_os+g+p moves 3Ψ (parameters
  // all-gathered in the forward and again in the backward, gradients
  // reduce-scattered): 1.5x.
  const double psi = 1e9;
  auto comm = [&](int stage, int64_t accumulation = 1) {
    ZeroConfig c;
    c.stage = stage;
    c.parameters = psi;
    c.dataParallel = 8;
    c.accumulationSteps = accumulation;
    return *zeroCommunication(c);
  };
  for (int stage : {0, 1, 2})
    EXPECT_DOUBLE_EQ(comm(stage).volumeBytes, 2 * psi * 2) << stage;
  EXPECT_DOUBLE_EQ(comm(3).volumeBytes, 3 * psi * 2);
  EXPECT_DOUBLE_EQ(comm(3).volumeBytes / comm(0).volumeBytes, 1.5);

  ZeroCommunication s0 = comm(0), s2 = comm(2), s3 = comm(3);
  ASSERT_EQ(s0.collectives.size(), 1u);
  EXPECT_EQ(s0.collectives[0].work.kind, CollectiveKind::AllReduce);
  EXPECT_EQ(s0.collectives[0].work.groupSize, 8);
  EXPECT_DOUBLE_EQ(s0.collectives[0].work.bytes, 2 * psi);
  ASSERT_EQ(s2.collectives.size(), 2u);
  EXPECT_EQ(s2.collectives[0].work.kind, CollectiveKind::ReduceScatter);
  EXPECT_EQ(s2.collectives[1].work.kind, CollectiveKind::AllGather);
  EXPECT_EQ(s2.collectives[1].phase, TrainingPhase::Optimizer);
  ASSERT_EQ(s3.collectives.size(), 3u);
  EXPECT_EQ(s3.collectives[0].phase, TrainingPhase::Forward);
  EXPECT_EQ(s3.collectives[0].what, "parameters");

  // Priced by the cost core with ring on the NVLink of one DGX H100, the
  // all-reduce and the reduce-scatter + all-gather pair take the same time
  // (the ring all-reduce is that pair), and stage 3 takes 1.5x the wire
  // time plus one more pass of latencies.
  hw::System sys = *hw::getPreset("dgx-h100");
  CostModel model(sys);
  auto price = [&](const ZeroCommunication &z) {
    double t = 0;
    for (ZeroCollective c : z.collectives) {
      c.work.algorithm = CollectiveAlgorithm::Ring;
      t += c.times * model.collective(c.work).estimate.time;
    }
    return t;
  };
  EXPECT_NEAR(price(s2), price(s0), 1e-15);
  const hw::Fabric &nv = sys.topology[0];
  double alphas = 7 * nv.latency; // one ring pass: p − 1 steps
  EXPECT_NEAR(price(s3) - 3 * alphas, 1.5 * (price(s0) - 2 * alphas), 1e-15);

  // Gradient accumulation: stage 0/1 accumulate full gradients locally and
  // reduce once; stage 2 keeps only a slice, so it reduces every
  // microbatch; stage 3 also gathers the weights every microbatch.
  EXPECT_DOUBLE_EQ(comm(1, 4).volumeBytes, comm(1).volumeBytes);
  EXPECT_DOUBLE_EQ(comm(2, 4).volumeBytes, (4 + 1) * psi * 2);
  EXPECT_DOUBLE_EQ(comm(3, 4).volumeBytes, 4 * 3 * psi * 2);
  // One device: nothing to synchronise.
  ZeroConfig solo;
  solo.parameters = psi;
  EXPECT_TRUE(zeroCommunication(solo)->collectives.empty());
}

TEST(ParallelismTest, ZeroRejectsBadInputs) {
  ZeroConfig c;
  c.parameters = 1e9;
  c.stage = 4;
  EXPECT_EQ(errorOf(zeroModelStates(c)),
            "ZeRO stage must be 0, 1, 2 or 3, got 4");
  c.stage = 1;
  c.dataParallel = 0;
  EXPECT_NE(errorOf(zeroCommunication(c)).find("data-parallel degree"),
            std::string::npos);
  c.dataParallel = 8;
  c.parameters = -1;
  EXPECT_NE(errorOf(zeroModelStates(c)).find("parameters"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Overlap
//===----------------------------------------------------------------------===//

/// The timeline itself, bucket by bucket, as PyTorch DDP runs it (Li et al.
/// 2020, "PyTorch Distributed", Sec. 3.2.3: a bucket's all-reduce launches
/// when all its gradients are ready, asynchronously, in bucket order).
double simulatedExposed(double compute, double s, int64_t buckets) {
  double done = 0;
  for (int64_t i = 1; i <= buckets; ++i)
    done = std::max(done, i * compute / buckets) + s;
  return std::max(0.0, done - compute);
}

TEST(ParallelismTest, BucketedReductionOverlapsTheBackward) {
  // Compute-bound: 100 ms backward, 4 buckets of 10 ms: only the last
  // bucket sticks out.
  OverlapEstimate a = *overlapGradientSync({100 * ms, 10 * ms, 4});
  EXPECT_DOUBLE_EQ(a.commTime, 40 * ms);
  EXPECT_DOUBLE_EQ(a.exposed, 10 * ms);
  EXPECT_DOUBLE_EQ(a.overlapped, 30 * ms);
  EXPECT_DOUBLE_EQ(a.total, 110 * ms);
  EXPECT_DOUBLE_EQ(a.hiddenFraction, 0.75);
  // Communication-bound: 4 buckets of 40 ms start at 25 ms and run back to
  // back: done at 185 ms, 85 ms exposed.
  OverlapEstimate b = *overlapGradientSync({100 * ms, 40 * ms, 4});
  EXPECT_NEAR(b.exposed, 85 * ms, 1e-15);
  EXPECT_NEAR(b.overlapped, 75 * ms, 1e-15);
  // One bucket: the reduction runs after the backward, nothing hidden.
  OverlapEstimate one = *overlapGradientSync({100 * ms, 30 * ms, 1});
  EXPECT_DOUBLE_EQ(one.exposed, 30 * ms);
  EXPECT_DOUBLE_EQ(one.hiddenFraction, 0);
  // No communication at all is fully hidden.
  EXPECT_DOUBLE_EQ(overlapGradientSync({100 * ms, 0, 4})->hiddenFraction, 1);
  // The closed form against the timeline.
  for (double compute : {0.0, 10 * ms, 100 * ms})
    for (double s : {1 * ms, 7 * ms, 50 * ms})
      for (int64_t buckets : {1, 2, 3, 25}) {
        OverlapEstimate e = *overlapGradientSync({compute, s, buckets});
        EXPECT_NEAR(e.exposed, simulatedExposed(compute, s, buckets), 1e-12)
            << compute << " " << s << " " << buckets;
      }
  EXPECT_NE(errorOf(overlapGradientSync({1, 1, 0})).find("buckets"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Recompute
//===----------------------------------------------------------------------===//

TEST(ParallelismTest, RecomputeFlopsMatchMegatronEquation3) {
  // Narayanan et al. 2021, Sec. 5.1 / eq. (3): a layer's forward is
  // 24Bsh² + 4Bs²h FLOPs (4Bs²h of them QKᵀ and ·V), the backward twice
  // that, and full recomputation one more forward: 96Bsh²(1 + s/(6h)) per
  // layer (the logit term aside). GPT-3 175B shape (Table 1): h = 12288,
  // s = 2048, B = 1.
  const double B = 1, s = 2048, h = 12288;
  LayerFlops f{24 * B * s * h * h + 4 * B * s * s * h, 4 * B * s * s * h};
  LayerActivations none{};
  auto training = [&](Recompute r) {
    return 3 * f.forward + recomputeCost(r, f, none)->extraFlops;
  };
  EXPECT_DOUBLE_EQ(training(Recompute::None),
                   72 * B * s * h * h * (1 + s / (6 * h)));
  EXPECT_DOUBLE_EQ(training(Recompute::Full),
                   96 * B * s * h * h * (1 + s / (6 * h)));
  // Selective recomputes only the attention core's forward.
  EXPECT_DOUBLE_EQ(training(Recompute::Selective),
                   72 * B * s * h * h * (1 + s / (6 * h)) + 4 * B * s * s * h);
}

TEST(ParallelismTest, RecomputeKeepsWhatMegatronCheckpoints) {
  // Megatron-LM, --recompute-granularity: `full` checkpoints each
  // transformer layer on its input (transformer_block.py,
  // _checkpointed_forward); `selective` checkpoints only core_attention
  // (attention.py, _checkpointed_attention_forward), whose saved tensors —
  // scores, softmax output (bf16, 2·a·s²·b bytes each) and dropout mask
  // (a·s²·b) — are the ones dropped. GPT-3 175B shape, b = 1, bf16 layer
  // input 2·s·b·h; the rest of what the backward reads is the caller's
  // measurement (here 32·s·b·h).
  const double s = 2048, b = 1, h = 12288, a = 96;
  LayerActivations act;
  act.layerInput = 2 * s * b * h;
  act.attentionCore = 5 * a * s * s * b;
  act.total = act.layerInput + act.attentionCore + 32 * s * b * h;
  LayerFlops f{1e12, 1e11};
  RecomputeCost none = *recomputeCost(Recompute::None, f, act);
  RecomputeCost sel = *recomputeCost(Recompute::Selective, f, act);
  RecomputeCost full = *recomputeCost(Recompute::Full, f, act);
  EXPECT_DOUBLE_EQ(none.storedBytes, act.total);
  EXPECT_DOUBLE_EQ(none.transientBytes, 0);
  EXPECT_DOUBLE_EQ(sel.storedBytes, 34 * s * b * h);
  EXPECT_DOUBLE_EQ(sel.transientBytes, act.attentionCore);
  EXPECT_DOUBLE_EQ(full.storedBytes, 2 * s * b * h);
  EXPECT_DOUBLE_EQ(full.transientBytes, act.total - act.layerInput);
  EXPECT_DOUBLE_EQ(none.extraFlops, 0);
  EXPECT_DOUBLE_EQ(sel.extraFlops, 1e11);
  EXPECT_DOUBLE_EQ(full.extraFlops, 1e12);

  EXPECT_NE(errorOf(recomputeCost(Recompute::Full, {1, 2}, act))
                .find("attention-core FLOPs (2) exceed the forward's (1)"),
            std::string::npos);
  EXPECT_NE(errorOf(recomputeCost(Recompute::Full, f, {10, 6, 6}))
                .find("exceed the activations"),
            std::string::npos);
  EXPECT_NE(errorOf(recomputeCost(Recompute::None, {NAN, 0}, act))
                .find("forward FLOPs"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Footprint
//===----------------------------------------------------------------------===//

TEST(ParallelismTest, FootprintCheckListsTheBreakdown) {
  // ZeRO Figure 1's 7.5B model on one 80 GiB H100: plain data parallelism
  // needs 120 GB of model states and does not fit; stage 3 over 64 devices
  // (1.9 GB) does.
  hw::System sys = *hw::getPreset("h100-sxm");
  CostModel model(sys);
  const hw::MemoryLevel &hbm = model.homeLevel();
  DeviceFootprint dp = states(0, 7.5e9, 64);
  dp.activations = 4.0 * (1ull << 30);
  llvm::Error err = checkFootprint(dp, double(hbm.capacity), "hbm of h100-sxm");
  ASSERT_TRUE(bool(err));
  std::string msg = llvm::toString(std::move(err));
  EXPECT_EQ(msg, "per-device footprint " +
                     hw::formatBinaryBytesApprox(120e9 + 4.0 * (1ull << 30)) +
                     " does not fit the 80 GiB of hbm of h100-sxm (over by " +
                     hw::formatBinaryBytesApprox(120e9 + 4.0 * (1ull << 30) -
                                                 80.0 * (1ull << 30)) +
                     "): " + formatFootprint(dp));
  EXPECT_NE(msg.find("weights 13.97 GiB"), std::string::npos) << msg;
  EXPECT_NE(msg.find("optimizer 83.82 GiB"), std::string::npos) << msg;
  EXPECT_NE(msg.find("activations 4 GiB"), std::string::npos) << msg;

  DeviceFootprint z3 = states(3, 7.5e9, 64);
  z3.activations = 40.0 * (1ull << 30);
  EXPECT_FALSE(bool(checkFootprint(z3, double(hbm.capacity))));

  DeviceFootprint sum = z3;
  sum += dp;
  EXPECT_DOUBLE_EQ(sum.total(), z3.total() + dp.total());
  // A NaN total never fits.
  DeviceFootprint bad;
  bad.other = NAN;
  llvm::Error nan = checkFootprint(bad, 1e12);
  EXPECT_TRUE(bool(nan));
  llvm::consumeError(std::move(nan));
}

} // namespace
