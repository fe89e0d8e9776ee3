//===- FlashMla.cpp - FlashMLA's published decode throughput
//---------------===//

#include "strata/Calibration/FlashMla.h"

#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"

#include "llvm/Support/JSON.h"

#include <algorithm>
#include <memory>

namespace strata::calibration {

using namespace strata::cost;

namespace {

std::vector<int64_t> intList(const llvm::json::Object &c, llvm::StringRef key) {
  std::vector<int64_t> out;
  if (const llvm::json::Array *a = c.getArray(key))
    for (const llvm::json::Value &v : *a)
      if (std::optional<int64_t> i = v.getAsInteger())
        out.push_back(*i);
  return out;
}

} // namespace

llvm::Expected<FileResult> evaluateFlashMlaFile(const std::string &path) {
  llvm::Expected<llvm::json::Array> cases = readReferenceCases(path);
  if (!cases)
    return cases.takeError();
  FileResult result{path, "GB/s or TFLOP/s (per case)", {}};
  std::map<std::string,
           std::pair<std::unique_ptr<hw::System>, std::unique_ptr<CostModel>>>
      models;
  for (const llvm::json::Value &v : *cases) {
    const llvm::json::Object *c = v.getAsObject();
    if (!c)
      continue;
    CaseResult r;
    if (auto id = c->getString("id"))
      r.id = id->str();
    if (auto chip = c->getString("chip"))
      r.preset = presetForChip(chip->str());
    r.tolerancePct = c->getNumber("tolerance_pct").value_or(15);
    const llvm::json::Object *measured = c->getObject("measured");
    std::optional<double> gbps =
        measured ? measured->getNumber("gbps_up_to") : std::nullopt;
    std::optional<double> tflops =
        measured ? measured->getNumber("tflops_up_to") : std::nullopt;
    r.measured = gbps ? *gbps : tflops.value_or(0);
    r.unit = gbps ? "GB/s" : "TFLOP/s";
    auto &entry = models[r.preset];
    if (!entry.second) {
      if (std::optional<hw::System> sys = hw::getPreset(r.preset)) {
        entry.first = std::make_unique<hw::System>(std::move(*sys));
        entry.second = std::make_unique<CostModel>(*entry.first);
      }
    }
    const CostModel *model = entry.second.get();
    std::optional<int64_t> hkv = c->getInteger("h_kv"), d = c->getInteger("d"),
                           dv = c->getInteger("dv");
    std::vector<int64_t> bs = intList(*c, "b"), sks = intList(*c, "s_k"),
                         hqs = intList(*c, "h_q"), sqs = intList(*c, "s_q");
    if (!model) {
      r.skipped = "no preset for this chip";
    } else if (!gbps && !tflops) {
      r.skipped = "no gbps_up_to or tflops_up_to measured";
    } else if (!hkv || !d || !dv || bs.empty() || sks.empty() || hqs.empty() ||
               sqs.empty()) {
      r.skipped = "grid not stated";
    } else {
      // The script's fixed-length rows (total_seqlens = b * s_k), each
      // priced as one decode attention in the script's convention; the
      // README's "up to" is the best of them.
      double best = 0;
      for (int64_t b : bs)
        for (int64_t sk : sks)
          for (int64_t hq : hqs)
            for (int64_t sq : sqs) {
              AttentionWork w;
              w.batch = b;
              w.heads = hq;
              w.kvHeads = *hkv;
              w.qLen = sq;
              w.kvLen = sk;
              w.headDim = *d;
              w.vHeadDim = *dv;
              w.valuesInKeys = true;
              w.packGroupedHeads = true;
              w.causal = c->getBoolean("causal").value_or(false);
              w.asyncOverlap = true; // TMA/wgmma, warp-specialised
              w.path = MatrixPath::Any;
              w.dtype = hw::DType::bf16;
              Estimate e = model->attention(w);
              if (!(e.time > 0))
                continue;
              double total = double(b) * double(sk);
              double value = gbps ? (total * double(*hkv) * double(*d) +
                                     double(b) * double(sq) * double(hq) *
                                         double(*d + *dv)) *
                                        2 / e.time / 1e9
                                  : double(sq) * total * double(hq) *
                                        double(*d + *dv) * 2 / e.time / 1e12;
              best = std::max(best, value);
            }
      r.estimated = best;
      if (!(best > 0))
        r.skipped = "no configuration priced";
    }
    result.cases.push_back(r);
  }
  return result;
}

} // namespace strata::calibration
