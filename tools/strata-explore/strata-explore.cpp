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

#include "strata/Explore/Comm.h"
#include "../ToolOptions.h"
#include "strata/Explore/Driver.h"
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

#include <cmath>
#include <map>

using namespace mlir;
using namespace strata;
namespace cl = llvm::cl;

static cl::OptionCategory &cat = tools::strataCategory();

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("[workload.mlir]"),
                                      cl::init(""), cl::cat(cat));
static cl::opt<std::string>
    modelName("model", cl::desc("Bundled model name or config.json (instead "
                                "of an .mlir input)"),
              cl::init(""), cl::cat(cat));
static cl::opt<std::string> modelMode("mode",
                                      cl::desc("prefill, decode or train"),
                                      cl::init("prefill"), cl::cat(cat));
static cl::opt<int64_t> modelSeq("seq", cl::desc("Tokens per sequence"),
                                 cl::init(0), cl::cat(cat));
static cl::opt<int64_t> modelBatch("batch", cl::desc("Sequences"),
                                   cl::init(1), cl::cat(cat));
static cl::opt<std::string> modelsDir("models-dir",
                                      cl::desc("Bundled model configs"),
                                      cl::init(STRATA_MODELS_DIR), cl::cat(cat));
static cl::opt<std::string> systemSpec("system",
                                       cl::desc("Base system: preset or .json"),
                                       cl::Required, cl::cat(cat));
static cl::opt<std::string> specFile("spec", cl::desc("Sweep spec (JSON)"),
                                     cl::Required, cl::cat(cat));
static cl::opt<std::string> outDir("o", cl::desc("Output directory"),
                                   cl::Required, cl::cat(cat));
static cl::opt<std::string> entryName("entry",
                                      cl::desc("Entry function to price"),
                                      cl::init(""), cl::cat(cat));
static cl::opt<std::string> pipelineOptions(
    "pipeline-options",
    cl::desc("Extra strata-pipeline options, e.g. \"tile=false\""),
    cl::init(""), cl::cat(cat));
static cl::opt<std::string> emitSystems(
    "emit-systems",
    cl::desc("Write each point's system as DIR/point-<i>.json"),
    cl::init(""), cl::cat(cat));
static cl::opt<bool> stats("print-stats",
                           cl::desc("Print points/s and re-lowering counts"),
                           cl::init(false), cl::cat(cat));
static cl::opt<unsigned> verifyPoints(
    "verify",
    cl::desc("Re-lower N evenly spaced points and compare with the "
             "re-priced numbers; a mismatch is a warning by default and an "
             "error (exit 1) when --verify is given"),
    cl::init(4));
static cl::opt<unsigned> jobs(
    "j", cl::desc("Threads pricing the points (results do not depend on it)"),
    cl::init(1), cl::cat(cat));
static cl::opt<bool> noProgress(
    "no-progress", cl::desc("No progress bar (it is drawn only on a "
                            "terminal, for sweeps over a second)"),
    cl::init(false), cl::cat(cat));
static cl::opt<bool> exactMode(
    "exact", cl::desc("Lower every point through strata-pipeline (slow; "
                      "the mapping-decision key is not used)"),
    cl::init(false));

static cl::opt<bool> resume(
    "resume",
    cl::desc("Continue a stopped or killed run of the same sweep from its "
             "checkpoint (<out>/checkpoint), pricing only the chunks it "
             "had not finished"),
    cl::init(false), cl::cat(cat));
static cl::opt<uint64_t> checkpointEvery(
    "checkpoint-every",
    cl::desc("Points per checkpointed chunk (also the unit of the MPI "
             "split)"),
    cl::init(1024), cl::cat(cat));
static cl::opt<bool> noEarlyFitCheck(
    "no-early-fit-check",
    cl::desc("Test only: lower rejected plans to the end (strata-pipeline "
             "without early-fit-check); the results are the same"),
    cl::init(false), cl::Hidden, cl::cat(cat));
static cl::opt<uint64_t> stopAfter(
    "stop-after-points",
    cl::desc("Stop once this process has priced N points (whole chunks), "
             "leaving the checkpoint for --resume (for tests)"),
    cl::init(0), cl::Hidden, cl::cat(cat));

static int fail(const llvm::Twine &msg) {
  llvm::errs() << "strata-explore: " << msg << "\n";
  // The other processes of an MPI run would wait for this one forever.
  if (explore::Comm::world().size() > 1)
    explore::Comm::world().abort(1);
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
  explore::Comm::init(argc, argv);
  struct Finalize {
    ~Finalize() { explore::Comm::finalize(); }
  } finalize;
  tools::hideUnrelatedOptions({&tools::strataCategory()});
  cl::ParseCommandLineOptions(argc, argv, "Strata design-space exploration\n");

  llvm::Expected<hw::System> base = loadSystem(systemSpec);
  if (!base)
    return fail(llvm::toString(base.takeError()));
  auto specBuf = llvm::MemoryBuffer::getFile(specFile);
  if (!specBuf)
    return fail("cannot read spec '" + specFile + "'");
  llvm::Expected<explore::SweepSpec> spec =
      explore::parseSweepSpecText((*specBuf)->getBuffer(), *base,
                                  /*fromModel=*/!modelName.empty());
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

  // The workload: a module given as is, or a generated model, built per
  // plan at the plan's batch per microbatch and precision.
  OwningOpRef<ModuleOp> input;
  std::string entry = entryName;
  std::optional<workload::ModelConfig> config;
  workload::WorkloadOptions modelOptions;
  if (!modelName.empty() == !inputFile.empty())
    return fail("give a workload: an .mlir file or --model NAME (one)");
  if (!modelName.empty()) {
    FailureOr<workload::ModelConfig> c =
        workload::loadModelConfig(modelName, modelsDir, &ctx);
    if (failed(c))
      return 1;
    config = *c;
    std::optional<workload::WorkloadMode> mode =
        workload::parseWorkloadMode(modelMode);
    if (!mode)
      return fail("unknown --mode '" + modelMode +
                  "' (expected prefill, decode or train)");
    modelOptions.mode = *mode;
    modelOptions.batch = modelBatch;
    if (modelSeq > 0)
      modelOptions.seq = modelSeq;
    if (entry.empty())
      entry = workload::entryFunctionName(*mode).str();
  } else {
    llvm::SourceMgr sm;
    input = parseSourceFile<ModuleOp>(inputFile, sm, &ctx);
    if (!input)
      return fail("cannot parse '" + inputFile + "'");
  }

  explore::WorkloadBuilder build =
      config ? explore::modelWorkload(ctx, *config, modelOptions)
             : explore::moduleWorkload(*input);
  explore::DriverOptions options;
  options.outDir = outDir;
  options.entry = entry;
  options.pipelineOptions = pipelineOptions;
  options.emitSystems = emitSystems;
  options.verify = verifyPoints;
  options.exact = exactMode;
  options.progress = !noProgress;
  options.batch = modelBatch;
  options.jobs = std::max(1u, unsigned(jobs));
  options.resume = resume;
  options.chunkPoints = std::max<uint64_t>(1, checkpointEvery);
  options.stopAfter = stopAfter;
  options.earlyFitCheck = !noEarlyFitCheck;
  // What the checkpoint must match to be resumed: the inputs and every
  // option that changes a result (not -j, the progress bar or the
  // statistics).
  {
    llvm::raw_string_ostream id(options.identity);
    id << "spec\n" << (*specBuf)->getBuffer() << "\nsystem\n"
       << llvm::formatv("{0}", hw::toJSON(*base)) << "\nworkload "
       << (modelName.empty() ? "file " + inputFile : "model " + modelName)
       << " mode " << modelMode << " seq " << modelSeq << " batch "
       << modelBatch << "\nentry " << entry << "\npipeline "
       << pipelineOptions << "\nexact " << exactMode << " verify "
       << verifyPoints << " emit " << emitSystems;
  }
  llvm::Expected<explore::DriverStats> st =
      explore::runSweep(ctx, *spec, *base, build, options);
  if (!st)
    return fail(llvm::toString(st.takeError()));
  // Only rank 0 assembled the results; the others are done.
  if (st->rank != 0)
    return 0;
  if (st->stopped) {
    llvm::outs() << llvm::formatv(
        "stopped after {0} points ({1} from the checkpoint); continue with "
        "--resume\n",
        st->pricedPoints, st->resumedPoints);
    return 3;
  }

  int rc = 0;
  if (st->verified > 0 || verifyPoints.getNumOccurrences()) {
    if (verifyPoints.getNumOccurrences() || st->mismatches || stats)
      llvm::outs() << "verified " << st->verified
                   << " points against a re-lowering: " << st->mismatches
                   << " mismatches\n";
    if (st->mismatches && verifyPoints.getNumOccurrences())
      rc = 1;
    else if (st->mismatches)
      llvm::errs() << "strata-explore: warning: " << st->mismatches << " of "
                   << st->verified
                   << " sampled points differ from a re-lowering (a "
                      "vector-op block size, fusion or placement choice the "
                      "decision key does not see); use --exact for the "
                      "pipeline's numbers at every point\n";
  }

  if (stats) {
    if (spec->plan.given)
      llvm::outs() << llvm::formatv("plans: {0} ({1} rejected)\n", st->plans,
                                    st->plansRejected);
    llvm::outs() << llvm::formatv(
        "points: {0} ({1} impossible, {2} not on the base lowering, {3} "
        "lowerings compiled)\n",
        st->points, st->invalid, st->relowered, st->lowerings);
    if (st->infeasible)
      llvm::outs() << llvm::formatv("infeasible: {0}\n", st->infeasible);
    for (const auto &kv : st->reasons)
      llvm::outs() << "  re-lowered " << kv.second << ": " << kv.first()
                   << "\n";
    if (st->resumedPoints)
      llvm::outs() << llvm::formatv("resumed: {0} points from the "
                                    "checkpoint, {1} priced\n",
                                    st->resumedPoints, st->pricedPoints);
    if (st->ranks > 1)
      llvm::outs() << llvm::formatv("processes: {0}\n", st->ranks);
    llvm::outs() << llvm::formatv("compile once: {0:f3} s\n",
                                  st->compileSeconds);
    double sweepS = st->sweepSeconds - st->compileSeconds;
    llvm::outs() << llvm::formatv("sweep: {0:f3} s, {1:f0} points/s\n",
                                  sweepS,
                                  sweepS > 0 ? st->points / sweepS : 0.0);
  }
  return rc;
}
