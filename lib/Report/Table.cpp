//===- Table.cpp - Aligned text tables for reports ------------------------===//

#include "strata/Report/Table.h"

#include <algorithm>

using namespace strata::report;

void Table::print(llvm::raw_ostream &os, unsigned indent) const {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string> &row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  };
  measure(header);
  for (const auto &row : rows)
    measure(row);
  auto emit = [&](const std::vector<std::string> &row) {
    os.indent(indent);
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      if (i)
        os << "  ";
      if (i == 0)
        os << cell << std::string(width[i] - cell.size(), ' ');
      else
        os << std::string(width[i] - cell.size(), ' ') << cell;
    }
    os << "\n";
  };
  emit(header);
  for (const auto &row : rows)
    emit(row);
}
