//===- Table.h - Aligned text tables for reports -----------------*- C++ -*-===//

#ifndef STRATA_REPORT_TABLE_H
#define STRATA_REPORT_TABLE_H

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace strata::report {

/// A text table whose columns are padded to their widest cell. The first
/// column is left-aligned, the others right-aligned (they hold numbers).
class Table {
public:
  explicit Table(std::vector<std::string> header)
      : header(std::move(header)) {}
  void addRow(std::vector<std::string> row) { rows.push_back(std::move(row)); }
  void print(llvm::raw_ostream &os, unsigned indent = 2) const;

private:
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

} // namespace strata::report

#endif // STRATA_REPORT_TABLE_H
