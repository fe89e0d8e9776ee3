//===- TrainingCalibrationTest.cpp - End to end vs Megatron-LM runs -------===//
//
// The cases of training.json whose plan is stated or follows from the
// source's rules (Narayanan et al. 2021, Tables 1 and 2, on up to 3,072
// A100s; Llama 3 405B on 8,192 and 16,384 H100s) through the user path:
// generate the training step, strata-parallelize + strata-partition (upstream
// shard) + strata-stage, fuse, tile, estimate the step; NeMo's FP8 rows
// with the published recipes' settings (lib/Calibration/NeMoRecipes.cpp).
// Target of issue 15: MAPE <= 8 %, worst case <= 20 %. The number of cases
// run is pinned so a case cannot quietly drop out;
// benchmarks/strata-calibrate --cases prints each.
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/Training.h"

#include "llvm/ADT/StringRef.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

using namespace strata;

TEST(TrainingCalibrationTest, FullyStatedRunsWithinTarget) {
  // The in-repo copy (test/data/reference) unless STRATA_REFERENCE_DIR
  // names another.
  const char *dir = std::getenv("STRATA_REFERENCE_DIR");
  std::string path = std::string(dir ? dir : STRATA_REFERENCE_DIR) + "/training.json";
  llvm::Expected<cost::FileResult> r = calibration::evaluateTrainingFile(path);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  // Megatron-LM and Llama 3 rows (BF16, plans stated by the papers) and
  // NeMo's FP8 rows (plans completed from NeMo's published recipes) are
  // held to their own figures, so the FP8 rows cannot hide a regression of
  // the others.
  double worstBf16 = 0, worstNeMo = 0, sumBf16 = 0, sumNeMo = 0;
  int llama3 = 0, bf16 = 0, nemo = 0, palm = 0, contextParallel = 0;
  for (const cost::CaseResult &c : r->cases) {
    if (!c.skipped.empty())
      continue;
    std::printf("%s measured %.1f model %.1f (%+.1f%%)\n", c.id.c_str(),
                c.measured, c.estimated, c.errorPct());
    double e = std::fabs(c.errorPct());
    // The context-parallel rows, each pinned to what it gave when cp was
    // first modelled (strata-parallelize cp=, the cost core's ring
    // attention), apart from the groups below so that they cannot hide a
    // regression of the rows that ran before. Each says how its source
    // runs cp.
    if (c.id == "llama3-t4-16384gpu-seq131072") {
      // Llama 3 405B at 131K tokens, cp 16 as section 3.3.2 (K and V
      // all-gathered): +35.9 % (516.3 against 380 TFLOP/s).
      EXPECT_TRUE(llvm::StringRef(c.note).contains("all-gathered")) << c.note;
      EXPECT_LE(e, 36.5);
      ++contextParallel;
      continue;
    }
    if (c.id == "nemo2407-h100-llama3-8b-8gpu" ||
        c.id == "nemo2407-h100-llama3-70b-64gpu") {
      // NeMo's Llama 3 8B and 70B, cp 2 as Transformer Engine's ring
      // attention: +42.3 % (the tp = 1 rows' fast FP8 GEMMs, as Llama 2
      // 7B's +27.9 %) and -3.3 % when cp was first modelled; +37.3 % and
      // -5.8 % once the embedding and LM head stay BF16 under FP8 as in
      // Megatron-LM + Transformer Engine (the 128K-vocabulary head's three
      // GEMMs at the BF16 rate; the NeMo rows' MAPE 14.5 -> 12.8 %). The
      // 70B row is too slow for what the step still leaves exposed (the
      // gradient sync of an interleaved stage, tp collectives Transformer
      // Engine overlaps; docs/parallelism.md).
      EXPECT_TRUE(llvm::StringRef(c.note).contains("ring attention"))
          << c.note;
      EXPECT_LE(e, c.id == "nemo2407-h100-llama3-8b-8gpu" ? 37.8 : 6.3);
      ++contextParallel;
      continue;
    }
    if (llvm::StringRef(c.id).starts_with("nemo")) {
      // Each NeMo row says which published recipe filled in what the
      // summary does not state.
      EXPECT_TRUE(llvm::StringRef(c.note).contains(
          "NVIDIA/NeMo-Framework-Launcher@"))
          << c.id << ": " << c.note;
      EXPECT_TRUE(llvm::StringRef(c.note).contains("launcher_scripts/conf/"))
          << c.id << ": " << c.note;
      ++nemo;
      sumNeMo += e;
      worstNeMo = std::max(worstNeMo, e);
      continue;
    }
    if (llvm::StringRef(c.id).starts_with("palm-")) {
      // PaLM 540B on two TPU v4 pods, MFU in appendix B's convention:
      // 34.1 % against 46.2 % (-26.2 %) when it first ran. The TPU v4 chip
      // is uncalibrated: its GEMMs come out HBM-bound at 55 % of peak under
      // the UNCONFIRMED 16 MiB VMEM (docs/hardware-presets.md), where PaLM
      // reports 57.8 % hardware FLOPs utilisation for the whole step.
      EXPECT_LE(std::fabs(c.errorPct()), 27.0);
      ++palm;
      continue;
    }
    if (llvm::StringRef(c.id).starts_with("llama3-"))
      // Llama 3 405B under Meta's plan (Table 4): interleaved 1F1B on
      // uneven stages, FSDP (ZeRO-2), model-FLOPs MFU, fused attention
      // forward and backward: +11.0 % and +4.9 % when this was written,
      // +10.4 % and +4.3 % with the wgmma backward's operand bound.
      ++llama3;
    ++bf16;
    sumBf16 += e;
    worstBf16 = std::max(worstBf16, e);
  }
  std::printf("training.json: %d run, MAPE %.1f%% (Megatron-LM and Llama 3 "
              "rows %.1f%%, NeMo "
              "FP8 rows %.1f%%)\n",
              r->ran(), r->mape(), sumBf16 / bf16, sumNeMo / nemo);
  // 39 cases, all run: the 22 Narayanan et al. rows (Table 1, and Table 2's
  // ZeRO-3 and PTD-P rows, the latter with tp = 8 and pp = mp / 8 as the
  // paper's rule gives), Llama 3's two 8K-context rows, PaLM, 11 of NeMo's
  // 13 FP8 rows, and the three context-parallel rows (the 131K-context
  // Llama 3 row, NeMo's two Llama 3 rows; cp = 16 and 2).
  EXPECT_EQ(int(r->cases.size()), 39);
  EXPECT_EQ(r->ran(), 39);
  EXPECT_EQ(contextParallel, 3);
  EXPECT_EQ(bf16, 24);
  EXPECT_EQ(palm, 1);
  EXPECT_EQ(llama3, 2);
  EXPECT_EQ(nemo, 11);
  // The Megatron-LM and Llama 3 rows: 5.4 % MAPE, worst 17.3 % when the
  // NeMo and PaLM rows were added (unchanged by them); issue 15's goal is
  // MAPE <= 8 %, worst <= 20 %.
  EXPECT_LE(sumBf16 / bf16, 8.0);
  EXPECT_LE(worstBf16, 20.0);
  // The NeMo FP8 rows: 14.0 % MAPE, worst +30.6 % (Llama 2 7B on one
  // DGX) when they were first run; 13.6 % and +27.9 % once the fused
  // attention backward on wgmma was bounded by its shared-memory operands;
  // 14.5 % since NVLink SHARP all-reduces are priced as NCCL runs them
  // (23 us, ~275 GB/s on 8 H100s; CostModel.cpp): the tp > 1 rows' step grew
  // 1.5-3 points, from close to their measured figures to below them.
  // Short of issue 15's goal: tp = 1 rows come out fast, GPT3-20B's tp = 2
  // over 8 nodes slow (docs/parallelism.md). 12.8 % and +26.4 % with the
  // vocabulary tables in BF16 (Megatron-LM's embedding and output layer
  // are not Transformer Engine modules); 12.9 % with GPT3-5B/20B run
  // without recomputation, as their recipe files set. Pinned so they can
  // only get better.
  EXPECT_LE(sumNeMo / nemo, 12.9);
  EXPECT_LE(worstNeMo, 26.5);
}
