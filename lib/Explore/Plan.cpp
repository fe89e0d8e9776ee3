//===- Plan.cpp - Plan axes of a design-space sweep -----------------------===//

#include "strata/Explore/Plan.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace llvm;

namespace strata::explore {

namespace {

Error err(const Twine &path, const Twine &msg) {
  return createStringError(inconvertibleErrorCode(),
                           (path + ": " + msg).str());
}

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> d;
  for (int64_t i = 1; i <= n; ++i)
    if (n % i == 0)
      d.push_back(i);
  return d;
}

/// A list of whole numbers >= `min`, or "auto" (sets `isAuto`).
Error integers(const json::Value &v, const std::string &path, int64_t min,
               int64_t max, std::vector<int64_t> &out, bool *isAuto) {
  if (std::optional<StringRef> s = v.getAsString()) {
    if (*s == "auto" && isAuto) {
      *isAuto = true;
      return Error::success();
    }
    return err(path, isAuto ? "expected a list of whole numbers or \"auto\""
                            : "expected a list of whole numbers");
  }
  const json::Array *a = v.getAsArray();
  if (!a || a->empty())
    return err(path, isAuto ? "expected a list of whole numbers or \"auto\""
                            : "expected a list of whole numbers");
  for (auto [i, x] : enumerate(*a)) {
    std::optional<int64_t> n = x.getAsInteger();
    std::string at = formatv("{0}[{1}]", path, i).str();
    if (!n)
      return err(at, "expected a whole number");
    if (*n < min || *n > max)
      return err(at, formatv("{0} is out of range [{1}, {2}]", *n, min, max));
    if (is_contained(out, *n))
      return err(at, formatv("{0} is listed twice", *n));
    out.push_back(*n);
  }
  if (isAuto)
    *isAuto = false;
  return Error::success();
}

Error strings(const json::Value &v, const std::string &path,
              ArrayRef<StringRef> allowed, std::vector<std::string> &out,
              bool *isAuto) {
  std::string expected =
      "expected a list of " + join(allowed.begin(), allowed.end(), ", ") +
      (isAuto ? " (or \"auto\")" : "");
  if (std::optional<StringRef> s = v.getAsString()) {
    if (*s == "auto" && isAuto) {
      *isAuto = true;
      return Error::success();
    }
    return err(path, expected);
  }
  const json::Array *a = v.getAsArray();
  if (!a || a->empty())
    return err(path, expected);
  for (auto [i, x] : enumerate(*a)) {
    std::optional<StringRef> s = x.getAsString();
    std::string at = formatv("{0}[{1}]", path, i).str();
    if (!s || !is_contained(allowed, *s))
      return err(at, "expected one of " +
                         join(allowed.begin(), allowed.end(), ", "));
    if (is_contained(out, s->str()))
      return err(at, "'" + *s + "' is listed twice");
    out.push_back(s->str());
  }
  if (isAuto)
    *isAuto = false;
  return Error::success();
}

} // namespace

std::string Plan::pipelineOptions() const {
  return formatv("tp={0} pp={1} dp={2} ep={3} sp={4} microbatches={5} "
                 "interleave={6} zero={7} recompute={8}",
                 tp, pp, dp, ep, sp ? "true" : "false", microbatches,
                 interleave, zero, recompute)
      .str();
}

std::vector<Plan> PlanSpec::enumerate(int64_t devices, int64_t batch) const {
  std::vector<Plan> plans;
  std::vector<int64_t> byDevice = divisors(devices);
  std::vector<int64_t> batches = this->batch.empty()
                                     ? std::vector<int64_t>{batch}
                                     : this->batch;
  std::vector<std::string> precisions =
      precision.empty() ? std::vector<std::string>{""} : precision;
  auto listOr = [](const std::vector<int64_t> &v, bool isAuto,
                   std::vector<int64_t> autoValues, int64_t dflt) {
    if (isAuto)
      return autoValues;
    return v.empty() ? std::vector<int64_t>{dflt} : v;
  };
  std::vector<int64_t> tps = listOr(tp, tpAuto, byDevice, 1);
  std::vector<int64_t> pps = listOr(pp, ppAuto, byDevice, 1);
  std::vector<int64_t> eps = listOr(ep, epAuto, byDevice, 1);
  std::vector<int64_t> zeros = listOr(zero, zeroAuto, {0, 1, 2, 3}, 0);
  std::vector<std::string> recomputes =
      recomputeAuto ? std::vector<std::string>{"none", "selective", "full"}
      : recompute.empty() ? std::vector<std::string>{"none"}
                          : recompute;
  for (int64_t b : batches)
    for (const std::string &prec : precisions)
      for (int64_t t : tps)
        for (int64_t p : pps)
          for (int64_t e : eps) {
            int64_t model = t * p * e;
            if (devices % model != 0)
              continue;
            std::vector<int64_t> dps =
                dpAuto || dp.empty() ? std::vector<int64_t>{devices / model}
                                     : dp;
            for (int64_t d : dps) {
              if (devices % (model * d) != 0)
                continue;
              std::vector<bool> sps =
                  spAuto ? (t > 1 ? std::vector<bool>{false, true}
                                  : std::vector<bool>{false})
                  : sp.empty() ? std::vector<bool>{false}
                               : sp;
              // Microbatches: the step's batch in whole microbatches, each
              // split evenly over the data-parallel ranks.
              std::vector<int64_t> mbs;
              if (mbAuto) {
                if (b % d == 0)
                  mbs = divisors(b / d);
              } else {
                mbs = microbatches.empty() ? std::vector<int64_t>{1}
                                           : microbatches;
              }
              for (bool s : sps)
                for (int64_t m : mbs) {
                  if (b % (m * d) != 0)
                    continue;
                  std::vector<int64_t> vs =
                      interleaveAuto
                          ? (p > 1 && m % p == 0 ? std::vector<int64_t>{1, 2}
                                                 : std::vector<int64_t>{1})
                      : interleave.empty() ? std::vector<int64_t>{1}
                                           : interleave;
                  for (int64_t v : vs)
                    for (int64_t z : zeros)
                      for (const std::string &r : recomputes) {
                        Plan pl;
                        pl.tp = t;
                        pl.pp = p;
                        pl.dp = d;
                        pl.ep = e;
                        pl.sp = s;
                        pl.microbatches = m;
                        pl.interleave = v;
                        pl.zero = z;
                        pl.recompute = r;
                        pl.precision = prec;
                        pl.batch = this->batch.empty() ? 0 : b;
                        plans.push_back(pl);
                      }
                }
            }
          }
  return plans;
}

Expected<PlanSpec> parsePlanSpec(const json::Value &v, bool fromModel) {
  PlanSpec s;
  s.given = true;
  const json::Object *o = v.getAsObject();
  if (!o)
    return err("plan", "expected an object of plan axes");
  for (const auto &kv : *o) {
    StringRef key = kv.first;
    std::string at = "plan." + key.str();
    const json::Value &x = kv.second;
    Error e = Error::success();
    if (key == "tp")
      e = integers(x, at, 1, 1 << 20, s.tp, &s.tpAuto);
    else if (key == "pp")
      e = integers(x, at, 1, 1 << 20, s.pp, &s.ppAuto);
    else if (key == "dp")
      e = integers(x, at, 1, 1 << 20, s.dp, &s.dpAuto);
    else if (key == "ep")
      e = integers(x, at, 1, 1 << 20, s.ep, &s.epAuto);
    else if (key == "cp") {
      std::vector<int64_t> cp;
      bool cpAuto = false;
      e = integers(x, at, 1, 1 << 20, cp, &cpAuto);
      if (!e && (cpAuto || cp != std::vector<int64_t>{1}))
        return err(at, "context parallelism is not modelled yet "
                       "(strata-parallelize has no cp); only [1]");
    } else if (key == "microbatches")
      e = integers(x, at, 1, 1 << 20, s.microbatches, &s.mbAuto);
    else if (key == "interleave")
      e = integers(x, at, 1, 1024, s.interleave, &s.interleaveAuto);
    else if (key == "zero")
      e = integers(x, at, 0, 3, s.zero, &s.zeroAuto);
    else if (key == "sp") {
      if (x.getAsString() && *x.getAsString() == "auto") {
        s.spAuto = true;
      } else if (const json::Array *a = x.getAsArray(); a && !a->empty()) {
        for (auto [i, b] : llvm::enumerate(*a)) {
          std::optional<bool> flag = b.getAsBoolean();
          if (!flag)
            return err(formatv("{0}[{1}]", at, i).str(),
                       "expected true or false");
          s.sp.push_back(*flag);
        }
      } else {
        return err(at, "expected a list of true/false or \"auto\"");
      }
    } else if (key == "recompute")
      e = strings(x, at, {"none", "selective", "full"}, s.recompute,
                  &s.recomputeAuto);
    else if (key == "precision") {
      if (!fromModel)
        return err(at, "sweeping the precision needs a generated workload "
                       "(--model)");
      e = strings(x, at, {"bf16", "fp16", "fp8", "f32"}, s.precision,
                  nullptr);
    } else if (key == "batch") {
      if (!fromModel)
        return err(at, "sweeping the batch needs a generated workload "
                       "(--model)");
      e = integers(x, at, 1, 1 << 24, s.batch, nullptr);
    } else
      return err(at, "unknown plan axis (tp, pp, dp, ep, cp, sp, "
                     "microbatches, interleave, zero, recompute, precision, "
                     "batch)");
    if (e)
      return std::move(e);
  }
  if (!s.dp.empty())
    s.dpAuto = false;
  return s;
}

} // namespace strata::explore
