//===- strata-serve.cpp - Simulate an inference server --------------------===//
//
// A discrete-event simulation of an inference server whose step times come
// from Strata's compiled cost: the model's decode and prefill programs are
// lowered by strata-pipeline once per grid point (lib/Serve/StepCost), and
// the scheduler (static, continuous or chunked-prefill batching over a
// paged KV cache) replays a request trace against them (docs/serving.md).
//
//   strata-serve --model llama-3-8b --system h100-sxm --requests 2000 \
//       --rate 8 --seed 1 --scheduler continuous --report json \
//       --report-file r.json
//
//===----------------------------------------------------------------------===//

#include "../ToolOptions.h"
#include "strata/Cost/CostModel.h"
#include "strata/Hardware/Json.h"
#include "strata/Hardware/Presets.h"
#include "strata/InitAll.h"
#include "strata/Serve/Report.h"
#include "strata/Serve/Timeline.h"
#include "strata/Serve/Simulator.h"
#include "strata/Serve/StepCost.h"
#include "strata/Serve/Trace.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>
#include <cmath>
#include <optional>

using namespace mlir;
using namespace strata;
namespace cl = llvm::cl;

static cl::OptionCategory &cat = tools::strataCategory();

static cl::opt<std::string> modelName(
    "model", cl::desc("Bundled model name or a Hugging Face config.json"),
    cl::cat(cat));
static cl::opt<std::string> modelsDir("models-dir",
                                      cl::desc("Bundled model configs"),
                                      cl::init(STRATA_MODELS_DIR), cl::cat(cat));
static cl::opt<std::string> systemSpec(
    "system", cl::desc("System: a preset name or a system .json"),
    cl::cat(cat));
static cl::opt<int64_t> tp("tp", cl::desc("Tensor-parallel degree per replica"),
                           cl::init(1), cl::cat(cat));
static cl::opt<int64_t> replicas(
    "replicas", cl::desc("Engine replicas (data parallel); requests go to "
                         "them round-robin"),
    cl::init(1), cl::cat(cat));
static cl::opt<std::string> dtype("dtype",
                                  cl::desc("Weights, activations and KV cache: "
                                           "bf16, fp16, fp8 or f32"),
                                  cl::init("bf16"), cl::cat(cat));
static cl::opt<std::string> launchMode(
    "launch",
    cl::desc("Kernel launches: eager (each kernel pays the chip's "
             "launch_overhead) or graph (a decode-only step replays a "
             "captured CUDA graph, as vLLM and TensorRT-LLM do by default; "
             "steps with a prefill chunk stay eager)"),
    cl::init("eager"), cl::cat(cat));
static cl::opt<std::string> traceFile(
    "trace", cl::desc("Request trace (JSON or CSV: arrival, prompt_tokens, "
                      "output_tokens); instead of the generator"),
    cl::cat(cat));
static cl::opt<int64_t> numRequests("requests",
                                    cl::desc("Generator: requests"),
                                    cl::init(1000), cl::cat(cat));
static cl::opt<double> rate("rate",
                            cl::desc("Generator: Poisson arrival rate, req/s"),
                            cl::init(1.0), cl::cat(cat));
static cl::opt<double> burstiness(
    "burstiness",
    cl::desc("Generator: coefficient of variation of the arrival gaps (1: "
             "Poisson; above 1 bursty, Gamma-distributed gaps)"),
    cl::init(1.0), cl::cat(cat));
static cl::opt<uint64_t> seed("seed", cl::desc("Generator and sampling seed"),
                              cl::init(1), cl::cat(cat));
static cl::opt<std::string> promptLen(
    "prompt-len",
    cl::desc("Generator: prompt lengths, fixed:N, uniform:LO,HI or "
             "lognormal:MEDIAN,SIGMA"),
    cl::init("lognormal:512,0.8"), cl::cat(cat));
static cl::opt<std::string> outputLen("output-len",
                                      cl::desc("Generator: output lengths "
                                               "(as --prompt-len)"),
                                      cl::init("lognormal:192,0.8"),
                                      cl::cat(cat));
static cl::opt<int64_t> maxLength(
    "max-length", cl::desc("Generator: lengths are clamped to this"),
    cl::init(4096), cl::cat(cat));
static cl::opt<std::string> schedulerName(
    "scheduler", cl::desc("static, continuous or chunked (Sarathi-Serve)"),
    cl::init("continuous"), cl::cat(cat));
static cl::opt<int64_t> maxBatch("max-batch",
                                 cl::desc("Sequences running at once"),
                                 cl::init(256), cl::cat(cat));
static cl::opt<int64_t> maxTokens(
    "max-tokens",
    cl::desc("Tokens per step (0: 8192, or a 512-token budget for chunked)"),
    cl::init(0), cl::cat(cat));
static cl::opt<int64_t> blockSize("block-size",
                                  cl::desc("KV cache block, tokens"),
                                  cl::init(16), cl::cat(cat));
static cl::opt<double> memoryFraction(
    "memory-fraction",
    cl::desc("Share of device memory the engine may use (vLLM's "
             "gpu_memory_utilization)"),
    cl::init(0.9), cl::cat(cat));
static cl::opt<int64_t> kvBlocksOpt(
    "kv-blocks",
    cl::desc("KV blocks per replica (0: what the memory left after weights "
             "and activations holds)"),
    cl::init(0), cl::cat(cat));
static cl::opt<double> sloTtft("slo-ttft", cl::desc("SLO on TTFT, seconds"),
                               cl::init(0), cl::cat(cat));
static cl::opt<double> sloTpot("slo-tpot", cl::desc("SLO on TPOT, seconds"),
                               cl::init(0), cl::cat(cat));
static cl::opt<double> sloAttainment(
    "slo-attainment",
    cl::desc("Share of requests that must meet the SLO (--max-rate)"),
    cl::init(0.9), cl::cat(cat));
static cl::opt<bool> maxRate(
    "max-rate",
    cl::desc("Search the highest generator rate meeting the SLO"),
    cl::init(false), cl::cat(cat));
static cl::opt<int64_t> specTokens(
    "speculative-tokens",
    cl::desc("Speculative decoding: draft tokens per step (0: off)"),
    cl::init(0), cl::cat(cat));
static cl::opt<double> acceptance(
    "acceptance", cl::desc("Speculative decoding: per-token acceptance"),
    cl::init(0.7), cl::cat(cat));
static cl::opt<std::string> draftModel(
    "draft", cl::desc("Speculative decoding: the draft model (as --model)"),
    cl::cat(cat));
static cl::opt<int64_t> prefillReplicas(
    "prefill-replicas",
    cl::desc("Prefill/decode disaggregation: engines that only prefill "
             "(0: off); --replicas are then the decode engines"),
    cl::init(0), cl::cat(cat));
static cl::opt<std::string> kvFabric(
    "kv-fabric",
    cl::desc("Disaggregation: the fabric a prompt's KV cache crosses "
             "(default: the system's outermost)"),
    cl::init(""), cl::cat(cat));
static cl::opt<std::string> reportFormat(
    "report",
    cl::desc("Report: text, json, or csv (one row per request)"),
    cl::init("text"), cl::cat(cat));
static cl::opt<std::string> timelineFile(
    "timeline",
    cl::desc("Write the simulation to FILE as a Perfetto / Chrome trace "
             "(engines' steps, batch and KV-pool counters, requests)"),
    cl::init(""), cl::cat(cat));
static cl::opt<std::string> reportFile("report-file",
                                       cl::desc("Report file ('-': stdout)"),
                                       cl::init("-"), cl::cat(cat));
static cl::opt<bool> printStats(
    "print-stats", cl::desc("Add compile and simulation times to the report"),
    cl::init(false), cl::cat(cat));
static cl::opt<std::string> stepCostCache(
    "step-cost-cache",
    cl::desc("Read the compiled step cost from FILE when it was compiled for "
             "the same model, system, plan and limits; else compile it and "
             "write FILE (the draft's goes to FILE.draft)"),
    cl::init(""), cl::cat(cat));
static cl::opt<unsigned> checkInterpolation(
    "check-interpolation",
    cl::desc("Compare the interpolated step cost with strata-pipeline at N "
             "off-grid points; exit 1 when one differs by more than 2 %"),
    cl::init(0), cl::cat(cat));

static int fail(const llvm::Twine &msg) {
  llvm::errs() << "strata-serve: error: " << msg << "\n";
  return 1;
}

/// The step cost from `cache` when it holds this grid, else compiled (and
/// written to `cache` when one is named).
static llvm::Expected<serve::StepCostModel>
compileOrLoad(MLIRContext &ctx, const workload::ModelConfig &config,
              const hw::System &sys, const serve::StepCostOptions &o,
              const std::string &cache) {
  if (!cache.empty()) {
    if (auto buf = llvm::MemoryBuffer::getFile(cache)) {
      if (llvm::Expected<llvm::json::Value> v =
              llvm::json::parse((*buf)->getBuffer())) {
        if (std::optional<serve::StepCostModel> m =
                serve::StepCostModel::fromJSON(*v, ctx, config, sys, o))
          return std::move(*m);
      } else {
        llvm::consumeError(v.takeError()); // not a cache: compile anew
      }
    }
  }
  llvm::Expected<serve::StepCostModel> m =
      serve::StepCostModel::compile(ctx, config, sys, o);
  if (!m || cache.empty())
    return m;
  std::error_code ec;
  llvm::raw_fd_ostream os(cache, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write --step-cost-cache '" +
                                           cache + "': " + ec.message());
  os << m->toJSON() << "\n";
  return m;
}

static llvm::Expected<hw::System> loadSystem(llvm::StringRef spec) {
  if (std::optional<hw::System> p = hw::getPreset(spec.str()))
    return *p;
  auto buf = llvm::MemoryBuffer::getFile(spec);
  if (!buf)
    return llvm::createStringError(buf.getError(),
                                   "--system '" + spec +
                                       "' is neither a preset nor a readable "
                                       "system .json");
  llvm::Expected<hw::System> s = hw::parseSystemJSON((*buf)->getBuffer());
  if (!s)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   spec + ": " + llvm::toString(s.takeError()));
  return s;
}

/// The interpolated step against strata-pipeline at off-grid points:
/// decodes between batch and context grid points, chunks between token
/// grid points. Returns the exit code.
static int checkGrid(const serve::StepCostModel &m, unsigned points,
                     llvm::raw_ostream &os) {
  const auto &bs = m.batchGrid(), &cs = m.contextGrid(), &ns = m.tokenGrid();
  struct Point {
    bool decode;
    int64_t a, context;
  };
  std::vector<Point> all;
  // Geometric midpoints of adjacent grid points (the farthest from both).
  auto mid = [](double lo, double hi) {
    return int64_t(std::llround(lo > 0 ? std::sqrt(lo * hi) : hi / 2));
  };
  for (size_t i = 0; i + 1 < bs.size(); ++i)
    for (size_t j = 0; j + 1 < cs.size(); ++j)
      all.push_back({true, mid(bs[i], bs[i + 1]), mid(cs[j], cs[j + 1])});
  for (size_t i = 0; i + 1 < ns.size(); ++i)
    for (size_t j = 0; j + 1 < cs.size(); ++j)
      all.push_back({false, mid(ns[i], ns[i + 1]), mid(cs[j], cs[j + 1])});
  // Points whose KV cache fits the real device (the direct run checks it).
  double room = m.capacityBytes() - m.weightBytes() - m.activationBytes();
  std::vector<Point> fit;
  for (const Point &p : all) {
    double tokens = p.decode ? double(p.a) * double(p.context + 1)
                             : double(p.a + p.context);
    if (tokens * m.kvBytesPerToken() < room * 0.9)
      fit.push_back(p);
  }
  if (fit.empty())
    return fail("no off-grid point fits the device to check");
  unsigned n = std::min<size_t>(points, fit.size());
  double worst = 0;
  os << "interpolation check: step time, interpolated vs strata-pipeline\n";
  os << "  point                            interpolated       direct    error\n";
  for (unsigned k = 0; k < n; ++k) {
    const Point &p = fit[n == 1 ? 0 : size_t(k) * (fit.size() - 1) / (n - 1)];
    serve::StepShape s;
    if (p.decode) {
      s.decodes = p.a;
      s.meanContext = double(p.context);
      s.decodeTokens = m.options().decodeTokens;
    } else {
      s.chunks.push_back({p.a, p.context});
    }
    llvm::Expected<double> direct =
        p.decode ? m.direct(p.a, m.options().decodeTokens, p.context)
                 : m.direct(1, p.a, p.context);
    if (!direct)
      return fail(llvm::toString(direct.takeError()));
    double est = m.price(s);
    double err = (est - *direct) / *direct;
    worst = std::max(worst, std::fabs(err));
    os << llvm::formatv("  {0,-6} {1,6} x ctx {2,-12} {3,12:f4} ms {4,9:f4} ms "
                        "{5,+7:f2} %\n",
                        p.decode ? "decode" : "chunk", p.a, p.context,
                        est * 1e3, *direct * 1e3, err * 100);
  }
  os << llvm::formatv("max |error| {0:f2} % over {1} points (bound 2 %)\n",
                      worst * 100, n);
  return worst <= 0.02 ? 0 : 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAllPasses();
  tools::hideUnrelatedOptions({&tools::strataCategory()});
  cl::ParseCommandLineOptions(
      argc, argv,
      "strata-serve: simulate an inference server on Strata's compiled step "
      "cost (docs/serving.md)\n");

  // Options first: every mistake is one line before anything compiles.
  if (modelName.empty())
    return fail("--model is required (a bundled name or a config.json)");
  if (systemSpec.empty())
    return fail("--system is required (a preset or a system .json)");
  std::optional<serve::SchedulerKind> kind =
      serve::parseScheduler(schedulerName);
  if (!kind)
    return fail("--scheduler '" + schedulerName +
                "' is not static, continuous or chunked");
  std::optional<workload::WorkloadDType> dt =
      workload::parseWorkloadDType(dtype);
  if (!dt)
    return fail("--dtype '" + dtype + "' is not bf16, fp16, fp8 or f32");
  std::optional<cost::LaunchMode> launch = cost::parseLaunchMode(launchMode);
  if (!launch)
    return fail("--launch '" + launchMode + "' is not eager or graph");
  if (tp < 1 || replicas < 1)
    return fail("--tp and --replicas must be >= 1");
  if (maxBatch < 1 || blockSize < 1 || maxTokens < 0 || kvBlocksOpt < 0)
    return fail("--max-batch and --block-size must be >= 1, --max-tokens and "
                "--kv-blocks >= 0");
  if (!(memoryFraction > 0 && memoryFraction <= 1))
    return fail("--memory-fraction must be in (0, 1]");
  if (reportFormat != "text" && reportFormat != "json" && reportFormat != "csv")
    return fail("--report '" + reportFormat + "' is not text, json or csv");
  if (sloTtft < 0 || sloTpot < 0 || !(sloAttainment > 0 && sloAttainment <= 1))
    return fail("--slo-ttft and --slo-tpot must be >= 0, --slo-attainment in "
                "(0, 1]");
  if (specTokens < 0 || !(acceptance >= 0 && acceptance <= 1))
    return fail("--speculative-tokens must be >= 0 and --acceptance in [0, 1]");
  if (specTokens > 0 && *kind == serve::SchedulerKind::Static)
    return fail("--speculative-tokens needs the continuous or chunked "
                "scheduler");
  if (prefillReplicas < 0)
    return fail("--prefill-replicas must be >= 0");
  if (prefillReplicas > 0 && *kind == serve::SchedulerKind::Static)
    return fail("--prefill-replicas needs the continuous or chunked "
                "scheduler");
  if (maxRate && !traceFile.empty())
    return fail("--max-rate searches the generator's rate; it does not apply "
                "to --trace");
  if (maxRate && sloTtft <= 0 && sloTpot <= 0)
    return fail("--max-rate needs an SLO (--slo-ttft and/or --slo-tpot)");
  if (traceFile.empty() && (numRequests < 1 || !(rate > 0)))
    return fail("--requests must be >= 1 and --rate > 0");
  if (!(burstiness > 0) || !std::isfinite(burstiness))
    return fail("--burstiness must be > 0");
  int64_t tokensPerStep = maxTokens > 0 ? maxTokens
                          : *kind == serve::SchedulerKind::Chunked ? 512
                                                                   : 8192;

  llvm::Expected<hw::System> sys = loadSystem(systemSpec);
  if (!sys)
    return fail(llvm::toString(sys.takeError()));
  // The fabric a disaggregated server moves KV caches over.
  int fabric = -1;
  if (prefillReplicas > 0) {
    if (sys->topology.empty())
      return fail("--prefill-replicas needs a system with a fabric between "
                  "devices; '" + sys->name + "' has none");
    fabric = int(sys->topology.size()) - 1;
    if (!kvFabric.empty()) {
      fabric = -1;
      std::string names;
      for (size_t i = 0; i < sys->topology.size(); ++i) {
        names += (i ? ", " : "") + sys->topology[i].name;
        if (sys->topology[i].name == kvFabric)
          fabric = int(i);
      }
      if (fabric < 0)
        return fail("--kv-fabric '" + kvFabric + "' is not a fabric of '" +
                    sys->name + "' (" + names + ")");
    }
  }

  // The requests.
  serve::GeneratorOptions gen;
  std::vector<serve::Request> requests;
  if (!traceFile.empty()) {
    auto buf = llvm::MemoryBuffer::getFile(traceFile);
    if (!buf)
      return fail("cannot read --trace '" + traceFile + "'");
    llvm::Expected<std::vector<serve::Request>> t =
        serve::parseTrace((*buf)->getBuffer(), traceFile);
    if (!t)
      return fail(llvm::toString(t.takeError()));
    requests = std::move(*t);
  } else {
    llvm::Expected<serve::LengthDistribution> p =
        serve::parseLengthDistribution(promptLen);
    if (!p)
      return fail("--prompt-len " + llvm::toString(p.takeError()));
    llvm::Expected<serve::LengthDistribution> o =
        serve::parseLengthDistribution(outputLen);
    if (!o)
      return fail("--output-len " + llvm::toString(o.takeError()));
    gen.requests = numRequests;
    gen.rate = rate;
    gen.burstiness = burstiness;
    gen.seed = seed;
    gen.prompt = *p;
    gen.output = *o;
    gen.maxLength = maxLength;
    requests = serve::generateTrace(gen);
  }
  int64_t longest = 0, longestPrompt = 0;
  for (const serve::Request &r : requests) {
    longest = std::max(longest, r.promptTokens + r.outputTokens);
    longestPrompt = std::max(longestPrompt, r.promptTokens);
  }

  DialectRegistry registry;
  registerAllDialects(registry);
  workload::registerWorkloadDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ctx.disableMultithreading();
  FailureOr<workload::ModelConfig> config =
      workload::loadModelConfig(modelName, modelsDir, &ctx);
  if (failed(config))
    return 1;
  if (longest > config->maxPositions)
    return fail(llvm::formatv("a request of {0} tokens exceeds {1}'s {2} "
                              "positions",
                              longest, config->name, config->maxPositions)
                    .str());

  auto start = std::chrono::steady_clock::now();
  serve::StepCostOptions so;
  so.dtype = *dt;
  so.tp = tp;
  so.maxBatch = maxBatch;
  so.maxContext = longest;
  so.maxTokens = std::max(tokensPerStep, longestPrompt + longest / 16);
  so.decodeTokens = specTokens + 1;
  so.launch = *launch;
  llvm::Expected<serve::StepCostModel> cost =
      compileOrLoad(ctx, *config, *sys, so, stepCostCache);
  if (!cost)
    return fail(llvm::toString(cost.takeError()));
  std::optional<serve::StepCostModel> draft;
  if (specTokens > 0) {
    if (draftModel.empty())
      return fail("--speculative-tokens needs --draft MODEL");
    FailureOr<workload::ModelConfig> dc =
        workload::loadModelConfig(draftModel, modelsDir, &ctx);
    if (failed(dc))
      return 1;
    if (longest + specTokens > dc->maxPositions)
      return fail(llvm::formatv("a request of {0} tokens exceeds the draft "
                                "{1}'s {2} positions",
                                longest, dc->name, dc->maxPositions)
                      .str());
    serve::StepCostOptions dso = so;
    dso.decodeTokens = 1;
    dso.maxTokens = 2; // the draft only decodes
    llvm::Expected<serve::StepCostModel> d = compileOrLoad(
        ctx, *dc, *sys, dso,
        stepCostCache.empty() ? "" : stepCostCache + ".draft");
    if (!d)
      return fail("the draft: " + llvm::toString(d.takeError()));
    draft.emplace(std::move(*d));
  }
  double compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  if (checkInterpolation > 0)
    return checkGrid(*cost, checkInterpolation, llvm::outs());

  // The KV pool: device memory the engine may use, less weights and
  // activations (the draft's weights too), in blocks.
  serve::ServeSetup setup;
  setup.model = config->name;
  setup.system = sys->name;
  setup.scheduler = serve::stringifyScheduler(*kind).str();
  setup.dtype = dtype;
  setup.launch = launchMode;
  setup.tp = tp;
  setup.replicas = replicas;
  setup.trace = traceFile;
  setup.rate = traceFile.empty() ? rate : 0.0;
  setup.seed = seed;
  setup.maxBatch = maxBatch;
  setup.maxTokens = tokensPerStep;
  setup.blockSize = blockSize;
  setup.speculativeTokens = specTokens;
  setup.acceptance = acceptance;
  setup.draft = draftModel;
  setup.capacityBytes = cost->capacityBytes();
  setup.weightBytes = cost->weightBytes() + (draft ? draft->weightBytes() : 0);
  setup.activationBytes = cost->activationBytes();
  setup.kvBytesPerToken =
      cost->kvBytesPerToken() + (draft ? draft->kvBytesPerToken() : 0);
  setup.kvPoolBytes = setup.capacityBytes * memoryFraction -
                      setup.weightBytes - setup.activationBytes;
  setup.programs = cost->programsCompiled() +
                   (draft ? draft->programsCompiled() : 0);
  setup.fromCache = cost->fromCache();
  setup.grid = llvm::formatv("linear {0}, decode {1} x {2}, chunk {3} x {4}",
                             cost->tokenGrid().size(), cost->batchGrid().size(),
                             cost->contextGrid().size(),
                             cost->chunkGrid().size(),
                             cost->chunkContextGrid().size())
                   .str();
  if (kvBlocksOpt > 0) {
    setup.kvBlocks = kvBlocksOpt;
  } else {
    if (setup.kvPoolBytes <= 0)
      return fail(llvm::formatv("{0} at tp={1} leaves no KV cache on {2}: "
                                "weights {3:f2} GiB and activations {4:f2} "
                                "GiB of {5:f2} GiB usable",
                                config->name, int64_t(tp), sys->name,
                                setup.weightBytes / double(1ull << 30),
                                setup.activationBytes / double(1ull << 30),
                                setup.capacityBytes * memoryFraction /
                                    double(1ull << 30))
                      .str());
    setup.kvBlocks = int64_t(setup.kvPoolBytes /
                             (double(blockSize) * setup.kvBytesPerToken));
  }

  serve::SchedulerConfig sc;
  sc.kind = *kind;
  sc.maxBatch = maxBatch;
  sc.maxTokens = tokensPerStep;
  sc.blockSize = blockSize;
  sc.kvBlocks = setup.kvBlocks;
  sc.speculativeTokens = specTokens;
  sc.acceptance = acceptance;
  sc.draft = draft ? &*draft : nullptr;
  sc.seed = seed;
  // Disaggregation: each tensor-parallel rank sends its shard of the
  // prompt's KV cache to its peer, priced by the cost core as a send/recv
  // on the fabric. The element size is the compiled cache's.
  cost::CostModel fabricModel(*sys);
  double bytesPerElement =
      cost->kvBytesPerToken() * double(tp) / serve::kvCacheBytes(*config, 1, 1);
  if (prefillReplicas > 0) {
    sc.prefillReplicas = prefillReplicas;
    sc.kvTransfer = [&](int64_t prompt) {
      cost::CollectiveWork w;
      w.kind = cost::CollectiveKind::SendRecv;
      w.bytes = serve::kvCacheBytes(*config, double(prompt), bytesPerElement) /
                double(tp);
      w.groupSize = 2;
      w.fabric = fabric;
      return fabricModel.collective(w).estimate.time;
    };
    setup.prefillReplicas = prefillReplicas;
    setup.kvFabric = sys->topology[fabric].name;
    setup.kvBytesPerElement = bytesPerElement;
  }

  // Opened before the simulation, so that a path it cannot write fails
  // before the run rather than after it.
  std::optional<llvm::ToolOutputFile> timeline;
  if (!timelineFile.empty()) {
    std::error_code tec;
    timeline.emplace(timelineFile, tec, llvm::sys::fs::OF_Text);
    if (tec)
      return fail("cannot write --timeline '" + timelineFile +
                  "': " + tec.message());
  }
  sc.recordSteps = timeline.has_value();
  auto simStart = std::chrono::steady_clock::now();
  serve::ServeReport report;
  auto runAt = [&](double r) -> llvm::Expected<serve::SimulationResult> {
    serve::GeneratorOptions g = gen;
    g.rate = r;
    return serve::simulate(serve::generateTrace(g), sc, *cost, replicas);
  };
  if (maxRate) {
    // The lengths do not depend on the rate and arrivals scale with it, so
    // attainment falls with the rate: double until it fails, then bisect.
    serve::MaxRate m;
    m.required = sloAttainment;
    double lo = 0, hi = rate;
    std::optional<serve::SimulationResult> best;
    for (;; hi *= 2) {
      llvm::Expected<serve::SimulationResult> r = runAt(hi);
      if (!r)
        return fail(llvm::toString(r.takeError()));
      ++m.iterations;
      if (serve::summarizeSlo(*r, sloTtft, sloTpot).attainment < sloAttainment)
        break;
      lo = hi;
      best = std::move(*r);
      if (m.iterations > 30)
        return fail("--max-rate: the SLO holds at every rate tried (up to " +
                    llvm::formatv("{0:e2}", hi).str() + " req/s)");
    }
    for (int i = 0; i < 12; ++i) {
      double midRate = lo > 0 ? (lo + hi) / 2 : hi / 2;
      llvm::Expected<serve::SimulationResult> r = runAt(midRate);
      if (!r)
        return fail(llvm::toString(r.takeError()));
      ++m.iterations;
      if (serve::summarizeSlo(*r, sloTtft, sloTpot).attainment >=
          sloAttainment) {
        lo = midRate;
        best = std::move(*r);
      } else {
        hi = midRate;
      }
    }
    if (!best)
      return fail(llvm::formatv("--max-rate: no rate down to {0:e2} req/s "
                                "meets the SLO for {1:f0} % of requests",
                                hi, sloAttainment * 100)
                      .str());
    m.rate = lo;
    report.result = std::move(*best);
    m.attainment =
        serve::summarizeSlo(report.result, sloTtft, sloTpot).attainment;
    report.maxRate = m;
    setup.rate = lo;
  } else {
    llvm::Expected<serve::SimulationResult> r =
        serve::simulate(requests, sc, *cost, replicas);
    if (!r)
      return fail(llvm::toString(r.takeError()));
    report.result = std::move(*r);
  }
  setup.simulateSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - simStart)
          .count();
  setup.compileSeconds = compileSeconds;
  setup.timings = printStats;
  report.setup = setup;
  report.slo = serve::summarizeSlo(report.result, sloTtft, sloTpot);

  std::error_code ec;
  llvm::ToolOutputFile out(reportFile, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write --report-file '" + reportFile +
                "': " + ec.message());
  if (reportFormat == "json")
    out.os() << llvm::formatv("{0:2}", serve::toJSON(report)) << "\n";
  else if (reportFormat == "csv")
    serve::writeRequestsCsv(report, out.os());
  else
    serve::writeText(report, out.os());
  out.keep();
  if (timeline) {
    timeline->os() << llvm::formatv("{0}", serve::toTimeline(report)) << "\n";
    timeline->keep();
  }
  return 0;
}
