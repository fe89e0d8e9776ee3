//===- Results.cpp - Pareto fronts, sensitivities, result files -----------===//

#include "strata/Explore/Results.h"

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

double objectiveValue(const Metrics &m, StringRef objective) {
  return StringSwitch<double>(objective)
      .Case("latency", m.latency)
      .Case("energy", m.energy)
      .Case("energy_per_token", m.energyPerToken)
      .Case("throughput", m.tokensPerSecond)
      .Case("mfu", m.mfu)
      .Default(NAN);
}

bool maximized(StringRef objective) {
  return objective == "throughput" || objective == "mfu";
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

static void header(raw_ostream &os, const SweepSpec &spec) {
  os << "point";
  for (const Axis &a : spec.axes)
    os << "," << csvField(a.path);
  os << ",valid,latency_s,tokens_per_s,energy_j,energy_per_token_j,mfu,"
        "largest_block,bound_by,relowered,note\n";
}

static void row(raw_ostream &os, size_t i, const SweepPoint &p) {
  os << i;
  for (double v : p.values)
    os << "," << exact(v);
  const Metrics &m = p.result.metrics;
  if (!p.result.valid) {
    os << ",no,,,,,,,,no," << csvField(p.result.problem) << "\n";
    return;
  }
  os << ",yes," << exact(m.latency) << "," << exact(m.tokensPerSecond) << ","
     << exact(m.energy) << "," << exact(m.energyPerToken) << "," << exact(m.mfu)
     << "," << csvField(m.largestBlock) << "," << csvField(m.boundBy) << ","
     << (p.result.relowered ? "yes" : "no") << ","
     << csvField(p.result.why) << "\n";
}

Error writePoints(StringRef dir, const SweepSpec &spec,
                  const std::vector<SweepPoint> &points) {
  if (std::error_code ec = sys::fs::create_directories(dir))
    return createStringError(ec, "cannot create " + dir);
  std::unique_ptr<raw_fd_ostream> csv, js, pareto;
  if (Error e = open(dir, "points.csv", csv))
    return e;
  header(*csv, spec);
  for (size_t i = 0; i < points.size(); ++i)
    row(*csv, i, points[i]);

  if (Error e = open(dir, "points.json", js))
    return e;
  json::OStream j(*js, 1);
  j.object([&] {
    j.attributeArray("axes", [&] {
      for (const Axis &a : spec.axes)
        j.value(a.path);
    });
    j.attributeArray("points", [&] {
      for (size_t i = 0; i < points.size(); ++i) {
        const SweepPoint &p = points[i];
        const Metrics &m = p.result.metrics;
        j.object([&] {
          j.attribute("point", int64_t(i));
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
          j.attribute("largest_block", m.largestBlock);
          j.attribute("bound_by", m.boundBy);
          j.attribute("relowered", p.result.relowered);
          if (p.result.relowered)
            j.attribute("relowered_because", p.result.why);
        });
      }
    });
  });
  *js << "\n";

  if (Error e = open(dir, "pareto.csv", pareto))
    return e;
  std::vector<std::array<double, 2>> objs;
  std::vector<size_t> valid;
  for (size_t i = 0; i < points.size(); ++i)
    if (points[i].result.valid) {
      valid.push_back(i);
      objs.push_back({objectiveValue(points[i].result.metrics,
                                     spec.objectives[0]),
                      objectiveValue(points[i].result.metrics,
                                     spec.objectives[1])});
    }
  header(*pareto, spec);
  for (size_t k : paretoFront(objs, {maximized(spec.objectives[0]),
                                     maximized(spec.objectives[1])}))
    row(*pareto, valid[k], points[valid[k]]);
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
