//===- SystemSummary.cpp - Human-readable system description --------------===//

#include "strata/Report/SystemSummary.h"
#include "strata/Hardware/Units.h"
#include "strata/Report/Table.h"

#include "llvm/ADT/STLExtras.h"

#include <string>

using namespace strata;
using namespace strata::report;
using hw::formatFlopsApprox;
using hw::formatQuantityApprox;
using hw::Quantity;

hw::DType report::referenceDType(const hw::System &sys) {
  hw::SystemQuery q(sys);
  if (q.peakFlops(hw::DType::bf16))
    return hw::DType::bf16;
  hw::DType best = hw::DType::f32;
  double bestPeak = -1;
  for (hw::DType t : hw::kAllDTypes)
    if (std::optional<double> p = q.peakFlops(t); p && *p > bestPeak) {
      best = t;
      bestPeak = *p;
    }
  return best;
}

/// Integer rates count operations, not floating-point operations: "OP/s".
static bool isIntegerDType(hw::DType t) { return t == hw::DType::int8; }
static std::string formatRate(double rate, hw::DType t) {
  std::string s = formatFlopsApprox(rate);
  if (isIntegerDType(t))
    if (size_t at = s.find("FLOP/s"); at != std::string::npos)
      s.replace(at, 4, "OP");
  return s;
}

static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s.empty() ? "-" : s;
}

void report::printSystemSummary(const hw::System &sys, llvm::raw_ostream &os) {
  hw::SystemQuery q(sys);
  const hw::Chip &chip = sys.chip;
  os << "System " << sys.name << ": " << sys.devices << " x " << chip.name
     << "\n";
  os << "Chip " << chip.name << ": " << chip.cores << " cores";
  if (chip.grid)
    os << " (" << (*chip.grid)[0] << " x " << (*chip.grid)[1] << " grid)";
  os << " at " << formatQuantityApprox(chip.clock, Quantity::Hertz)
     << ", static power "
     << formatQuantityApprox(chip.staticPower, Quantity::Watts) << "\n\n";

  os << "Compute (peak per chip, dense)\n";
  Table compute({"unit", "kind", "shape", "dtype", "peak"});
  for (const hw::ComputeUnit &u : chip.units)
    for (auto [dtype, rate] : u.rates)
      compute.addRow({u.name, std::string(hw::toString(u.kind)),
                      shapeText(u.shape), std::string(hw::toString(dtype)),
                      formatRate(*q.peakFlops(dtype, u.name), dtype)});
  compute.print(os);

  hw::DType ref = referenceDType(sys);
  const char *op = isIntegerDType(ref) ? "OP" : "FLOP";
  os << "\nMemory (aggregate per chip; ridge = peak " << hw::toString(ref)
     << " " << op << "/s / read bandwidth)\n";
  Table memory({"level", "scope", "management", "capacity", "read bw",
                "write bw", "latency", "energy",
                std::string("ridge ") + op + "/B"});
  for (const hw::MemoryLevel &l : chip.memory) {
    std::optional<double> ridge = q.ridgePoint(ref, l.name);
    memory.addRow(
        {l.name, std::string(hw::toString(l.scope)),
         std::string(hw::toString(l.management)),
         formatQuantityApprox(double(q.aggregateCapacity(l)), Quantity::Bytes),
         formatQuantityApprox(q.aggregateReadBandwidth(l),
                              Quantity::BytesPerSecond),
         formatQuantityApprox(q.aggregateWriteBandwidth(l),
                              Quantity::BytesPerSecond),
         formatQuantityApprox(l.latency, Quantity::Seconds),
         formatQuantityApprox(l.energyPerByte, Quantity::JoulesPerByte),
         ridge ? hw::formatShortest(double(int64_t(*ridge * 10 + 0.5)) / 10)
               : "-"});
  }
  memory.print(os);

  if (chip.noc)
    os << "\nOn-chip network: " << hw::toString(chip.noc->kind) << ", "
       << formatQuantityApprox(chip.noc->linkBandwidth,
                               Quantity::BytesPerSecond)
       << " per link, "
       << formatQuantityApprox(chip.noc->hopLatency, Quantity::Seconds)
       << " per hop\n";

  if (!sys.topology.empty()) {
    os << "\nTopology (innermost first; bandwidth per device per direction)\n";
    Table topo({"fabric", "kind", "shape", "bandwidth", "latency",
                "in-network reduce", "bisection"});
    for (auto [i, f] : llvm::enumerate(sys.topology))
      topo.addRow({f.name, std::string(hw::toString(f.kind)),
                   shapeText(f.shape),
                   formatQuantityApprox(f.bandwidth, Quantity::BytesPerSecond),
                   formatQuantityApprox(f.latency, Quantity::Seconds),
                   f.inNetworkReduction ? "yes" : "no",
                   formatQuantityApprox(q.fabricBisectionBandwidth(int(i)),
                                        Quantity::BytesPerSecond)});
    topo.print(os);
    os << "System bisection bandwidth: "
       << formatQuantityApprox(q.bisectionBandwidth(),
                               Quantity::BytesPerSecond)
       << "\n";
  }
}
