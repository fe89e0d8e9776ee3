//===- ArchAttrs.cpp - Hardware description attributes --------------------===//

#include "strata/Dialect/Arch/IR/ArchAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace strata;
using namespace strata::arch;

//===----------------------------------------------------------------------===//
// Parameter parsing and printing
//===----------------------------------------------------------------------===//

/// Reads an integer or floating-point literal (`parseFloat` alone rejects
/// integers, and `80 GiB` or `rates = {bf16 = 4096}` are written as such).
static ParseResult parseReal(AsmParser &p, double &v) {
  bool negative = succeeded(p.parseOptionalMinus());
  int64_t integer;
  OptionalParseResult asInteger = p.parseOptionalInteger(integer);
  if (asInteger.has_value()) {
    if (failed(*asInteger))
      return failure();
    v = double(integer);
  } else if (p.parseFloat(v)) {
    return failure();
  }
  if (negative)
    v = -v;
  return success();
}

FailureOr<double> arch::parseNumber(AsmParser &p) {
  double v;
  if (parseReal(p, v))
    return failure();
  return v;
}

/// Parses a unit name: `GiB`, `TB/s`, `pJ/B`, `GHz`, ...
static FailureOr<std::string> parseUnitName(AsmParser &p) {
  StringRef first;
  if (p.parseKeyword(&first))
    return failure();
  std::string unit = first.str();
  if (succeeded(p.parseOptionalSlash())) {
    StringRef second;
    if (p.parseKeyword(&second))
      return failure();
    unit += "/" + second.str();
  }
  return unit;
}

FailureOr<double> arch::parseQuantity(AsmParser &p, hw::Quantity q) {
  SMLoc loc = p.getCurrentLocation();
  double value;
  if (parseReal(p, value))
    return failure();
  SMLoc unitLoc = p.getCurrentLocation();
  FailureOr<std::string> unit = parseUnitName(p);
  if (failed(unit)) {
    p.emitError(unitLoc) << "expected a unit for the " << hw::describe(q)
                         << " (" << hw::acceptedUnits(q) << ")";
    return failure();
  }
  std::optional<double> result = hw::toBaseUnits(value, q, *unit);
  if (!result) {
    p.emitError(unitLoc) << "unknown unit '" << *unit << "' for a "
                         << hw::describe(q) << "; expected one of "
                         << hw::acceptedUnits(q);
    return failure();
  }
  if (!std::isfinite(*result)) {
    p.emitError(loc) << hw::describe(q) << " is not finite";
    return failure();
  }
  return *result;
}

FailureOr<uint64_t> arch::parseCapacity(AsmParser &p) {
  SMLoc loc = p.getCurrentLocation();
  FailureOr<double> bytes = parseQuantity(p, hw::Quantity::Bytes);
  if (failed(bytes))
    return failure();
  if (*bytes < 0 || *bytes != std::floor(*bytes) || *bytes >= 1.8e19) {
    p.emitError(loc) << "capacity must be a whole, non-negative number of "
                        "bytes that fits in 64 bits";
    return failure();
  }
  return static_cast<uint64_t>(*bytes);
}

void arch::printQuantity(AsmPrinter &p, double v, hw::Quantity q) {
  p << hw::formatQuantity(v, q);
}

FailureOr<SmallVector<Rate>> arch::parseRates(AsmParser &p) {
  SmallVector<Rate> rates;
  if (p.parseCommaSeparatedList(AsmParser::Delimiter::Braces,
                                [&]() -> ParseResult {
        SMLoc loc = p.getCurrentLocation();
        StringRef name;
        if (p.parseKeyword(&name))
          return failure();
        std::optional<hw::DType> dtype = hw::parseDType(name);
        if (!dtype)
          return p.emitError(loc)
                 << "unknown dtype '" << name
                 << "'; expected f64, f32, tf32, bf16, fp16, fp8, int8 or fp4";
        double rate;
        if (p.parseEqual() || parseReal(p, rate))
          return failure();
        rates.push_back({*dtype, rate});
        return success();
      }))
    return failure();
  return rates;
}

void arch::printRates(AsmPrinter &p, ArrayRef<Rate> rates) {
  p << '{';
  llvm::interleaveComma(rates, p, [&](const Rate &r) {
    p << hw::toString(r.dtype) << " = " << hw::formatShortest(r.flopsPerCycle);
  });
  p << '}';
}

FailureOr<SmallVector<int64_t>> arch::parseDims(AsmParser &p) {
  SmallVector<int64_t> dims;
  if (p.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                [&]() -> ParseResult {
        int64_t d;
        if (p.parseInteger(d))
          return failure();
        dims.push_back(d);
        return success();
      }))
    return failure();
  return dims;
}

void arch::printDims(AsmPrinter &p, ArrayRef<int64_t> dims) {
  p << '[';
  llvm::interleaveComma(dims, p);
  p << ']';
}

template <typename EnumT>
static FailureOr<EnumT>
parseKeywordWith(AsmParser &p, StringRef what,
                 std::optional<EnumT> (*parseFn)(std::string_view)) {
  SMLoc loc = p.getCurrentLocation();
  StringRef kw;
  if (p.parseKeyword(&kw))
    return failure();
  if (std::optional<EnumT> v = parseFn(std::string_view(kw.data(), kw.size())))
    return *v;
  p.emitError(loc) << "unknown " << what << " '" << kw << "'";
  return failure();
}

FailureOr<hw::UnitKind> arch::parseEnumKeyword(AsmParser &p, StringRef what,
                                               hw::UnitKind *) {
  return parseKeywordWith<hw::UnitKind>(p, what, hw::parseUnitKind);
}
FailureOr<hw::Scope> arch::parseEnumKeyword(AsmParser &p, StringRef what,
                                            hw::Scope *) {
  return parseKeywordWith<hw::Scope>(p, what, hw::parseScope);
}
FailureOr<hw::Management> arch::parseEnumKeyword(AsmParser &p, StringRef what,
                                                 hw::Management *) {
  return parseKeywordWith<hw::Management>(p, what, hw::parseManagement);
}
FailureOr<hw::NocKind> arch::parseEnumKeyword(AsmParser &p, StringRef what,
                                              hw::NocKind *) {
  return parseKeywordWith<hw::NocKind>(p, what, hw::parseNocKind);
}
FailureOr<hw::FabricKind> arch::parseEnumKeyword(AsmParser &p, StringRef what,
                                                 hw::FabricKind *) {
  return parseKeywordWith<hw::FabricKind>(p, what, hw::parseFabricKind);
}

//===----------------------------------------------------------------------===//
// Conversion to and from the hardware model
//===----------------------------------------------------------------------===//

static hw::ComputeUnit makeUnit(StringRef name, hw::UnitKind kind,
                                ArrayRef<int64_t> shape, ArrayRef<Rate> rates,
                                double efficiency, bool asynchronous) {
  hw::ComputeUnit u;
  u.name = name.str();
  u.kind = kind;
  u.shape.assign(shape.begin(), shape.end());
  for (const Rate &r : rates)
    u.rates.emplace_back(r.dtype, r.flopsPerCycle);
  u.efficiency = efficiency;
  u.asynchronous = asynchronous;
  return u;
}

static hw::MemoryLevel makeLevel(StringRef name, hw::Scope scope,
                                 hw::Management management, uint64_t capacity,
                                 double bandwidth, double writeBandwidth,
                                 double latency, double energy,
                                 double efficiency) {
  hw::MemoryLevel l;
  l.name = name.str();
  l.scope = scope;
  l.management = management;
  l.capacity = capacity;
  l.readBandwidth = bandwidth;
  // The textual form omits write bandwidth when it equals the read one.
  l.writeBandwidth = writeBandwidth == 0 ? bandwidth : writeBandwidth;
  l.latency = latency;
  l.energyPerByte = energy;
  l.efficiency = efficiency;
  return l;
}

static hw::OnChipNetwork makeNoc(hw::NocKind kind, double bandwidth,
                                 double hopLatency, double energy) {
  hw::OnChipNetwork n;
  n.kind = kind;
  n.linkBandwidth = bandwidth;
  n.hopLatency = hopLatency;
  n.energyPerByte = energy;
  return n;
}

static hw::Chip makeChip(StringRef name, double clock, int64_t cores,
                         ArrayRef<int64_t> grid, ArrayRef<ComputeUnitAttr> units,
                         ArrayRef<LevelAttr> memory, NocAttr noc,
                         double staticPower, double launchOverhead,
                         double graphNodeOverhead) {
  hw::Chip c;
  c.name = name.str();
  c.clock = clock;
  c.cores = cores;
  if (grid.size() == 2)
    c.grid = std::array<int64_t, 2>{grid[0], grid[1]};
  for (ComputeUnitAttr u : units)
    c.units.push_back(toModel(u));
  for (LevelAttr l : memory)
    c.memory.push_back(toModel(l));
  if (noc)
    c.noc = toModel(noc);
  c.staticPower = staticPower;
  c.launchOverhead = launchOverhead;
  c.graphNodeOverhead = graphNodeOverhead;
  return c;
}

static hw::Fabric makeFabric(StringRef name, hw::FabricKind kind,
                             ArrayRef<int64_t> shape, double bandwidth,
                             double latency, double energy, bool inNetwork,
                             double efficiency) {
  hw::Fabric f;
  f.name = name.str();
  f.kind = kind;
  f.shape.assign(shape.begin(), shape.end());
  f.bandwidth = bandwidth;
  f.latency = latency;
  f.energyPerByte = energy;
  f.inNetworkReduction = inNetwork;
  f.efficiency = efficiency;
  return f;
}

hw::ComputeUnit arch::toModel(ComputeUnitAttr a) {
  return makeUnit(a.getName(), a.getKind(), a.getShape(), a.getRates(),
                  a.getEfficiency(), a.getAsynchronous());
}
hw::MemoryLevel arch::toModel(LevelAttr a) {
  return makeLevel(a.getName(), a.getScope(), a.getManagement(),
                   a.getCapacity(), a.getBandwidth(), a.getWriteBandwidth(),
                   a.getLatency(), a.getEnergy(), a.getEfficiency());
}
hw::OnChipNetwork arch::toModel(NocAttr a) {
  return makeNoc(a.getKind(), a.getBandwidth(), a.getHopLatency(),
                 a.getEnergy());
}
hw::Chip arch::toModel(ChipAttr a) {
  return makeChip(a.getName(), a.getClock(), a.getCores(), a.getGrid(),
                  a.getUnits(), a.getMemory(), a.getNoc(), a.getStaticPower(),
                  a.getLaunchOverhead(), a.getGraphNodeOverhead());
}
hw::Fabric arch::toModel(FabricAttr a) {
  return makeFabric(a.getName(), a.getKind(), a.getShape(), a.getBandwidth(),
                    a.getLatency(), a.getEnergy(), a.getInNetworkReduction(),
                    a.getEfficiency());
}
hw::System arch::toModel(SystemAttr a) {
  hw::System s;
  s.name = a.getName().str();
  s.chip = toModel(a.getChip());
  s.devices = a.getDevices();
  for (FabricAttr f : a.getTopology())
    s.topology.push_back(toModel(f));
  return s;
}

ComputeUnitAttr arch::toAttr(MLIRContext *ctx, const hw::ComputeUnit &u) {
  SmallVector<Rate> rates;
  for (auto [dtype, rate] : u.rates)
    rates.push_back({dtype, rate});
  return ComputeUnitAttr::get(ctx, u.name, u.kind, u.shape, rates, u.efficiency,
                              u.asynchronous);
}
LevelAttr arch::toAttr(MLIRContext *ctx, const hw::MemoryLevel &l) {
  double write = l.writeBandwidth == l.readBandwidth ? 0.0 : l.writeBandwidth;
  return LevelAttr::get(ctx, l.name, l.scope, l.management, l.capacity,
                        l.readBandwidth, write, l.latency, l.energyPerByte,
                        l.efficiency);
}
NocAttr arch::toAttr(MLIRContext *ctx, const hw::OnChipNetwork &n) {
  return NocAttr::get(ctx, n.kind, n.linkBandwidth, n.hopLatency,
                      n.energyPerByte);
}
ChipAttr arch::toAttr(MLIRContext *ctx, const hw::Chip &c) {
  SmallVector<ComputeUnitAttr> units;
  for (const hw::ComputeUnit &u : c.units)
    units.push_back(toAttr(ctx, u));
  SmallVector<LevelAttr> memory;
  for (const hw::MemoryLevel &l : c.memory)
    memory.push_back(toAttr(ctx, l));
  SmallVector<int64_t> grid;
  if (c.grid)
    grid.assign(c.grid->begin(), c.grid->end());
  NocAttr noc = c.noc ? toAttr(ctx, *c.noc) : NocAttr();
  return ChipAttr::get(ctx, c.name, c.clock, c.cores, grid, units, memory, noc,
                       c.staticPower, c.launchOverhead, c.graphNodeOverhead);
}
FabricAttr arch::toAttr(MLIRContext *ctx, const hw::Fabric &f) {
  return FabricAttr::get(ctx, f.name, f.kind, f.shape, f.bandwidth, f.latency,
                         f.energyPerByte, f.inNetworkReduction, f.efficiency);
}
SystemAttr arch::toAttr(MLIRContext *ctx, const hw::System &s) {
  SmallVector<FabricAttr> topology;
  for (const hw::Fabric &f : s.topology)
    topology.push_back(toAttr(ctx, f));
  return SystemAttr::get(ctx, s.name, toAttr(ctx, s.chip), s.devices,
                         topology);
}

//===----------------------------------------------------------------------===//
// Verifiers: all call the hardware model's validate().
//===----------------------------------------------------------------------===//

/// Reports `problems` not already reported by a nested attribute's own
/// verifier (`nested`). The first becomes the error, the rest notes on it.
static LogicalResult
report(function_ref<InFlightDiagnostic()> emitError,
       const std::vector<hw::Problem> &problems,
       const std::vector<hw::Problem> &nested = {}) {
  std::vector<const hw::Problem *> fresh;
  for (const hw::Problem &p : problems) {
    bool seen = llvm::any_of(nested, [&](const hw::Problem &n) {
      return n.path == p.path && n.message == p.message;
    });
    if (!seen)
      fresh.push_back(&p);
  }
  if (fresh.empty())
    return success();
  auto describe = [](const hw::Problem &p) {
    return p.path.empty() ? p.message : p.path + ": " + p.message;
  };
  InFlightDiagnostic diag = emitError() << describe(*fresh.front());
  for (const hw::Problem *p : llvm::drop_begin(fresh))
    diag.attachNote() << describe(*p);
  return failure();
}

static std::string quoted(StringRef kind, StringRef name) {
  return (kind + " '" + name + "'").str();
}

LogicalResult ComputeUnitAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               StringRef name, hw::UnitKind kind,
                               ArrayRef<int64_t> shape, ArrayRef<Rate> rates,
                               Real efficiency, bool asynchronous) {
  return report(emitError,
                hw::validate(makeUnit(name, kind, shape, rates,
                                      efficiency.value, asynchronous),
                             quoted("unit", name)));
}

LogicalResult LevelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                StringRef name, hw::Scope scope,
                                hw::Management management, uint64_t capacity,
                                Real bandwidth, Real writeBandwidth,
                                Real latency, Real energy,
                                Real efficiency) {
  return report(emitError,
                hw::validate(makeLevel(name, scope, management, capacity,
                                       bandwidth.value, writeBandwidth.value, latency.value,
                                       energy.value, efficiency.value),
                             quoted("level", name)));
}

LogicalResult NocAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              hw::NocKind kind, Real bandwidth,
                              Real hopLatency, Real energy) {
  return report(emitError,
                hw::validate(makeNoc(kind, bandwidth.value, hopLatency.value, energy.value),
                             "noc"));
}

/// Problems the nested unit/level/noc verifiers of a chip already report,
/// as validate(Chip) phrases them.
static std::vector<hw::Problem> nestedChipProblems(const hw::Chip &c,
                                                   const std::string &path) {
  std::vector<hw::Problem> nested;
  auto append = [&](std::vector<hw::Problem> ps) {
    nested.insert(nested.end(), ps.begin(), ps.end());
  };
  for (auto [i, u] : llvm::enumerate(c.units))
    append(hw::validate(u, path + ".units[" + std::to_string(i) + "]"));
  for (auto [i, l] : llvm::enumerate(c.memory))
    append(hw::validate(l, path + ".memory[" + std::to_string(i) + "]"));
  if (c.noc)
    append(hw::validate(*c.noc, path + ".noc"));
  return nested;
}

LogicalResult ChipAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               StringRef name, Real clock, int64_t cores,
                               ArrayRef<int64_t> grid, ArrayRef<ComputeUnitAttr> units,
                               ArrayRef<LevelAttr> memory, NocAttr noc,
                               Real staticPower, Real launchOverhead,
                               Real graphNodeOverhead) {
  if (!grid.empty() && grid.size() != 2)
    return emitError() << "chip '" << name
                       << "': grid must be [rows, cols], got " << grid.size()
                       << " dimensions";
  hw::Chip chip = makeChip(name, clock.value, cores, grid, units, memory, noc,
                           staticPower.value, launchOverhead.value,
                           graphNodeOverhead.value);
  return report(emitError, hw::validate(chip, "chip"),
                nestedChipProblems(chip, "chip"));
}

LogicalResult FabricAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name, hw::FabricKind kind,
                                 ArrayRef<int64_t> shape, Real bandwidth,
                                 Real latency, Real energy, bool inNetwork,
                                 Real efficiency) {
  return report(emitError, hw::validate(makeFabric(name, kind, shape,
                                                   bandwidth.value, latency.value, energy.value,
                                                   inNetwork, efficiency.value),
                                        quoted("fabric", name)));
}

LogicalResult SystemAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name, ChipAttr chip, int64_t devices,
                                 ArrayRef<FabricAttr> topology) {
  if (!chip)
    return emitError() << "system '" << name << "' has no chip";
  hw::System sys;
  sys.name = name.str();
  sys.chip = toModel(chip);
  sys.devices = devices;
  for (FabricAttr f : topology)
    sys.topology.push_back(toModel(f));
  // The chip and each fabric were verified when they were built; report only
  // what is wrong with the system as a whole.
  std::vector<hw::Problem> nested = hw::validate(sys.chip, "chip");
  std::vector<hw::Problem> chipNested = nestedChipProblems(sys.chip, "chip");
  nested.insert(nested.end(), chipNested.begin(), chipNested.end());
  for (auto [i, f] : llvm::enumerate(sys.topology)) {
    std::vector<hw::Problem> ps =
        hw::validate(f, "topology[" + std::to_string(i) + "]");
    nested.insert(nested.end(), ps.begin(), ps.end());
  }
  return report(emitError, hw::validate(sys, ""), nested);
}

//===----------------------------------------------------------------------===//
// Generated definitions
//===----------------------------------------------------------------------===//

#define GET_ATTRDEF_CLASSES
#include "strata/Dialect/Arch/IR/ArchAttrs.cpp.inc"

void ArchDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "strata/Dialect/Arch/IR/ArchAttrs.cpp.inc"
      >();
}
