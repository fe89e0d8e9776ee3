//===- Report.cpp - The sweep's self-contained HTML report ----------------===//

#include "strata/Explore/Report.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace strata::explore {

namespace {

constexpr double kW = 640, kH = 400;
constexpr double kLeft = 80, kRight = 20, kTop = 30, kBottom = 50;

std::string esc(StringRef s) {
  std::string o;
  for (char c : s)
    switch (c) {
    case '<': o += "&lt;"; break;
    case '>': o += "&gt;"; break;
    case '&': o += "&amp;"; break;
    case '"': o += "&quot;"; break;
    default: o += c;
    }
  return o;
}

std::string num(double x) { return formatv("{0}", format("%.4g", x)).str(); }
std::string px(double x) { return formatv("{0:f1}", x).str(); }

/// A value range mapped onto pixels, linear or logarithmic.
struct Scale {
  double lo = 0, hi = 1, p0 = 0, p1 = 1;
  bool log = false;
  double operator()(double v) const {
    double a = log ? std::log10(std::max(v, 1e-300)) : v;
    double l = log ? std::log10(lo) : lo, h = log ? std::log10(hi) : hi;
    return p0 + (h > l ? (a - l) / (h - l) : 0.5) * (p1 - p0);
  }
  std::vector<double> ticks() const {
    std::vector<double> t;
    if (log) {
      for (double d = std::floor(std::log10(lo)); d <= std::log10(hi) + 1e-9;
           ++d)
        if (std::pow(10, d) >= lo * (1 - 1e-9))
          t.push_back(std::pow(10, d));
      return t;
    }
    double span = hi - lo;
    if (!(span > 0))
      return {lo};
    double step = std::pow(10, std::floor(std::log10(span / 5)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (span / (step * m) <= 6) {
        step *= m;
        break;
      }
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9;
         v += step)
      t.push_back(v);
    return t;
  }
};

/// A range padded by 5 %; log when the data span more than 100x.
Scale fit(const std::vector<double> &v, double p0, double p1,
          bool allowLog = true) {
  Scale s;
  s.p0 = p0;
  s.p1 = p1;
  double lo = INFINITY, hi = -INFINITY;
  for (double x : v)
    if (std::isfinite(x)) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  if (!std::isfinite(lo)) {
    s.lo = 0;
    s.hi = 1;
    return s;
  }
  s.log = allowLog && lo > 0 && hi / lo > 100;
  if (s.log) {
    s.lo = lo / 1.2;
    s.hi = hi * 1.2;
  } else {
    double pad = hi > lo ? (hi - lo) * 0.05 : std::max(std::fabs(lo) * 0.05, 1e-30);
    s.lo = lo - pad;
    s.hi = hi + pad;
  }
  return s;
}

void axes(raw_ostream &os, const Scale &x, const Scale &y, StringRef xLabel,
          StringRef yLabel) {
  os << "<g class=\"axes\" stroke=\"#444\" fill=\"none\">"
     << "<line x1=\"" << px(kLeft) << "\" y1=\"" << px(kH - kBottom)
     << "\" x2=\"" << px(kW - kRight) << "\" y2=\"" << px(kH - kBottom)
     << "\"/><line x1=\"" << px(kLeft) << "\" y1=\"" << px(kTop) << "\" x2=\""
     << px(kLeft) << "\" y2=\"" << px(kH - kBottom) << "\"/></g>\n";
  os << "<g class=\"ticks\" font-size=\"11\" fill=\"#333\">";
  for (double t : x.ticks())
    os << "<text x=\"" << px(x(t)) << "\" y=\"" << px(kH - kBottom + 16)
       << "\" text-anchor=\"middle\">" << num(t) << "</text>";
  for (double t : y.ticks())
    os << "<text x=\"" << px(kLeft - 6) << "\" y=\"" << px(y(t) + 4)
       << "\" text-anchor=\"end\">" << num(t) << "</text>";
  os << "</g>\n<text x=\"" << px((kLeft + kW - kRight) / 2) << "\" y=\""
     << px(kH - 10) << "\" text-anchor=\"middle\" font-size=\"13\">"
     << esc(xLabel) << "</text>\n<text transform=\"translate(16,"
     << px((kTop + kH - kBottom) / 2)
     << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">"
     << esc(yLabel) << "</text>\n";
}

void svgOpen(raw_ostream &os, StringRef id, StringRef title) {
  os << "<section><h2>" << esc(title) << "</h2>\n<svg id=\"" << id
     << "\" class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\""
     << kW << "\" height=\"" << kH << "\" viewBox=\"0 0 " << kW << " " << kH
     << "\">\n";
}

const char *const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                "#9c755f", "#bab0ac"};

void pareto(raw_ostream &os, const ReportData &d) {
  svgOpen(os, "pareto", "Pareto front: " + d.objectives[0] + " vs " +
                            d.objectives[1]);
  std::vector<double> xs, ys;
  for (const ScatterPoint &p : d.scatter) {
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  Scale x = fit(xs, kLeft, kW - kRight), y = fit(ys, kH - kBottom, kTop);
  axes(os, x, y, d.objectives[0], d.objectives[1]);
  os << "<g class=\"points\">";
  for (const ScatterPoint &p : d.scatter)
    if (!p.front && std::isfinite(p.x) && std::isfinite(p.y))
      os << "<circle class=\"point\" cx=\"" << px(x(p.x)) << "\" cy=\""
         << px(y(p.y)) << "\" r=\"2.5\" fill=\"#9bb\"><title>point "
         << p.index << "</title></circle>";
  os << "</g>\n<g class=\"front\">";
  for (const ScatterPoint &p : d.scatter)
    if (p.front)
      os << "<circle class=\"front-point\" cx=\"" << px(x(p.x)) << "\" cy=\""
         << px(y(p.y)) << "\" r=\"4\" fill=\"#e15759\"><title>point "
         << p.index << " (front)</title></circle>";
  os << "</g>\n</svg>\n<p>" << d.points << " points";
  if (d.sampled < d.points)
    os << " (" << d.sampled << " drawn: every n-th point and the front)";
  os << "; front in red.</p></section>\n";
}

void roofline(raw_ostream &os, const ReportData &d) {
  svgOpen(os, "roofline",
          "Roofline of the base system (" + d.peakDType + " peak, " +
              d.homeLevel + " bandwidth) with the workload's blocks");
  std::vector<double> is, perf;
  for (const ReportData::Block &b : d.blocks)
    if (b.bytes > 0 && b.time > 0 && b.flops > 0) {
      is.push_back(b.flops / b.bytes);
      perf.push_back(b.flops / b.time);
    }
  double ridge = d.bandwidth > 0 ? d.peakFlops / d.bandwidth : 1;
  std::vector<double> xr = is, yr = perf;
  xr.push_back(ridge / 100);
  xr.push_back(ridge * 100);
  yr.push_back(d.peakFlops * 1.5);
  yr.push_back(d.bandwidth * ridge / 100);
  Scale x = fit(xr, kLeft, kW - kRight), y = fit(yr, kH - kBottom, kTop);
  x.log = y.log = true;
  axes(os, x, y, "arithmetic intensity (FLOP/byte of " + d.homeLevel + ")",
       "FLOP/s");
  // The roof: bandwidth x intensity up to the ridge, the peak after it.
  os << "<polyline class=\"roof\" fill=\"none\" stroke=\"#333\" "
        "stroke-width=\"2\" points=\""
     << px(x(x.lo)) << "," << px(y(std::max(d.bandwidth * x.lo, y.lo))) << " "
     << px(x(ridge)) << "," << px(y(d.peakFlops)) << " " << px(x(x.hi)) << ","
     << px(y(d.peakFlops)) << "\"/>\n<g class=\"blocks\" font-size=\"10\">";
  size_t k = 0;
  for (const ReportData::Block &b : d.blocks) {
    if (!(b.bytes > 0 && b.time > 0 && b.flops > 0))
      continue;
    double cx = x(b.flops / b.bytes), cy = y(b.flops / b.time);
    os << "<circle class=\"block\" cx=\"" << px(cx) << "\" cy=\"" << px(cy)
       << "\" r=\"5\" fill=\"" << kPalette[k++ % 10] << "\"><title>"
       << esc(b.name) << ": " << num(b.flops / b.bytes) << " FLOP/byte, "
       << num(b.flops / b.time) << " FLOP/s</title></circle><text x=\""
       << px(cx + 7) << "\" y=\"" << px(cy - 4) << "\">" << esc(b.name)
       << "</text>";
  }
  os << "</g>\n</svg></section>\n";
}

void tornado(raw_ostream &os, const ReportData &d) {
  svgOpen(os, "tornado",
          "Sensitivity of latency at the base: d ln(latency) / d ln(x)");
  std::vector<const Sensitivity *> rows;
  for (const Sensitivity &s : d.sensitivities)
    rows.push_back(&s);
  llvm::stable_sort(rows, [](const Sensitivity *a, const Sensitivity *b) {
    double ea = std::isfinite(a->elasticity) ? std::fabs(a->elasticity) : -1;
    double eb = std::isfinite(b->elasticity) ? std::fabs(b->elasticity) : -1;
    return ea > eb;
  });
  double most = 0;
  for (const Sensitivity *s : rows)
    if (std::isfinite(s->elasticity))
      most = std::max(most, std::fabs(s->elasticity));
  most = most > 0 ? most * 1.1 : 1;
  Scale x;
  x.lo = -most;
  x.hi = most;
  x.p0 = 250;
  x.p1 = kW - kRight;
  double rowH = rows.empty() ? 20 : std::min(40.0, (kH - kTop - kBottom) /
                                                       double(rows.size()));
  os << "<g class=\"bars\" font-size=\"11\">";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Sensitivity &s = *rows[i];
    double yTop = kTop + i * rowH;
    double e = std::isfinite(s.elasticity) ? s.elasticity : 0;
    double a = x(std::min(0.0, e)), b = x(std::max(0.0, e));
    os << "<text x=\"244\" y=\"" << px(yTop + rowH * 0.6)
       << "\" text-anchor=\"end\">" << esc(s.path) << "</text>"
       << "<rect class=\"bar\" x=\"" << px(a) << "\" y=\""
       << px(yTop + rowH * 0.15) << "\" width=\"" << px(std::max(b - a, 1.0))
       << "\" height=\"" << px(rowH * 0.7) << "\" fill=\""
       << (e < 0 ? "#4e79a7" : "#e15759") << "\"><title>" << esc(s.path)
       << ": " << num(s.elasticity) << " (" << esc(s.boundBy)
       << " binds at the base)</title></rect>";
  }
  os << "</g><line x1=\"" << px(x(0)) << "\" y1=\"" << px(kTop) << "\" x2=\""
     << px(x(0)) << "\" y2=\"" << px(kH - kBottom)
     << "\" stroke=\"#333\"/>\n<g font-size=\"11\">";
  for (double t : {-most / 1.1, 0.0, most / 1.1})
    os << "<text x=\"" << px(x(t)) << "\" y=\"" << px(kH - kBottom + 16)
       << "\" text-anchor=\"middle\">" << num(t) << "</text>";
  os << "</g>\n</svg><p>Negative: more of x, less latency.</p></section>\n";
}

void stacked(raw_ostream &os, const ReportData &d, bool energy) {
  svgOpen(os, energy ? "blocks-energy" : "blocks-time",
          std::string("Per-block ") + (energy ? "energy (J)" : "time (s)") +
              " of the front's points (one run of the program)");
  // Colours by block name, in first-seen order over the points.
  std::vector<std::string> names;
  double most = 0;
  for (const SweepPoint *p : d.selected) {
    const Metrics &m = p->result.metrics;
    if (!m.blockNames)
      continue;
    const std::vector<double> &v = energy ? m.blockEnergy : m.blockTime;
    double sum = 0;
    for (size_t i = 0; i < v.size() && i < m.blockNames->size(); ++i) {
      sum += v[i];
      if (!is_contained(names, (*m.blockNames)[i]))
        names.push_back((*m.blockNames)[i]);
    }
    most = std::max(most, sum);
  }
  Scale x;
  x.lo = 0;
  x.hi = most > 0 ? most * 1.05 : 1;
  x.p0 = 120;
  x.p1 = kW - kRight;
  double rowH = d.selected.empty()
                    ? 20
                    : std::min(36.0, (kH - kTop - kBottom - 40) /
                                         double(d.selected.size()));
  os << "<g class=\"stacks\" font-size=\"11\">";
  for (size_t r = 0; r < d.selected.size(); ++r) {
    const SweepPoint &p = *d.selected[r];
    const Metrics &m = p.result.metrics;
    double yTop = kTop + r * rowH;
    os << "<text x=\"114\" y=\"" << px(yTop + rowH * 0.6)
       << "\" text-anchor=\"end\">point " << p.index << "</text>";
    if (!m.blockNames)
      continue;
    const std::vector<double> &v = energy ? m.blockEnergy : m.blockTime;
    double at = 0;
    for (size_t i = 0; i < v.size() && i < m.blockNames->size(); ++i) {
      const std::string &name = (*m.blockNames)[i];
      size_t c = std::find(names.begin(), names.end(), name) - names.begin();
      os << "<rect class=\"segment\" x=\"" << px(x(at)) << "\" y=\""
         << px(yTop + rowH * 0.15) << "\" width=\""
         << px(std::max(x(at + v[i]) - x(at), 0.5)) << "\" height=\""
         << px(rowH * 0.7) << "\" fill=\"" << kPalette[c % 10] << "\"><title>"
         << esc(name) << ": " << num(v[i]) << "</title></rect>";
      at += v[i];
    }
  }
  os << "</g>\n<g class=\"legend\" font-size=\"11\">";
  for (size_t i = 0; i < names.size(); ++i) {
    double lx = 120 + double(i % 5) * 100, ly = kH - 34 + double(i / 5) * 14;
    os << "<rect x=\"" << px(lx) << "\" y=\"" << px(ly - 9)
       << "\" width=\"10\" height=\"10\" fill=\"" << kPalette[i % 10]
       << "\"/><text x=\"" << px(lx + 14) << "\" y=\"" << px(ly) << "\">"
       << esc(names[i]) << "</text>";
  }
  os << "</g>\n</svg></section>\n";
}

} // namespace

void addRoofline(ReportData &data, const report::CostReport &r,
                 double bandwidth) {
  data.peakFlops = r.peakFlops;
  data.peakDType = r.peakDType;
  data.homeLevel = r.capacityLevel;
  data.bandwidth = bandwidth;
  size_t home = r.levels.size();
  for (size_t i = 0; i < r.levels.size(); ++i)
    if (r.levels[i] == r.capacityLevel)
      home = i;
  for (const report::GroupRow &g : r.blocks) {
    ReportData::Block b;
    b.name = g.name;
    b.flops = g.flops;
    b.time = g.time;
    for (const report::OpRow &op : r.ops)
      if (op.block == g.name && home < op.bytes.size())
        b.bytes += op.bytes[home];
    data.blocks.push_back(std::move(b));
  }
}

Error writeReportHtml(StringRef dir, const ReportData &d) {
  SmallString<256> path(dir);
  sys::path::append(path, "report.html");
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec)
    return createStringError(ec, "cannot write " + path);
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>"
     << esc(d.title)
     << "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}"
        "section{margin-bottom:2em}svg.plot{border:1px solid #ddd;"
        "background:#fff}</style></head>\n<body>\n<h1>"
     << esc(d.title) << "</h1>\n";
  pareto(os, d);
  roofline(os, d);
  tornado(os, d);
  stacked(os, d, /*energy=*/false);
  stacked(os, d, /*energy=*/true);
  // The render check: every plot has a drawn, non-empty box.
  os << "<p id=\"render-check\">not checked (scripts off)</p>\n<script>\n"
        "(function () {\n"
        "  var plots = document.querySelectorAll('svg.plot');\n"
        "  var ok = 0, names = [];\n"
        "  plots.forEach(function (s) {\n"
        "    var b = s.getBBox();\n"
        "    var marks = s.querySelectorAll('circle, rect, polyline').length;\n"
        "    if (b.width > 0 && b.height > 0 && marks > 0) { ok++; "
        "names.push(s.id + ':' + marks); }\n"
        "  });\n"
        "  document.getElementById('render-check').textContent =\n"
        "      'rendered ' + ok + ' of ' + plots.length + ' plots (' + "
        "names.join(' ') + ')';\n"
        "})();\n</script>\n</body></html>\n";
  return Error::success();
}

} // namespace strata::explore
