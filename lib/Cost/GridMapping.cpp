//===- GridMapping.cpp - Residency and redistribution on a core grid ------===//
//
// The part of the cost core that only grid chips (a mesh of cores with their
// own scratchpads and an on-chip network) use: the SRAM the cores hold
// together, the network's mean route, the time to re-lay a tensor spread
// over the grid into another layout, and the residency quote the
// strata-residency pass asks before keeping an activation on chip. The
// formulas are documented in docs/cost-model.md ("Residency on a core
// grid").
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/CostModel.h"

#include <algorithm>

namespace strata::cost {

double CostModel::distributedCapacity() const {
  if (!sys.chip.grid || !sys.chip.noc)
    return 0;
  return double(sys.chip.cores) * double(stagingLevel().capacity);
}

double CostModel::meanGridHops() const {
  if (!sys.chip.grid || !sys.chip.noc)
    return 0;
  const double rows = double((*sys.chip.grid)[0]);
  const double cols = double((*sys.chip.grid)[1]);
  switch (sys.chip.noc->kind) {
  case hw::NocKind::Mesh:
    return (rows + cols) / 3;
  case hw::NocKind::Torus:
    return (rows + cols) / 4;
  case hw::NocKind::Crossbar:
    return 1;
  case hw::NocKind::Ring:
    return rows * cols / 4;
  }
  return (rows + cols) / 3;
}

namespace {
/// Directed links of a grid's network, and those crossing the middle cut of
/// the longer axis (both directions).
std::pair<double, double> gridLinks(const hw::OnChipNetwork &noc, double rows,
                                    double cols) {
  const double cores = rows * cols;
  double links = 2 * (rows * (cols - 1) + cols * (rows - 1));
  double cut = 2 * std::min(rows, cols);
  if (noc.kind == hw::NocKind::Torus) {
    links = 4 * cores;
    cut *= 2;
  } else if (noc.kind == hw::NocKind::Crossbar) {
    links = cores;
    cut = cores;
  } else if (noc.kind == hw::NocKind::Ring) {
    links = 2 * cores;
    cut = 4;
  }
  return {links, cut};
}
} // namespace

double CostModel::gridRedistributionTime(double bytes) const {
  if (!sys.chip.grid || !sys.chip.noc || sys.chip.noc->linkBandwidth <= 0 ||
      bytes <= 0)
    return 0;
  const hw::OnChipNetwork &noc = *sys.chip.noc;
  const double rows = double((*sys.chip.grid)[0]);
  const double cols = double((*sys.chip.grid)[1]);
  const double cores = rows * cols;
  // Each core receives its share over one link.
  const double receive = bytes / cores / noc.linkBandwidth;
  auto [links, cut] = gridLinks(noc, rows, cols);
  const double bisection = bytes / 2 / (cut * noc.linkBandwidth);
  const double allLinks =
      bytes * meanGridHops() / (std::max(1.0, links) * noc.linkBandwidth);
  return std::max({receive, bisection, allLinks});
}

int64_t CostModel::splitReduceHops(int64_t parts) const {
  if (!sys.chip.noc)
    return 1;
  const hw::NocKind kind = sys.chip.noc->kind;
  return (kind == hw::NocKind::Mesh || kind == hw::NocKind::Ring) && parts > 2
             ? 2
             : 1;
}

double CostModel::splitReduceTime(double bytes, int64_t parts,
                                  double concurrent) const {
  if (!sys.chip.grid || !sys.chip.noc || sys.chip.noc->linkBandwidth <= 0 ||
      parts < 2 || bytes <= 0)
    return 0;
  const hw::OnChipNetwork &noc = *sys.chip.noc;
  const double rows = double((*sys.chip.grid)[0]);
  const double cols = double((*sys.chip.grid)[1]);
  const double p = double(parts);
  // A ring over a run of cores on a mesh (or a ring network) folds back on
  // itself: every edge but the turns spans two hops, and each directed link
  // carries one edge. A torus closes the ring through its wrap link; a
  // crossbar is one hop between any two cores.
  const double hops = double(splitReduceHops(parts));
  const double ring =
      (p - 1) * (bytes / p / noc.linkBandwidth + hops * noc.hopLatency);
  // Contention: every group's (p - 1) / p of each member's partial over
  // `hops` links, spread over all the chip's directed links.
  const double links = gridLinks(noc, rows, cols).first;
  const double all = std::max(1.0, concurrent) * p * bytes * (p - 1) / p *
                     hops / (std::max(1.0, links) * noc.linkBandwidth);
  return std::max(ring, all);
}

ResidencyQuote CostModel::residency(double bytes, int64_t reads) const {
  ResidencyQuote q;
  const hw::MemoryLevel &home = homeLevel();
  q.homeTime = bytes * double(1 + std::max<int64_t>(0, reads)) /
               (query.aggregateReadBandwidth(home) * home.efficiency);
  if (!sys.chip.grid || !sys.chip.noc) {
    q.networkTime = q.homeTime; // nowhere else to keep it: never pays
    return q;
  }
  q.networkTime =
      double(std::max<int64_t>(1, reads)) *
      (gridRedistributionTime(bytes) +
       meanGridHops() * sys.chip.noc->hopLatency);
  return q;
}

ResidencyQuote CostModel::residentWeight(double bytes, double reads) const {
  ResidencyQuote q;
  const hw::MemoryLevel &home = homeLevel();
  const double homeRead =
      bytes / (query.aggregateReadBandwidth(home) * home.efficiency);
  q.homeTime = std::max(0.0, reads) * homeRead;
  if (!sys.chip.grid || !sys.chip.noc) {
    q.networkTime = q.homeTime;
    return q;
  }
  // The fill is a kernel of its own: a launch and the home latency.
  q.networkTime = homeRead + launchCost() + home.latency +
                  std::max(0.0, reads) *
                                 (gridRedistributionTime(bytes) +
                                  meanGridHops() * sys.chip.noc->hopLatency);
  return q;
}

} // namespace strata::cost
