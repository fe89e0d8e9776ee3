//===- Json.h - JSON form of a hardware description --------------*- C++ -*-===//
//
// The JSON schema mirrors the `#arch.system` attribute field for field (see
// docs/system-json.md). Numbers are in SI base units (bytes, bytes/s, s, Hz,
// J/B); JSON -> System -> JSON is lossless.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_HARDWARE_JSON_H
#define STRATA_HARDWARE_JSON_H

#include "strata/Hardware/System.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace strata::hw {

/// Schema version written as "schema" and checked on import.
inline constexpr int kSystemJsonSchemaVersion = 1;

llvm::json::Value toJSON(const System &s);

/// Converts JSON to a System. Errors name the JSON path of the offending
/// field ("chip.memory[2].capacity: expected a positive integer"); a
/// description that parses but is impossible reports validate()'s problems.
llvm::Expected<System> systemFromJSON(const llvm::json::Value &v);

/// Parses text and converts; syntax errors carry line:column.
llvm::Expected<System> parseSystemJSON(llvm::StringRef text);

/// A problem of a JSON description and where in the text it is: the
/// 1-based line and column of its field's key (of the deepest enclosing
/// field that exists, for a missing one), or of the syntax error.
struct LocatedProblem {
  std::string path; ///< JSON path ("chip.memory[2].bandwidth"), "" for syntax
  std::string message;
  unsigned line = 1, column = 1;
};

/// As parseSystemJSON, reporting each problem with its place in `text`
/// (a tool points at the JSON file, not at the IR that named it).
llvm::Expected<System>
parseSystemJSON(llvm::StringRef text, std::vector<LocatedProblem> &problems);

/// The 1-based line and column in `text` of the JSON value at `path`
/// ("chip.memory[2].bandwidth"): its key for an object member, the value
/// for an array element; for a path that does not exist, the deepest part
/// of it that does (1:1 for none).
std::pair<unsigned, unsigned> locateJsonPath(llvm::StringRef text,
                                             llvm::StringRef path);

} // namespace strata::hw

#endif // STRATA_HARDWARE_JSON_H
