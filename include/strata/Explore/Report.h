//===- Report.h - The sweep's self-contained HTML report --------*- C++ -*-===//
//
// report.html: one file, no scripts or styles from elsewhere, plots as
// inline SVG drawn here: the Pareto scatter of the two objectives, the
// roofline of the base system with the workload's blocks, the tornado of
// the sensitivities, and stacked per-block time and energy of the front's
// points. A short inline script checks that every plot rendered (each
// SVG has a non-empty bounding box) and writes the result into the page
// (#render-check), which the browser test reads.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_EXPLORE_REPORT_H
#define STRATA_EXPLORE_REPORT_H

#include "strata/Explore/Results.h"
#include "strata/Report/CostReport.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace strata::explore {

struct ScatterPoint {
  uint64_t index = 0;
  double x = 0, y = 0;
  bool front = false;
};

struct ReportData {
  std::string title;
  std::string objectives[2];
  uint64_t points = 0, sampled = 0;
  std::vector<ScatterPoint> scatter;
  /// The base system's roofline: the peak of the dtype doing most matmul
  /// FLOPs and the home level's bandwidth; the blocks of the base report.
  double peakFlops = 0, bandwidth = 0;
  std::string peakDType, homeLevel;
  struct Block {
    std::string name;
    double flops = 0, bytes = 0, time = 0;
  };
  std::vector<Block> blocks;
  std::vector<Sensitivity> sensitivities;
  /// Points whose per-block time and energy are stacked (the front's).
  std::vector<const SweepPoint *> selected;
};

/// The roofline inputs of a report: its blocks' FLOPs, bytes moved to and
/// from `homeLevel` and time.
void addRoofline(ReportData &data, const report::CostReport &r,
                 double bandwidth);

llvm::Error writeReportHtml(llvm::StringRef dir, const ReportData &data);

} // namespace strata::explore

#endif // STRATA_EXPLORE_REPORT_H
