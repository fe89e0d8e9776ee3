//===- ProgramSummary.cpp - One row per public function -------------------===//

#include "strata/Report/ProgramSummary.h"
#include "strata/Hardware/Units.h"
#include "strata/Report/Table.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

namespace strata::report {

namespace {

double unpricedExecutions(const CostReport &r) {
  double n = 0;
  for (const UnpricedRow &u : r.unpriced)
    n += u.count;
  return n;
}

std::string fixed(const char *fmt, double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format(fmt, v);
  return s;
}

} // namespace

void writeProgramsText(const std::vector<CostReport> &reports,
                       llvm::raw_ostream &os) {
  if (reports.empty())
    return;
  const CostReport &first = reports.front();
  os << "Programs: " << reports.size() << " public functions on "
     << first.system << " (" << first.devices << " x " << first.chip
     << "); entry=<name> gives one function's full report\n\n";
  Table t({"function", "latency", "FLOPs", "MFU", "energy", "bound by",
           "footprint", "fits", "unpriced"});
  for (const CostReport &r : reports) {
    double total = r.footprintTotal();
    t.addRow({"@" + r.entry, hw::formatQuantityApprox(r.latency,
                                                      hw::Quantity::Seconds),
              fixed("%.4g", r.flops / 1e9) + " GFLOP",
              fixed("%.1f %%", r.mfu * 100),
              fixed("%.4g", r.energy * 1e3) + " mJ", r.boundBy,
              hw::formatBinaryBytesApprox(total),
              total <= r.capacity ? "yes" : "no",
              fixed("%.0f", unpricedExecutions(r))});
  }
  t.print(os);
}

void writeProgramsJson(const std::vector<CostReport> &reports,
                       llvm::raw_ostream &os) {
  llvm::json::OStream j(os, 2);
  j.object([&] {
    j.attribute("schema", "strata.program-summary");
    j.attribute("version", kProgramSummaryVersion);
    const CostReport *first = reports.empty() ? nullptr : &reports.front();
    j.attribute("system", first ? first->system : "");
    j.attribute("chip", first ? first->chip : "");
    j.attribute("devices", first ? first->devices : 0);
    j.attributeArray("functions", [&] {
      for (const CostReport &r : reports)
        j.object([&] {
          j.attribute("entry", r.entry);
          j.attribute("latency_s", r.latency);
          j.attribute("flops", r.flops);
          j.attribute("mfu", r.mfu);
          j.attribute("energy_j", r.energy);
          j.attribute("bound_by", r.boundBy);
          j.attribute("footprint_bytes", r.footprintTotal());
          j.attribute("capacity_bytes", r.capacity);
          j.attribute("fits", r.footprintTotal() <= r.capacity);
          j.attributeArray("unpriced", [&] {
            for (const UnpricedRow &u : r.unpriced)
              j.object([&] {
                j.attribute("op", u.op);
                j.attribute("count", u.count);
                j.attribute("location", u.location);
              });
          });
        });
    });
  });
  os << "\n";
}

void writeProgramsCsv(const std::vector<CostReport> &reports,
                      llvm::raw_ostream &os) {
  os << "entry,latency_s,flops,mfu,energy_j,bound_by,footprint_bytes,fits,"
        "unpriced\n";
  for (const CostReport &r : reports)
    os << r.entry << "," << hw::formatShortest(r.latency) << ","
       << hw::formatShortest(r.flops) << "," << hw::formatShortest(r.mfu)
       << "," << hw::formatShortest(r.energy) << "," << r.boundBy << ","
       << hw::formatShortest(r.footprintTotal()) << ","
       << (r.footprintTotal() <= r.capacity ? "true" : "false") << ","
       << hw::formatShortest(unpricedExecutions(r)) << "\n";
}

} // namespace strata::report
