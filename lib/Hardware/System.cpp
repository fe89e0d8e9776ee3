//===- System.cpp - Hardware model: enums, validation, queries ------------===//
//
// The single definition of "impossible hardware" (validate) and the queries
// the cost core asks of a description. Pure C++ and LLVM ADT; no MLIR.
//
//===----------------------------------------------------------------------===//

#include "strata/Hardware/System.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace strata::hw;

//===----------------------------------------------------------------------===//
// Enumerations
//===----------------------------------------------------------------------===//

// Each enum has one table of (value, spelling); toString and parse both read
// it so the two can never disagree.
namespace {
template <typename E> struct Spelling {
  E value;
  std::string_view name;
};

constexpr Spelling<DType> kDTypeNames[] = {
    {DType::f64, "f64"},   {DType::f32, "f32"},   {DType::tf32, "tf32"},
    {DType::bf16, "bf16"}, {DType::fp16, "fp16"}, {DType::fp8, "fp8"},
    {DType::int8, "int8"}, {DType::fp4, "fp4"}};
constexpr Spelling<UnitKind> kUnitKindNames[] = {{UnitKind::Matrix, "matrix"},
                                                 {UnitKind::Vector, "vector"}};
constexpr Spelling<Scope> kScopeNames[] = {
    {Scope::Core, "core"}, {Scope::Chip, "chip"}, {Scope::System, "system"}};
constexpr Spelling<Management> kManagementNames[] = {
    {Management::Scratchpad, "scratchpad"}, {Management::Cache, "cache"}};
constexpr Spelling<NocKind> kNocKindNames[] = {{NocKind::Mesh, "mesh"},
                                               {NocKind::Torus, "torus"},
                                               {NocKind::Crossbar, "crossbar"},
                                               {NocKind::Ring, "ring"}};
constexpr Spelling<FabricKind> kFabricKindNames[] = {
    {FabricKind::Switch, "switch"},
    {FabricKind::FatTree, "fat_tree"},
    {FabricKind::Ring, "ring"},
    {FabricKind::Torus, "torus"},
    {FabricKind::Mesh, "mesh"},
    {FabricKind::FullyConnected, "fully_connected"}};

template <typename E, size_t N>
std::string_view spell(const Spelling<E> (&table)[N], E v) {
  for (const auto &s : table)
    if (s.value == v)
      return s.name;
  return "<invalid>";
}
template <typename E, size_t N>
std::optional<E> unspell(const Spelling<E> (&table)[N], std::string_view s) {
  for (const auto &e : table)
    if (e.name == s)
      return e.value;
  return std::nullopt;
}
} // namespace

std::string_view strata::hw::toString(DType t) { return spell(kDTypeNames, t); }
std::optional<DType> strata::hw::parseDType(std::string_view s) {
  return unspell(kDTypeNames, s);
}
unsigned strata::hw::bitWidth(DType t) {
  switch (t) {
  case DType::f64:
    return 64;
  case DType::f32:
  case DType::tf32: // stored in 32 bits, 19 significant
    return 32;
  case DType::bf16:
  case DType::fp16:
    return 16;
  case DType::fp8:
  case DType::int8:
    return 8;
  case DType::fp4:
    return 4;
  }
  return 0;
}
std::string_view strata::hw::toString(UnitKind k) {
  return spell(kUnitKindNames, k);
}
std::optional<UnitKind> strata::hw::parseUnitKind(std::string_view s) {
  return unspell(kUnitKindNames, s);
}
std::string_view strata::hw::toString(Scope s) { return spell(kScopeNames, s); }
std::optional<Scope> strata::hw::parseScope(std::string_view s) {
  return unspell(kScopeNames, s);
}
std::string_view strata::hw::toString(Management m) {
  return spell(kManagementNames, m);
}
std::optional<Management> strata::hw::parseManagement(std::string_view s) {
  return unspell(kManagementNames, s);
}
std::string_view strata::hw::toString(NocKind k) {
  return spell(kNocKindNames, k);
}
std::optional<NocKind> strata::hw::parseNocKind(std::string_view s) {
  return unspell(kNocKindNames, s);
}
std::string_view strata::hw::toString(FabricKind k) {
  return spell(kFabricKindNames, k);
}
std::optional<FabricKind> strata::hw::parseFabricKind(std::string_view s) {
  return unspell(kFabricKindNames, s);
}

//===----------------------------------------------------------------------===//
// Description helpers
//===----------------------------------------------------------------------===//

std::optional<double> ComputeUnit::rate(DType t) const {
  for (const auto &[d, r] : rates)
    if (d == t)
      return r;
  return std::nullopt;
}

int64_t Fabric::size() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t Fabric::linksPerDevice() const {
  switch (kind) {
  case FabricKind::Switch:
  case FabricKind::FatTree:
    return 1; // one (bonded) port into the switched network
  case FabricKind::FullyConnected:
    return std::max<int64_t>(size() - 1, 1);
  case FabricKind::Ring:
    return 2;
  case FabricKind::Torus:
  case FabricKind::Mesh:
    // An interior member has a +/- neighbour in every dimension.
    return std::max<int64_t>(2 * static_cast<int64_t>(shape.size()), 1);
  }
  return 1;
}

double Fabric::linkBandwidth() const {
  return bandwidth / static_cast<double>(linksPerDevice());
}

std::string strata::hw::formatProblems(const std::vector<Problem> &problems) {
  std::string out;
  for (const Problem &p : problems) {
    if (!out.empty())
      out += '\n';
    out += p.path.empty() ? std::string("(root)") : p.path;
    out += ": ";
    out += p.message;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

namespace {
/// Collects problems under a path prefix; `at("clock")` gives "chip.clock".
class Checker {
public:
  Checker(std::vector<Problem> &out, std::string_view prefix)
      : out(out), prefix(prefix) {}

  std::string at(std::string_view field) const {
    if (prefix.empty())
      return std::string(field);
    if (!field.empty() && field.front() == '[')
      return prefix + std::string(field);
    return prefix + "." + std::string(field);
  }
  void fail(std::string_view field, std::string message) {
    out.push_back({at(field), std::move(message)});
  }
  void name(std::string_view field, const std::string &n, const char *what) {
    if (n.empty())
      fail(field, llvm::formatv("{0} name must not be empty", what).str());
  }
  // `!(v > 0)` also rejects NaN.
  void positive(std::string_view field, double v, const char *what) {
    if (!(v > 0) || std::isinf(v))
      fail(field,
           llvm::formatv("{0} must be positive and finite, got {1}", what, v)
               .str());
  }
  void nonNegative(std::string_view field, double v, const char *what) {
    if (!(v >= 0) || std::isinf(v))
      fail(field, llvm::formatv("{0} must be non-negative and finite, got {1}",
                                what, v)
                      .str());
  }
  void fraction(std::string_view field, double v) {
    if (!(v > 0 && v <= 1))
      fail(field,
           llvm::formatv("efficiency must be in (0, 1], got {0}", v).str());
  }

private:
  std::vector<Problem> &out;
  std::string prefix;
};

std::string indexed(std::string_view path, std::string_view field, size_t i) {
  std::string s(path);
  if (!s.empty())
    s += '.';
  s += field;
  s += '[' + std::to_string(i) + ']';
  return s;
}

void append(std::vector<Problem> &to, std::vector<Problem> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()),
            std::make_move_iterator(from.end()));
}

std::string dimsToString(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}
} // namespace

std::vector<Problem> strata::hw::validate(const ComputeUnit &u,
                                          std::string_view path) {
  std::vector<Problem> out;
  Checker c(out, path);
  c.name("name", u.name, "unit");
  if (u.kind == UnitKind::Matrix) {
    // Work is padded to [M, N, K]; anything else has no meaning.
    if (u.shape.size() != 3)
      c.fail("shape", "a matrix unit needs a shape of 3 dimensions [M, N, K], "
                      "got " +
                          dimsToString(u.shape));
  } else if (u.shape.size() > 1) {
    c.fail("shape", "a vector unit has at most 1 dimension [lanes], got " +
                        dimsToString(u.shape));
  }
  for (size_t i = 0; i < u.shape.size(); ++i)
    if (u.shape[i] <= 0)
      c.fail(llvm::formatv("shape[{0}]", i).str(),
             llvm::formatv("dimension must be positive, got {0}", u.shape[i])
                 .str());
  if (u.rates.empty())
    c.fail("rates", "a unit needs a rate for at least one dtype");
  for (size_t i = 0; i < u.rates.size(); ++i) {
    auto [t, r] = u.rates[i];
    std::string field = llvm::formatv("rates.{0}", toString(t)).str();
    for (size_t j = 0; j < i; ++j)
      if (u.rates[j].first == t)
        c.fail(
            field,
            llvm::formatv("duplicate rate for dtype {0}", toString(t)).str());
    c.positive(field, r, "rate");
  }
  c.fraction("efficiency", u.efficiency);
  return out;
}

std::vector<Problem> strata::hw::validate(const MemoryLevel &l,
                                          std::string_view path) {
  std::vector<Problem> out;
  Checker c(out, path);
  c.name("name", l.name, "level");
  if (l.capacity == 0)
    c.fail("capacity", "capacity must be positive, got 0");
  c.positive("bandwidth", l.readBandwidth, "read bandwidth");
  c.positive("write_bandwidth", l.writeBandwidth, "write bandwidth");
  c.nonNegative("latency", l.latency, "latency");
  c.nonNegative("energy", l.energyPerByte, "energy per byte");
  c.fraction("efficiency", l.efficiency);
  return out;
}

std::vector<Problem> strata::hw::validate(const OnChipNetwork &n,
                                          std::string_view path) {
  std::vector<Problem> out;
  Checker c(out, path);
  c.positive("bandwidth", n.linkBandwidth, "link bandwidth");
  c.nonNegative("hop_latency", n.hopLatency, "hop latency");
  c.nonNegative("energy", n.energyPerByte, "energy per byte");
  return out;
}

std::vector<Problem> strata::hw::validate(const Chip &chip,
                                          std::string_view path) {
  std::vector<Problem> out;
  Checker c(out, path);
  c.name("name", chip.name, "chip");
  c.positive("clock", chip.clock, "clock");
  if (chip.cores <= 0)
    c.fail("cores",
           llvm::formatv("cores must be positive, got {0}", chip.cores).str());

  if (chip.grid) {
    auto [rows, cols] = *chip.grid;
    if (rows <= 0 || cols <= 0)
      c.fail("grid", llvm::formatv("grid dimensions must be positive, got "
                                   "[{0}, {1}]",
                                   rows, cols)
                         .str());
    else if (rows * cols != chip.cores)
      c.fail("grid", llvm::formatv("grid [{0}, {1}] has {2} cores but the chip "
                                   "has {3}",
                                   rows, cols, rows * cols, chip.cores)
                         .str());
  }
  // The NoC connects the cores of a grid: one without the other describes
  // no network we can route on.
  if (chip.noc && !chip.grid)
    c.fail("noc", "an on-chip network needs a core grid");
  if (chip.grid && !chip.noc)
    c.fail("grid", "a core grid needs an on-chip network (noc)");
  if (chip.noc)
    append(out, validate(*chip.noc, c.at("noc")));

  if (chip.units.empty())
    c.fail("units", "a chip needs at least one compute unit");
  llvm::StringSet<> unitNames;
  for (size_t i = 0; i < chip.units.size(); ++i) {
    std::string p = indexed(path, "units", i);
    append(out, validate(chip.units[i], p));
    const std::string &n = chip.units[i].name;
    if (!n.empty() && !unitNames.insert(n).second)
      out.push_back({p + ".name", "duplicate unit name '" + n + "'"});
  }

  if (chip.memory.empty())
    c.fail("memory", "a chip needs at least one memory level");
  llvm::StringSet<> levelNames;
  for (size_t i = 0; i < chip.memory.size(); ++i) {
    std::string p = indexed(path, "memory", i);
    const MemoryLevel &l = chip.memory[i];
    append(out, validate(l, p));
    if (!l.name.empty() && !levelNames.insert(l.name).second)
      out.push_back({p + ".name", "duplicate level name '" + l.name + "'"});
    if (i == 0)
      continue;
    const MemoryLevel &inner = chip.memory[i - 1];
    // Levels are ordered outwards, so an inner level cannot be shared more
    // widely than the level that backs it.
    if (static_cast<int>(l.scope) < static_cast<int>(inner.scope))
      out.push_back(
          {p + ".scope",
           llvm::formatv("{0}-scoped level '{1}' lies outside {2}-scoped "
                         "level '{3}'; scopes must not narrow outwards",
                         toString(l.scope), l.name, toString(inner.scope),
                         inner.name)
               .str()});
    // A cache holds a subset of what backs it; compare whole-chip totals
    // (per instance x instances) so core-scoped caches count every core.
    if (inner.management == Management::Cache && chip.cores > 0) {
      auto total = [&](const MemoryLevel &m) -> long double {
        return static_cast<long double>(m.capacity) *
               (m.scope == Scope::Core ? chip.cores : 1);
      };
      // A zero capacity is reported on its own; it orders nothing.
      if (l.capacity > 0 && total(inner) > total(l))
        out.push_back(
            {indexed(path, "memory", i - 1) + ".capacity",
             llvm::formatv("cache '{0}' ({1} bytes in total) is larger than "
                           "the level '{2}' backing it ({3} bytes in total)",
                           inner.name, static_cast<double>(total(inner)),
                           l.name, static_cast<double>(total(l)))
                 .str()});
    }
  }

  c.nonNegative("static_power", chip.staticPower, "static power");
  c.nonNegative("launch_overhead", chip.launchOverhead, "launch overhead");
  c.nonNegative("graph_node_overhead", chip.graphNodeOverhead,
                "graph node overhead");
  return out;
}

std::vector<Problem> strata::hw::validate(const Fabric &f,
                                          std::string_view path) {
  std::vector<Problem> out;
  Checker c(out, path);
  c.name("name", f.name, "fabric");
  bool multiDim = f.kind == FabricKind::Torus || f.kind == FabricKind::Mesh;
  if (f.shape.empty())
    c.fail("shape", "fabric shape must not be empty");
  else if (!multiDim && f.shape.size() != 1)
    c.fail("shape", llvm::formatv("a {0} fabric has exactly 1 dimension, got "
                                  "{1}",
                                  toString(f.kind), dimsToString(f.shape))
                        .str());
  for (size_t i = 0; i < f.shape.size(); ++i)
    if (f.shape[i] <= 0)
      c.fail(llvm::formatv("shape[{0}]", i).str(),
             llvm::formatv("dimension must be positive, got {0}", f.shape[i])
                 .str());
  c.positive("bandwidth", f.bandwidth, "bandwidth");
  c.nonNegative("latency", f.latency, "latency");
  c.nonNegative("energy", f.energyPerByte, "energy per byte");
  if (f.inNetworkReduction && f.kind != FabricKind::Switch &&
      f.kind != FabricKind::FatTree)
    c.fail("in_network_reduction",
           llvm::formatv("in-network reduction needs a switched fabric "
                         "(switch or fat_tree), not {0}",
                         toString(f.kind))
               .str());
  c.fraction("efficiency", f.efficiency);
  return out;
}

std::vector<Problem> strata::hw::validate(const System &s,
                                          std::string_view path) {
  std::vector<Problem> out;
  Checker c(out, path);
  c.name("name", s.name, "system");
  append(out, validate(s.chip, c.at("chip")));
  if (s.devices <= 0)
    c.fail("devices",
           llvm::formatv("devices must be positive, got {0}", s.devices).str());
  if (s.devices > 1 && s.topology.empty())
    c.fail("topology", llvm::formatv("{0} devices need a topology joining "
                                     "them",
                                     s.devices)
                           .str());
  llvm::StringSet<> fabricNames;
  bool sizesKnown = true;
  int64_t product = 1;
  for (size_t i = 0; i < s.topology.size(); ++i) {
    const Fabric &f = s.topology[i];
    std::string p = indexed(path, "topology", i);
    append(out, validate(f, p));
    if (!f.name.empty() && !fabricNames.insert(f.name).second)
      out.push_back({p + ".name", "duplicate fabric name '" + f.name + "'"});
    bool ok = !f.shape.empty() && std::all_of(f.shape.begin(), f.shape.end(),
                                              [](int64_t d) { return d > 0; });
    sizesKnown &= ok;
    if (ok)
      product *= f.size();
  }
  if (!s.topology.empty() && sizesKnown && s.devices > 0 &&
      product != s.devices)
    c.fail("devices",
           llvm::formatv("the fabric sizes multiply to {0} but devices is {1}",
                         product, s.devices)
               .str());
  return out;
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

std::optional<double> SystemQuery::peakFlops(DType t,
                                             std::string_view unit) const {
  const Chip &chip = sys.chip;
  const ComputeUnit *u = nullptr;
  if (unit.empty()) {
    u = bestUnit(t);
  } else {
    for (const ComputeUnit &cu : chip.units)
      if (cu.name == unit)
        u = &cu;
  }
  if (!u)
    return std::nullopt;
  std::optional<double> r = u->rate(t);
  if (!r)
    return std::nullopt;
  // The datasheet peak; `efficiency` belongs to the cost model, not here.
  return *r * static_cast<double>(chip.cores) * chip.clock;
}

const ComputeUnit *SystemQuery::bestUnit(DType t,
                                         std::optional<UnitKind> kind) const {
  const ComputeUnit *best = nullptr, *bestOfKind = nullptr;
  for (const ComputeUnit &u : sys.chip.units) {
    std::optional<double> r = u.rate(t);
    if (!r)
      continue;
    if (!best || *r > *best->rate(t))
      best = &u;
    if (kind && u.kind == *kind && (!bestOfKind || *r > *bestOfKind->rate(t)))
      bestOfKind = &u;
  }
  return bestOfKind ? bestOfKind : best;
}

const MemoryLevel *SystemQuery::level(std::string_view name) const {
  int i = levelIndex(name);
  return i < 0 ? nullptr : &sys.chip.memory[i];
}

int SystemQuery::levelIndex(std::string_view name) const {
  for (size_t i = 0; i < sys.chip.memory.size(); ++i)
    if (sys.chip.memory[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int64_t SystemQuery::instances(const MemoryLevel &l) const {
  return l.scope == Scope::Core ? sys.chip.cores : 1;
}

double SystemQuery::aggregateReadBandwidth(const MemoryLevel &l) const {
  return l.readBandwidth * static_cast<double>(instances(l));
}
double SystemQuery::aggregateWriteBandwidth(const MemoryLevel &l) const {
  return l.writeBandwidth * static_cast<double>(instances(l));
}
uint64_t SystemQuery::aggregateCapacity(const MemoryLevel &l) const {
  return l.capacity * static_cast<uint64_t>(instances(l));
}

double SystemQuery::transferBandwidth(std::string_view from,
                                      std::string_view to) const {
  const MemoryLevel *a = level(from), *b = level(to);
  if (!a || !b)
    return 0;
  return std::min(aggregateReadBandwidth(*a), aggregateWriteBandwidth(*b));
}

// A copy waits for the farther level's first byte; the nearer level's
// latency overlaps with it.
double SystemQuery::transferLatency(std::string_view from,
                                    std::string_view to) const {
  const MemoryLevel *a = level(from), *b = level(to);
  if (!a || !b)
    return 0;
  return std::max(a->latency, b->latency);
}

// Each byte is read from one level and written into the other.
double SystemQuery::transferEnergyPerByte(std::string_view from,
                                          std::string_view to) const {
  const MemoryLevel *a = level(from), *b = level(to);
  if (!a || !b)
    return 0;
  return a->energyPerByte + b->energyPerByte;
}

std::optional<double> SystemQuery::ridgePoint(DType t,
                                              std::string_view name) const {
  std::optional<double> peak = peakFlops(t);
  const MemoryLevel *l = level(name);
  if (!peak || !l)
    return std::nullopt;
  double bw = aggregateReadBandwidth(*l);
  if (!(bw > 0))
    return std::nullopt;
  return *peak / bw;
}

// Mixed radix over the fabric sizes, innermost first: device d has
// coordinate d % size0 in fabric 0, (d / size0) % size1 in fabric 1, ...
std::vector<int64_t> SystemQuery::coordinates(int64_t device) const {
  std::vector<int64_t> c;
  c.reserve(sys.topology.size());
  for (const Fabric &f : sys.topology) {
    int64_t n = std::max<int64_t>(f.size(), 1);
    c.push_back(device % n);
    device /= n;
  }
  return c;
}

namespace {
/// Link hops between members `a` and `b` of one instance of `f`.
int64_t fabricHops(const Fabric &f, int64_t a, int64_t b) {
  if (a == b)
    return 0;
  switch (f.kind) {
  case FabricKind::Switch:
    return 2; // device -> switch -> device
  case FabricKind::FatTree:
    return 4; // two-level leaf/spine: up to the spine and back down
  case FabricKind::FullyConnected:
    return 1; // a direct link between every pair
  case FabricKind::Ring: {
    int64_t n = f.size(), d = std::llabs(a - b);
    return std::min(d, n - d);
  }
  case FabricKind::Torus:
  case FabricKind::Mesh: {
    // Member index -> per-dimension coordinates, first dimension innermost;
    // ring distance per dimension on a torus, Manhattan on a mesh.
    int64_t hops = 0;
    for (int64_t n : f.shape) {
      int64_t x = a % n, y = b % n, d = std::llabs(x - y);
      hops += f.kind == FabricKind::Torus ? std::min(d, n - d) : d;
      a /= n;
      b /= n;
    }
    return hops;
  }
  }
  return 0;
}
} // namespace

// Only the outermost fabric that separates the two devices is charged: the
// hops into the right member of inner fabrics are ignored, which is exact
// for rail-optimised clusters (GPU i of each node on the same rail) and a
// documented simplification otherwise.
DevicePath SystemQuery::path(int64_t from, int64_t to) const {
  DevicePath p;
  if (from == to)
    return p;
  std::vector<int64_t> a = coordinates(from), b = coordinates(to);
  for (int i = static_cast<int>(sys.topology.size()) - 1; i >= 0; --i) {
    if (a[i] == b[i])
      continue;
    const Fabric &f = sys.topology[i];
    p.fabric = i;
    p.hops = fabricHops(f, a[i], b[i]);
    // Switched fabrics give a pair the device's whole port; direct fabrics
    // route a point-to-point message over one link per hop.
    bool switched =
        f.kind == FabricKind::Switch || f.kind == FabricKind::FatTree;
    p.bandwidth = switched ? f.bandwidth : f.linkBandwidth();
    p.latency = f.latency;
    p.energyPerByte = f.energyPerByte;
    return p;
  }
  return p;
}

// One-direction bisection of one instance of fabric i: the bandwidth across
// the worst cut that splits its members into two equal halves.
//  switch, fat_tree: every member of one half can inject at full rate
//                    (non-blocking): floor(n/2) x bandwidth.
//  fully_connected:  floor(n/2) x ceil(n/2) direct links cross the cut, each
//                    of linkBandwidth = bandwidth / (n-1).
//  ring:             a cut crosses 2 links: 2 x linkBandwidth.
//  torus:            cutting across the largest dimension dmax severs every
//                    ring along it twice: 2 x (N / dmax) links (a dimension
//                    of 2 still has both the +1 and the -1 link, as
//                    linkBandwidth assumes 2 x dims links per member).
//  mesh:             no wrap-around: N / dmax links (half the torus).
// linkBandwidth = bandwidth / linksPerDevice. For fabric i > 0 every figure
// is multiplied by the devices per member (each has its own port). A
// one-member fabric has no cut: 0.
double SystemQuery::fabricBisectionBandwidth(int i) const {
  if (i < 0 || i >= static_cast<int>(sys.topology.size()))
    return 0;
  const Fabric &f = sys.topology[i];
  int64_t n = f.size();
  if (n <= 1)
    return 0;
  // Every device of a member (a node for an outer fabric) has its own port.
  double perMember = 1;
  for (int j = 0; j < i; ++j)
    perMember *=
        static_cast<double>(std::max<int64_t>(sys.topology[j].size(), 1));
  double link = f.linkBandwidth() * perMember;
  switch (f.kind) {
  case FabricKind::Switch:
  case FabricKind::FatTree:
    return static_cast<double>(n / 2) * f.bandwidth * perMember;
  case FabricKind::FullyConnected:
    return static_cast<double>((n / 2) * (n - n / 2)) * link;
  case FabricKind::Ring:
    return 2.0 * link;
  case FabricKind::Torus:
  case FabricKind::Mesh: {
    int64_t dmax = *std::max_element(f.shape.begin(), f.shape.end());
    double cut = static_cast<double>(n / dmax);
    return (f.kind == FabricKind::Torus ? 2 * cut : cut) * link;
  }
  }
  return 0;
}

// Fabric i has (devices / prod of sizes up to i) instances; a cut of the
// whole system is limited by the fabric whose instances together carry the
// least across their own cuts.
double SystemQuery::bisectionBandwidth() const {
  double best = 0;
  bool any = false;
  int64_t inner = 1;
  for (size_t i = 0; i < sys.topology.size(); ++i) {
    int64_t n = sys.topology[i].size();
    inner *= std::max<int64_t>(n, 1);
    if (n <= 1)
      continue;
    int64_t count = std::max<int64_t>(sys.devices / inner, 1);
    double b = fabricBisectionBandwidth(static_cast<int>(i)) *
               static_cast<double>(count);
    best = any ? std::min(best, b) : b;
    any = true;
  }
  return best;
}
