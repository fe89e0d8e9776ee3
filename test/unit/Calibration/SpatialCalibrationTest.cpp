//===- SpatialCalibrationTest.cpp - End to end vs tt-metal on Wormhole ----===//
//
// test/data/spatial-reference/tenstorrent.json (tt-metal's published
// Wormhole n150/n300 figures) through the user path on the wormhole presets.
// Every row must run: a row that silently drops out (skipped) fails here.
// benchmarks/strata-calibrate --cases prints each row's error.
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/Spatial.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

using namespace strata;

TEST(SpatialCalibrationTest, EveryWormholeRowRuns) {
  llvm::Expected<cost::FileResult> r =
      calibration::evaluateSpatialFile(STRATA_SPATIAL_REFERENCE);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  for (const cost::CaseResult &c : r->cases) {
    EXPECT_TRUE(c.skipped.empty()) << c.id << " skipped: " << c.skipped;
    if (!c.skipped.empty())
      continue;
    EXPECT_TRUE(std::isfinite(c.estimated) && c.estimated > 0) << c.id;
    EXPECT_TRUE(c.preset == "wormhole-n150" || c.preset == "wormhole-n300")
        << c.id << " ran on " << c.preset;
    std::printf("%-44s %-14s measured %9.1f model %9.1f (%+.1f%%)\n",
                c.id.c_str(), c.preset.c_str(), c.measured, c.estimated,
                c.errorPct());
  }
  std::printf("tenstorrent.json: %d run, MAPE %.1f%%\n", r->ran(), r->mape());
  // 26 rows: 24 from tt_transformers' PERF.md (Llama 3.2 1B/3B and 3.1 8B,
  // n150 and n300, batch-32/128-token and batch-1/64K-token decode and
  // TTFT) and 2 from the README (Qwen 2.5 7B on n300, TP=2).
  EXPECT_EQ(int(r->cases.size()), 26);
  EXPECT_EQ(r->ran(), 26);
  // 58.3 % before the achieved DRAM bandwidth, the traced op-to-op gap and
  // the untraced prefill's host dispatch gap; today's figure, so that a
  // change that moves the model away from tt-metal's shows here.
  EXPECT_LT(r->mape(), 37.0);
}

TEST(SpatialCalibrationTest, MissingFileIsAnError) {
  llvm::Expected<cost::FileResult> r =
      calibration::evaluateSpatialFile("/nonexistent/tenstorrent.json");
  EXPECT_FALSE(bool(r));
  if (!r)
    llvm::consumeError(r.takeError());
}

// A case the runner cannot price is skipped with its reason (and so counts
// against EveryWormholeRowRuns), never priced on a wrong system or plan.
TEST(SpatialCalibrationTest, UnrunnableCasesSayWhy) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("spatial", "json", path));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    const char *hf = R"({"model_type": "llama", "hidden_size": 256,
      "intermediate_size": 512, "num_attention_heads": 4,
      "num_key_value_heads": 4, "num_hidden_layers": 2, "vocab_size": 1000,
      "max_position_embeddings": 512})";
    os << "{\"about\": {}, \"sources\": [], \"cases\": [\n";
    auto row = [&](const char *id, const char *system, int tp, const char *kind,
                   const char *measured, bool last,
                   const char *trace = "\"trace\": true, ") {
      os << "{\"id\": \"" << id << "\", \"kind\": \"" << kind
         << "\", \"system\": \"" << system << "\", \"tp\": " << tp
         << ", \"batch\": 1, \"input_len\": 64, \"decode_tokens\": 1, "
         << "\"prefill_batch\": 1, " << trace
         << "\"model\": {\"name\": \"tiny\", "
         << "\"hf_config\": " << hf << "}, \"measured\": " << measured
         << ", \"tolerance_pct\": 20}" << (last ? "\n" : ",\n");
    };
    row("unknown-card", "p150", 1, "time_to_first_token", "{\"ttft_ms\": 1}",
        false);
    row("tp-too-wide", "n150", 2, "time_to_first_token", "{\"ttft_ms\": 1}",
        false);
    row("no-figure", "n150", 1, "decode_tokens_per_s_per_user",
        "{\"ttft_ms\": 1}", false);
    row("runs", "n300", 2, "decode_tokens_per_s_per_user",
        "{\"tokens_per_s_per_user\": 100}", false);
    row("no-trace", "n150", 1, "time_to_first_token", "{\"ttft_ms\": 1}",
        false, "");
    row("traced-prefill", "n150", 1, "time_to_first_token",
        "{\"ttft_ms\": 1}", false);
    row("untraced-prefill", "n150", 1, "time_to_first_token",
        "{\"ttft_ms\": 1}", true, "\"trace\": false, ");
    os << "]}\n";
  }
  llvm::Expected<cost::FileResult> r =
      calibration::evaluateSpatialFile(std::string(path));
  llvm::sys::fs::remove(path);
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  ASSERT_EQ(r->cases.size(), 7u);
  EXPECT_NE(r->cases[0].skipped.find("no preset for system 'p150'"),
            std::string::npos)
      << r->cases[0].skipped;
  EXPECT_NE(r->cases[1].skipped.find("tp=2"), std::string::npos)
      << r->cases[1].skipped;
  EXPECT_NE(r->cases[2].skipped.find("no measured figure"), std::string::npos)
      << r->cases[2].skipped;
  EXPECT_TRUE(r->cases[3].skipped.empty()) << r->cases[3].skipped;
  EXPECT_EQ(r->cases[3].preset, "wormhole-n300");
  EXPECT_GT(r->cases[3].estimated, 0);
  EXPECT_NE(r->cases[4].skipped.find("no trace"), std::string::npos)
      << r->cases[4].skipped;
  EXPECT_EQ(r->ran(), 3);

  // Untraced, the device idles 756 us per decoder layer waiting for the
  // host (tt-metal's llms.md 4.5.4) in place of the traced op-to-op gap:
  // the two-layer model's prefill takes at least 2 x 756 us, more than the
  // same prefill traced.
  const cost::CaseResult &traced = r->cases[5], &untraced = r->cases[6];
  ASSERT_TRUE(traced.skipped.empty() && untraced.skipped.empty());
  EXPECT_GE(untraced.estimated, 2 * 0.756);
  EXPECT_GT(untraced.estimated, traced.estimated);
}
