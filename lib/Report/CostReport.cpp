//===- CostReport.cpp - Text, JSON, CSV and trace renderings --------------===//

#include "strata/Report/CostReport.h"
#include "strata/Hardware/Units.h"
#include "strata/Report/Table.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>

namespace strata::report {

double CostReport::footprintTotal() const {
  double total = 0;
  for (const FootprintRow &f : footprint)
    total += f.bytes;
  return total;
}

namespace {

/// `v` with an SI prefix and 4 significant digits: "65.3 TFLOP", "12.5 mJ".
std::string si(double v, llvm::StringRef unit) {
  static const char *big[] = {"", "k", "M", "G", "T", "P", "E"};
  static const char *small[] = {"", "m", "u", "n", "p"};
  const char *prefix = "";
  double a = std::fabs(v);
  if (a >= 1000) {
    int p = 0;
    while (a >= 1000 && p < 6) {
      a /= 1000;
      v /= 1000;
      ++p;
    }
    prefix = big[p];
  } else if (a > 0 && a < 1) {
    int p = 0;
    while (a < 1 && p < 4) {
      a *= 1000;
      v *= 1000;
      ++p;
    }
    prefix = small[p];
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.4g", v) << " " << prefix << unit;
  return s;
}

/// Left-aligned "key   value" lines.
void printKeyValues(
    llvm::raw_ostream &os,
    const std::vector<std::pair<std::string, std::string>> &rows) {
  size_t width = 0;
  for (const auto &kv : rows)
    width = std::max(width, kv.first.size());
  for (const auto &[k, v] : rows)
    os << "  " << k << std::string(width - k.size() + 2, ' ') << v << "\n";
}

std::string seconds(double s) {
  return hw::formatQuantityApprox(s, hw::Quantity::Seconds);
}
std::string bytes(double b) { return hw::formatBinaryBytesApprox(b); }
std::string percent(double f) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.1f %%", f * 100);
  return s;
}
std::string count(double c) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.0f", c);
  return s;
}

} // namespace

void writeText(const CostReport &r, llvm::raw_ostream &os) {
  os << "Cost report: ";
  if (!r.model.empty())
    os << r.model << (r.mode.empty() ? "" : " " + r.mode) << " ";
  os << "@" << r.entry << " on " << r.system << " (" << r.devices << " x "
     << r.chip << ")\n\n";

  os << "Summary\n";
  std::vector<std::pair<std::string, std::string>> summary;
  summary.push_back({"latency", seconds(r.latency)});
  if (r.tokens > 0) {
    summary.push_back({"tokens", count(r.tokens)});
    summary.push_back({"throughput", si(r.tokensPerSecond, "tokens/s")});
  }
  summary.push_back({"FLOPs", si(r.flops, "FLOP")});
  std::string mfu = percent(r.mfu) + " of " +
                    hw::formatFlopsApprox(r.peakFlops) + " " + r.peakDType;
  if (r.recomputeFlops > 0)
    mfu += " (" + percent(r.hfu) + " counting recomputation)";
  summary.push_back({"MFU", mfu});
  std::string energy = si(r.energy, "J");
  if (r.tokens > 0)
    energy += " (" + si(r.energyPerToken, "J") + "/token)";
  summary.push_back({"energy", energy});
  summary.push_back({"bound by", r.boundBy});
  // Eager launches are the default and go unsaid; a replayed graph is named.
  if (r.launch == "graph")
    summary.push_back({"launch", "graph replay, " + seconds(r.launchCost) +
                                     " per kernel node"});
  if (r.parameters > 0) {
    // Billions, as model cards state them, and the exact count.
    auto billions = [](int64_t n) {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << llvm::format("%.4g B", double(n) / 1e9) << " (" << n << ")";
      return s;
    };
    std::string params = billions(r.parameters);
    if (r.activeParameters > 0 && r.activeParameters != r.parameters)
      params += ", " + billions(r.activeParameters) + " active";
    summary.push_back({"parameters", params});
  }
  if (r.batch > 0) {
    // Which batch was priced: the generator's --batch is one microbatch
    // over all dp ranks, so with a plan the step's global batch is m times
    // it (a common misreading of a published global batch).
    std::string batch = std::to_string(r.batch) +
                        (r.batch == 1 ? " sequence" : " sequences");
    if (r.mode == "decode")
      batch += ", 1 new token each after " + std::to_string(r.context) +
               " cached";
    else if (r.seq > 0)
      batch += " x " + std::to_string(r.seq) + " tokens";
    if (r.step && r.step->sequencesPerStep > 0)
      batch += " per microbatch (" +
               std::to_string(r.step->sequencesPerDevice) +
               " per device over dp=" +
               std::to_string(r.step->dataParallel) + "); " +
               std::to_string(r.step->microbatches) +
               " microbatches = " + std::to_string(r.step->sequencesPerStep) +
               " sequences per step";
    summary.push_back({"batch", batch});
  }
  summary.push_back(
      {"program", r.lowered ? "lowered to tile IR (fused, tiled, placed)"
                            : "priced as given, not fused or tiled "
                              "(strata-pipeline lowers it first)"});
  if (r.paddedVocab > r.vocab && r.vocab > 0)
    summary.push_back({"vocabulary", std::to_string(r.paddedVocab) + " (" +
                                         std::to_string(r.vocab) +
                                         " padded for tensor parallelism)"});
  printKeyValues(os, summary);

  if (r.step) {
    const StepRow &st = *r.step;
    os << "\nStep (" << st.schedule << ", pp=" << st.stages
       << ", microbatches=" << st.microbatches;
    if (st.virtualStages > 1)
      os << ", interleave=" << st.virtualStages;
    os << ", dp=" << st.dataParallel << ", zero=" << st.zero << ")\n";
    std::vector<std::pair<std::string, std::string>> step;
    step.push_back({"microbatch", seconds(st.microbatchTime) +
                                      " (compute and tp/ep collectives)"});
    if (st.recomputeTime > 0)
      step.push_back({"recompute", seconds(st.recomputeTime) +
                                       " of it (forward again in the "
                                       "backward)"});
    if (st.stages > 1) {
      step.push_back({"bubble", seconds(st.bubbleTime) + " (" +
                                    percent(st.bubbleFraction) +
                                    " of the ideal)"});
      step.push_back({"stage p2p", seconds(st.p2pTime) + " (" +
                                       seconds(st.p2pPerCrossing) +
                                       " per crossing)"});
    }
    step.push_back({"pipeline", seconds(st.pipelineTime)});
    step.push_back({"grad sync", seconds(st.gradSyncTime) + " (" +
                                     seconds(st.gradSyncExposed) +
                                     " exposed)"});
    step.push_back({"optimizer", seconds(st.optimizerTime)});
    step.push_back({"step", seconds(st.stepTime)});
    printKeyValues(os, step);
  }

  if (!r.plans.empty()) {
    size_t usable = llvm::count_if(
        r.plans, [](const PlanRow &p) { return p.status == "ok" && p.fits; });
    os << "\nPlan search (" << r.plans.size() << " plans, " << usable
       << " compile and fit; best first)\n";
    Table t({"rank", "tp", "pp", "dp", "ep", "latency", "throughput", "MFU",
             "footprint", "status"});
    for (size_t i = 0; i < r.plans.size() && i < r.plansShown; ++i) {
      const PlanRow &p = r.plans[i];
      std::string status = p.status == "ok"
                               ? (p.fits ? "ok" : "does not fit")
                               : p.status;
      if (status.size() > 60)
        status = status.substr(0, 57) + "...";
      bool ok = p.status == "ok";
      t.addRow({std::to_string(i + 1), std::to_string(p.tp),
                std::to_string(p.pp), std::to_string(p.dp),
                std::to_string(p.ep), ok ? seconds(p.latency) : "-",
                ok && p.tokensPerSecond > 0 ? si(p.tokensPerSecond, "tokens/s")
                                            : "-",
                ok ? percent(p.mfu) : "-",
                ok ? hw::formatBinaryBytesApprox(p.footprint) : "-", status});
    }
    t.print(os);
  }

  os << (r.step ? "\nBlocks (share of one microbatch's program, per-step "
                  "work included once)\n"
                : "\nBlocks (share of latency)\n");
  Table blocks({"block", "ops", "FLOPs", "time", "share", "energy",
                "bound by"});
  for (const GroupRow &b : r.blocks)
    blocks.addRow({b.name, count(b.ops), si(b.flops, "FLOP"), seconds(b.time),
                   percent(r.programTime > 0 ? b.time / r.programTime : 0),
                   si(b.energy, "J"), b.boundBy});
  blocks.print(os);

  os << "\nOps (totals over executions, program order)\n";
  std::vector<std::string> header = {"op", "kind", "count", "FLOPs"};
  for (const std::string &l : r.levels)
    header.push_back(l + " bytes");
  for (const char *h : {"time", "bound by", "util"})
    header.push_back(h);
  Table ops(header);
  for (const OpRow &o : r.ops) {
    std::vector<std::string> row = {o.name, o.op, count(o.count),
                                    si(o.flops, "FLOP")};
    for (double b : o.bytes)
      row.push_back(b > 0 ? bytes(b) : "-");
    row.push_back(seconds(o.time));
    row.push_back(o.boundBy);
    row.push_back(percent(o.utilization));
    ops.addRow(std::move(row));
  }
  ops.print(os);

  os << "\nMemory footprint per device (against " << r.capacityLevel << ", "
     << bytes(r.capacity) << ")\n";
  Table fp({"", "bytes", "share of capacity"});
  for (const FootprintRow &f : r.footprint)
    fp.addRow({f.what, bytes(f.bytes),
               percent(r.capacity > 0 ? f.bytes / r.capacity : 0)});
  fp.addRow({"total", bytes(r.footprintTotal()),
             percent(r.capacity > 0 ? r.footprintTotal() / r.capacity : 0)});
  fp.print(os);

  if (!r.unpriced.empty()) {
    os << "\nUnpriced ops (not in the figures above; docs/inputs.md)\n";
    Table un({"op", "count", "first at"});
    for (const UnpricedRow &u : r.unpriced)
      un.addRow({u.op, count(u.count), u.location});
    un.print(os);
  }
}

void writeJson(const CostReport &r, llvm::raw_ostream &os) {
  llvm::json::OStream j(os, 2);
  j.object([&] {
    j.attribute("schema", "strata.cost-report");
    j.attribute("version", CostReport::kSchemaVersion);
    j.attribute("system", r.system);
    j.attribute("chip", r.chip);
    j.attribute("devices", r.devices);
    j.attribute("entry", r.entry);
    j.attribute("model", r.model);
    j.attribute("mode", r.mode);
    j.attribute("launch", r.launch);
    if (r.paddedVocab > r.vocab && r.vocab > 0) {
      j.attribute("vocab", r.vocab);
      j.attribute("padded_vocab", r.paddedVocab);
    }
    j.attributeObject("summary", [&] {
      j.attribute("latency_s", r.latency);
      j.attribute("flops", r.flops);
      j.attribute("tokens", r.tokens);
      j.attribute("tokens_per_s", r.tokensPerSecond);
      j.attribute("recompute_flops", r.recomputeFlops);
      j.attribute("mfu", r.mfu);
      j.attribute("hfu", r.hfu);
      j.attribute("peak_flops", r.peakFlops);
      j.attribute("peak_dtype", r.peakDType);
      j.attribute("energy_j", r.energy);
      j.attribute("energy_per_token_j", r.energyPerToken);
      j.attribute("bound_by", r.boundBy);
      j.attribute("lowered", r.lowered);
      if (r.parameters > 0) {
        j.attribute("parameters", r.parameters);
        j.attribute("active_parameters", r.activeParameters);
      }
      if (r.batch > 0) {
        j.attribute("batch", r.batch);
        j.attribute("seq", r.seq);
        if (r.mode == "decode")
          j.attribute("context", r.context);
      }
    });
    if (r.step)
      j.attributeObject("step", [&] {
        const StepRow &st = *r.step;
        j.attribute("schedule", st.schedule);
        j.attribute("stages", st.stages);
        j.attribute("microbatches", st.microbatches);
        j.attribute("virtual_stages", st.virtualStages);
        j.attribute("data_parallel", st.dataParallel);
        j.attribute("zero", st.zero);
        j.attribute("microbatch_s", st.microbatchTime);
        j.attribute("recompute_s", st.recomputeTime);
        j.attribute("p2p_per_crossing_s", st.p2pPerCrossing);
        j.attribute("pipeline_s", st.pipelineTime);
        j.attribute("bubble_s", st.bubbleTime);
        j.attribute("bubble_fraction", st.bubbleFraction);
        j.attribute("p2p_s", st.p2pTime);
        j.attribute("grad_sync_s", st.gradSyncTime);
        j.attribute("grad_sync_exposed_s", st.gradSyncExposed);
        j.attribute("optimizer_s", st.optimizerTime);
        j.attribute("step_s", st.stepTime);
        j.attribute("tokens_per_step", st.tokensPerStep);
        if (st.sequencesPerStep > 0) {
          j.attribute("sequences_per_step", st.sequencesPerStep);
          j.attribute("sequences_per_device", st.sequencesPerDevice);
        }
        j.attribute("forward_s", st.forwardTime);
        j.attribute("backward_s", st.backwardTime);
      });
    if (!r.plans.empty())
      j.attributeArray("plans", [&] {
        for (const PlanRow &p : r.plans)
          j.object([&] {
            j.attribute("tp", p.tp);
            j.attribute("pp", p.pp);
            j.attribute("dp", p.dp);
            j.attribute("ep", p.ep);
            // "ok" only for a plan that compiles and fits (version 2).
            j.attribute("status", p.status == "ok" && !p.fits
                                      ? std::string("does not fit")
                                      : p.status);
            j.attribute("fits", p.fits);
            j.attribute("latency_s", p.latency);
            j.attribute("tokens_per_s", p.tokensPerSecond);
            j.attribute("mfu", p.mfu);
            j.attribute("footprint_bytes", p.footprint);
          });
      });
    j.attributeArray("levels", [&] {
      for (const std::string &l : r.levels)
        j.value(l);
    });
    j.attributeArray("ops", [&] {
      for (const OpRow &o : r.ops)
        j.object([&] {
          j.attribute("name", o.name);
          j.attribute("op", o.op);
          j.attribute("block", o.block);
          j.attribute("class", o.opClass);
          j.attribute("count", o.count);
          j.attribute("flops", o.flops);
          j.attribute("transcendentals", o.transcendentals);
          j.attributeObject("bytes", [&] {
            for (size_t i = 0; i < r.levels.size(); ++i)
              j.attribute(r.levels[i], i < o.bytes.size() ? o.bytes[i] : 0.0);
          });
          j.attribute("time_s", o.time);
          j.attribute("roofline_s", o.bound);
          j.attribute("bound_by", o.boundBy);
          j.attribute("utilization", o.utilization);
          j.attribute("energy_j", o.energy);
        });
    });
    j.attributeArray("blocks", [&] {
      for (const GroupRow &b : r.blocks)
        j.object([&] {
          j.attribute("name", b.name);
          j.attribute("ops", b.ops);
          j.attribute("flops", b.flops);
          j.attribute("time_s", b.time);
          j.attribute("energy_j", b.energy);
          j.attribute("bound_by", b.boundBy);
        });
    });
    j.attributeObject("footprint", [&] {
      j.attribute("level", r.capacityLevel);
      j.attribute("capacity_bytes", r.capacity);
      j.attribute("total_bytes", r.footprintTotal());
      j.attributeObject("bytes", [&] {
        for (const FootprintRow &f : r.footprint)
          j.attribute(f.what, f.bytes);
      });
    });
    j.attributeArray("unpriced", [&] {
      for (const UnpricedRow &u : r.unpriced)
        j.object([&] {
          j.attribute("op", u.op);
          j.attribute("count", u.count);
          j.attribute("location", u.location);
        });
    });
  });
  os << "\n";
}

void writeCsv(const CostReport &r, llvm::raw_ostream &os) {
  os << "name,op,block,class,count,flops,transcendentals";
  for (const std::string &l : r.levels)
    os << ",bytes_" << l;
  os << ",time_s,bound_by,utilization,energy_j\n";
  auto num = [&](double v) { os << hw::formatShortest(v); };
  for (const OpRow &o : r.ops) {
    os << o.name << "," << o.op << "," << o.block << "," << o.opClass << ",";
    num(o.count);
    os << ",";
    num(o.flops);
    os << ",";
    num(o.transcendentals);
    for (size_t i = 0; i < r.levels.size(); ++i) {
      os << ",";
      num(i < o.bytes.size() ? o.bytes[i] : 0.0);
    }
    os << ",";
    num(o.time);
    os << "," << o.boundBy << ",";
    num(o.utilization);
    os << ",";
    num(o.energy);
    os << "\n";
  }
}

} // namespace strata::report
