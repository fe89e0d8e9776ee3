//===- strata-translate.cpp - Imports and exports -------------------------===//
//
// Translations between Strata's IR and the outside world:
//   --import-system-json   system JSON      -> module carrying arch.system
//   --export-system-json   module / preset  -> system JSON
//   --import-model-config  HF config.json or bundled model name
//                                           -> func + linalg transformer
//
//===----------------------------------------------------------------------===//

#include "../ToolOptions.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/Json.h"
#include "strata/InitAll.h"
#include "strata/Workload/ModelConfig.h"
#include "strata/Workload/TransformerBuilder.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/Timing.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

#include <cstring>
#include <vector>

using namespace mlir;
using namespace strata;

static llvm::cl::opt<std::string> systemSpec(
    "system",
    llvm::cl::desc("System for --export-system-json: a preset name or a "
                   ".json/.mlir file (default: the input module's "
                   "arch.system)"),
    llvm::cl::init(""), llvm::cl::cat(strata::tools::strataCategory()));

// Options of --import-model-config (docs/workloads.md).
static llvm::cl::OptionCategory modelCategory("Model import options");
static llvm::cl::opt<std::string>
    modelMode("mode", llvm::cl::desc("prefill, decode or train"),
              llvm::cl::init("prefill"), llvm::cl::cat(modelCategory));
static llvm::cl::opt<int64_t> modelBatch("batch",
                                         llvm::cl::desc("Sequences per run: with a parallel plan, one microbatch over all dp ranks (global batch = N x microbatches)"),
                                         llvm::cl::init(1),
                                         llvm::cl::cat(modelCategory));
static llvm::cl::opt<int64_t>
    modelSeq("seq",
             llvm::cl::desc("New tokens per sequence (default 2048 for "
                            "prefill/train, 1 for decode)"),
             llvm::cl::init(0), llvm::cl::cat(modelCategory));
static llvm::cl::opt<int64_t>
    modelKvLen("kv-len",
               llvm::cl::desc("Tokens already in the KV cache (decode; "
                              "default 2048)"),
               llvm::cl::init(2048), llvm::cl::cat(modelCategory));
static llvm::cl::opt<std::string>
    modelDType("dtype", llvm::cl::desc("bf16, fp16, fp8 or f32"),
               llvm::cl::init("bf16"), llvm::cl::cat(modelCategory));
static llvm::cl::opt<std::string> modelKvDType(
    "kv-dtype",
    llvm::cl::desc("KV cache element type (decode): bf16, fp16, fp8 or f32 "
                   "(default: the activations' type)"),
    llvm::cl::init(""), llvm::cl::cat(modelCategory));
static llvm::cl::opt<bool> modelFp8Vocabulary(
    "fp8-vocabulary",
    llvm::cl::desc("With --dtype=fp8, the embedding and LM head in fp8 too "
                   "(default: in bf16, as Transformer Engine / Megatron-LM "
                   "and ModelOpt's FP8 recipes keep them)"),
    llvm::cl::init(false), llvm::cl::cat(modelCategory));
static llvm::cl::opt<std::string> modelWeightDType(
    "weight-dtype",
    llvm::cl::desc("Stored format of the layers' projection weights: int8, "
                   "int8-g<N>, int4-g<N> (fp16 scales per N), fp8 (W8A8), "
                   "mxfp4, bfp8, bfp4, or dense (all in --dtype) (default: "
                   "--dtype; gpt_oss: its MXFP4 experts)"),
    llvm::cl::init(""), llvm::cl::cat(modelCategory));
static llvm::cl::opt<std::string> modelLoadBalance(
    "moe-load-balance",
    llvm::cl::desc("Rows per active expert: 'uniform' (tokens*top_k/experts) "
                   "or a capacity factor multiplying that share"),
    llvm::cl::init("uniform"), llvm::cl::cat(modelCategory));
static llvm::cl::opt<int64_t> modelPadVocab(
    "pad-vocab",
    llvm::cl::desc("Pad the vocabulary to a multiple of N (Megatron-LM: 128 "
                   "x tp). Default: 128 for --mode=train, none otherwise; 1 "
                   "never pads"),
    llvm::cl::init(0), llvm::cl::cat(modelCategory));
static llvm::cl::opt<std::string> modelMlaForm(
    "mla-attention",
    llvm::cl::desc("Multi-head latent attention (DeepSeek): 'auto' (the form "
                   "with fewer FLOPs; expanded when training), 'expanded' or "
                   "'absorbed'"),
    llvm::cl::init("auto"), llvm::cl::cat(modelCategory));
static llvm::cl::opt<std::string>
    modelsDir("models-dir",
              llvm::cl::desc("Directory of bundled <name>.json model configs"),
              llvm::cl::init(STRATA_MODELS_DIR), llvm::cl::cat(modelCategory));

/// The CONFIG operand of --import-model-config when it names a bundled
/// model or a file (main() hands mlir-translate an empty input instead, so a
/// bundled name needs no file of that name).
static std::string modelSpec;

static OwningOpRef<Operation *> importModelConfig(llvm::SourceMgr &sourceMgr,
                                                  MLIRContext *ctx) {
  using namespace strata::workload;
  FailureOr<ModelConfig> config = failure();
  if (!modelSpec.empty()) {
    config = loadModelConfig(modelSpec, modelsDir, ctx);
  } else {
    const llvm::MemoryBuffer *buffer =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
    config = parseModelConfig(buffer->getBuffer(),
                              buffer->getBufferIdentifier(), "stdin", ctx);
  }
  if (failed(config))
    return nullptr;
  Location loc = FileLineColLoc::get(ctx, config->path, 1, 1);
  WorkloadOptions options;
  std::optional<WorkloadMode> mode = parseWorkloadMode(modelMode);
  std::optional<WorkloadDType> dtype = parseWorkloadDType(modelDType);
  std::optional<double> factor = parseMoELoadBalance(modelLoadBalance);
  if (!mode) {
    emitError(loc) << "unknown --mode '" << modelMode
                   << "' (expected prefill, decode or train)";
    return nullptr;
  }
  if (!dtype) {
    emitError(loc) << "unknown --dtype '" << modelDType
                   << "' (expected bf16, fp16, fp8 or f32)";
    return nullptr;
  }
  if (!factor) {
    emitError(loc) << "invalid --moe-load-balance '" << modelLoadBalance
                   << "' (expected 'uniform' or a positive number)";
    return nullptr;
  }
  std::optional<MlaForm> mlaForm = parseMlaForm(modelMlaForm);
  if (!mlaForm) {
    emitError(loc) << "unknown --mla-attention '" << modelMlaForm
                   << "' (expected auto, expanded or absorbed)";
    return nullptr;
  }
  options.mlaForm = *mlaForm;
  options.mode = *mode;
  options.dtype = *dtype;
  options.fp8Vocabulary = modelFp8Vocabulary;
  if (!modelKvDType.empty()) {
    options.kvDType = parseWorkloadDType(modelKvDType);
    if (!options.kvDType) {
      emitError(loc) << "unknown --kv-dtype '" << modelKvDType
                     << "' (expected bf16, fp16, fp8 or f32)";
      return nullptr;
    }
  }
  if (modelWeightDType == "dense") {
    // Every weight in --dtype, a checkpoint's own quantisation (gpt-oss's
    // MXFP4 experts) included: for plans quantised weights cannot take.
    config->mxfp4Experts = false;
  } else if (!modelWeightDType.empty()) {
    options.weightQuant = parseWeightQuant(modelWeightDType);
    if (!options.weightQuant) {
      emitError(loc) << "unknown --weight-dtype '" << modelWeightDType
                     << "' (expected dense, int8, int8-g<N>, int4-g<N>, fp8, "
                        "mxfp4, bfp8 or bfp4)";
      return nullptr;
    }
  }
  options.moeCapacityFactor = *factor;
  options.vocabMultiple = modelPadVocab;
  options.batch = modelBatch;
  if (modelKvLen.getNumOccurrences())
    options.kvLen = modelKvLen;
  if (modelSeq.getNumOccurrences())
    options.seq = modelSeq;
  OwningOpRef<ModuleOp> module = buildTransformerModule(*config, options, ctx);
  if (!module)
    return nullptr;
  return OwningOpRef<Operation *>(module.release());
}

static void registerModelTranslation() {
  TranslateToMLIRRegistration importModel(
      "import-model-config",
      "Import a transformer from a Hugging Face config.json (or a bundled "
      "model name) as func + linalg",
      importModelConfig, [](DialectRegistry &registry) {
        strata::registerAllDialects(registry);
        strata::workload::registerWorkloadDialects(registry);
      });
}

static void registerSystemTranslations() {
  TranslateToMLIRRegistration importJson(
      "import-system-json", "Import a system description from JSON",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        ctx->getOrLoadDialect<arch::ArchDialect>();
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        Location loc = FileLineColLoc::get(
            ctx, buffer->getBufferIdentifier(), /*line=*/1, /*column=*/1);
        // Each problem at its field in the file (a JSON path and its line).
        std::vector<hw::LocatedProblem> problems;
        llvm::Expected<hw::System> sys =
            hw::parseSystemJSON(buffer->getBuffer(), problems);
        if (!sys) {
          llvm::consumeError(sys.takeError());
          for (const hw::LocatedProblem &p : problems) {
            InFlightDiagnostic diag = emitError(FileLineColLoc::get(
                ctx, buffer->getBufferIdentifier(), p.line, p.column));
            if (!p.path.empty())
              diag << p.path << ": ";
            diag << p.message;
          }
          return nullptr;
        }
        OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
        (*module)->setAttr(arch::ArchDialect::kSystemAttrName,
                           arch::toAttr(ctx, *sys));
        return module;
      },
      [](DialectRegistry &registry) { strata::registerAllDialects(registry); });

  TranslateFromMLIRRegistration exportJson(
      "export-system-json", "Export the target system as JSON",
      [](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module");
        FailureOr<arch::SystemAttr> sys =
            arch::resolveSystem(module, systemSpec);
        if (failed(sys))
          return failure();
        os << llvm::formatv("{0:2}", hw::toJSON(arch::toModel(*sys))) << "\n";
        return success();
      },
      [](DialectRegistry &registry) { strata::registerAllDialects(registry); });
}

/// For --import-model-config, takes the CONFIG operand out of the command
/// line (replacing it with an empty input) so that a bundled model name is
/// not opened as a file.
static void extractModelSpec(std::vector<char *> &args) {
  static char devNull[] = "/dev/null";
  bool importing = false;
  for (char *arg : args)
    if (!std::strcmp(arg, "--import-model-config") ||
        !std::strcmp(arg, "-import-model-config"))
      importing = true;
  if (!importing)
    return;
  // Options whose value may follow as a separate argument.
  static const char *const separateValue[] = {"-o",
                                              "--mode",
                                              "-mode",
                                              "--batch",
                                              "-batch",
                                              "--seq",
                                              "-seq",
                                              "--kv-len",
                                              "-kv-len",
                                              "--dtype",
                                              "-dtype",
                                              "--kv-dtype",
                                              "-kv-dtype",
                                              "--weight-dtype",
                                              "-weight-dtype",
                                              "--models-dir",
                                              "-models-dir",
                                              "--moe-load-balance",
                                              "-moe-load-balance",
                                              "--mla-attention",
                                              "-mla-attention"};
  for (size_t i = 1; i < args.size(); ++i) {
    if (llvm::any_of(separateValue, [&](const char *opt) {
          return !std::strcmp(args[i], opt);
        })) {
      ++i;
      continue;
    }
    if (args[i][0] == '-')
      continue;
    modelSpec = args[i];
    args[i] = devNull;
    return;
  }
}

int main(int argc, char **argv) {
  registerSystemTranslations();
  registerModelTranslation();
  // `--export-system-json --system=<preset>` needs no input: read an empty
  // module instead of waiting on stdin.
  std::vector<char *> args(argv, argv + argc);
  extractModelSpec(args);
  bool exporting = false, hasSystem = false, hasInput = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--export-system-json") ||
        !std::strcmp(argv[i], "-export-system-json"))
      exporting = true;
    else if (!std::strncmp(argv[i], "--system=", 9) ||
             !std::strncmp(argv[i], "-system=", 8))
      hasSystem = true;
    else if (argv[i][0] != '-' || !std::strcmp(argv[i], "-"))
      hasInput = true;
  }
  static char devNull[] = "/dev/null";
  if (exporting && hasSystem && !hasInput)
    args.push_back(devNull);
  // A generated model's op names (NameLoc, "layers.attn.qk_matmul") are
  // what reports print; keep them in the text output unless the user
  // chose otherwise.
  bool importingModel = false, debugInfoChosen = false;
  for (char *a : args) {
    llvm::StringRef arg(a);
    importingModel |= arg.contains("import-model-config");
    debugInfoChosen |= arg.contains("mlir-print-debuginfo") ||
                       arg.contains("mlir-print-local-scope");
  }
  static char debugInfo[] = "--mlir-print-debuginfo";
  if (importingModel && !debugInfoChosen)
    args.insert(args.begin() + 1, debugInfo);
  // --help: Strata's options and the translate driver's own; libLLVM's
  // backend flags and upstream's debugging options only in --help-hidden.
  // Diagnostics without the op's IR unless asked for.
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerTranslationCLOptions();
  registerDefaultTimingManagerCLOptions();
  strata::tools::printOpOnDiagnosticByDefault(false);
  strata::tools::hideUnrelatedOptions(
      {&strata::tools::strataCategory(), &modelCategory});
  return failed(mlirTranslateMain(int(args.size()), args.data(),
                                  "Strata translations: system JSON <-> IR, "
                                  "model configs -> func + linalg"));
}
