//===- Trace.cpp - Requests a serving simulation replays ------------------===//

#include "strata/Serve/Trace.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>

namespace strata::serve {

uint64_t Random::next() {
  // SplitMix64 (Steele, Lea, Flood 2014).
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Random::uniform() { return double(next() >> 11) * 0x1.0p-53; }

double Random::normal() {
  double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double Random::exponential(double rate) {
  return -std::log(1.0 - uniform()) / rate;
}

double Random::gamma(double shape) {
  if (shape < 1.0) {
    double u = uniform();
    return gamma(shape + 1.0) * std::pow(1.0 - u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = normal(), v = 1.0 + c * x;
    if (v <= 0)
      continue;
    v = v * v * v;
    double u = 1.0 - uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v))
      return d * v;
  }
}

int64_t LengthDistribution::draw(Random &rng, int64_t max) const {
  double x = a;
  switch (kind) {
  case Fixed:
    break;
  case Uniform:
    x = std::floor(a + rng.uniform() * (b - a + 1));
    break;
  case LogNormal:
    x = std::round(a * std::exp(b * rng.normal()));
    break;
  }
  return std::clamp<int64_t>(int64_t(x), 1, max);
}

double LengthDistribution::mean() const {
  switch (kind) {
  case Fixed:
    return a;
  case Uniform:
    return (a + b) / 2;
  case LogNormal:
    return a * std::exp(b * b / 2);
  }
  return a;
}

llvm::Expected<LengthDistribution> parseLengthDistribution(llvm::StringRef s) {
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'" + s + "': " + why);
  };
  auto [kind, args] = s.split(':');
  llvm::SmallVector<llvm::StringRef> parts;
  args.split(parts, ',');
  std::vector<double> v;
  for (llvm::StringRef p : parts) {
    double d;
    if (p.trim().getAsDouble(d) || !(d >= 0) || !std::isfinite(d))
      return bad("'" + p + "' is not a non-negative number");
    v.push_back(d);
  }
  LengthDistribution d;
  if (kind == "fixed" && v.size() == 1 && v[0] >= 1) {
    d.kind = LengthDistribution::Fixed;
    d.a = std::round(v[0]);
  } else if (kind == "uniform" && v.size() == 2 && v[0] >= 1 && v[1] >= v[0]) {
    d.kind = LengthDistribution::Uniform;
    d.a = std::round(v[0]);
    d.b = std::round(v[1]);
  } else if (kind == "lognormal" && v.size() == 2 && v[0] >= 1) {
    d.kind = LengthDistribution::LogNormal;
    d.a = v[0];
    d.b = v[1];
  } else {
    return bad("expected fixed:N, uniform:LO,HI (1 <= LO <= HI) or "
               "lognormal:MEDIAN,SIGMA (MEDIAN >= 1)");
  }
  return d;
}

std::vector<Request> generateTrace(const GeneratorOptions &o) {
  Random arrivals(o.seed * 2 + 1), lengths(o.seed * 2 + 2);
  std::vector<Request> out;
  out.reserve(o.requests);
  double t = 0;
  for (int64_t i = 0; i < o.requests; ++i) {
    Request r;
    r.id = i;
    if (i > 0) {
      if (o.burstiness == 1.0) {
        t += arrivals.exponential(o.rate);
      } else {
        double shape = 1.0 / (o.burstiness * o.burstiness);
        t += arrivals.gamma(shape) / (shape * o.rate);
      }
    }
    r.arrival = t;
    r.promptTokens = o.prompt.draw(lengths, o.maxLength);
    r.outputTokens = o.output.draw(lengths, o.maxLength);
    out.push_back(r);
  }
  return out;
}

namespace {

llvm::Error located(llvm::StringRef path, size_t line, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ":" + llvm::Twine(line) + ": " + msg);
}

llvm::Error checkRequest(const Request &r, llvm::StringRef path, size_t line,
                         double previous) {
  if (!(r.arrival >= 0) || !std::isfinite(r.arrival))
    return located(path, line, "arrival must be a finite time >= 0 (seconds)");
  if (r.arrival < previous)
    return located(path, line, "arrivals must not decrease");
  if (r.promptTokens < 1)
    return located(path, line, "prompt_tokens must be >= 1");
  if (r.outputTokens < 1)
    return located(path, line, "output_tokens must be >= 1");
  return llvm::Error::success();
}

/// The line of the `index`-th top-level element of the requests array,
/// found by counting '{' at the array's depth (for located JSON errors).
std::vector<size_t> objectLines(llvm::StringRef text) {
  std::vector<size_t> lines;
  size_t line = 1;
  int depth = 0;
  bool inString = false;
  int arrayDepth = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n')
      ++line;
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if (c == '[' || c == '{') {
      if (c == '{' && depth == arrayDepth)
        lines.push_back(line);
      if (c == '[' && arrayDepth < 0)
        arrayDepth = depth + 1;
      ++depth;
    } else if (c == ']' || c == '}')
      --depth;
  }
  return lines;
}

llvm::Expected<std::vector<Request>> parseJsonTrace(llvm::StringRef text,
                                                    llvm::StringRef path) {
  llvm::Expected<llvm::json::Value> v = llvm::json::parse(text);
  if (!v) {
    std::string msg = llvm::toString(v.takeError());
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": invalid JSON: " + msg);
  }
  const llvm::json::Array *items = v->getAsArray();
  if (!items)
    if (const llvm::json::Object *o = v->getAsObject())
      items = o->getArray("requests");
  if (!items)
    return located(path, 1,
                   "expected an array of requests (or {\"requests\": [...]})");
  std::vector<size_t> lines = objectLines(text);
  std::vector<Request> out;
  double previous = 0;
  for (size_t i = 0; i < items->size(); ++i) {
    size_t line = i < lines.size() ? lines[i] : 1;
    const llvm::json::Object *o = (*items)[i].getAsObject();
    if (!o)
      return located(path, line, "request " + llvm::Twine(i) +
                                     " is not an object");
    for (const auto &kv : *o)
      if (!llvm::is_contained({"arrival", "prompt_tokens", "output_tokens"},
                              kv.first.str()))
        return located(path, line, "unknown field '" + kv.first.str() +
                                       "' (expected arrival, prompt_tokens, "
                                       "output_tokens)");
    std::optional<double> arrival = o->getNumber("arrival");
    std::optional<int64_t> prompt = o->getInteger("prompt_tokens");
    std::optional<int64_t> output = o->getInteger("output_tokens");
    if (!arrival || !prompt || !output)
      return located(path, line,
                     "request " + llvm::Twine(i) +
                         " needs numeric arrival and integer prompt_tokens "
                         "and output_tokens");
    Request r{int64_t(i), *arrival, *prompt, *output};
    if (llvm::Error e = checkRequest(r, path, line, previous))
      return std::move(e);
    previous = r.arrival;
    out.push_back(r);
  }
  return out;
}

llvm::Expected<std::vector<Request>> parseCsvTrace(llvm::StringRef text,
                                                   llvm::StringRef path) {
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  std::vector<Request> out;
  bool header = false;
  double previous = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    llvm::StringRef l = lines[i].trim();
    if (l.empty() || l.starts_with("#"))
      continue;
    llvm::SmallVector<llvm::StringRef> cols;
    l.split(cols, ',');
    for (llvm::StringRef &c : cols)
      c = c.trim();
    if (!header) {
      if (cols.size() != 3 || cols[0] != "arrival" ||
          cols[1] != "prompt_tokens" || cols[2] != "output_tokens")
        return located(path, i + 1,
                       "expected the header 'arrival,prompt_tokens,"
                       "output_tokens'");
      header = true;
      continue;
    }
    if (cols.size() != 3)
      return located(path, i + 1, "expected 3 columns, found " +
                                      llvm::Twine(cols.size()));
    Request r;
    r.id = int64_t(out.size());
    if (cols[0].getAsDouble(r.arrival))
      return located(path, i + 1, "arrival '" + cols[0] + "' is not a number");
    if (cols[1].getAsInteger(10, r.promptTokens))
      return located(path, i + 1,
                     "prompt_tokens '" + cols[1] + "' is not an integer");
    if (cols[2].getAsInteger(10, r.outputTokens))
      return located(path, i + 1,
                     "output_tokens '" + cols[2] + "' is not an integer");
    if (llvm::Error e = checkRequest(r, path, i + 1, previous))
      return std::move(e);
    previous = r.arrival;
    out.push_back(r);
  }
  if (!header)
    return located(path, 1, "empty trace");
  return out;
}

} // namespace

llvm::Expected<std::vector<Request>> parseTrace(llvm::StringRef text,
                                                llvm::StringRef path) {
  llvm::StringRef t = text.ltrim();
  llvm::Expected<std::vector<Request>> r =
      (t.starts_with("[") || t.starts_with("{")) ? parseJsonTrace(text, path)
                                                 : parseCsvTrace(text, path);
  if (r && r->empty())
    return located(path, 1, "the trace has no requests");
  return r;
}

} // namespace strata::serve
