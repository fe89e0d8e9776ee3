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

} // namespace strata::hw

#endif // STRATA_HARDWARE_JSON_H
