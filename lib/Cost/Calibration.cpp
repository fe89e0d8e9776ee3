//===- Calibration.cpp - The cost model against published figures ---------===//

#include "strata/Cost/Calibration.h"
#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Presets.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <map>
#include <memory>

namespace strata::cost {

double FileResult::mape() const {
  double sum = 0;
  int n = 0;
  for (const CaseResult &c : cases)
    if (c.skipped.empty()) {
      sum += std::fabs(c.errorPct());
      ++n;
    }
  return n ? sum / n : 0;
}

const CaseResult *FileResult::worst() const {
  const CaseResult *w = nullptr;
  for (const CaseResult &c : cases)
    if (c.skipped.empty() &&
        (!w || std::fabs(c.errorPct()) > std::fabs(w->errorPct())))
      w = &c;
  return w;
}

int FileResult::ran() const {
  int n = 0;
  for (const CaseResult &c : cases)
    n += c.skipped.empty();
  return n;
}

std::string presetForChip(const std::string &chip) {
  // H800 SXM5 has the H100 SXM5's SMs, clocks and HBM3; NVLink and FP64
  // are cut (the h800-sxm preset), which the single-GPU kernels here do not
  // use.
  if (chip.rfind("H100-SXM", 0) == 0)
    return "h100-sxm";
  if (chip.rfind("H800-SXM", 0) == 0)
    return "h800-sxm";
  if (chip.rfind("A100-SXM4-80GB", 0) == 0 || chip == "A100-SXM")
    return "a100-sxm-80g";
  if (chip == "L40S")
    return "l40s";
  return "";
}

namespace {

/// One cost model per preset, built on first use.
class ModelCache {
public:
  const CostModel *get(const std::string &preset) {
    auto it = models.find(preset);
    if (it != models.end())
      return it->second.model.get();
    std::optional<hw::System> sys = hw::getPreset(preset);
    if (!sys)
      return nullptr;
    Entry &e = models[preset];
    e.system = std::make_unique<hw::System>(std::move(*sys));
    e.model = std::make_unique<CostModel>(*e.system);
    return e.model.get();
  }

private:
  struct Entry {
    std::unique_ptr<hw::System> system;
    std::unique_ptr<CostModel> model;
  };
  std::map<std::string, Entry> models;
};

CaseResult startCase(const llvm::json::Object &c) {
  CaseResult r;
  if (auto id = c.getString("id"))
    r.id = id->str();
  if (auto chip = c.getString("chip"))
    r.preset = presetForChip(chip->str());
  r.tolerancePct = c.getNumber("tolerance_pct").value_or(15);
  return r;
}

/// Reads a reference file and runs `evaluate` on every case, which fills
/// in the measured and estimated figures (or a skip reason).
llvm::Expected<FileResult>
evaluateCases(const std::string &path,
              llvm::function_ref<void(const llvm::json::Object &, CaseResult &,
                                      const CostModel *)>
                  evaluate) {
  llvm::Expected<llvm::json::Array> cases = readReferenceCases(path);
  if (!cases)
    return cases.takeError();
  FileResult result{path, "TFLOP/s", {}};
  ModelCache models;
  for (const llvm::json::Value &v : *cases) {
    const llvm::json::Object *c = v.getAsObject();
    if (!c)
      continue;
    CaseResult r = startCase(*c);
    evaluate(*c, r, models.get(r.preset));
    result.cases.push_back(r);
  }
  return result;
}

} // namespace

llvm::Expected<llvm::json::Array> readReferenceCases(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "cannot read '%s'",
                                   path.c_str());
  llvm::Expected<llvm::json::Value> root =
      llvm::json::parse((*buffer)->getBuffer());
  if (!root)
    return root.takeError();
  llvm::json::Object *object = root->getAsObject();
  llvm::json::Array *cases = object ? object->getArray("cases") : nullptr;
  if (!cases)
    return llvm::createStringError("'%s' has no cases", path.c_str());
  return std::move(*cases);
}

llvm::Expected<FileResult> evaluateGemmFile(const std::string &path) {
  return evaluateCases(path, [](const llvm::json::Object &c, CaseResult &r,
                                const CostModel *model) {
    const llvm::json::Object *measured = c.getObject("measured");
    r.measured = measured ? measured->getNumber("tflops").value_or(0) : 0;
    if (!model) {
      r.skipped = "no preset for this chip";
      return;
    }
    // Dense: m, n, k. Grouped (MoE, contiguous layout): `groups` GEMMs of
    // m_per_group x n x k, each group with its own weight.
    int64_t groups = int64_t(c.getNumber("groups").value_or(1));
    std::optional<double> m = c.getNumber("m");
    if (!m)
      m = c.getNumber("m_per_group");
    std::optional<double> n = c.getNumber("n"), k = c.getNumber("k");
    if (!m || !n || !k) {
      r.skipped = "shape not stated (masked grouped layout)";
      return;
    }
    // FP8 E4M3 inputs, BF16 output (the DeepGEMM setting).
    MatmulWork w;
    w.batch = groups;
    w.m = int64_t(*m);
    w.n = int64_t(*n);
    w.k = int64_t(*k);
    w.dtype = hw::DType::fp8;
    w.aBytes = double(groups) * *m * *k;
    w.bBytes = double(groups) * *n * *k;
    w.cBytes = double(groups) * *m * *n * 2;
    // The kernel (DeepGEMM at the cited commit, jit_kernels/gemm.py and
    // fp8_gemm.cuh): block-scaled FP8 promotes its partial sums on the CUDA
    // cores every 128 elements of K; it multicasts a tile within a 2-CTA
    // cluster (TMA) when the GEMM it schedules has one group and M >= 512:
    // a normal GEMM, or a contiguous-layout grouped one (whose groups are
    // concatenated along M into one GEMM), never a masked one of several
    // groups.
    std::optional<llvm::StringRef> dtype = c.getString("dtype");
    if (dtype && dtype->contains("block-scaled"))
      w.promotionK = 128;
    // Its math warpgroups wait for each tile's TMA store (tma_store_wait<0>)
    // before the next tile's MMAs.
    w.serialEpilogue = true;
    const llvm::json::Object *source = c.getObject("source");
    std::optional<llvm::StringRef> where =
        source ? source->getString("where") : std::nullopt;
    const bool masked = where && where->contains("masked layout");
    const double scheduledM = masked ? *m : double(groups) * *m;
    w.multicast = scheduledM >= 512 && (!masked || groups == 1);
    Estimate e = model->matmul(w);
    r.estimated = e.flops / e.time / 1e12;
  });
}

llvm::Expected<FileResult> evaluateAttentionFile(const std::string &path) {
  return evaluateCases(path, [](const llvm::json::Object &c, CaseResult &r,
                                const CostModel *model) {
    r.measured = c.getNumber("measured_tflops").value_or(0);
    if (!model) {
      r.skipped = "no preset for this chip";
      return;
    }
    std::optional<llvm::StringRef> kernel = c.getString("kernel");
    std::optional<llvm::StringRef> direction = c.getString("direction");
    if (!direction || (*direction != "fwd" && *direction != "fwd+bwd")) {
      r.skipped = "unknown direction";
      return;
    }
    AttentionWork w;
    w.batch = int64_t(c.getNumber("batch").value_or(1));
    w.heads = w.kvHeads = int64_t(c.getNumber("heads").value_or(1));
    w.qLen = w.kvLen = int64_t(c.getNumber("seq_len").value_or(1));
    w.headDim = int64_t(c.getNumber("head_dim").value_or(64));
    w.causal = c.getBoolean("causal").value_or(false);
    w.dtype = hw::DType::bf16;
    // FlashAttention-3 pipelines loads and softmax asynchronously with the
    // tensor cores (TMA, wgmma, warp specialisation); FlashAttention-2 does
    // not. This is the schedule, expressed the way tile IR's pipeline depth
    // expresses it, not a per-case knob.
    w.asyncOverlap = kernel && *kernel == "flashattention3";
    // The instructions each kernel issues: FlashAttention-2 is written with
    // synchronous mma.sync on every chip (on Hopper it cannot reach the
    // wgmma-only rate); FlashAttention-3 with wgmma. The chip description
    // says which matrix unit each path reaches.
    w.path = w.asyncOverlap ? MatrixPath::Asynchronous : MatrixPath::Synchronous;
    Estimate e = model->attention(w);
    if (*direction == "fwd+bwd") {
      AttentionWork bwd = w;
      bwd.backward = true;
      e.accumulate(model->attention(bwd));
    }
    r.estimated = e.flops / e.time / 1e12;
  });
}

} // namespace strata::cost
