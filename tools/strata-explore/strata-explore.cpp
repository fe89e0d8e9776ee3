//===- strata-explore.cpp - Design-space exploration ----------------------===//
//
// Compile once, re-price many: lowers a workload through strata-pipeline
// on a base system, then prices every point of a hardware sweep through
// the cost core, re-lowering the points whose mapping decisions or
// structure change (docs/explore.md).
//
//   strata-explore --model llama-3-8b --system h100-sxm \
//       --spec examples/explore/hbm-bandwidth.json -o out
//
//===----------------------------------------------------------------------===//

#include "strata/Explore/Engine.h"
#include "strata/Explore/Results.h"
#include "strata/Explore/Sweep.h"
#include "strata/Hardware/Json.h"
#include "strata/Hardware/Presets.h"
#include "strata/InitAll.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <chrono>
#include <cmath>

using namespace mlir;
using namespace strata;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("[workload.mlir]"),
                                      cl::init(""));
static cl::opt<std::string>
    modelName("model", cl::desc("Bundled model name or config.json (instead "
                                "of an .mlir input)"),
              cl::init(""));
static cl::opt<std::string> modelMode("mode",
                                      cl::desc("prefill, decode or train"),
                                      cl::init("prefill"));
static cl::opt<int64_t> modelSeq("seq", cl::desc("Tokens per sequence"),
                                 cl::init(0));
static cl::opt<int64_t> modelBatch("batch", cl::desc("Sequences"),
                                   cl::init(1));
static cl::opt<std::string> modelsDir("models-dir",
                                      cl::desc("Bundled model configs"),
                                      cl::init(STRATA_MODELS_DIR));
static cl::opt<std::string> systemSpec("system",
                                       cl::desc("Base system: preset or .json"),
                                       cl::Required);
static cl::opt<std::string> specFile("spec", cl::desc("Sweep spec (JSON)"),
                                     cl::Required);
static cl::opt<std::string> outDir("o", cl::desc("Output directory"),
                                   cl::Required);
static cl::opt<std::string> entryName("entry",
                                      cl::desc("Entry function to price"),
                                      cl::init(""));
static cl::opt<std::string> pipelineOptions(
    "pipeline-options",
    cl::desc("Extra strata-pipeline options, e.g. \"tile=false\""),
    cl::init(""));
static cl::opt<std::string> emitSystems(
    "emit-systems",
    cl::desc("Write each point's system as DIR/point-<i>.json"),
    cl::init(""));
static cl::opt<bool> stats("print-stats",
                           cl::desc("Print points/s and re-lowering counts"),
                           cl::init(false));
static cl::opt<unsigned> verifyPoints(
    "verify",
    cl::desc("Re-lower N evenly spaced points and compare with the "
             "re-priced numbers; a mismatch is a warning by default and an "
             "error (exit 1) when --verify is given"),
    cl::init(4));
static cl::opt<bool> exactMode(
    "exact", cl::desc("Lower every point through strata-pipeline (slow; "
                      "the mapping-decision key is not used)"),
    cl::init(false));

static int fail(const llvm::Twine &msg) {
  llvm::errs() << "strata-explore: " << msg << "\n";
  return 1;
}

static llvm::Expected<hw::System> loadSystem(llvm::StringRef spec) {
  if (std::optional<hw::System> p = hw::getPreset(spec.str()))
    return *p;
  auto buf = llvm::MemoryBuffer::getFile(spec);
  if (!buf)
    return llvm::createStringError(buf.getError(),
                                   "'" + spec +
                                       "' is neither a preset nor a readable "
                                       "system .json");
  llvm::Expected<hw::System> s = hw::parseSystemJSON((*buf)->getBuffer());
  if (!s)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   spec + ": " + llvm::toString(s.takeError()));
  return s;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "Strata design-space exploration\n");

  llvm::Expected<hw::System> base = loadSystem(systemSpec);
  if (!base)
    return fail(llvm::toString(base.takeError()));
  auto specBuf = llvm::MemoryBuffer::getFile(specFile);
  if (!specBuf)
    return fail("cannot read spec '" + specFile + "'");
  llvm::Expected<explore::SweepSpec> spec =
      explore::parseSweepSpecText((*specBuf)->getBuffer(), *base);
  if (!spec)
    return fail(specFile + ": " + llvm::toString(spec.takeError()));

  registerAllPasses();
  DialectRegistry registry;
  registerAllDialects(registry);
  workload::registerWorkloadDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  // Remarks of the lowering (untiled ops, under-filled grids) are the
  // pipeline's to print; a sweep keeps errors only.
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &d) {
    if (d.getSeverity() != DiagnosticSeverity::Error)
      return success();
    return failure(); // fall through to the default printer
  });

  OwningOpRef<ModuleOp> input;
  std::string entry = entryName;
  if (!modelName.empty() == !inputFile.empty())
    return fail("give a workload: an .mlir file or --model NAME (one)");
  if (!modelName.empty()) {
    FailureOr<workload::ModelConfig> config =
        workload::loadModelConfig(modelName, modelsDir, &ctx);
    if (failed(config))
      return 1;
    workload::WorkloadOptions o;
    std::optional<workload::WorkloadMode> mode =
        workload::parseWorkloadMode(modelMode);
    if (!mode)
      return fail("unknown --mode '" + modelMode +
                  "' (expected prefill, decode or train)");
    o.mode = *mode;
    o.batch = modelBatch;
    if (modelSeq > 0)
      o.seq = modelSeq;
    input = workload::buildTransformerModule(*config, o, &ctx);
    if (!input)
      return 1;
    if (entry.empty())
      entry = workload::entryFunctionName(*mode).str();
  } else {
    llvm::SourceMgr sm;
    input = parseSourceFile<ModuleOp>(inputFile, sm, &ctx);
    if (!input)
      return fail("cannot parse '" + inputFile + "'");
  }

  auto start = std::chrono::steady_clock::now();
  explore::Engine engine(ctx, std::move(input), entry, pipelineOptions);
  engine.setExact(exactMode);
  if (llvm::Error e = engine.compile(*base))
    return fail(llvm::toString(std::move(e)));
  auto compiled = std::chrono::steady_clock::now();

  if (!emitSystems.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(emitSystems))
      return fail("cannot create '" + emitSystems + "'");

  std::vector<double> baseValues;
  for (const explore::Axis &a : spec->axes)
    baseValues.push_back(*explore::readAxis(*base, a.path));

  uint64_t n = spec->numPoints();
  std::vector<explore::SweepPoint> points;
  points.reserve(n);
  llvm::StringMap<unsigned> reasons;
  unsigned relowered = 0, invalid = 0;
  for (uint64_t i = 0; i < n; ++i) {
    explore::SweepPoint p;
    p.values = spec->point(i);
    hw::System sys = *base;
    sys.name = base->name + "@" + std::to_string(i);
    for (size_t k = 0; k < spec->axes.size(); ++k)
      if (llvm::Error e = explore::writeAxis(sys, spec->axes[k].path,
                                             p.values[k]))
        return fail(llvm::toString(std::move(e)));
    if (!emitSystems.empty()) {
      llvm::SmallString<256> path(emitSystems);
      llvm::sys::path::append(path, "point-" + std::to_string(i) + ".json");
      std::error_code ec;
      llvm::raw_fd_ostream os(path, ec);
      if (ec)
        return fail("cannot write '" + path + "'");
      os << llvm::formatv("{0:2}", hw::toJSON(sys)) << "\n";
    }
    p.result = engine.evaluate(sys);
    if (!p.result.valid) {
      ++invalid;
      llvm::errs() << "strata-explore: point " << i
                   << " is impossible hardware, skipped: " << p.result.problem
                   << "\n";
    }
    if (p.result.relowered) {
      ++relowered;
      ++reasons[p.result.why];
    }
    points.push_back(std::move(p));
  }
  auto swept = std::chrono::steady_clock::now();

  // Elasticities of latency at the base, by central differences of ±1 %.
  std::vector<explore::Sensitivity> sens;
  explore::PointResult baseResult = engine.evaluate(*base);
  for (const explore::Axis &a : spec->axes) {
    explore::Sensitivity s;
    s.path = a.path;
    s.base = *explore::readAxis(*base, a.path);
    s.boundBy = baseResult.metrics.boundBy;
    hw::System up = *base, down = *base;
    if (llvm::Error e = explore::writeAxis(up, a.path, s.base * 1.01))
      return fail(llvm::toString(std::move(e)));
    if (llvm::Error e = explore::writeAxis(down, a.path, s.base * 0.99))
      return fail(llvm::toString(std::move(e)));
    double xu = *explore::readAxis(up, a.path);
    double xd = *explore::readAxis(down, a.path);
    if (xu == xd || s.base <= 0) {
      s.elasticity = NAN; // an integer too small to move by 1 %
    } else {
      explore::PointResult ru = engine.evaluate(up);
      explore::PointResult rd = engine.evaluate(down);
      s.relowered = ru.relowered || rd.relowered;
      s.elasticity = ru.valid && rd.valid
                         ? explore::elasticity(ru.metrics.latency,
                                               rd.metrics.latency, xu, xd)
                         : NAN;
    }
    sens.push_back(s);
  }

  if (llvm::Error e = explore::writePoints(outDir, *spec, points))
    return fail(llvm::toString(std::move(e)));
  if (llvm::Error e = explore::writeSensitivity(outDir, sens))
    return fail(llvm::toString(std::move(e)));

  int rc = 0;
  if (verifyPoints > 0 && n > 0 && !exactMode) {
    unsigned checks = std::min<uint64_t>(verifyPoints, n), mismatches = 0;
    for (unsigned c = 0; c < checks; ++c) {
      uint64_t i = checks == 1 ? 0 : c * (n - 1) / (checks - 1);
      const explore::SweepPoint &p = points[i];
      if (!p.result.valid)
        continue;
      hw::System sys = *base;
      sys.name = base->name + "@" + std::to_string(i);
      for (size_t k = 0; k < spec->axes.size(); ++k)
        llvm::cantFail(explore::writeAxis(sys, spec->axes[k].path,
                                          p.values[k]));
      llvm::Expected<explore::Metrics> m = engine.lowerAndPrice(sys);
      if (!m)
        return fail(llvm::toString(m.takeError()));
      if (m->latency != p.result.metrics.latency ||
          m->energy != p.result.metrics.energy) {
        ++mismatches;
        llvm::errs() << llvm::formatv(
            "strata-explore: point {0}: re-priced latency {1:e16} s differs from "
            "the re-lowered pipeline's {2:e16} s (a mapping decision the check "
            "does not see)\n",
            i, p.result.metrics.latency, m->latency);
      }
    }
    if (verifyPoints.getNumOccurrences() || mismatches || stats)
      llvm::outs() << "verified " << checks << " points against a re-lowering: "
                 << mismatches << " mismatches\n";
    if (mismatches && verifyPoints.getNumOccurrences())
      rc = 1;
    else if (mismatches)
      llvm::errs() << "strata-explore: warning: " << mismatches << " of "
                   << checks
                   << " sampled points differ from a re-lowering (a "
                      "vector-op block size, fusion or placement choice the "
                      "decision key does not see); use --exact for the "
                      "pipeline's numbers at every point\n";
  }

  if (stats) {
    double compileS =
        std::chrono::duration<double>(compiled - start).count();
    double sweepS = std::chrono::duration<double>(swept - compiled).count();
    llvm::outs() << llvm::formatv(
        "points: {0} ({1} impossible, {2} not on the base lowering, {3} "
        "lowerings compiled)\n",
        n, invalid, relowered, engine.numLowerings());
    for (const auto &kv : reasons)
      llvm::outs() << "  re-lowered " << kv.second << ": " << kv.first()
                   << "\n";
    llvm::outs() << llvm::formatv("compile once: {0:f3} s\n", compileS);
    llvm::outs() << llvm::formatv("sweep: {0:f3} s, {1:f0} points/s\n",
                                  sweepS, sweepS > 0 ? n / sweepS : 0.0);
  }
  return rc;
}
