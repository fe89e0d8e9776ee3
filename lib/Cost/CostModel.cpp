//===- CostModel.cpp - The cost core --------------------------------------===//
//
// Formulas are documented in docs/cost-model.md; keep the two in step.
//
//===----------------------------------------------------------------------===//

#include "strata/Cost/CostModel.h"

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>
#include <tuple>

namespace strata::cost {

using hw::DType;
using hw::MemoryLevel;

std::string_view toString(BoundKind k) {
  switch (k) {
  case BoundKind::Compute:
    return "compute";
  case BoundKind::Memory:
    return "memory";
  case BoundKind::Latency:
    return "latency";
  case BoundKind::Overhead:
    return "overhead";
  case BoundKind::Link:
    return "link";
  }
  return "?";
}

std::string_view toString(CollectiveKind k) {
  switch (k) {
  case CollectiveKind::AllReduce:
    return "all_reduce";
  case CollectiveKind::AllGather:
    return "all_gather";
  case CollectiveKind::ReduceScatter:
    return "reduce_scatter";
  case CollectiveKind::AllToAll:
    return "all_to_all";
  case CollectiveKind::SendRecv:
    return "send_recv";
  }
  return "?";
}

std::string_view toString(CollectiveAlgorithm a) {
  switch (a) {
  case CollectiveAlgorithm::Auto:
    return "auto";
  case CollectiveAlgorithm::Ring:
    return "ring";
  case CollectiveAlgorithm::Tree:
    return "tree";
  case CollectiveAlgorithm::RecursiveHalvingDoubling:
    return "recursive_halving_doubling";
  case CollectiveAlgorithm::InNetwork:
    return "in_network";
  case CollectiveAlgorithm::Direct:
    return "direct";
  case CollectiveAlgorithm::TorusDimOrdered:
    return "torus_dim_ordered";
  case CollectiveAlgorithm::Hierarchical:
    return "hierarchical";
  }
  return "?";
}

void Estimate::accumulate(const Estimate &o, double times) {
  time += o.time * times;
  flops += o.flops * times;
  transcendentals += o.transcendentals * times;
  computeTime += o.computeTime * times;
  energy += o.energy * times;
  for (const LevelTraffic &t : o.traffic) {
    auto it = std::find_if(traffic.begin(), traffic.end(),
                           [&](const LevelTraffic &x) {
                             return x.level == t.level;
                           });
    if (it == traffic.end())
      traffic.push_back({t.level, t.bytes * times, t.time * times});
    else {
      it->bytes += t.bytes * times;
      it->time += t.time * times;
    }
  }
}

double Estimate::bytesAt(std::string_view level) const {
  for (const LevelTraffic &t : traffic)
    if (t.level == level)
      return t.bytes;
  return 0;
}

//===----------------------------------------------------------------------===//
// Memoisation
//===----------------------------------------------------------------------===//

struct CostModel::Memo {
  using MatmulKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int, double,
                               double, double, int, double, bool, int64_t,
                               bool>;
  using AttentionKey =
      std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool,
                 bool, bool, int, int, int64_t, bool, bool, int, int64_t,
                 int>;
  absl::flat_hash_map<MatmulKey, MatmulPlan> matmuls;
  absl::flat_hash_map<AttentionKey, AttentionPlan> attentions;
};

//===----------------------------------------------------------------------===//
// Construction and queries
//===----------------------------------------------------------------------===//

std::optional<LaunchMode> parseLaunchMode(llvm::StringRef s) {
  if (s == "eager")
    return LaunchMode::Eager;
  if (s == "graph")
    return LaunchMode::Graph;
  return std::nullopt;
}

llvm::StringRef toString(LaunchMode m) {
  return m == LaunchMode::Graph ? "graph" : "eager";
}

CostModel::CostModel(const hw::System &system, LaunchMode launch)
    : sys(system), launch(launch), query(system), memo(std::make_unique<Memo>()) {
  const std::vector<MemoryLevel> &levels = sys.chip.memory;
  assert(!levels.empty() && "a validated chip has memory");
  // Home: the outermost chip-scoped level (HBM, DRAM); tensors live there
  // between ops.
  homeIndex = int(levels.size()) - 1;
  for (int i = int(levels.size()) - 1; i >= 0; --i)
    if (levels[i].scope == hw::Scope::Chip) {
      homeIndex = i;
      break;
    }
  // Staging: the largest core-scoped scratchpad inside home (shared memory,
  // SRAM, VMEM); tiles are staged there for the units. Level 0 feeds the
  // units' operands (registers) and is staging only when it is the sole
  // core-scoped scratchpad.
  stagingIndex = homeIndex;
  uint64_t best = 0;
  for (int i = homeIndex > 1 ? 1 : 0; i < homeIndex; ++i)
    if (levels[i].scope == hw::Scope::Core &&
        levels[i].management == hw::Management::Scratchpad &&
        levels[i].capacity > best) {
      best = levels[i].capacity;
      stagingIndex = i;
    }
  if (stagingIndex == homeIndex && levels[0].scope == hw::Scope::Core)
    stagingIndex = 0;
}

CostModel::~CostModel() = default;

const MemoryLevel &CostModel::homeLevel() const {
  return sys.chip.memory[homeIndex];
}
const MemoryLevel &CostModel::stagingLevel() const {
  return sys.chip.memory[stagingIndex];
}

namespace {

double ceilDiv(double a, double b) { return std::ceil(a / b); }
int64_t roundUp(int64_t a, int64_t g) { return (a + g - 1) / g * g; }

/// Bytes of a tm x tn output tile's f32 (or wider) accumulator, held in
/// the innermost level.
double accumulatorBytes(double tm, double tn, double outElt) {
  return tm * tn * std::max(4.0, outElt);
}

/// Bytes of the converted output tile a narrower output is staged through
/// (the epilogue casts into the staging scratchpad, then stores), 0 when the
/// accumulator is stored as is.
double epilogueBytes(double tm, double tn, double outElt) {
  return outElt < 4 ? tm * tn * outElt : 0;
}

/// Bytes per element of a dtype (fp4 is half a byte).
double eltBytes(DType t) { return hw::bitWidth(t) / 8.0; }

} // namespace

double CostModel::matmulPeak(DType t) const {
  const hw::ComputeUnit *u = query.bestUnit(t, hw::UnitKind::Matrix);
  if (!u || u->kind != hw::UnitKind::Matrix)
    return vectorPeak(t);
  return *u->rate(t) * sys.chip.clock * sys.chip.cores * u->efficiency;
}

double CostModel::vectorPeak(DType t) const {
  // Vector units compute narrow types at their own rate when they have
  // one, else widened to f32 (bf16 softmax on CUDA cores runs in f32).
  for (DType candidate : {t, DType::f32})
    for (const hw::ComputeUnit &u : sys.chip.units)
      if (u.kind == hw::UnitKind::Vector)
        if (std::optional<double> r = u.rate(candidate))
          return *r * sys.chip.clock * sys.chip.cores * u.efficiency;
  // No vector unit: the matrix unit does elementwise work at its rate for
  // the dtype divided by its native K (one lane of the dot product).
  if (const hw::ComputeUnit *u = query.bestUnit(t))
    return *u->rate(t) * sys.chip.clock * sys.chip.cores * u->efficiency /
           std::max<int64_t>(1, u->shape.size() == 3 ? u->shape[2] : 1);
  return 0;
}

double CostModel::rooflineBound(double flops, DType t, bool matrix,
                                double homeBytes) const {
  const MemoryLevel &home = homeLevel();
  double peak = matrix ? matmulPeak(t) : vectorPeak(t);
  double tCompute = peak > 0 ? flops / peak : 0;
  double tHome =
      homeBytes / (query.aggregateReadBandwidth(home) * home.efficiency);
  return std::max(tCompute, tHome);
}

std::string CostModel::explainAboveFloor(const Estimate &e, double floor,
                                         double compulsoryBytes) const {
  std::string out;
  llvm::raw_string_ostream os(out);
  auto times = [&](double x) { os << llvm::format("%.1fx", x); };
  const hw::Chip &chip = sys.chip;
  switch (e.boundKind) {
  case BoundKind::Overhead:
    os << "launch overhead: " << llvm::format("%.3g", launchCost() * 1e6)
       << " us per op" << (launch == LaunchMode::Graph ? " (graph replay)" : "")
       << " against a floor of "
       << llvm::format("%.3g", floor * 1e6) << " us";
    return out;
  case BoundKind::Latency:
    os << "latency: the first operands arrive after the home level's "
          "latency and the pipeline fills and drains around a short body";
    return out;
  case BoundKind::Compute: {
    const hw::ComputeUnit *unit = nullptr;
    for (const hw::ComputeUnit &u : chip.units)
      if (u.name == e.boundBy)
        unit = &u;
    if (unit && unit->kind == hw::UnitKind::Vector) {
      os << "bound by " << e.boundBy << ", the vector unit: "
         << (e.transcendentals > 0
                 ? "the softmax's exponentials and row reductions per score "
                   "take longer than the matrix unit's blocks"
                 : "its elementwise work takes longer than the matrix "
                   "unit's");
      return out;
    }
    // computeTime is the matrix unit's busy time: useful FLOPs plus
    // padding and the idle cores of the last wave.
    os << "bound by " << e.boundBy << ": busy ";
    times(floor > 0 ? e.computeTime / floor : 0);
    os << " its roofline floor (tiles padded to the unit's shape, the last "
          "wave's idle cores)";
    if (e.transcendentals > 0)
      os << ", and the vector unit's softmax between the matrix unit's "
            "blocks adds to it";
    return out;
  }
  case BoundKind::Link:
    os << "bound by " << e.boundBy << ", an interconnect between devices";
    return out;
  case BoundKind::Memory:
    break;
  }
  const double traffic = e.bytesAt(e.boundBy);
  const hw::MemoryLevel *level = query.level(e.boundBy);
  if (!level) { // the on-chip network
    os << "bound by " << e.boundBy << ": operand panels moved between cores";
    if (compulsoryBytes > 0 && traffic > 0) {
      os << ", ";
      times(traffic / compulsoryBytes);
      os << " the compulsory bytes";
    }
    return out;
  }
  os << "bound by " << level->name << ": ";
  if (compulsoryBytes > 0 && traffic > 0) {
    times(traffic / compulsoryBytes);
    os << " the compulsory bytes cross it";
  } else {
    os << "its bandwidth sets the time";
  }
  if (level->management == hw::Management::Cache)
    os << ", each core loading its own operand tiles through it (a tile "
          "is multicast to several cores, TMA multicast within a "
          "thread-block cluster, only for kernels described as doing so)";
  else if (level == &homeLevel() && !e.unit.empty() &&
           llvm::any_of(chip.units, [&](const hw::ComputeUnit &u) {
             return u.name == e.unit && u.kind == hw::UnitKind::Matrix;
           }))
    os << " (operand panels re-read where tiles cannot stay resident)";
  return out;
}

double CostModel::energyPerFlop(DType t) {
  // ESTIMATE (docs/cost-model.md): datapath energy of a fused multiply-add
  // scaled to a 4-5 nm process, per FLOP (an FMA is 2).
  switch (t) {
  case DType::f64:
    return 2.5e-12;
  case DType::f32:
    return 1.0e-12;
  case DType::tf32:
    return 0.5e-12;
  case DType::bf16:
  case DType::fp16:
    return 0.3e-12;
  case DType::fp8:
  case DType::int8:
    return 0.15e-12;
  case DType::fp4:
    return 0.08e-12;
  }
  return 1e-12;
}

void CostModel::finish(Estimate &e, double peak) const {
  for (const LevelTraffic &t : e.traffic)
    if (const MemoryLevel *l = query.level(t.level))
      e.energy += t.bytes * l->energyPerByte;
  e.energy += sys.chip.staticPower * e.time;
  e.unitUtilization = (peak > 0 && e.time > 0) ? e.flops / (e.time * peak) : 0;
}

//===----------------------------------------------------------------------===//
// Matrix multiply
//===----------------------------------------------------------------------===//

Estimate CostModel::matmul(const MatmulWork &w) const {
  return planMatmul(w).estimate;
}

MatmulPlan CostModel::planMatmul(const MatmulWork &w) const {
  const int onChip =
      (w.aOnChip ? 1 : 0) | (w.bOnChip ? 2 : 0) | (w.cOnChip ? 4 : 0);
  Memo::MatmulKey key{w.batch,  w.m,      w.n,      w.k,
                      int(w.dtype), w.aBytes, w.bBytes, w.cBytes,
                      onChip,   w.stagingBudget, w.multicast,
                      w.promotionK, w.serialEpilogue};
  auto it = memo->matmuls.find(key);
  if (it != memo->matmuls.end())
    return it->second;
  MatmulPlan plan = planMatmulUncached(w);
  memo->matmuls.emplace(key, plan);
  return plan;
}

/// A matmul done as a vector-unit dot product (no matrix unit for the
/// dtype, or no tile fits the staging level).
static VectorWork asVectorWork(const MatmulWork &w) {
  VectorWork v;
  v.flops = 2.0 * double(w.batch) * double(w.m) * double(w.n) * double(w.k);
  v.elements = v.flops / 2;
  v.dtype = w.dtype;
  v.bytesRead = w.aBytes + w.bBytes;
  v.bytesWritten = w.cBytes;
  return v;
}

std::vector<int64_t> CostModel::matmulTileCandidates(DType t,
                                                     int dim) const {
  // M tiles are multiples of the unit's native M; N tiles any multiple of 8
  // up to the native N (the instruction's N is its largest: wgmma n8..n256,
  // mma.sync n8, MXU columns stream); K steps are at least 64 elements (a
  // 128-byte line of 16-bit data) and a multiple of the native K.
  const hw::ComputeUnit *unit = query.bestUnit(t, hw::UnitKind::Matrix);
  int64_t native = 1;
  if (unit && int(unit->shape.size()) > dim)
    native = unit->shape[dim];
  if (dim == 2)
    return {roundUp(std::max<int64_t>(64, native), native)};
  int64_t granule = dim == 1 ? std::min<int64_t>(native, 8) : native;
  std::vector<int64_t> sizes;
  for (int64_t s : {16, 32, 64, 128, 256})
    if (s % granule == 0)
      sizes.push_back(s);
  if (sizes.empty())
    sizes.push_back(granule);
  return sizes;
}

std::optional<Estimate>
CostModel::matmulWithTiling(const MatmulWork &w,
                            const MatmulTiling &tiling) const {
  const hw::ComputeUnit *unit = query.bestUnit(w.dtype, hw::UnitKind::Matrix);
  if (!unit || unit->kind != hw::UnitKind::Matrix || tiling.tileM <= 0)
    return std::nullopt;
  const MemoryLevel &staging = stagingLevel();
  const double inElt = eltBytes(w.dtype);
  const double outElt =
      w.cBytes / std::max(1.0, double(w.batch) * double(w.m) * double(w.n));
  const double tm = double(tiling.tileM), tn = double(tiling.tileN);
  const double tk = double(tiling.tileK);
  // Each operand's tiles at its own stored width (a quantised weight with
  // its scales, an fp8 cache beside bf16 queries); the dtype's width when
  // the caller gave no bytes.
  auto storedElt = [&](double bytes, double elements) {
    return bytes > 0 && elements > 0 ? bytes / elements : inElt;
  };
  const double aElt =
      storedElt(w.aBytes, double(w.batch) * double(w.m) * double(w.k));
  const double bElt =
      storedElt(w.bBytes, double(w.batch) * double(w.k) * double(w.n));
  const double stageBytes = (tm * aElt + tn * bElt) * tk;
  // The accumulator tile lives in the innermost level (registers), or in
  // the staging scratchpad beside the operand buffers when that is level 0.
  // A promoting kernel holds a second f32 accumulator, the MMAs' partial
  // sums between promotions.
  const double accBytes =
      accumulatorBytes(tm, tn, outElt) * (w.promotionK > 0 ? 2 : 1);
  const double stagingNeed = double(tiling.stages) * stageBytes +
                             epilogueBytes(tm, tn, outElt) +
                             (stagingIndex == 0 ? accBytes : 0);
  if (stagingIndex != homeIndex && stagingNeed > stagingRoom(w))
    return std::nullopt;
  if (stagingIndex != 0 &&
      accBytes > double(sys.chip.memory.front().capacity))
    return std::nullopt;
  // The schedule tile IR writes for it (see the strata-tile pass): per
  // output tile, K steps copy an A and a B tile home -> staging and run one
  // MMA; the accumulator is stored once.
  const MemoryLevel &home = homeLevel();
  KernelWork k;
  k.tiles = double(w.batch) * ceilDiv(double(w.m), tm) *
            ceilDiv(double(w.n), tn);
  k.cores = sys.chip.cores;
  k.trips = int64_t(ceilDiv(double(w.k), tk));
  k.pipeline = tiling.stages;
  k.loopCompute.push_back({unit->name, 2 * tm * tn * tk, w.dtype});
  TransferWork aTile{home.name, staging.name, tm * tk * aElt};
  TransferWork bTile{home.name, staging.name, tk * tn * bElt};
  if (tiling.gridRows > 0 && tiling.gridCols > 0) {
    // SUMMA on the core grid: a wave is a gridRows x gridCols rectangle of
    // output tiles; the cores of a grid row share their A tile and those of
    // a column their B tile, each fetched once and multicast.
    const double tilesM = ceilDiv(double(w.m), tm);
    const double tilesN = ceilDiv(double(w.n), tn);
    const double wavesM = ceilDiv(tilesM, double(tiling.gridRows));
    const double wavesN = ceilDiv(tilesN, double(tiling.gridCols));
    k.gridRows = tiling.gridRows;
    k.gridCols = tiling.gridCols;
    k.gridWaves = double(w.batch) * wavesM * wavesN;
    if (tiling.gridCols > 1) {
      aTile.share = tilesN / wavesN;
      aTile.axis = 1;
      aTile.hops = tiling.gridCols - 1;
    }
    if (tiling.gridRows > 1) {
      bTile.share = tilesM / wavesM;
      bTile.axis = 0;
      bTile.hops = tiling.gridRows - 1;
    }
  }
  if (tiling.multicast > 1)
    (tiling.multicastOperand == 0 ? aTile : bTile).clusterShare =
        double(tiling.multicast);
  // A resident operand's tile comes from another core's SRAM: down the
  // multicast chain when it has one, else re-laid over the whole mesh
  // (what the estimate prices for a resident copy, ProgramCost.cpp).
  const int64_t meanHops =
      std::max<int64_t>(1, int64_t(std::llround(meanGridHops())));
  auto onChip = [&](TransferWork &t, bool toCore) {
    (toCore ? t.from : t.to) = staging.name;
    if (t.share > 1)
      return;
    t.overNetwork = true;
    t.redistribute = true;
    t.hops = meanHops;
  };
  if (w.aOnChip)
    onChip(aTile, true);
  if (w.bOnChip)
    onChip(bTile, true);
  k.loopTransfers.push_back(aTile);
  k.loopTransfers.push_back(bTile);
  TransferWork cTile{staging.name, home.name, tm * tn * outElt};
  if (w.cOnChip)
    onChip(cTile, false);
  k.epilogueTransfers.push_back(cTile);
  // The accumulator is zeroed before the K loop and, for a narrower output,
  // converted after it, on the vector unit (the matrix unit when there is
  // none) — the tile.fill and tile.map cast the tile pass writes.
  std::string vectorUnit = unit->name;
  for (const hw::ComputeUnit &u : sys.chip.units)
    if (u.kind == hw::UnitKind::Vector) {
      vectorUnit = u.name;
      break;
    }
  k.prologueCompute.push_back({vectorUnit, tm * tn, DType::f32});
  // Promotion: one multiply-add per accumulator element every promotionK
  // elements of K, after the MMAs it waits for (so not overlapped with
  // them).
  if (w.promotionK > 0)
    k.loopCompute.push_back(
        {vectorUnit, 2 * tm * tn * tk / double(w.promotionK), DType::f32});
  if (outElt < 4)
    k.epilogueCompute.push_back({vectorUnit, tm * tn, DType::f32});
  k.serialEpilogue = w.serialEpilogue;
  k.idealHomeBytes = (w.aOnChip ? 0 : w.aBytes) + (w.bOnChip ? 0 : w.bBytes) +
                     (w.cOnChip ? 0 : w.cBytes);
  Estimate e = kernel(k);
  // Report useful work, not the padded work the unit did (whose energy
  // the kernel charged).
  e.flops = 2.0 * double(w.batch) * double(w.m) * double(w.n) * double(w.k);
  double peak = *unit->rate(w.dtype) * sys.chip.clock * unit->efficiency *
                double(sys.chip.cores);
  e.unitUtilization = e.time > 0 ? e.flops / (e.time * peak) : 0;
  return e;
}

Estimate CostModel::kernel(const KernelWork &w) const {
  const hw::Chip &chip = sys.chip;
  const MemoryLevel &home = homeLevel();
  const MemoryLevel &staging = stagingLevel();
  // A core fills (and drains) its scratchpad at most at the scratchpad's
  // write bandwidth.
  const double perCoreFill = staging.writeBandwidth * staging.efficiency;
  const MemoryLevel *cache = nullptr;
  for (int i = stagingIndex + 1; i < homeIndex; ++i)
    if (chip.memory[i].management == hw::Management::Cache)
      cache = &chip.memory[i];

  // Per-core time of a list of compute ops, one after the other, and the
  // busiest unit (for bound-by).
  std::string busiestUnit;
  double busiestTime = 0;
  auto computeTime = [&](const std::vector<UnitWork> &ops, double times) {
    double t = 0;
    for (const UnitWork &u : ops) {
      double rate = 0;
      for (const hw::ComputeUnit &cu : chip.units)
        if (cu.name == u.unit) {
          std::optional<double> r = cu.rate(u.dtype);
          if (!r)
            r = cu.rate(DType::f32);
          rate = r ? *r * chip.clock * cu.efficiency : 0;
        }
      double ut = rate > 0 ? u.flops / rate : 0;
      t += ut;
      if (ut * times > busiestTime) {
        busiestTime = ut * times;
        busiestUnit = u.unit;
      }
    }
    return t;
  };
  // A core receives over the network at its links' bandwidth: one link per
  // grid axis (a row multicast and a column multicast arrive on different
  // links), pipelined with the writes into its scratchpad.
  const hw::OnChipNetwork *noc = chip.noc ? &*chip.noc : nullptr;
  auto isNetwork = [&](const TransferWork &t) {
    return noc && (t.share > 1 || t.overNetwork);
  };
  auto networkTime = [&](const std::vector<TransferWork> &ts) {
    double perAxis[3] = {0, 0, 0};
    for (const TransferWork &t : ts)
      if (isNetwork(t))
        perAxis[t.axis == 0 ? 0 : t.axis == 1 ? 1 : 2] += t.bytes;
    double worst = std::max({perAxis[0], perAxis[1], perAxis[2]});
    return noc && noc->linkBandwidth > 0 ? worst / noc->linkBandwidth : 0.0;
  };
  auto writeTime = [&](const std::vector<TransferWork> &ts) {
    double b = 0;
    for (const TransferWork &t : ts)
      b += t.bytes;
    return b / perCoreFill;
  };
  auto transferTime = [&](const std::vector<TransferWork> &ts) {
    return std::max(writeTime(ts), networkTime(ts));
  };
  const double trips = double(w.trips);
  const double cPro = computeTime(w.prologueCompute, 1);
  const double cLoop = computeTime(w.loopCompute, trips);
  const double cEpi = computeTime(w.epilogueCompute, 1);
  const double tPro = transferTime(w.prologueTransfers);
  const double tLoop = transferTime(w.loopTransfers);
  const double tEpi = transferTime(w.epilogueTransfers);
  const double tileCompute = cPro + trips * cLoop + cEpi;
  const double tileTransfer = tPro + trips * tLoop + tEpi;
  const double tileNetwork = networkTime(w.prologueTransfers) +
                             trips * networkTime(w.loopTransfers) +
                             networkTime(w.epilogueTransfers);
  const double tileWrite = writeTime(w.prologueTransfers) +
                           trips * writeTime(w.loopTransfers) +
                           writeTime(w.epilogueTransfers);
  double perTile = w.pipeline >= 2 ? std::max(tileCompute, tileTransfer)
                                   : tileCompute + tileTransfer;
  if (w.serialEpilogue) {
    // The stores drain after the loop, each core at its share of home's
    // bandwidth (every core of a wave stores at once), before the next
    // tile: the epilogue adds to the loop instead of overlapping it.
    double drainBytes = 0;
    for (const TransferWork &t : w.epilogueTransfers)
      if (t.to == home.name)
        drainBytes += t.bytes;
    const double active = std::max<int64_t>(
        1, std::min<int64_t>(std::max<int64_t>(1, w.cores), chip.cores));
    const double drain =
        drainBytes * std::min(double(active), std::max(1.0, w.tiles)) /
        (query.aggregateReadBandwidth(home) * home.efficiency);
    const double loopCompute = cPro + trips * cLoop;
    const double loopTransfer = tPro + trips * tLoop;
    perTile = (w.pipeline >= 2 ? std::max(loopCompute, loopTransfer)
                               : loopCompute + loopTransfer) +
              cEpi + std::max(tEpi, drain);
  }
  // A grid mapping fixes the rectangle of cores a wave runs on; otherwise
  // cores are interchangeable.
  const bool onGrid = w.gridRows > 0 && w.gridCols > 0;
  const int64_t cores =
      onGrid ? std::min(w.gridRows * w.gridCols, chip.cores)
             : std::max<int64_t>(1, std::min(w.cores, chip.cores));
  const double waves = onGrid && w.gridWaves > 0
                           ? w.gridWaves
                           : ceilDiv(w.tiles, double(cores));
  const double tCompute = waves * tileCompute;
  const double tFill = waves * tileTransfer;
  const double tNetwork = waves * tileNetwork;
  const double tCores = waves * perTile;

  // Chip-wide: the traffic through each level against its bandwidth. A
  // multicast tile crosses home once per `share` cores that receive it.
  // A tile multicast within a cluster is written into every receiving
  // core's staging level but read from the cache (and home) once.
  double staged = 0, cached = 0, stagedFromHome = 0, networkBytes = 0,
         linkBytes = 0;
  double redistributed = 0;
  int64_t maxHops = 0;
  auto addStaged = [&](const std::vector<TransferWork> &ts, double times) {
    for (const TransferWork &t : ts) {
      if (t.from == home.name || t.to == home.name) {
        const double cluster = std::max(1.0, t.clusterShare);
        staged += t.bytes * times;
        cached += t.bytes * times / cluster;
        stagedFromHome +=
            t.bytes * times / (std::max(1.0, t.share) * cluster);
      }
      if (isNetwork(t)) {
        networkBytes += t.bytes * times;
        // A multicast chain crosses one link per receiving core; a
        // core-to-core copy crosses every hop of its route.
        linkBytes += t.bytes * times *
                     (t.share > 1 ? 1.0 : double(std::max<int64_t>(1, t.hops)));
        maxHops = std::max(maxHops, t.hops);
        if (t.redistribute)
          redistributed += t.bytes * times;
      }
    }
  };
  addStaged(w.prologueTransfers, w.tiles);
  addStaged(w.loopTransfers, w.tiles * trips);
  addStaged(w.epilogueTransfers, w.tiles);
  double homeBytes = stagedFromHome;
  if (cache && w.idealHomeBytes > 0)
    homeBytes = std::min(homeBytes, w.idealHomeBytes);
  homeBytes = std::max(homeBytes, w.idealHomeBytes);
  const double tHome =
      homeBytes / (query.aggregateReadBandwidth(home) * home.efficiency);
  double tCache = 0;
  if (cache)
    tCache = cached / (query.aggregateReadBandwidth(*cache) * cache->efficiency);
  // Resident tensors re-laid between kernels load the whole network.
  const double tSpread = gridRedistributionTime(redistributed);
  const double body = std::max({tCores, tHome, tCache, tSpread});
  // Pipeline fill (the first transfers arrive after the home latency) and
  // drain (the last tile's results are written back).
  const double fillDrain = home.latency +
                           (tPro + (w.pipeline >= 2 ? tLoop : 0)) + tEpi +
                           (noc ? double(maxHops) * noc->hopLatency : 0);

  Estimate e;
  e.time = body + fillDrain + launchCost();
  e.computeTime = tCompute;
  e.unit = busiestUnit;
  double flops = 0;
  for (const UnitWork &u : w.prologueCompute)
    flops += u.flops * w.tiles;
  for (const UnitWork &u : w.loopCompute)
    flops += u.flops * w.tiles * trips;
  for (const UnitWork &u : w.epilogueCompute)
    flops += u.flops * w.tiles;
  e.flops = flops;
  const double largest = std::max({tCompute, tFill, tHome, tCache, tSpread});
  if (fillDrain + launchCost() > largest) {
    bool launchBound = launchCost() > fillDrain;
    e.boundKind = launchBound ? BoundKind::Overhead : BoundKind::Latency;
    e.boundBy = launchBound ? "launch" : "latency";
  } else if (largest == tCompute) {
    e.boundKind = BoundKind::Compute;
    e.boundBy = busiestUnit;
  } else if (largest == tHome) {
    e.boundKind = BoundKind::Memory;
    e.boundBy = home.name;
  } else if (largest == tCache) {
    e.boundKind = BoundKind::Memory;
    e.boundBy = cache->name;
  } else if (largest == tSpread || tNetwork > waves * tileWrite) {
    // The fill is paced by the links, not by the scratchpad's write port.
    e.boundKind = BoundKind::Link;
    e.boundBy = kNetworkLevel;
  } else {
    e.boundKind = BoundKind::Memory;
    e.boundBy = staging.name;
  }
  if (stagingIndex != homeIndex)
    e.traffic.push_back({staging.name, staged, tFill});
  if (cache)
    e.traffic.push_back({cache->name, cached, tCache});
  e.traffic.push_back({home.name, homeBytes, tHome});
  if (networkBytes > 0) {
    e.traffic.push_back({std::string(kNetworkLevel), networkBytes,
                         std::max(tNetwork, tSpread)});
    e.energy += linkBytes * noc->energyPerByte;
  }
  for (const auto *list :
       {&w.prologueCompute, &w.loopCompute, &w.epilogueCompute})
    for (const UnitWork &u : *list)
      e.energy += u.flops * energyPerFlop(u.dtype) *
                  (list == &w.loopCompute ? w.tiles * trips : w.tiles);
  finish(e, 0);
  return e;
}

double CostModel::stagingRoom(const MatmulWork &w) const {
  const double capacity = double(stagingLevel().capacity);
  return w.stagingBudget > 0 ? std::min(capacity, w.stagingBudget) : capacity;
}

std::optional<MatmulPlan>
CostModel::planMatmulOnGrid(const MatmulWork &w) const {
  const hw::ComputeUnit *unit = query.bestUnit(w.dtype, hw::UnitKind::Matrix);
  const std::array<int64_t, 2> grid = *sys.chip.grid;
  const double inElt = eltBytes(w.dtype);
  const double outElt =
      w.cBytes / std::max(1.0, double(w.batch) * double(w.m) * double(w.n));
  const int64_t m0 = unit->shape.size() > 0 ? unit->shape[0] : 1;
  const int64_t n0 = std::min<int64_t>(
      unit->shape.size() > 1 ? unit->shape[1] : 1, 8);
  const int64_t k0 = unit->shape.size() > 2 ? unit->shape[2] : 1;
  // Tile shapes in steps of the unit's native size (at least 8) up to 256,
  // then in steps of 64 up to 1024 for large scratchpads (the search is
  // over tile shapes, not tensor sizes: at most 44 x 44 x 3 candidates
  // whatever the matmul, most refused at once by capacity), the rectangle
  // of the grid the output tiles fill, K steps of 32..128, double-buffered
  // when it fits.
  std::optional<MatmulPlan> best;
  auto sizesUpTo = [](int64_t granule, int64_t extent) {
    std::vector<int64_t> sizes;
    const int64_t step = std::max<int64_t>(granule, 8);
    const int64_t limit =
        std::min<int64_t>(1024, roundUp(std::max<int64_t>(1, extent), step));
    for (int64_t s = step; s <= limit; s += (s < 256 ? step : 64))
      if (s % granule == 0)
        sizes.push_back(s);
    if (sizes.empty())
      sizes.push_back(roundUp(step, granule));
    return sizes;
  };
  for (int64_t tk : {int64_t(32), int64_t(64), int64_t(128)}) {
    tk = roundUp(tk, k0);
    if (tk > std::max<int64_t>(32, roundUp(w.k, 8)))
      continue;
    for (int64_t tm : sizesUpTo(m0, w.m))
      for (int64_t tn : sizesUpTo(n0, w.n)) {
        MatmulTiling t;
        t.tileM = tm;
        t.tileN = tn;
        t.tileK = tk;
        const double stageBytes = double(tm + tn) * double(tk) * inElt;
        const double fixed =
            epilogueBytes(double(tm), double(tn), outElt) +
            (stagingIndex == 0
                 ? accumulatorBytes(double(tm), double(tn), outElt)
                 : 0.0);
        const int64_t trips = int64_t(ceilDiv(double(w.k), double(tk)));
        const double room = stagingRoom(w);
        t.stages = trips >= 2 && fixed + 2 * stageBytes <= room ? 2 : 1;
        if (fixed + double(t.stages) * stageBytes > room)
          continue;
        const double tilesM = ceilDiv(double(w.m), double(tm));
        const double tilesN = ceilDiv(double(w.n), double(tn));
        t.gridRows = std::min<int64_t>(grid[0], int64_t(tilesM));
        t.gridCols = std::min<int64_t>(grid[1], int64_t(tilesN));
        t.tiles = double(w.batch) * tilesM * tilesN;
        t.waves = double(w.batch) * ceilDiv(tilesM, double(t.gridRows)) *
                  ceilDiv(tilesN, double(t.gridCols));
        std::optional<Estimate> e = matmulWithTiling(w, t);
        if (e && (!best || e->time < best->estimate.time))
          best = MatmulPlan{t, *e};
      }
  }
  return best;
}

MatmulPlan CostModel::planMatmulUncached(const MatmulWork &w) const {
  const hw::ComputeUnit *unit = query.bestUnit(w.dtype, hw::UnitKind::Matrix);
  if (!unit || unit->kind != hw::UnitKind::Matrix)
    return {MatmulTiling{}, vector(asVectorWork(w))};
  // A grid chip also gets the SUMMA mappings; the cheaper plan wins.
  std::optional<MatmulPlan> onGrid;
  if (sys.chip.grid && sys.chip.noc)
    onGrid = planMatmulOnGrid(w);
  const int64_t tileK = matmulTileCandidates(w.dtype, 2).front();
  const double inElt = eltBytes(w.dtype);
  // Search: every (M, N) tile no larger than the padded problem, with as
  // many stages (up to 4) as the staging level holds; the cheapest wins,
  // ties to the first candidate (deterministic).
  std::optional<MatmulPlan> best;
  for (int64_t tm : matmulTileCandidates(w.dtype, 0)) {
    if (tm > std::max<int64_t>(matmulTileCandidates(w.dtype, 0).front(),
                               roundUp(w.m, 8)))
      continue;
    for (int64_t tn : matmulTileCandidates(w.dtype, 1)) {
      if (tn > std::max<int64_t>(16, roundUp(w.n, 8)))
        continue;
      MatmulTiling t;
      t.tileM = tm;
      t.tileN = tn;
      t.tileK = tileK;
      double stageBytes = double(tm + tn) * double(tileK) * inElt;
      double outElt =
          w.cBytes /
          std::max(1.0, double(w.batch) * double(w.m) * double(w.n));
      double accBytes = accumulatorBytes(double(tm), double(tn), outElt);
      double room = stagingRoom(w) -
                    epilogueBytes(double(tm), double(tn), outElt) -
                    (stagingIndex == 0 ? accBytes : 0.0);
      t.stages = stagingIndex == homeIndex
                     ? 2
                     : int64_t(std::min(4.0, std::floor(room / stageBytes)));
      if (t.stages < 1)
        continue;
      // More buffers than K steps would have nothing to hold.
      t.stages = std::min<int64_t>(
          t.stages, std::max<int64_t>(1, int64_t(ceilDiv(double(w.k),
                                                         double(tileK)))));
      t.tiles = double(w.batch) * ceilDiv(double(w.m), double(tm)) *
                ceilDiv(double(w.n), double(tn));
      t.waves = ceilDiv(t.tiles, double(sys.chip.cores));
      std::optional<Estimate> e = matmulWithTiling(w, t);
      if (e && (!best || e->time < best->estimate.time))
        best = MatmulPlan{t, *e};
      // A cluster's cores compute neighbouring tiles that share the
      // multicast operand's tile: A along N, B along M.
      const int64_t cluster = sys.chip.multicastCores;
      if (!w.multicast || cluster <= 1)
        continue;
      for (int operand : {0, 1}) {
        const double along = operand == 0 ? ceilDiv(double(w.n), double(tn))
                                          : ceilDiv(double(w.m), double(tm));
        if (along < double(cluster))
          continue;
        MatmulTiling mt = t;
        mt.multicast = cluster;
        mt.multicastOperand = operand;
        std::optional<Estimate> me = matmulWithTiling(w, mt);
        if (me && (!best || me->time < best->estimate.time))
          best = MatmulPlan{mt, *me};
      }
    }
  }
  if (onGrid && (!best || onGrid->estimate.time <= best->estimate.time))
    return *onGrid;
  if (!best) // not even the smallest tile fits the staging level
    return {MatmulTiling{}, vector(asVectorWork(w))};
  return *best;
}

//===----------------------------------------------------------------------===//
// Vector work and data movement
//===----------------------------------------------------------------------===//

Estimate CostModel::vector(const VectorWork &w) const {
  const hw::Chip &chip = sys.chip;
  const MemoryLevel &home = homeLevel();
  double peak = vectorPeak(w.dtype);
  double work = w.flops + w.transcendentals * kTranscendentalFlops;
  double tCompute = peak > 0 ? work / peak : 0;
  double bytes = w.bytesRead + w.bytesWritten;
  double tHome =
      bytes / (query.aggregateReadBandwidth(home) * home.efficiency);
  Estimate e;
  e.flops = w.flops;
  e.transcendentals = w.transcendentals;
  e.computeTime = tCompute;
  for (const hw::ComputeUnit &u : chip.units)
    if (u.kind == hw::UnitKind::Vector) {
      e.unit = u.name;
      break;
    }
  double body = std::max(tCompute, tHome);
  double fixed = home.latency + launchCost();
  e.time = body + fixed;
  if (fixed > body) {
    e.boundKind = launchCost() > home.latency ? BoundKind::Overhead
                                                     : BoundKind::Latency;
    e.boundBy = e.boundKind == BoundKind::Overhead ? "launch" : "latency";
  } else if (tCompute >= tHome) {
    e.boundKind = BoundKind::Compute;
    e.boundBy = e.unit;
  } else {
    e.boundKind = BoundKind::Memory;
    e.boundBy = home.name;
  }
  e.traffic.push_back({home.name, bytes, tHome});
  e.energy = w.flops * energyPerFlop(DType::f32) +
             w.transcendentals * kTranscendentalFlops *
                 energyPerFlop(DType::f32);
  finish(e, peak);
  return e;
}

Estimate CostModel::withEpilogue(const Estimate &producer,
                                 const VectorWork &extra) const {
  const MemoryLevel &home = homeLevel();
  double peak = vectorPeak(extra.dtype);
  double work = extra.flops + extra.transcendentals * kTranscendentalFlops;
  double tCompute = peak > 0 ? work / peak : 0;
  double bytes = extra.bytesRead + extra.bytesWritten;
  double tHome =
      bytes / (query.aggregateReadBandwidth(home) * home.efficiency);
  // Inputs kept on chip are re-laid over the network into the output
  // tiles' cores (the whole tensor at once, as every resident read).
  const double tNetwork = gridRedistributionTime(extra.networkBytesRead);
  Estimate e = producer;
  const double tExtra = std::max({tCompute, tHome, tNetwork});
  e.time += tExtra;
  e.flops += extra.flops;
  e.transcendentals += extra.transcendentals;
  bool found = false;
  for (LevelTraffic &t : e.traffic)
    if (t.level == home.name) {
      t.bytes += bytes;
      t.time += tHome;
      found = true;
    }
  if (!found)
    e.traffic.push_back({home.name, bytes, tHome});
  if (extra.networkBytesRead > 0 && sys.chip.noc) {
    bool onNetwork = false;
    for (LevelTraffic &t : e.traffic)
      if (t.level == kNetworkLevel) {
        t.bytes += extra.networkBytesRead;
        t.time += tNetwork;
        onNetwork = true;
      }
    if (!onNetwork)
      e.traffic.push_back({std::string(kNetworkLevel), extra.networkBytesRead,
                           tNetwork});
    e.energy += extra.networkBytesRead * meanGridHops() *
                sys.chip.noc->energyPerByte;
  }
  e.energy += bytes * home.energyPerByte +
              (extra.flops + extra.transcendentals * kTranscendentalFlops) *
                  energyPerFlop(DType::f32) +
              sys.chip.staticPower * tExtra;
  return e;
}

Estimate CostModel::move(const MoveWork &w) const {
  VectorWork v;
  v.bytesRead = w.bytesRead;
  v.bytesWritten = w.bytesWritten;
  Estimate e = vector(v);
  e.unit.clear();
  if (e.boundKind == BoundKind::Compute) {
    e.boundKind = BoundKind::Memory;
    e.boundBy = homeLevel().name;
  }
  return e;
}

//===----------------------------------------------------------------------===//
// Fused attention
//===----------------------------------------------------------------------===//

std::string_view toString(MatrixPath p) {
  switch (p) {
  case MatrixPath::Synchronous:
    return "synchronous";
  case MatrixPath::Asynchronous:
    return "asynchronous";
  case MatrixPath::Any:
    break;
  }
  return "any";
}

std::optional<MatrixPath> parseMatrixPath(std::string_view s) {
  if (s == "any")
    return MatrixPath::Any;
  if (s == "synchronous")
    return MatrixPath::Synchronous;
  if (s == "asynchronous")
    return MatrixPath::Asynchronous;
  return std::nullopt;
}

const hw::ComputeUnit *CostModel::matrixUnit(DType t, MatrixPath path) const {
  const hw::ComputeUnit *best = nullptr;
  for (const hw::ComputeUnit &u : sys.chip.units) {
    if (u.kind != hw::UnitKind::Matrix ||
        (path == MatrixPath::Synchronous && u.asynchronous) ||
        (path == MatrixPath::Asynchronous && !u.asynchronous))
      continue;
    std::optional<double> r = u.rate(t);
    if (r && (!best || *r > *best->rate(t)))
      best = &u;
  }
  // A chip without an asynchronous path runs such a kernel's products on
  // its fastest unit (the path is how the kernel is written, not a unit).
  if (!best && path == MatrixPath::Asynchronous)
    return matrixUnit(t, MatrixPath::Any);
  return best;
}

Estimate CostModel::attention(const AttentionWork &w) const {
  return planAttention(w).estimate;
}

AttentionPlan CostModel::planAttention(const AttentionWork &w) const {
  Memo::AttentionKey key{w.batch,
                         w.heads,
                         w.kvHeads,
                         w.qLen,
                         w.kvLen,
                         w.headDim,
                         w.causal,
                         w.backward,
                         w.asyncOverlap,
                         int(w.path),
                         int(w.dtype),
                         w.vHeadDim,
                         w.valuesInKeys,
                         w.packGroupedHeads,
                         w.kvDType ? int(*w.kvDType) : -1,
                         w.window,
                         int(w.qOnChip) | int(w.kOnChip) << 1 |
                             int(w.vOnChip) << 2 | int(w.oOnChip) << 3};
  auto it = memo->attentions.find(key);
  if (it != memo->attentions.end())
    return it->second;
  AttentionPlan p = planAttentionUncached(w);
  memo->attentions.emplace(key, p);
  return p;
}

/// Bytes per core of the backward's flash schedule on a warpgroup (wgmma)
/// unit, as attentionBuffers gives the forward's (staging, innermost). A
/// core owns a K/V block of tn keys, whose dK and dV accumulate in f32
/// registers, and walks query blocks of tm rows (FA2 Algorithm 2, FA3's
/// backward). Staging: the K/V block, `stages` Q and dO blocks, P and dS
/// (multiplied transposed from there) and the f32 dQ share for the
/// reduce-add. Registers: S and dP (f32), dK and dV, the dQ share and the
/// row vectors (log-sum-exp, rowsum(dO∘O)). This is what limits
/// FlashAttention-3's head-dim-128 backward to 64 x 128 blocks where its
/// forward runs 128 x 128. (The mma.sync path bounds its backward by the
/// accumulators per warp instead, in planAttentionOn.)
static std::pair<double, double>
wgmmaBackwardBuffers(const AttentionWork &w, const AttentionTiling &t,
                     double elt, double kvElt) {
  const double d = double(w.headDim), tm = double(t.tileM),
               tn = double(t.tileN);
  const double dv = w.vHeadDim > 0 ? double(w.vHeadDim) : d;
  const double dkv = w.valuesInKeys ? d : d + dv;
  double staging = tn * dkv * kvElt + double(t.stages) * 2 * tm * d * elt +
                   2 * tm * tn * elt + tm * d * 4;
  double inner = 2 * tm * tn * 4 + tn * dkv * 4 + tm * d * 4 + 2 * tm * 4;
  return {staging, inner};
}

std::pair<double, double>
CostModel::attentionBuffers(const AttentionWork &w,
                            const AttentionTiling &t) const {
  const double elt = eltBytes(w.dtype);
  const double kvElt = w.kvDType ? eltBytes(*w.kvDType) : elt;
  const double d = double(w.headDim), tm = double(t.tileM),
               tn = double(t.tileN);
  const double dv = w.vHeadDim > 0 ? double(w.vHeadDim) : d;
  // Columns of one cached position: K and V, or K alone when V is its prefix.
  const double dkv = w.valuesInKeys ? d : d + dv;
  // Staging: the Q block and `stages` K and V blocks.
  double staging = tm * d * elt + double(t.stages) * tn * dkv * kvElt;
  // Innermost level: S (f32), P (input dtype), the f32 output accumulator,
  // five row vectors (running max, block max, correction, running sum,
  // block sum) and the 1x1 softmax scale. With split-KV the combine has its
  // own accumulator and vectors and streams each split's partial O, max and
  // sum straight into this level, double-buffered (they are used once, so
  // staging them would only take room from the K/V blocks), and converts
  // its result into an output block there.
  double inner = tm * tn * 4 + tm * tn * elt + tm * dv * 4 + (5 * tm + 1) * 4;
  if (t.splits > 1)
    inner += tm * dv * 4 + 5 * tm * 4 + 2 * (tm * dv * 4 + 2 * tm * 4) +
             tm * dv * elt;
  // A quantised cache's K and V blocks, dequantised into the queries' type.
  if (w.kvDType && *w.kvDType != w.dtype)
    inner += tn * dkv * elt;
  return {staging, inner};
}

AttentionPlan CostModel::planAttentionUncached(const AttentionWork &w) const {
  if (stagingIndex == homeIndex)
    return {}; // callers fall back to the unfused graph
  if (w.path != MatrixPath::Any) {
    const hw::ComputeUnit *unit = matrixUnit(w.dtype, w.path);
    return unit ? planAttentionOn(w, *unit) : AttentionPlan{};
  }
  // The kernel is ours to choose: the cheapest matrix unit for the shape
  // (ties to the first in the chip's order).
  std::optional<AttentionPlan> best;
  for (const hw::ComputeUnit &u : sys.chip.units) {
    if (u.kind != hw::UnitKind::Matrix || !u.rate(w.dtype))
      continue;
    AttentionPlan p = planAttentionOn(w, u);
    if (p.tiling.tileM > 0 &&
        (!best || p.estimate.time < best->estimate.time))
      best = p;
  }
  return best ? *best : AttentionPlan{};
}

AttentionPlan CostModel::planAttentionOn(const AttentionWork &w,
                                         const hw::ComputeUnit &matrix) const {
  const hw::Chip &chip = sys.chip;
  const hw::ComputeUnit *unit = &matrix;
  const MemoryLevel &home = homeLevel();
  const MemoryLevel &staging = stagingLevel();
  const double elt = eltBytes(w.dtype);
  // A quantised KV cache streams at its own width.
  const double kvElt = w.kvDType ? eltBytes(*w.kvDType) : elt;
  const double d = double(w.headDim);
  const double dv = w.vHeadDim > 0 ? double(w.vHeadDim) : d;
  const double dkv = w.valuesInKeys ? d : d + dv;
  // With packed heads a query block holds qLen x (heads per kv head) rows.
  const int64_t rows =
      w.packGroupedHeads ? w.qLen * (w.heads / std::max<int64_t>(1, w.kvHeads))
                         : w.qLen;
  const bool causal = w.causal && !w.packGroupedHeads;
  // A window that hides keys from some query (a global layer's window
  // covers every position and changes nothing).
  const double window =
      causal && w.window > 0 && w.window < w.kvLen ? double(w.window) : 0;
  const double perCoreMatrix =
      *unit->rate(w.dtype) * chip.clock * unit->efficiency;
  const double perCoreVector = vectorPeak(w.dtype) / double(chip.cores);
  const double perCoreFill = staging.writeBandwidth * staging.efficiency;

  // Query blocks of 128 rows (fewer for short queries, down to the unit's
  // native M); K/V blocks as large as 128 while every buffer of the
  // schedule, with double-buffered K/V, fits its level; when even 16-key
  // blocks do not, smaller query blocks (a chip whose one scratchpad also
  // holds the accumulators).
  const int64_t m0 = unit->shape.empty() ? 1 : unit->shape[0];
  const double cores = double(chip.cores);
  double groups =
      double(w.batch) * double(w.packGroupedHeads ? w.kvHeads : w.heads);
  // A core grid with a network reduces split-KV partials core to core
  // (AttentionTiling::combineOnNetwork).
  const bool gridCombine =
      chip.grid && chip.noc && chip.noc->linkBandwidth > 0;
  auto splitsFor = [&](double qTiles, double kvBlocks) {
    double room = std::floor(cores / (groups * qTiles));
    // Split-KV (FlashDecoding): when there are fewer query tiles than
    // cores, each tile's K/V range is split over several cores and the
    // partial results combined through home (small and not charged).
    double s = 1;
    if (!causal && groups * qTiles < cores)
      s = std::min(kvBlocks, room);
    return std::max(1.0, s);
  };
  const MemoryLevel &inner = chip.memory.front();
  const bool wgmmaBackward = w.backward && unit->asynchronous;
  auto fits = [&](const AttentionTiling &c) {
    auto [s, a] = wgmmaBackward ? wgmmaBackwardBuffers(w, c, elt, kvElt)
                                : attentionBuffers(w, c);
    if (stagingIndex == 0)
      return s + a <= double(staging.capacity);
    return s <= double(staging.capacity) && a <= double(inner.capacity);
  };
  const double usefulGroups = groups;
  auto price = [&](AttentionTiling t) -> AttentionPlan {
  double groups = usefulGroups;
  // A third K/V buffer when it fits (one more block in flight), but never
  // more buffers than the loop has blocks.
  AttentionTiling deeper = t;
  deeper.stages = 3;
  if (fits(deeper))
    t = deeper;
  t.stages = std::clamp<int64_t>(t.kvBlocks, 1, t.stages);
  const double tileM = double(t.tileM), tileN = double(t.tileN);

  // Per K/V block: forward is 2 matmuls (QKᵀ, PV), backward 5 (QKᵀ
  // recomputed, dV, dP, dQ, dK) — the FlashAttention 2.5x convention.
  // Forward: QKᵀ over the key width, PV over the value width.
  const double mmFlops =
      w.backward ? 5 * 2 * tileM * tileN * d : 2 * tileM * tileN * (d + dv);
  // Softmax per score: one exp, and ~4 vector FLOPs (scale, max, subtract,
  // sum).
  const double scores = tileM * tileN;
  // A quantised cache: one conversion per K and V element of the block.
  const bool dequant = w.kvDType && *w.kvDType != w.dtype;
  // Backward per score: P = exp(S·scale − lse) (an FMA and an exp),
  // dS = P∘(dP − D) (two) and P and dS converted to the input type (two):
  // one vector FLOP more than the forward's.
  const double vecWork =
      scores * (kTranscendentalFlops + (w.backward ? 5 : 4)) +
      (dequant ? tileN * dkv : 0);
  const double loadBytes = tileN * dkv * kvElt + // K, V
                           (w.backward ? tileN * dkv * elt : 0.0); // dK, dV
  double tMm = mmFlops / perCoreMatrix;
  if (w.path == MatrixPath::Synchronous && !unit->asynchronous) {
    // Synchronous MMAs (mma.sync) take their operands from registers:
    // every warp loads the shared K/V (backward: Q/dO) block it multiplies
    // out of the staging level, so each staged byte feeds 2·r/e FLOPs for
    // r rows per warp. A warp's f32 accumulators (forward O and S, backward
    // dK, dV, S and dP) share its registers: r is the largest multiple of
    // the unit's native M whose accumulators fit an eighth of the core's
    // innermost level (8 resident warps, two 4-warp blocks).
    const double warpBytes = double(chip.memory.front().capacity) / 8;
    const double rowBytes =
        w.backward ? (2 * d + 2 * tileM) * 4 : (d + tileN) * 4;
    const double rows = std::max(
        double(m0), std::floor(warpBytes / rowBytes / double(m0)) * double(m0));
    const double readBw = staging.readBandwidth * staging.efficiency;
    tMm = std::max(tMm, mmFlops * elt / (2 * rows * readBw));
  } else if (unit->asynchronous) {
    // A warpgroup MMA (wgmma) streams its B operand from the staging level
    // once per m0-row warpgroup slice and a staged A operand once per
    // warpgroup sharing its rows. A core runs its products on two consumer
    // warpgroups (FlashAttention-3, Shah et al. 2024, section 3.1): they
    // split M when it has two slices, N otherwise (both then read all of
    // A). The forward's QKᵀ reads both operands there and PV takes P from
    // registers; in the backward all five products read both (section 3
    // and appendix B: P and dS are written to shared memory to be
    // multiplied transposed into dV and dK). The block's fills (K/V;
    // backward: Q and dO, the P and dS stores, the f32 dQ share written
    // for the TMA reduce-add and read by it) share the level's bandwidth.
    constexpr double kConsumerWarpgroups = 2;
    const double readBw = staging.readBandwidth * staging.efficiency;
    const double mSlice = double(m0);
    auto operands = [&](double m, double n, double k, bool aStaged) {
      double b = k * n * std::max(1.0, m / mSlice);
      double a = aStaged
                     ? m * k * std::max(1.0, kConsumerWarpgroups * mSlice / m)
                     : 0.0;
      return (a + b) * elt;
    };
    double bytes;
    if (w.backward)
      bytes = 2 * operands(tileM, tileN, d, true) +  // S = QKᵀ, dP = dO·Vᵀ
              2 * operands(tileN, d, tileM, true) +  // dV, dK
              operands(tileM, d, tileN, true) +      // dQ = dS·K
              2 * tileM * d * elt +                  // Q, dO fills
              2 * tileM * tileN * elt +              // P, dS stores
              2 * tileM * d * 4;                     // dQ share
    else
      bytes = operands(tileM, tileN, d, true) + operands(tileM, dv, tileN, false) +
              tileN * dkv * kvElt;
    tMm = std::max(tMm, bytes / readBw);
  }
  const double tVec = vecWork / perCoreVector;
  const double tLoad = loadBytes / perCoreFill;
  // Asynchronous schedules overlap loads with compute; softmax and the
  // matrix unit take turns inside a block in both FA2 and FA3 (the exp
  // throughput limit FA3 describes), so they add.
  // Backward: each block adds its dS·K share into the f32 dQ tile with
  // atomics at the chip's cache (FA2 Algorithm 2; FA3 with TMA reduce-add),
  // through that level's bandwidth share per core.
  double tAtomic = 0;
  if (w.backward) {
    const MemoryLevel *shared = &home;
    for (int i = stagingIndex + 1; i < homeIndex; ++i)
      if (chip.memory[i].scope == hw::Scope::Chip &&
          chip.memory[i].management == hw::Management::Cache)
        shared = &chip.memory[i];
    tAtomic = tileM * d * 4 /
              (query.aggregateReadBandwidth(*shared) * shared->efficiency /
               double(chip.cores));
  }
  double tBlock = std::max({tMm + tVec, tLoad, tAtomic});
  if (!w.asyncOverlap)
    tBlock = tMm + tVec + tLoad * 0.5 + tAtomic; // half the loads exposed
  // Per query tile: the first K/V block arrives after the home latency;
  // Q (and dO) are loaded once, O (and dQ) written once.
  const double qBytes = (w.backward ? 3 : 1) * tileM * d * elt;
  // Per-tile prologue and epilogue, about one K/V block: the first QKᵀ and
  // its softmax before anything can overlap, and the final rescale and
  // store of O.
  const double qTiles = double(t.qTiles);
  const double splits = double(t.splits);
  // On the network the splits of a query block reduce-scatter their f32
  // partials (O, row max, row sum) among themselves (the cost model's
  // splitReduceTime, every query block's group at once), then rescale what
  // they receive on the vector unit: per received row an exp of the max
  // difference for O and the sum, and an FMA per O element; and each
  // normalises its tileM / splits rows.
  double tCombine = 0;
  if (t.combineOnNetwork && t.splits > 1) {
    const double partial = tileM * (dv + 2) * 4;
    const double concurrent =
        std::min(usefulGroups * qTiles, std::floor(cores / splits));
    const double rowsPer = tileM / splits;
    const double combineFlops =
        (splits - 1) * rowsPer * (2 * dv + 2 * kTranscendentalFlops + 4) +
        rowsPer * dv;
    tCombine = splitReduceTime(partial, t.splits, concurrent) +
               combineFlops / perCoreVector;
  }
  const double tileFixed =
      home.latency + qBytes / perCoreFill + tBlock + tCombine;

  double kvBlocksFull = double(t.kvBlocks);
  groups *= splits;
  double tileTimeSum = 0, maxTile = 0, blocks = 0;
  for (double i = 0; i < qTiles; ++i) {
    double b = kvBlocksFull;
    if (causal && t.combineOnNetwork && t.splits > 1) {
      // The block's visible K/V blocks dealt round-robin to the splits:
      // the slowest split visits ceil(visible / splits), the average
      // visible / splits (what `groups`, which counts the splits, scales).
      double visible = std::clamp(
          std::ceil(((i + 1) * tileM + double(w.kvLen - w.qLen)) / tileN),
          0.0, kvBlocksFull * splits);
      if (window > 0)
        visible -= std::floor(std::max(0.0, i * tileM +
                                                double(w.kvLen - w.qLen) -
                                                window + 1) /
                              tileN);
      visible = std::max(visible, 0.0);
      blocks += visible / splits;
      tileTimeSum += tileFixed + visible / splits * tBlock;
      maxTile = std::max(maxTile,
                         tileFixed + std::ceil(visible / splits) * tBlock);
      continue;
    }
    if (causal) { // rows up to (i+1)·tileM see keys up to that position
      b = std::clamp(std::ceil(((i + 1) * tileM +
                                double(w.kvLen - w.qLen)) / tileN),
                     0.0, kvBlocksFull);
      // Under a window the tile's first row sees nothing before
      // i·tileM + offset - window + 1: blocks wholly before it are skipped.
      if (window > 0)
        b -= std::floor(
            std::max(0.0, i * tileM + double(w.kvLen - w.qLen) - window + 1) /
            tileN);
      b = std::max(b, 0.0);
    }
    blocks += b;
    double tile = tileFixed + b * tBlock;
    tileTimeSum += tile;
    maxTile = std::max(maxTile, tile);
  }
  const double tiles = groups * qTiles;
  double body;
  if (!causal) // uniform tiles: wave quantisation
    body = std::ceil(tiles / double(chip.cores)) * (tileTimeSum / qTiles);
  else // uneven tiles, scheduled longest first over the cores
    body = std::max(groups * tileTimeSum / double(chip.cores), maxTile);

  Estimate e;
  // Useful FLOPs in the FlashAttention convention: 4·s_q·s_kv·d per head
  // forward (2·s_q·s_kv·(d + dv) with a narrower V), halved under a causal
  // mask, 2.5x for backward.
  const double usefulHeads = double(w.batch) * double(w.heads);
  double useful =
      2.0 * double(w.qLen) * double(w.kvLen) * (d + dv) * usefulHeads;
  if (causal)
    useful /= 2;
  if (window > 0) {
    // Exact visible pairs: query r (offset o = kvLen - qLen) sees
    // min(window, r + o + 1) keys; the first n rows see fewer than window.
    const double q = double(w.qLen), o = double(w.kvLen - w.qLen);
    const double n = std::clamp(window - o, 0.0, q);
    const double pairs = n * o + n * (n + 1) / 2 + (q - n) * window;
    useful = 2.0 * pairs * (d + dv) * usefulHeads;
  }
  if (w.backward)
    useful *= 2.5;
  e.flops = useful;
  e.transcendentals = groups * blocks * scores;
  // K and V are read from home once per KV head (grouped-query heads share
  // them through the staging level), Q read and O written once.
  const double homeBytesNeeded =
      double(w.batch) * double(w.kvHeads) * double(w.kvLen) * dkv *
          (kvElt + (w.backward ? elt : 0)) +
      double(w.batch) * double(w.heads) * double(w.qLen) * elt *
          (w.backward ? 4 * d : d + dv);
  // Operands kept in a grid's SRAM come over the network instead: their
  // share of those bytes (K's, V's, Q's and O's in the forward; the
  // backward's gradients follow their tensors) is re-laid core to core.
  double onChipBytes = 0;
  if (chip.grid && chip.noc &&
      (w.qOnChip || w.kOnChip || w.vOnChip || w.oOnChip)) {
    const double kv = double(w.batch) * double(w.kvHeads) * double(w.kvLen) *
                      (kvElt + (w.backward ? elt : 0));
    const double q = double(w.batch) * double(w.heads) * double(w.qLen) *
                     elt * (w.backward ? 2 : 1);
    // The values are the keys' first columns in an MLA cache: no bytes of
    // their own.
    const double vCols = w.valuesInKeys ? 0 : dv;
    onChipBytes = (w.kOnChip ? kv * d : 0) + (w.vOnChip ? kv * vCols : 0) +
                  (w.qOnChip ? q * d : 0) +
                  (w.oOnChip ? q * (w.backward ? d : dv) : 0);
  }
  const double tHome = (homeBytesNeeded - onChipBytes) /
                       (query.aggregateReadBandwidth(home) * home.efficiency);
  const double tOnChip =
      onChipBytes > 0 ? gridRedistributionTime(onChipBytes) +
                            meanGridHops() * chip.noc->hopLatency
                      : 0;
  const bool homeBound = tHome > body && tHome >= tOnChip;
  const bool networkBound = tOnChip > body && tOnChip > tHome;
  const double beforeFloors = body;
  body = std::max({body, tHome, tOnChip});
  e.time = body + launchCost();
  e.computeTime = groups * blocks * tMm / double(chip.cores);
  e.unit = unit->name;
  if (launchCost() > body) {
    e.boundKind = BoundKind::Overhead;
    e.boundBy = "launch";
  } else if (homeBound) {
    e.boundKind = BoundKind::Memory;
    e.boundBy = home.name;
  } else if (networkBound) {
    e.boundKind = BoundKind::Memory;
    e.boundBy = kNetworkLevel;
  } else if (tLoad > tMm + tVec) {
    e.boundKind = BoundKind::Memory;
    e.boundBy = staging.name;
  } else {
    e.boundKind = BoundKind::Compute;
    e.boundBy = unit->name;
    if (tVec > tMm)
      for (const hw::ComputeUnit &u : chip.units)
        if (u.kind == hw::UnitKind::Vector) {
          e.boundBy = u.name;
          break;
        }
  }

  double stagedBytes = groups * (blocks * loadBytes + qTiles * qBytes);
  e.traffic.push_back({staging.name, stagedBytes,
                       stagedBytes / (perCoreFill * double(chip.cores))});
  e.traffic.push_back({home.name, homeBytesNeeded - onChipBytes, tHome});
  if (onChipBytes > 0)
    e.traffic.push_back({std::string(kNetworkLevel), onChipBytes, tOnChip});
  e.energy = groups * blocks * mmFlops * energyPerFlop(w.dtype) +
             groups * blocks * vecWork * energyPerFlop(DType::f32);
  finish(e, perCoreMatrix * double(chip.cores));
  // Over a head group's query blocks (and, reduced on the network, its
  // splits: their loops share the round-robin blocks).
  t.visitedBlocks = int64_t(std::llround(
      blocks * (t.combineOnNetwork ? splits : 1.0)));
  return {t, e, beforeFloors};
  };

  // The candidates: for each query block size from 128 rows (fewer for
  // short queries) halving down to the unit's native M, the largest K/V
  // block (128 down to 16 keys) whose buffers fit. On a GPU the first that
  // fits is FlashAttention's own fixed blocking (what the calibration rows
  // ran); on a chip with a core grid the schedule is the compiler's to
  // choose, and the cheapest wins, ties to the larger query block: with
  // thousands of small cores, smaller blocks make more independent tiles,
  // which a causal mask needs to keep the cores evenly busy.
  //
  // Split-KV's combine keeps a second accumulator beside the flash tile's
  // (attentionBuffers). When no split schedule fits (a decode step's query
  // block padded to a 128-row native M on Blackwell, or a 256-wide head in
  // a 48 KiB core), the search runs again with each query block walking
  // all of its keys on one core, as FlashAttention's non-split decode path
  // does, instead of giving up on the fused kernel.
  //
  // The wgmma backward's blocking is bounded by its accumulators
  // (wgmmaBackwardBuffers) rather than fixed: FlashAttention-3 keeps
  // 128-key blocks and shrinks the query block (64 x 128 at head dim 128),
  // so every query block size is priced with its largest fitting K/V block
  // and the cheapest kept.
  //
  // On a core grid with a network every mode is priced and the cheapest
  // kept: split-KV combined through home, split-KV reduced over the network
  // (causal attention too, its skipping balanced over the splits), and the
  // unsplit schedule.
  const bool searchBlocks = chip.grid.has_value() || wgmmaBackward;
  std::optional<AttentionPlan> best;
  enum class Split { Home, Network, None };
  std::vector<Split> modes = {Split::Home, Split::None};
  if (gridCombine)
    modes = {Split::Home, Split::Network, Split::None};
  for (Split mode : modes) {
    const bool splitKv = mode != Split::None;
    for (int64_t tm = std::min(roundUp(128, m0),
                               roundUp(std::max<int64_t>(1, rows), m0));
         tm >= m0;) {
      for (int64_t tn = 128; tn >= 16; tn /= 2) {
        const int64_t qTiles = int64_t(std::ceil(double(rows) / double(tm)));
        const double blocks = std::ceil(double(w.kvLen) / double(tn));
        // Splits to price: FlashDecoding's one count, or, reduced over the
        // network, every power of two dividing the block's rows (the
        // reduce-scatter hands each split tm / splits of them) up to the
        // K/V blocks: with a causal mask more splits than idle cores can
        // still pay, the longest query blocks' work spread in waves.
        std::vector<int64_t> counts;
        if (mode == Split::Network) {
          for (int64_t n = 2; n <= tm && double(n) <= blocks; n *= 2)
            if (tm % n == 0)
              counts.push_back(n);
        } else {
          counts.push_back(
              splitKv ? int64_t(splitsFor(double(qTiles), blocks)) : 1);
        }
        bool fitted = false;
        for (int64_t n : counts) {
          AttentionTiling c;
          c.tileM = tm;
          c.tileN = tn;
          c.stages = 2;
          c.qTiles = qTiles;
          c.splits = n;
          c.combineOnNetwork = mode == Split::Network;
          c.kvBlocks = int64_t(std::ceil(blocks / double(c.splits)));
          if (!fits(c))
            continue;
          fitted = true;
          AttentionPlan p = price(c);
          // Under a floor (home or network bytes, the same for every
          // schedule) ties go to the least work below it, so the schedule
          // does not depend on where the operands are kept.
          if (!best || p.estimate.time < best->estimate.time ||
              (p.estimate.time == best->estimate.time &&
               p.schedule < best->schedule))
            best = p;
        }
        if (fitted || counts.empty())
          break;
      }
      int64_t next = roundUp(tm / 2, m0);
      if (next >= tm || (best && !searchBlocks))
        break;
      tm = next;
    }
    if (best && !gridCombine)
      break;
  }
  if (!best)
    return {}; // no flash tiling fits: the unfused graph is priced
  return *best;
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

/// The extent of a group of `members` along each dimension of a torus or
/// mesh `shape`, filled innermost dimension first (the order devices are
/// numbered in); a remainder that fills no dimension is one more ring.
static std::vector<int64_t> torusGroupDims(const std::vector<int64_t> &shape,
                                           int64_t members) {
  std::vector<int64_t> dims;
  for (int64_t d : shape) {
    if (members <= 1)
      break;
    int64_t take = std::gcd(members, d);
    if (take > 1)
      dims.push_back(take);
    members /= take;
  }
  if (members > 1)
    dims.push_back(members);
  return dims;
}

namespace {

/// An all-reduce reduced in an NVSwitch (NVLink SHARP, "NVLS": each GPU
/// pushes its buffer with multimem stores the switch adds, then pulls the
/// sum back) as NCCL runs it. Two published figures, not the wire's:
///  - time to the first byte: NCCL's tuner charges an intra-node NVLS
///    all-reduce 23 us whatever the group (src/graph/tuning.cc, hwLat
///    [NVLINK][NVLS][SIMPLE] = 23, the only protocol NVLS has; NVIDIA/nccl
///    @b6475625), against 2 x 2 us for a bare send and receive;
///  - the bandwidth it sustains: ~480 GB/s bus bandwidth on 8 x H100 SXM,
///    i.e. ~275 GB/s of algorithm bandwidth (the NCCL maintainer's stated
///    expectation in NVIDIA/nccl-tests#212, ../shared/reference/
///    collectives.json `h100-8gpu-nvswitch-allreduce-nvls-peak`), 61 % of
///    the 450 GB/s a GPU drives into the switch. The share is applied to
///    any NVSwitch generation's link rate (no B200 figure was found).
/// An in-network reduction on a fat tree (InfiniBand SHARP) keeps the
/// generic send + receive price.
constexpr double kNvlsLatency = 23e-6;
constexpr double kNvlsBandwidthShare = 275.0 / 450.0;

double nvlinkSharpAllReduceTime(double bytes, double linkBandwidth) {
  return kNvlsLatency + bytes / (linkBandwidth * kNvlsBandwidthShare);
}

} // namespace

CollectiveEstimate CostModel::collective(const CollectiveWork &w) const {
  CollectiveEstimate result;
  if (w.fabric < 0 || w.fabric >= int(sys.topology.size()) ||
      w.groupSize < 2) {
    result.estimate.boundKind = BoundKind::Latency;
    result.estimate.boundBy = "none";
    return result;
  }
  const hw::Fabric &f = sys.topology[w.fabric];
  const double p = double(w.groupSize);
  // Per-device injection bandwidth: a member of an outer fabric is a group
  // of devices each with its own port, so per device it is `bandwidth`.
  const double bw = f.bandwidth * f.efficiency;
  const double alpha = f.latency;
  const double n = w.bytes;

  // Hierarchical: the inner part of the group on its own (faster) fabric,
  // the outer part on `fabric` with the inner part's share of the buffer,
  // each step by its own cheapest flat algorithm. All-reduce is
  // reduce-scatter inside, all-reduce across, all-gather inside; gather
  // and scatter are the two halves of that.
  double hierarchicalEnergy = 0;
  auto hierarchical = [&]() -> double {
    if (w.innerFabric < 0 || w.innerFabric >= w.fabric ||
        w.innerGroupSize < 2 || w.groupSize % w.innerGroupSize != 0 ||
        w.groupSize / w.innerGroupSize < 2)
      return INFINITY;
    const int64_t inner = w.innerGroupSize;
    const int64_t outer = w.groupSize / inner;
    double time = 0;
    hierarchicalEnergy = 0;
    auto step = [&](CollectiveKind k, int fabric, int64_t group, double bytes) {
      CollectiveWork s;
      s.kind = k;
      s.fabric = fabric;
      s.groupSize = group;
      s.bytes = bytes;
      // Each of the other group's members runs the same step at once, each
      // on its own ports, so the time is one step's.
      CollectiveEstimate e = collective(s);
      time += e.estimate.time;
      hierarchicalEnergy += e.estimate.energy * double(w.groupSize / group);
    };
    const double share = n / double(inner);
    switch (w.kind) {
    case CollectiveKind::AllReduce:
      step(CollectiveKind::ReduceScatter, w.innerFabric, inner, n);
      step(CollectiveKind::AllReduce, w.fabric, outer, share);
      step(CollectiveKind::AllGather, w.innerFabric, inner, n);
      return time;
    case CollectiveKind::AllGather:
      step(CollectiveKind::AllGather, w.fabric, outer, share);
      step(CollectiveKind::AllGather, w.innerFabric, inner, n);
      return time;
    case CollectiveKind::ReduceScatter:
      step(CollectiveKind::ReduceScatter, w.innerFabric, inner, n);
      step(CollectiveKind::ReduceScatter, w.fabric, outer, share);
      return time;
    default:
      return INFINITY;
    }
  };

  auto timeFor = [&](CollectiveAlgorithm a) -> double {
    if (a == CollectiveAlgorithm::Hierarchical)
      return hierarchical();
    // Dimension-ordered on a torus or mesh: the ring algorithm one
    // dimension after the other, so the bytes are the ring's but the steps
    // are the sum of the dimensions' rings, not the whole group's.
    double torusSteps = INFINITY;
    if (a == CollectiveAlgorithm::TorusDimOrdered) {
      if ((f.kind != hw::FabricKind::Torus && f.kind != hw::FabricKind::Mesh) ||
          w.innerFabric >= 0)
        return INFINITY;
      torusSteps = 0;
      for (int64_t d : torusGroupDims(f.shape, w.groupSize))
        torusSteps += double(d - 1);
    }
    double steps = 0, wire = 0; // wire: bytes each device sends
    switch (w.kind) {
    case CollectiveKind::AllReduce:
      switch (a) {
      case CollectiveAlgorithm::Ring:
        steps = 2 * (p - 1);
        wire = 2 * (p - 1) / p * n;
        break;
      case CollectiveAlgorithm::TorusDimOrdered:
        steps = 2 * torusSteps;
        wire = 2 * (p - 1) / p * n;
        break;
      case CollectiveAlgorithm::Tree: // double binary tree, pipelined
        steps = 2 * std::ceil(std::log2(p));
        wire = 2 * n;
        break;
      case CollectiveAlgorithm::RecursiveHalvingDoubling:
        steps = 2 * std::ceil(std::log2(p));
        wire = 2 * (p - 1) / p * n;
        break;
      case CollectiveAlgorithm::InNetwork: // switch reduces: send, receive
        if (!f.inNetworkReduction)
          return INFINITY;
        if (f.kind == hw::FabricKind::Switch)
          return nvlinkSharpAllReduceTime(n, f.bandwidth * f.efficiency);
        steps = 2;
        wire = n;
        break;
      default:
        return INFINITY;
      }
      break;
    case CollectiveKind::AllGather:
    case CollectiveKind::ReduceScatter:
      if (a == CollectiveAlgorithm::Ring) {
        steps = p - 1;
        wire = (p - 1) / p * n;
      } else if (a == CollectiveAlgorithm::TorusDimOrdered) {
        steps = torusSteps;
        wire = (p - 1) / p * n;
      } else if (a == CollectiveAlgorithm::RecursiveHalvingDoubling) {
        steps = std::ceil(std::log2(p));
        wire = (p - 1) / p * n;
      } else {
        return INFINITY;
      }
      break;
    case CollectiveKind::AllToAll:
      if (a != CollectiveAlgorithm::Direct)
        return INFINITY;
      steps = p - 1;
      wire = (p - 1) / p * n;
      break;
    case CollectiveKind::SendRecv:
      if (a != CollectiveAlgorithm::Direct)
        return INFINITY;
      steps = 1;
      wire = n;
      break;
    }
    return steps * alpha + wire / bw;
  };

  // Ties go to the earlier candidate, so dimension-ordered (never cheaper
  // than recursive halving/doubling under this topology-blind alpha-beta
  // model) is chosen only where that cannot run. Hierarchical is priced
  // only when asked for: against the multi-node runs of training.json the
  // flat price on the outermost fabric is within 17 %, while the two-level
  // formula, which runs each level at full link rate, overestimates
  // ZeRO-3 throughput up to 3.4x (docs/cost-model.md).
  std::vector<CollectiveAlgorithm> candidates;
  if (w.algorithm != CollectiveAlgorithm::Auto)
    candidates = {w.algorithm};
  else
    candidates = {CollectiveAlgorithm::InNetwork,
                  CollectiveAlgorithm::Ring,
                  CollectiveAlgorithm::Tree,
                  CollectiveAlgorithm::RecursiveHalvingDoubling,
                  CollectiveAlgorithm::Direct,
                  CollectiveAlgorithm::TorusDimOrdered};
  double best = INFINITY;
  double bestEnergy = n * f.energyPerByte * p;
  for (CollectiveAlgorithm a : candidates) {
    double t = timeFor(a);
    if (t < best) {
      best = t;
      result.algorithm = a;
      bestEnergy = a == CollectiveAlgorithm::Hierarchical
                       ? hierarchicalEnergy
                       : n * f.energyPerByte * p;
    }
  }
  Estimate &e = result.estimate;
  if (!std::isfinite(best)) {
    e.time = INFINITY;
    e.boundKind = BoundKind::Link;
    e.boundBy = f.name;
    return result;
  }
  e.time = best;
  e.boundKind = BoundKind::Link;
  e.boundBy = f.name;
  e.energy = bestEnergy;
  if (best > 0) {
    double algBw = n / best;
    double factor = 1;
    if (w.kind == CollectiveKind::AllReduce)
      factor = 2 * (p - 1) / p;
    else if (w.kind != CollectiveKind::SendRecv)
      factor = (p - 1) / p;
    result.busBandwidth = algBw * factor;
  }
  return result;
}

} // namespace strata::cost
