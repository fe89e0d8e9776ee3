//===- ConfigReader.h - Reading HF config.json fields ----------*- C++ -*-===//
//
// Private to lib/Workload: the field reader the config parsers share
// (ModelConfig.cpp dispatches on model_type, ModelFamilies.cpp holds the
// per-family readers, ConfigFields.cpp the unmodelled-field warnings).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_LIB_WORKLOAD_CONFIGREADER_H
#define STRATA_LIB_WORKLOAD_CONFIGREADER_H

#include "strata/Workload/ModelConfig.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace strata::workload::detail {

using mlir::emitError;
using mlir::failure;
using mlir::FailureOr;
using mlir::FileLineColLoc;
using mlir::Location;
using mlir::LogicalResult;
using mlir::MLIRContext;
using mlir::success;

/// Reads fields of one config object, reporting errors at the line of the
/// field in the file (or the file's first line for missing fields).
class FieldReader {
public:
  FieldReader(const llvm::json::Object &object, llvm::StringRef text,
              llvm::StringRef path, MLIRContext *ctx)
      : object(object), text(text), path(path), ctx(ctx) {}

  /// Where `field` is written in the file; line 1 if it is not.
  Location locOf(llvm::StringRef field) const {
    std::string quoted = ("\"" + field + "\"").str();
    size_t pos = text.find(quoted);
    if (pos == llvm::StringRef::npos)
      return FileLineColLoc::get(ctx, path, 1, 1);
    llvm::StringRef before = text.take_front(pos);
    unsigned line = 1 + before.count('\n');
    size_t lineStart = before.rfind('\n');
    unsigned col =
        lineStart == llvm::StringRef::npos ? pos + 1 : pos - lineStart;
    return FileLineColLoc::get(ctx, path, line, col);
  }

  /// The first of `names` present (and not null), or "" if none is.
  /// Every name asked for counts as read (modelled), present or not.
  llvm::StringRef present(llvm::ArrayRef<llvm::StringRef> names) const {
    for (llvm::StringRef name : names)
      read.insert(name);
    for (llvm::StringRef name : names) {
      const llvm::json::Value *v = object.get(name);
      if (v && v->kind() != llvm::json::Value::Null)
        return name;
    }
    return "";
  }

  /// Marks fields as modelled without reading them (read elsewhere, or
  /// aliases of a field read).
  void markRead(llvm::ArrayRef<llvm::StringRef> names) const {
    for (llvm::StringRef name : names)
      read.insert(name);
  }
  bool wasRead(llvm::StringRef name) const { return read.contains(name); }
  const llvm::json::Object &fields() const { return object; }

  /// A list of strings, or nullopt when absent; an error when malformed.
  FailureOr<std::optional<std::vector<std::string>>>
  optionalStringList(llvm::StringRef name) {
    if (present({name}).empty())
      return std::optional<std::vector<std::string>>();
    const llvm::json::Array *list = object.get(name)->getAsArray();
    std::vector<std::string> out;
    for (size_t i = 0; list && i < list->size(); ++i) {
      std::optional<llvm::StringRef> item = (*list)[i].getAsString();
      if (!item) {
        list = nullptr;
        break;
      }
      out.push_back(item->str());
    }
    if (!list) {
      emitError(locOf(name)) << "field '" << name << "' in " << path
                             << " must be a list of strings";
      return failure();
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }

  /// An integer field under any of `names`; an error if none is present.
  FailureOr<int64_t> requireInt(llvm::ArrayRef<llvm::StringRef> names) {
    llvm::StringRef name = present(names);
    if (name.empty()) {
      emitError(FileLineColLoc::get(ctx, path, 1, 1))
          << "model config is missing required field '"
          << llvm::join(names, "' (or '") << "'"
          << (names.size() > 1 ? ")" : "") << " in " << path;
      return failure();
    }
    return readInt(name);
  }

  /// An integer field under any of `names`, or `fallback` when absent.
  FailureOr<int64_t> optionalInt(llvm::ArrayRef<llvm::StringRef> names,
                                 int64_t fallback) {
    llvm::StringRef name = present(names);
    if (name.empty())
      return fallback;
    return readInt(name);
  }

  FailureOr<double> optionalNumber(llvm::ArrayRef<llvm::StringRef> names,
                                   double fallback) {
    llvm::StringRef name = present(names);
    if (name.empty())
      return fallback;
    std::optional<double> v = object.get(name)->getAsNumber();
    if (!v) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be a number";
      return failure();
    }
    return *v;
  }

  FailureOr<bool> optionalBool(llvm::StringRef name, bool fallback) {
    if (present({name}).empty())
      return fallback;
    std::optional<bool> v = object.get(name)->getAsBoolean();
    if (!v) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be true or false";
      return failure();
    }
    return *v;
  }

  /// A string field, or `fallback` when absent; the name read goes to
  /// `fieldName` for later diagnostics.
  FailureOr<std::string> optionalString(llvm::ArrayRef<llvm::StringRef> names,
                                        llvm::StringRef fallback,
                                        llvm::StringRef &fieldName) {
    llvm::StringRef name = present(names);
    fieldName = name.empty() ? names.front() : name;
    if (name.empty())
      return fallback.str();
    std::optional<llvm::StringRef> v = object.get(name)->getAsString();
    if (!v) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be a string";
      return failure();
    }
    return v->str();
  }

private:
  FailureOr<int64_t> readInt(llvm::StringRef name) {
    const llvm::json::Value *v = object.get(name);
    std::optional<int64_t> i = v->getAsInteger();
    if (!i) {
      // Some configs write integers as 4096.0.
      std::optional<double> d = v->getAsNumber();
      // Only a value int64_t holds converts (3.3e109 would be undefined
      // behaviour; found by fuzz/json-fuzzer.cpp).
      if (d && std::floor(*d) == *d && std::fabs(*d) < 0x1p63)
        i = static_cast<int64_t>(*d);
    }
    if (!i) {
      emitError(locOf(name))
          << "field '" << name << "' in " << path << " must be an integer";
      return failure();
    }
    return *i;
  }

  const llvm::json::Object &object;
  llvm::StringRef text;
  llvm::StringRef path;
  MLIRContext *ctx;
  /// Fields the parser asked for: modelled (see warnUnmodelledFields).
  mutable llvm::StringSet<> read;
};

/// The activation `name` names, or a located error.
FailureOr<Activation> parseActivation(llvm::StringRef name, Location loc,
                                      llvm::StringRef field,
                                      llvm::StringRef path);
/// The activation named by the first of `names` present (`fallback` when
/// none is), with an error located at that field if it is not supported.
FailureOr<Activation> readActivation(FieldReader &r,
                                     llvm::ArrayRef<llvm::StringRef> names,
                                     llvm::StringRef fallback,
                                     llvm::StringRef path);
/// Heads must be positive before the head dimension is derived from them.
LogicalResult requirePositiveHeads(FieldReader &r, int64_t heads,
                                   llvm::StringRef field, llvm::StringRef path);

/// model_type deepseek_v2 / deepseek_v3: MLA attention and DeepSeekMoE.
LogicalResult parseDeepSeek(FieldReader &r, ModelConfig &c,
                            llvm::StringRef path);
/// The llama-shaped families beyond llama / mistral / mixtral / qwen2.
bool isLlamaShapedVariant(llvm::StringRef type);
/// The fields of one llama-shaped variant family (after the llama ones).
LogicalResult readLlamaVariant(FieldReader &r, ModelConfig &c,
                               llvm::StringRef path);
/// Mistral's / Qwen2's sliding window (and layer_types, when given).
LogicalResult readSlidingWindow(FieldReader &r, ModelConfig &c,
                                llvm::StringRef path);
/// model_type falcon.
LogicalResult readFalcon(FieldReader &r, ModelConfig &c, llvm::StringRef path);

/// One warning per top-level field that is neither read by the parser nor
/// on the cost-neutral list (docs/workloads.md).
void warnUnmodelledFields(const FieldReader &r, llvm::StringRef path);

} // namespace strata::workload::detail

#endif // STRATA_LIB_WORKLOAD_CONFIGREADER_H
