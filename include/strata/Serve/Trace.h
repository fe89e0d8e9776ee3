//===- Trace.h - Requests a serving simulation replays ----------*- C++ -*-===//
//
// A request trace (arrival time, prompt tokens, output tokens) read from
// JSON or CSV, or drawn by a seeded generator: Poisson or bursty (Gamma)
// arrivals at a rate, lengths fixed, uniform or lognormal. The generator draws from its own
// SplitMix64 stream and inverse transforms (no std:: distributions, whose
// output differs between standard libraries), so a seed gives the same
// trace everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_SERVE_TRACE_H
#define STRATA_SERVE_TRACE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::serve {

struct Request {
  int64_t id = 0;
  double arrival = 0; ///< seconds
  int64_t promptTokens = 0;
  int64_t outputTokens = 0;
};

/// A deterministic generator of uniform doubles in [0, 1).
class Random {
public:
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next();
  double uniform(); ///< [0, 1)
  double normal();  ///< standard normal (Box-Muller)
  double exponential(double rate);
  /// Gamma with shape k and scale 1 (Marsaglia and Tsang 2000; shape < 1
  /// by boosting with U^(1/k)).
  double gamma(double shape);

private:
  uint64_t state;
};

/// "fixed:N", "uniform:LO,HI" (inclusive) or "lognormal:MEDIAN,SIGMA".
struct LengthDistribution {
  enum Kind { Fixed, Uniform, LogNormal } kind = Fixed;
  double a = 0, b = 0;
  int64_t draw(Random &rng, int64_t max) const;
  double mean() const;
};
llvm::Expected<LengthDistribution> parseLengthDistribution(llvm::StringRef s);

struct GeneratorOptions {
  int64_t requests = 1000;
  double rate = 1.0; ///< requests per second (Poisson)
  /// Coefficient of variation of the gaps between arrivals: 1 is Poisson
  /// (exponential gaps), above 1 bursty, below 1 more regular; the gaps
  /// are Gamma-distributed with shape 1 / cv^2 and mean 1 / rate.
  double burstiness = 1.0;
  uint64_t seed = 1;
  LengthDistribution prompt, output;
  int64_t maxLength = 1 << 20; ///< lengths are clamped to [1, maxLength]
};

/// Lengths are drawn from a stream of their own, arrivals from another, so
/// the same seed at another rate gives the same lengths at scaled times.
std::vector<Request> generateTrace(const GeneratorOptions &options);

/// Reads a trace: a JSON array of {"arrival", "prompt_tokens",
/// "output_tokens"} objects (or an object holding it as "requests"), or CSV
/// with that header. Errors are one line, "<file>:<line>: <message>".
llvm::Expected<std::vector<Request>> parseTrace(llvm::StringRef text,
                                                llvm::StringRef path);

} // namespace strata::serve

#endif // STRATA_SERVE_TRACE_H
