//===- Results.cpp - Pareto fronts, sensitivities, result files -----------===//

#include "strata/Explore/Results.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>
#include <cmath>

using namespace llvm;

namespace strata::explore {

double objectiveValue(const SweepPoint &p, StringRef objective) {
  const Metrics &m = p.result.metrics;
  return StringSwitch<double>(objective)
      .Case("latency", m.latency)
      .Case("energy", m.energy)
      .Case("energy_per_token", m.energyPerToken)
      .Case("throughput", m.tokensPerSecond)
      .Case("mfu", m.mfu)
      .Case("power", p.costs.power)
      .Case("cost_per_token", p.costs.costPerToken)
      .Case("tco", p.costs.tco)
      .Case("capex", p.costs.capex)
      .Default(NAN);
}

bool maximized(StringRef objective) {
  return objective == "throughput" || objective == "mfu";
}

void assess(const SweepSpec &spec, SweepPoint &p) {
  p.chips = p.plan ? double(p.plan->chips()) : 1.0;
  if (!p.result.valid)
    return;
  const Metrics &m = p.result.metrics;
  p.costs = priceOf(spec.price, p.chips, m.latency, m.energy, m.tokens);
  p.fits = m.capacity <= 0 || m.footprint <= m.capacity;
  const Constraints &c = spec.constraints;
  if (c.fitsMemory && !p.fits)
    p.infeasible = "does not fit in " + m.capacityLevel;
  else if (c.maxPower && p.costs.power > *c.maxPower)
    p.infeasible = "power above max_power_w";
  else if (c.maxCapex && p.costs.capex > *c.maxCapex)
    p.infeasible = "capex above max_capex_usd";
  else if (c.maxTco && p.costs.tco > *c.maxTco)
    p.infeasible = "tco above max_tco_usd";
}

std::vector<size_t> paretoFront(const std::vector<std::array<double, 2>> &v,
                                std::array<bool, 2> maximize) {
  // Sort by the first objective (best first, ties by the second), then one
  // sweep keeps each point strictly better in the second than all before
  // it — or equal to the last kept one in both.
  auto key = [&](size_t i, int k) { return maximize[k] ? -v[i][k] : v[i][k]; };
  std::vector<size_t> order(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (key(a, 0) != key(b, 0))
      return key(a, 0) < key(b, 0);
    return key(a, 1) < key(b, 1);
  });
  std::vector<size_t> front;
  double best = INFINITY;
  double last0 = NAN, last1 = NAN;
  for (size_t i : order) {
    double a = key(i, 0), b = key(i, 1);
    if (std::isnan(a) || std::isnan(b))
      continue;
    if (b < best) {
      front.push_back(i);
      best = b;
      last0 = a;
      last1 = b;
    } else if (a == last0 && b == last1) {
      front.push_back(i); // a duplicate of a front point
    }
  }
  std::sort(front.begin(), front.end());
  return front;
}

std::vector<size_t> ParetoFront::add(size_t index, std::array<double, 2> v) {
  std::vector<size_t> removed;
  if (std::isnan(v[0]) || std::isnan(v[1]))
    return removed;
  for (int k = 0; k < 2; ++k)
    if (maximize[k])
      v[k] = -v[k];
  auto dominates = [](const std::array<double, 2> &a,
                      const std::array<double, 2> &b) {
    return a[0] <= b[0] && a[1] <= b[1] && (a[0] < b[0] || a[1] < b[1]);
  };
  for (const auto &m : members)
    if (dominates(m.second, v))
      return removed;
  llvm::erase_if(members, [&](const auto &m) {
    if (!dominates(v, m.second))
      return false;
    removed.push_back(m.first);
    return true;
  });
  members.push_back({index, v});
  return removed;
}

std::vector<size_t> ParetoFront::front() const {
  std::vector<size_t> f;
  for (const auto &m : members)
    f.push_back(m.first);
  llvm::sort(f);
  return f;
}

double elasticity(double fPlus, double fMinus, double xPlus, double xMinus) {
  return (std::log(fPlus) - std::log(fMinus)) /
         (std::log(xPlus) - std::log(xMinus));
}

/// Full precision, as the pipeline's JSON report prints doubles.
static std::string exact(double x) {
  // The shortest text that reads back as the same double.
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

static std::string csvField(StringRef s) {
  if (!s.contains(',') && !s.contains('"'))
    return s.str();
  std::string q = "\"";
  for (char c : s)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

static Error open(StringRef dir, StringRef name,
                  std::unique_ptr<raw_fd_ostream> &os) {
  SmallString<256> path(dir);
  sys::path::append(path, name);
  std::error_code ec;
  os = std::make_unique<raw_fd_ostream>(path, ec);
  if (ec)
    return createStringError(ec, "cannot write " + path);
  return Error::success();
}

static const char *const kPlanColumns[] = {
    "tp",         "pp",   "dp",        "ep",        "sp",   "microbatches",
    "interleave", "zero", "recompute", "precision", "batch"};

static void header(raw_ostream &os, const SweepSpec &spec) {
  os << "point";
  if (spec.plan.given)
    for (const char *c : kPlanColumns)
      os << "," << c;
  for (const Axis &a : spec.axes)
    os << "," << csvField(a.path);
  os << ",valid,latency_s,tokens_per_s,energy_j,energy_per_token_j,mfu,"
        "footprint_bytes,fits_memory,chips,power_w,capex_usd,tco_usd,"
        "cost_per_token_usd,feasible,largest_block,bound_by,relowered,note\n";
}

static void row(raw_ostream &os, const SweepSpec &spec, const SweepPoint &p) {
  os << p.index;
  if (spec.plan.given) {
    const Plan &pl = *p.plan;
    os << "," << pl.tp << "," << pl.pp << "," << pl.dp << "," << pl.ep << ","
       << (pl.sp ? "true" : "false") << "," << pl.microbatches << ","
       << pl.interleave << "," << pl.zero << "," << pl.recompute << ","
       << pl.precision << "," << pl.batch;
  }
  for (double v : p.values)
    os << "," << exact(v);
  const Metrics &m = p.result.metrics;
  if (!p.result.valid) {
    os << ",no,,,,,,,,,,,,,no,,,no," << csvField(p.result.problem) << "\n";
    return;
  }
  const Costs &c = p.costs;
  os << ",yes," << exact(m.latency) << "," << exact(m.tokensPerSecond) << ","
     << exact(m.energy) << "," << exact(m.energyPerToken) << "," << exact(m.mfu)
     << "," << exact(m.footprint) << "," << (p.fits ? "yes" : "no") << ","
     << exact(p.chips) << "," << exact(c.power) << "," << exact(c.capex) << ","
     << exact(c.tco) << "," << exact(c.costPerToken) << ","
     << (p.infeasible.empty() ? "yes" : "no") << ","
     << csvField(m.largestBlock) << "," << csvField(m.boundBy) << ","
     << (p.result.relowered ? "yes" : "no") << ",";
  std::string note = p.result.why;
  if (!p.infeasible.empty())
    note = p.infeasible + (note.empty() ? "" : "; " + note);
  os << csvField(note) << "\n";
}

ResultWriter::ResultWriter(const SweepSpec &spec)
    : spec(spec), pareto({maximized(spec.objectives[0]),
                          maximized(spec.objectives[1])}) {}

ResultWriter::~ResultWriter() = default;

Expected<std::unique_ptr<ResultWriter>>
ResultWriter::create(StringRef dir, const SweepSpec &spec) {
  if (std::error_code ec = sys::fs::create_directories(dir))
    return createStringError(ec, "cannot create " + dir);
  std::unique_ptr<ResultWriter> w(new ResultWriter(spec));
  w->dir = dir.str();
  if (Error e = open(dir, "points.csv", w->csv))
    return std::move(e);
  header(*w->csv, spec);
  if (Error e = open(dir, "points.json", w->js))
    return std::move(e);
  w->json = std::make_unique<json::OStream>(*w->js, 1);
  w->json->objectBegin();
  w->json->attributeArray("axes", [&] {
    for (const Axis &a : spec.axes)
      w->json->value(a.path);
  });
  w->json->attributeBegin("points");
  w->json->arrayBegin();
  return w;
}

void ResultWriter::add(const SweepPoint &p) {
  row(*csv, spec, p);
  json::OStream &j = *json;
  const Metrics &m = p.result.metrics;
  j.object([&] {
    j.attribute("point", int64_t(p.index));
    if (p.plan)
      j.attributeObject("plan", [&] {
        const Plan &pl = *p.plan;
        j.attribute("tp", pl.tp);
        j.attribute("pp", pl.pp);
        j.attribute("dp", pl.dp);
        j.attribute("ep", pl.ep);
        j.attribute("sp", pl.sp);
        j.attribute("microbatches", pl.microbatches);
        j.attribute("interleave", pl.interleave);
        j.attribute("zero", pl.zero);
        j.attribute("recompute", pl.recompute);
        if (!pl.precision.empty())
          j.attribute("precision", pl.precision);
        if (pl.batch > 0)
          j.attribute("batch", pl.batch);
      });
    j.attributeObject("axes", [&] {
      for (size_t k = 0; k < spec.axes.size(); ++k)
        j.attribute(spec.axes[k].path, p.values[k]);
    });
    j.attribute("valid", p.result.valid);
    if (!p.result.valid) {
      j.attribute("problem", p.result.problem);
      return;
    }
    j.attribute("latency_s", m.latency);
    j.attribute("tokens_per_s", m.tokensPerSecond);
    j.attribute("energy_j", m.energy);
    j.attribute("energy_per_token_j", m.energyPerToken);
    j.attribute("mfu", m.mfu);
    j.attribute("footprint_bytes", m.footprint);
    j.attribute("fits_memory", p.fits);
    j.attribute("chips", p.chips);
    j.attribute("power_w", p.costs.power);
    j.attribute("capex_usd", p.costs.capex);
    j.attribute("tco_usd", p.costs.tco);
    j.attribute("cost_per_token_usd", p.costs.costPerToken);
    j.attribute("feasible", p.infeasible.empty());
    if (!p.infeasible.empty())
      j.attribute("infeasible_because", p.infeasible);
    j.attribute("largest_block", m.largestBlock);
    j.attribute("bound_by", m.boundBy);
    j.attribute("relowered", p.result.relowered);
    if (p.result.relowered)
      j.attribute("relowered_because", p.result.why);
  });
  if (!p.result.valid || !p.infeasible.empty())
    return;
  std::vector<size_t> gone =
      pareto.add(p.index, {objectiveValue(p, spec.objectives[0]),
                           objectiveValue(p, spec.objectives[1])});
  llvm::erase_if(frontPoints, [&](const SweepPoint &q) {
    return llvm::is_contained(gone, q.index);
  });
  std::vector<size_t> now = pareto.front();
  if (std::binary_search(now.begin(), now.end(), size_t(p.index)))
    frontPoints.push_back(p);
}

std::vector<const SweepPoint *> ResultWriter::front() const {
  std::vector<const SweepPoint *> f;
  for (const SweepPoint &p : frontPoints)
    f.push_back(&p);
  llvm::sort(f, [](const SweepPoint *a, const SweepPoint *b) {
    return a->index < b->index;
  });
  return f;
}

Error ResultWriter::finish() {
  json->arrayEnd();
  json->attributeEnd();
  json->objectEnd();
  *js << "\n";
  js->close();
  csv->close();
  std::unique_ptr<raw_fd_ostream> os;
  if (Error e = open(dir, "pareto.csv", os))
    return e;
  header(*os, spec);
  for (const SweepPoint *p : front())
    row(*os, spec, *p);
  return Error::success();
}

Error writeSensitivity(StringRef dir, const std::vector<Sensitivity> &rows) {
  if (std::error_code ec = sys::fs::create_directories(dir))
    return createStringError(ec, "cannot create " + dir);
  std::unique_ptr<raw_fd_ostream> os;
  if (Error e = open(dir, "sensitivity.csv", os))
    return e;
  *os << "axis,base_value,elasticity_latency,base_bound_by,relowered\n";
  for (const Sensitivity &s : rows)
    *os << csvField(s.path) << "," << exact(s.base) << ","
        << exact(s.elasticity) << "," << csvField(s.boundBy) << ","
        << (s.relowered ? "yes" : "no") << "\n";
  return Error::success();
}

} // namespace strata::explore
