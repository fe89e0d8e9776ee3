//===- Spatial.cpp - Real spatial chips against published figures --------===//
//
// One rule for every case (no per-case knobs): tt-metal's block-float
// weights (bfp8: 1.0625 B/element, bfp4: 0.5625 B/element) with bf16
// activations are generated with the generator's fp8 weight format (1 B per
// element, bf16 activations) and priced at the preset's fp8 matrix rate, the
// engine's LoFi rate that tt-metal uses for its bfp4 layers (HiFi2, half of
// it, for bfp8 ones).
// tt_transformers traces decode but not prefill (a case's `trace`): an
// untraced program waits for the host to dispatch each op, which the runner
// prices as the host dispatch gap per decoder layer below in place of the
// traced op-to-op gap (the preset's launch overhead).
// test/data/spatial-reference/README.md says what each field means.
//
//===----------------------------------------------------------------------===//

#include "strata/Calibration/Spatial.h"
#include "RunContext.h"
#include "strata/Analysis/ProgramCost.h"
#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"
#include "strata/Transforms/Passes.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace strata::calibration {

namespace {

/// The Strata preset of a card the reference names.
std::string presetForCard(llvm::StringRef card) {
  if (card == "n150")
    return "wormhole-n150";
  if (card == "n300")
    return "wormhole-n300";
  return "";
}

/// Latency of one run of the generated graph on `preset`, with a
/// tensor-parallel plan of degree `tp` when above 1; nullopt with `why`
/// when the program cannot be built or priced.
std::optional<double> latency(MLIRContext &ctx, const workload::ModelConfig &m,
                              const workload::WorkloadOptions &o,
                              const std::string &preset, int64_t tp,
                              const cost::CostModel &model, std::string &why) {
  std::string firstError;
  ScopedDiagnosticHandler capture(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error && firstError.empty())
      firstError = d.str();
    return success();
  });
  OwningOpRef<ModuleOp> module = workload::buildTransformerModule(m, o, &ctx);
  if (!module) {
    why = firstError.empty() ? "the generator cannot build this shape"
                             : firstError;
    return std::nullopt;
  }
  // The passes strata-pipeline runs before its estimate.
  PassManager pm(&ctx, ModuleOp::getOperationName());
  StrataSetSystemPassOptions set;
  set.system = preset;
  pm.addPass(createStrataSetSystemPass(set));
  if (tp > 1) {
    StrataParallelizePassOptions plan;
    plan.tp = tp;
    pm.addPass(createStrataParallelizePass(plan));
    pm.addPass(createStrataPartitionPass());
    pm.addPass(createStrataStagePass());
    pm.addPass(createStrataRoutePass());
  }
  pm.addPass(createStrataFusePass());
  pm.addPass(createStrataTilePass());
  if (failed(pm.run(*module))) {
    why = firstError.empty() ? "the pipeline failed" : firstError;
    return std::nullopt;
  }
  auto entry = module->lookupSymbol<FunctionOpInterface>(
      workload::entryFunctionName(o.mode));
  if (!entry) {
    why = "no entry function";
    return std::nullopt;
  }
  double t = analysis::estimateProgram(entry, model).latency;
  if (!(t > 0)) {
    why = "the estimate gave no latency";
    return std::nullopt;
  }
  return t;
}

/// Device idle time between the ops of one decoder layer when tt-metal runs
/// it untraced, waiting for the host to dispatch each op: tt-metal
/// tech_reports/LLMs/llms.md @ 0100dbfc, 4.5.4: in its untraced example
/// "more time (756us) is spent in between OPs (OP-to-OP gap) than running
/// OPs on device (362us)" for one layer (tt-metal issue #8264: "the main
/// thread takes ~1.1ms to launch a python layer", i.e. 756 + 362 us). It
/// replaces the traced op-to-op gap (the preset's launch overhead), which is
/// part of it.
constexpr double kUntracedGapPerLayer = 756e-6;

} // namespace

llvm::Expected<cost::FileResult> evaluateSpatialFile(const std::string &path) {
  llvm::Expected<llvm::json::Array> cases = cost::readReferenceCases(path);
  if (!cases)
    return cases.takeError();

  RunContext run;
  MLIRContext &ctx = run.ctx;

  cost::FileResult result{path, "tokens/s per user or ms", {}};
  for (const llvm::json::Value &v : *cases) {
    const llvm::json::Object *c = v.getAsObject();
    cost::CaseResult r;
    auto skip = [&](std::string why) {
      r.skipped = std::move(why);
      result.cases.push_back(r);
    };
    if (!c) {
      skip("case is not an object");
      continue;
    }
    r.id = c->getString("id").value_or("").str();
    r.tolerancePct = c->getNumber("tolerance_pct").value_or(20);
    llvm::StringRef kind = c->getString("kind").value_or("");
    const llvm::json::Object *measured = c->getObject("measured");
    std::optional<double> x;
    if (measured)
      x = measured->getNumber(
          kind == "time_to_first_token" ? "ttft_ms" : "tokens_per_s_per_user");
    if (!x || *x <= 0) {
      skip("no measured figure for kind '" + kind.str() + "'");
      continue;
    }
    r.measured = *x;
    llvm::StringRef card = c->getString("system").value_or("");
    r.preset = presetForCard(card);
    if (r.preset.empty()) {
      skip("no preset for system '" + card.str() + "'");
      continue;
    }
    hw::System sys = *hw::getPreset(r.preset);
    int64_t tp = c->getInteger("tp").value_or(1);
    if (tp < 1 || tp > sys.devices || sys.devices % tp != 0) {
      skip("tp=" + std::to_string(tp) + " does not divide the " +
           std::to_string(sys.devices) + " devices of " + r.preset);
      continue;
    }
    const llvm::json::Object *modelObj = c->getObject("model");
    const llvm::json::Object *hf =
        modelObj ? modelObj->getObject("hf_config") : nullptr;
    if (!hf) {
      skip("no model.hf_config");
      continue;
    }
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::json::Value(llvm::json::Object(*hf));
    std::string name = modelObj->getString("name").value_or("model").str();
    llvm::FailureOr<workload::ModelConfig> m =
        workload::parseModelConfig(text, path, name, &ctx);
    if (failed(m)) {
      skip("model.hf_config is not a config the generator supports");
      continue;
    }
    std::optional<int64_t> in = c->getInteger("input_len");
    if (!in || *in < 1) {
      skip("no input_len");
      continue;
    }

    // Untraced (`trace: false`): the host's dispatch gap per layer instead
    // of the per-op traced gap.
    std::optional<bool> traced = c->getBoolean("trace");
    if (!traced) {
      skip("no trace (whether tt-metal runs the step as a trace)");
      continue;
    }
    double hostGap = 0;
    if (!*traced) {
      sys.chip.launchOverhead = 0;
      hostGap = kUntracedGapPerLayer * double(m->layers);
    }
    cost::CostModel model(sys);
    workload::WorkloadOptions o;
    o.dtype = workload::WorkloadDType::fp8; // weights; see the file comment
    // The embedding and LM head in the same block-float stand-in as the
    // layers (unchanged from before the FP8 recipes kept them in bf16).
    o.fp8Vocabulary = true;
    std::string why;
    if (kind == "time_to_first_token") {
      // tt_transformers prefills one prompt at a time: the printed TTFT is
      // the per-user prefill (prefill_batch in the case).
      o.mode = workload::WorkloadMode::Prefill;
      o.batch = c->getInteger("prefill_batch").value_or(1);
      o.seq = *in;
      std::optional<double> t = latency(ctx, *m, o, r.preset, tp, model, why);
      if (!t) {
        skip(why);
        continue;
      }
      r.estimated = (*t + hostGap) * 1e3;
    } else if (kind == "decode_tokens_per_s_per_user") {
      // A decode step's cost is affine in the cached length: the middle of
      // the decode_tokens steps stands for their mean.
      int64_t steps = c->getInteger("decode_tokens").value_or(1);
      o.mode = workload::WorkloadMode::Decode;
      o.batch = c->getInteger("batch").value_or(1);
      o.seq = 1;
      o.kvLen = *in + (std::max<int64_t>(steps, 1) - 1) / 2;
      std::optional<double> t = latency(ctx, *m, o, r.preset, tp, model, why);
      if (!t) {
        skip(why);
        continue;
      }
      r.estimated = 1.0 / (*t + hostGap);
    } else {
      skip("unknown kind '" + kind.str() + "'");
      continue;
    }
    result.cases.push_back(r);
  }
  return result;
}

} // namespace strata::calibration
