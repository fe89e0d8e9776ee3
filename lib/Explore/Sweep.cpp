//===- Sweep.cpp - Design-space sweep specifications ----------------------===//

#include "strata/Explore/Sweep.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <random>

using namespace llvm;

namespace strata::explore {

namespace {

Error err(const Twine &path, const Twine &msg) {
  return createStringError(inconvertibleErrorCode(),
                           (path + ": " + msg).str());
}

/// A field of the description: a pointer to read and write through.
struct Field {
  double *real = nullptr;
  int64_t *integer = nullptr;
  uint64_t *unsignedInt = nullptr;
  double *second = nullptr; ///< written with `real` (bandwidth = read+write)
};

template <typename T, typename Named>
T *byName(std::vector<Named> &items, StringRef name) {
  for (Named &n : items)
    if (n.name == name)
      return &n;
  return nullptr;
}

template <typename Named> std::string namesOf(const std::vector<Named> &v) {
  std::string s;
  for (const Named &n : v)
    s += (s.empty() ? "" : ", ") + n.name;
  return s.empty() ? "none" : s;
}

/// Resolves `path` in `sys` (the axis paths of docs/explore.md).
Expected<Field> resolve(hw::System &sys, StringRef path) {
  SmallVector<StringRef> p;
  path.split(p, '.');
  Field f;
  auto fail = [&](const Twine &what) -> Expected<Field> {
    return createStringError(inconvertibleErrorCode(),
                             ("unknown axis path '" + path + "': " + what)
                                 .str());
  };
  if (p.size() >= 2 && p[0] == "chip") {
    hw::Chip &c = sys.chip;
    if (p.size() == 2) {
      if (p[1] == "clock")
        f.real = &c.clock;
      else if (p[1] == "cores")
        f.integer = &c.cores;
      else if (p[1] == "static_power")
        f.real = &c.staticPower;
      else if (p[1] == "launch_overhead")
        f.real = &c.launchOverhead;
      else
        return fail("chip has clock, cores, static_power, launch_overhead, "
                    "memory.<level>, units.<unit>, noc");
      return f;
    }
    if (p[1] == "memory" && p.size() == 4) {
      hw::MemoryLevel *l = byName<hw::MemoryLevel>(c.memory, p[2]);
      if (!l)
        return fail("no memory level '" + p[2] + "' (levels: " +
                    namesOf(c.memory) + ")");
      if (p[3] == "bandwidth") {
        f.real = &l->readBandwidth;
        f.second = &l->writeBandwidth;
      } else if (p[3] == "read_bandwidth")
        f.real = &l->readBandwidth;
      else if (p[3] == "write_bandwidth")
        f.real = &l->writeBandwidth;
      else if (p[3] == "capacity")
        f.unsignedInt = &l->capacity;
      else if (p[3] == "latency")
        f.real = &l->latency;
      else if (p[3] == "energy")
        f.real = &l->energyPerByte;
      else if (p[3] == "efficiency")
        f.real = &l->efficiency;
      else
        return fail("a memory level has bandwidth, read_bandwidth, "
                    "write_bandwidth, capacity, latency, energy, efficiency");
      return f;
    }
    if (p[1] == "units" && p.size() >= 4) {
      hw::ComputeUnit *u = byName<hw::ComputeUnit>(c.units, p[2]);
      if (!u)
        return fail("no compute unit '" + p[2] + "' (units: " +
                    namesOf(c.units) + ")");
      if (p[3] == "efficiency" && p.size() == 4) {
        f.real = &u->efficiency;
        return f;
      }
      if (p[3] == "rates" && p.size() == 5) {
        std::optional<hw::DType> t = hw::parseDType(p[4].str());
        if (!t)
          return fail("unknown dtype '" + p[4] + "'");
        for (auto &[dtype, rate] : u->rates)
          if (dtype == *t) {
            f.real = &rate;
            return f;
          }
        return fail("unit '" + p[2] + "' has no rate for " + p[4]);
      }
      return fail("a unit has rates.<dtype>, efficiency");
    }
    if (p[1] == "noc" && p.size() == 3) {
      if (!c.noc)
        return fail("chip '" + c.name + "' has no on-chip network");
      if (p[2] == "bandwidth")
        f.real = &c.noc->linkBandwidth;
      else if (p[2] == "hop_latency")
        f.real = &c.noc->hopLatency;
      else if (p[2] == "energy")
        f.real = &c.noc->energyPerByte;
      else
        return fail("the on-chip network has bandwidth, hop_latency, energy");
      return f;
    }
    return fail("chip has clock, cores, static_power, launch_overhead, "
                "memory.<level>.<field>, units.<unit>.<field>, noc.<field>");
  }
  if (p.size() == 3 && p[0] == "topology") {
    hw::Fabric *fab = byName<hw::Fabric>(sys.topology, p[1]);
    if (!fab)
      return fail("no fabric '" + p[1] + "' (fabrics: " +
                  namesOf(sys.topology) + ")");
    if (p[2] == "bandwidth")
      f.real = &fab->bandwidth;
    else if (p[2] == "latency")
      f.real = &fab->latency;
    else if (p[2] == "energy")
      f.real = &fab->energyPerByte;
    else if (p[2] == "efficiency")
      f.real = &fab->efficiency;
    else
      return fail("a fabric has bandwidth, latency, energy, efficiency");
    return f;
  }
  return fail("paths start with chip. or topology.<fabric>.");
}

/// Uniform in [0, 1) from the generator's bits (portable, unlike
/// std::uniform_real_distribution).
double unit01(std::mt19937_64 &g) { return double(g() >> 11) * 0x1.0p-53; }

} // namespace

Expected<double> readAxis(const hw::System &sys, StringRef path) {
  hw::System copy = sys; // resolve needs a mutable description
  Expected<Field> f = resolve(copy, path);
  if (!f)
    return f.takeError();
  if (f->real)
    return *f->real;
  if (f->integer)
    return double(*f->integer);
  return double(*f->unsignedInt);
}

Error writeAxis(hw::System &sys, StringRef path, double value) {
  Expected<Field> f = resolve(sys, path);
  if (!f)
    return f.takeError();
  if (f->real) {
    *f->real = value;
    if (f->second)
      *f->second = value;
  } else if (f->integer) {
    *f->integer = int64_t(std::llround(value));
  } else {
    *f->unsignedInt = value <= 0 ? 0 : uint64_t(std::llround(value));
  }
  return Error::success();
}

bool isStructuralPath(StringRef path) {
  return path == "chip.cores" || path.ends_with(".capacity");
}

uint64_t SweepSpec::numPoints() const {
  uint64_t n = 1;
  for (const Axis &a : axes)
    n *= a.values.size();
  return n;
}

std::vector<double> SweepSpec::point(uint64_t index) const {
  std::vector<double> v(axes.size());
  for (size_t i = axes.size(); i-- > 0;) {
    uint64_t n = axes[i].values.size();
    v[i] = axes[i].values[index % n];
    index /= n;
  }
  return v;
}

/// A number as JSON prints it (the shortest exact form).
static std::string exact(double x) {
  // The shortest text that reads back as the same double.
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

/// Latencies, energies, static power and launch overhead may be zero;
/// everything else (rates, bandwidths, sizes, counts) must be positive.
static bool mayBeZero(StringRef path) {
  return path.ends_with("latency") || path.ends_with("energy") ||
         path.ends_with("static_power") || path.ends_with("launch_overhead");
}

static Expected<std::vector<double>> numbers(const json::Value &v,
                                             const Twine &path) {
  const json::Array *a = v.getAsArray();
  if (!a || a->empty())
    return err(path, "expected a non-empty array of numbers");
  std::vector<double> out;
  for (auto [i, x] : enumerate(*a)) {
    std::optional<double> d = x.getAsNumber();
    if (!d || !std::isfinite(*d))
      return err(path + "[" + Twine(i) + "]", "expected a number");
    out.push_back(*d);
  }
  return out;
}

static double round15(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return std::strtod(buf, nullptr);
}

/// [from, to, count] of a range.
static Expected<std::vector<double>> range(const json::Value &v,
                                           const Twine &path, bool log) {
  Expected<std::vector<double>> r = numbers(v, path);
  if (!r)
    return r.takeError();
  if (r->size() != 3)
    return err(path, "expected [from, to, count]");
  double from = (*r)[0], to = (*r)[1], count = (*r)[2];
  if (count < 1 || count != std::floor(count) || count > 1e7)
    return err(path + "[2]", "count must be a whole number from 1 to 10^7");
  if (log && (from <= 0 || to <= 0))
    return err(path, "a log range needs positive bounds");
  std::vector<double> out;
  int64_t n = int64_t(count);
  for (int64_t i = 0; i < n; ++i) {
    double t = n == 1 ? 0 : double(i) / double(n - 1);
    double x = log ? std::exp(std::log(from) +
                              t * (std::log(to) - std::log(from)))
                   : from + t * (to - from);
    // 15 significant digits: 5.5e12, not the 5499999999999.995 that
    // exp(log(x)) leaves (the endpoints are exact).
    out.push_back(i == 0 ? from : i == n - 1 ? to : round15(x));
  }
  return out;
}

ArrayRef<StringRef> objectiveNames() {
  static const StringRef names[] = {
      "latency", "energy",         "energy_per_token", "throughput", "mfu",
      "power",   "cost_per_token", "tco",              "capex"};
  return names;
}

static Error parseConstraints(const json::Value &v, Constraints &c) {
  const json::Object *o = v.getAsObject();
  if (!o)
    return err("constraints", "expected an object");
  for (const auto &kv : *o) {
    std::string at = "constraints." + kv.first.str();
    if (kv.first == "fits_memory") {
      std::optional<bool> b = kv.second.getAsBoolean();
      if (!b)
        return err(at, "expected true or false");
      c.fitsMemory = *b;
      continue;
    }
    std::optional<double> *limit =
        StringSwitch<std::optional<double> *>(kv.first)
            .Case("max_power_w", &c.maxPower)
            .Case("max_capex_usd", &c.maxCapex)
            .Case("max_tco_usd", &c.maxTco)
            .Default(nullptr);
    if (!limit)
      return err(at, "unknown constraint (fits_memory, max_power_w, "
                     "max_capex_usd, max_tco_usd)");
    std::optional<double> x = kv.second.getAsNumber();
    if (!x || !std::isfinite(*x) || *x <= 0)
      return err(at, "expected a positive number");
    *limit = *x;
  }
  return Error::success();
}

Expected<SweepSpec> parseSweepSpec(const json::Value &value,
                                   const hw::System &base, bool fromModel) {
  SweepSpec spec;
  const json::Object *root = value.getAsObject();
  if (!root)
    return err("(root)", "expected an object with \"axes\" or \"plan\"");
  for (const auto &kv : *root)
    if (!is_contained(ArrayRef<StringRef>{"axes", "plan", "constraints",
                                          "price", "objectives"},
                      StringRef(kv.first)))
      return err(kv.first.str(),
                 "unknown key (a spec has \"axes\", \"plan\", "
                 "\"constraints\", \"price\" and \"objectives\")");
  if (const json::Value *p = root->get("plan")) {
    Expected<PlanSpec> plan = parsePlanSpec(*p, fromModel);
    if (!plan)
      return plan.takeError();
    spec.plan = std::move(*plan);
  }
  if (const json::Value *p = root->get("price")) {
    Expected<PriceModel> price = parsePriceModel(*p);
    if (!price)
      return price.takeError();
    spec.price = *price;
  }
  if (const json::Value *c = root->get("constraints"))
    if (Error e = parseConstraints(*c, spec.constraints))
      return std::move(e);
  const json::Array *axes = root->getArray("axes");
  static const json::Array none;
  if (!axes && spec.plan.given && !root->get("axes"))
    axes = &none;
  if (!axes || (axes->empty() && !spec.plan.given))
    return err("axes", "expected a non-empty array of axes");
  for (auto [i, av] : enumerate(*axes)) {
    std::string at = formatv("axes[{0}]", i).str();
    const json::Object *a = av.getAsObject();
    if (!a)
      return err(at, "expected an object with \"path\" and values");
    std::optional<StringRef> path = a->getString("path");
    if (!path)
      return err(at + ".path", "expected a string");
    Expected<double> baseValue = readAxis(base, *path);
    if (!baseValue)
      return err(at + ".path", toString(baseValue.takeError()));
    for (const Axis &prev : spec.axes)
      if (prev.path == *path)
        return err(at + ".path", "axis '" + *path + "' is swept twice");
    Axis axis;
    axis.path = path->str();
    axis.structural = isStructuralPath(*path);
    int given = 0;
    for (const auto &kv : *a) {
      StringRef key = kv.first;
      std::string here = at + "." + key.str();
      Expected<std::vector<double>> vals = std::vector<double>();
      if (key == "path")
        continue;
      if (key == "values")
        vals = numbers(kv.second, here);
      else if (key == "linear" || key == "log")
        vals = range(kv.second, here, key == "log");
      else if (key == "scale") {
        vals = numbers(kv.second, here);
        if (vals)
          for (double &x : *vals)
            x *= *baseValue;
      } else if (key == "random") {
        const json::Object *r = kv.second.getAsObject();
        std::optional<double> from = r ? r->getNumber("from") : std::nullopt;
        std::optional<double> to = r ? r->getNumber("to") : std::nullopt;
        std::optional<int64_t> count = r ? r->getInteger("count") : std::nullopt;
        std::optional<int64_t> seed = r ? r->getInteger("seed") : std::nullopt;
        std::optional<StringRef> scale = r ? r->getString("scale") : std::nullopt;
        if (!from || !to || !count || !seed)
          return err(here, "expected {\"from\", \"to\", \"count\", \"seed\"} "
                           "(and optional \"scale\": \"linear\" or \"log\")");
        bool log = scale && *scale == "log";
        if (scale && !log && *scale != "linear")
          return err(here + ".scale", "expected \"linear\" or \"log\"");
        if (*count < 1 || *count > 10000000)
          return err(here + ".count", "count must be from 1 to 10^7");
        if (log && (*from <= 0 || *to <= 0))
          return err(here, "log sampling needs positive bounds");
        std::mt19937_64 g{static_cast<uint64_t>(*seed)};
        std::vector<double> out;
        for (int64_t k = 0; k < *count; ++k) {
          double t = unit01(g);
          out.push_back(log ? std::exp(std::log(*from) +
                                       t * (std::log(*to) - std::log(*from)))
                            : *from + t * (*to - *from));
        }
        vals = std::move(out);
      } else {
        return err(here, "unknown key (an axis has \"path\" and one of "
                         "\"values\", \"linear\", \"log\", \"scale\", "
                         "\"random\")");
      }
      if (!vals)
        return vals.takeError();
      for (auto [k, x] : enumerate(*vals))
        if (!(x > 0) && !(x == 0 && mayBeZero(axis.path)))
          return err(here + (key == "values" || key == "scale"
                                 ? "[" + std::to_string(k) + "]"
                                 : std::string()),
                     "value " + exact(x) + " must be " +
                         (mayBeZero(axis.path) ? "non-negative" : "positive"));
      axis.values = std::move(*vals);
      ++given;
    }
    if (given != 1)
      return err(at, "give exactly one of \"values\", \"linear\", \"log\", "
                     "\"scale\", \"random\"");
    spec.axes.push_back(std::move(axis));
  }
  if (const json::Value *obj = root->get("objectives")) {
    const json::Array *o = obj->getAsArray();
    if (!o || o->size() != 2)
      return err("objectives", "expected two objective names");
    for (int k = 0; k < 2; ++k) {
      std::optional<StringRef> s = (*o)[k].getAsString();
      if (!s || !is_contained(objectiveNames(), *s))
        return err(formatv("objectives[{0}]", k).str(),
                   "expected one of " + join(objectiveNames(), ", "));
      spec.objectives[k] = s->str();
    }
  }
  double n = 1;
  for (const Axis &a : spec.axes)
    n *= double(a.values.size());
  if (n > 1e9)
    return err("axes", exact(n) + " points is more than 10^9");
  return spec;
}

Expected<SweepSpec> parseSweepSpecText(StringRef text, const hw::System &base,
                                       bool fromModel) {
  Expected<json::Value> v = json::parse(text);
  if (!v)
    return err("(json)", toString(v.takeError()));
  return parseSweepSpec(*v, base, fromModel);
}

} // namespace strata::explore
