//===- System.h - MLIR-free description of an accelerator system -*- C++ -*-===//
//
// The hardware model: a plain C++ description of a system (chip, memory
// hierarchy, on-chip network, multi-chip topology) and the queries everything
// else asks of it. It knows nothing of MLIR or of passes; the `arch` dialect
// converts to and from it, the JSON importer produces it, and the cost core
// reads it.
//
// Units are SI base units everywhere in this API: bytes, bytes/second,
// seconds, hertz, joules, FLOP. Human units ("3.35 TB/s") exist only in the
// textual IR and in reports.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_HARDWARE_SYSTEM_H
#define STRATA_HARDWARE_SYSTEM_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::hw {

//===----------------------------------------------------------------------===//
// Enumerations
//===----------------------------------------------------------------------===//

/// Element types a compute unit can have a rate for.
enum class DType { f64, f32, tf32, bf16, fp16, fp8, int8, fp4 };
inline constexpr DType kAllDTypes[] = {DType::f64,  DType::f32, DType::tf32,
                                       DType::bf16, DType::fp16, DType::fp8,
                                       DType::int8, DType::fp4};
std::string_view toString(DType t);
std::optional<DType> parseDType(std::string_view s);
/// Storage size in bits (fp4 = 4, tf32 is stored as 32).
unsigned bitWidth(DType t);

enum class UnitKind { Matrix, Vector };
std::string_view toString(UnitKind k);
std::optional<UnitKind> parseUnitKind(std::string_view s);

/// Which hardware instance a memory level belongs to. A `Core` level has one
/// instance per core, a `Chip` level one per chip, a `System` level is shared
/// by the whole system (e.g. host memory).
enum class Scope { Core, Chip, System };
std::string_view toString(Scope s);
std::optional<Scope> parseScope(std::string_view s);

/// Software-managed scratchpad (explicit copies) or hardware-managed cache.
enum class Management { Scratchpad, Cache };
std::string_view toString(Management m);
std::optional<Management> parseManagement(std::string_view s);

enum class NocKind { Mesh, Torus, Crossbar, Ring };
std::string_view toString(NocKind k);
std::optional<NocKind> parseNocKind(std::string_view s);

/// Kinds of multi-chip fabric. `Switch`: every member one hop from a shared
/// switch (NVSwitch). `FatTree`: multi-stage switched network with full
/// bisection. `Ring`: bidirectional ring. `Torus`/`Mesh`: k-dimensional
/// (shape gives the dimensions). `FullyConnected`: direct link between every
/// pair (e.g. MI300X Infinity Fabric in an 8-GPU platform).
enum class FabricKind { Switch, FatTree, Ring, Torus, Mesh, FullyConnected };
std::string_view toString(FabricKind k);
std::optional<FabricKind> parseFabricKind(std::string_view s);

//===----------------------------------------------------------------------===//
// Description
//===----------------------------------------------------------------------===//

/// A compute unit kind present in every core (e.g. tensor cores, CUDA cores,
/// an MXU, a vector unit). Rates are per core, per cycle, dense.
struct ComputeUnit {
  std::string name;
  UnitKind kind = UnitKind::Matrix;
  /// Native operation shape: [M, N, K] for a matrix unit, [lanes] (or empty)
  /// for a vector unit. Work is padded up to this shape.
  std::vector<int64_t> shape;
  /// FLOP per cycle per core for each supported dtype (dense, no sparsity).
  /// Ordered as listed; at most one entry per dtype.
  std::vector<std::pair<DType, double>> rates;
  /// Achievable fraction of peak (calibrated, documented per preset).
  double efficiency = 1.0;
  /// Reached only through asynchronous warpgroup instructions (Hopper's
  /// wgmma): a kernel that issues synchronous MMAs (mma.sync, as
  /// FlashAttention-2 does) runs on another matrix unit of the chip.
  bool asynchronous = false;

  std::optional<double> rate(DType t) const;
};

/// One level of the memory hierarchy. Bandwidth/capacity are per instance
/// (per core for a core-scoped level).
struct MemoryLevel {
  std::string name;
  Scope scope = Scope::Chip;
  Management management = Management::Scratchpad;
  uint64_t capacity = 0;       ///< bytes per instance
  double readBandwidth = 0;    ///< bytes/s per instance
  double writeBandwidth = 0;   ///< bytes/s per instance
  double latency = 0;          ///< seconds, first byte
  double energyPerByte = 0;    ///< joules per byte moved
  double efficiency = 1.0;     ///< achievable fraction of bandwidth
};

/// On-chip network connecting the cores of a grid chip.
struct OnChipNetwork {
  NocKind kind = NocKind::Mesh;
  double linkBandwidth = 0;  ///< bytes/s per link per direction
  double hopLatency = 0;     ///< seconds per hop
  double energyPerByte = 0;  ///< joules per byte per hop
};

struct Chip {
  std::string name;
  double clock = 0;  ///< Hz; the clock at which `rates` give the peak
  int64_t cores = 0;
  /// For mesh-style chips: the core grid [rows, cols]; rows*cols == cores.
  std::optional<std::array<int64_t, 2>> grid;
  std::vector<ComputeUnit> units;
  /// Ordered from closest to the compute units (index 0) outwards.
  std::vector<MemoryLevel> memory;
  std::optional<OnChipNetwork> noc;
  double staticPower = 0;     ///< watts drawn regardless of activity
  double launchOverhead = 0;  ///< seconds per kernel/op launch (calibrated)
  /// Seconds per kernel node when the kernels are replayed from a captured
  /// graph (CUDA graphs) instead of launched one by one; 0: as
  /// `launchOverhead` (the chip has no cheaper replay).
  double graphNodeOverhead = 0;
  /// Cores of a thread-block cluster that tuned kernels let share an
  /// operand tile fetched once from the cache and multicast into each
  /// core's shared memory (Hopper's TMA multicast). 1: no multicast.
  int64_t multicastCores = 1;

  /// What one kernel pays to start: `launchOverhead` launched eagerly,
  /// `graphNodeOverhead` (or `launchOverhead` when 0) replayed from a graph.
  double kernelStartCost(bool graph) const {
    return graph && graphNodeOverhead > 0 ? graphNodeOverhead : launchOverhead;
  }
};

/// One level of the multi-chip topology. Fabrics are ordered innermost first:
/// [nvlink (8 per node), infiniband (N nodes)] means devices are numbered
/// node-major with 8 consecutive devices per NVLink domain.
struct Fabric {
  std::string name;
  FabricKind kind = FabricKind::Switch;
  /// Members per instance of this fabric: one entry for switch, fat_tree,
  /// ring, fully_connected; one per dimension for torus/mesh.
  std::vector<int64_t> shape;
  double bandwidth = 0;      ///< bytes/s per device per direction
  double latency = 0;        ///< seconds per message (alpha), end to end
  double energyPerByte = 0;  ///< joules per byte
  bool inNetworkReduction = false;  ///< switch can reduce (NVLS, SHARP)
  double efficiency = 1.0;          ///< achievable fraction of bandwidth

  /// Members of one instance (product of shape).
  int64_t size() const;
  /// Links a member drives in this fabric: 1 for switch/fat_tree (its port
  /// into the switched network), size-1 for fully_connected, 2 for ring,
  /// 2 x dims for torus/mesh (an interior member).
  int64_t linksPerDevice() const;
  /// Bytes/s per link per direction: `bandwidth` split evenly over the
  /// member's links (e.g. TPU v5p ICI: 600 GB/s over 6 links = 100 GB/s).
  double linkBandwidth() const;
};

struct System {
  std::string name;
  Chip chip;
  int64_t devices = 1;           ///< chips in the system
  std::vector<Fabric> topology;  ///< innermost first; sizes multiply to devices
};

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

/// A problem found in a description. `path` locates it in the description,
/// JSON-pointer-like: "chip.memory[2].capacity", "topology[1].shape".
struct Problem {
  std::string path;
  std::string message;
};

/// One "path: message" line per problem (path "(root)" when empty).
std::string formatProblems(const std::vector<Problem> &problems);

/// Checks a piece of a description. Each returns every problem found (empty =
/// valid). `path` prefixes the problem paths. These are the single definition
/// of "impossible hardware" used by the IR verifiers and the JSON importer.
std::vector<Problem> validate(const ComputeUnit &u, std::string_view path);
std::vector<Problem> validate(const MemoryLevel &l, std::string_view path);
std::vector<Problem> validate(const OnChipNetwork &n, std::string_view path);
std::vector<Problem> validate(const Chip &c, std::string_view path);
std::vector<Problem> validate(const Fabric &f, std::string_view path);
std::vector<Problem> validate(const System &s, std::string_view path = "");

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

/// Path between two devices through the hierarchical topology.
struct DevicePath {
  int fabric = -1;          ///< index of the outermost fabric crossed; -1 = same device
  int64_t hops = 0;         ///< link hops along the route
  double bandwidth = 0;     ///< bottleneck bytes/s along the route
  double latency = 0;       ///< summed alpha along the route, seconds
  double energyPerByte = 0; ///< summed joules per byte along the route
};

/// Read-only queries on a validated system. Cheap to construct; holds a
/// reference, so the System must outlive it.
class SystemQuery {
public:
  explicit SystemQuery(const System &s) : sys(s) {}
  const System &system() const { return sys; }

  /// Peak chip FLOP/s for a dtype on the named unit, or on the best unit
  /// supporting the dtype when `unit` is empty. nullopt if unsupported.
  std::optional<double> peakFlops(DType t, std::string_view unit = {}) const;
  /// The unit giving the best peak for `t`, preferring `kind` if given.
  const ComputeUnit *bestUnit(DType t,
                              std::optional<UnitKind> kind = {}) const;

  const MemoryLevel *level(std::string_view name) const;
  int levelIndex(std::string_view name) const;  ///< -1 if absent
  /// Instances of a level in one chip (cores for core scope, else 1).
  int64_t instances(const MemoryLevel &l) const;
  /// Aggregate chip bandwidth of a level (per-instance × instances), bytes/s.
  double aggregateReadBandwidth(const MemoryLevel &l) const;
  double aggregateWriteBandwidth(const MemoryLevel &l) const;
  /// Aggregate capacity of a level in one chip (per-instance × instances).
  uint64_t aggregateCapacity(const MemoryLevel &l) const;
  /// Bandwidth of moving data between two levels of a chip: the slower of
  /// the source's read and the destination's write aggregate bandwidth.
  double transferBandwidth(std::string_view from, std::string_view to) const;
  double transferLatency(std::string_view from, std::string_view to) const;
  double transferEnergyPerByte(std::string_view from,
                               std::string_view to) const;
  /// Roofline ridge point (FLOP/byte) of `t` against a level's aggregate
  /// read bandwidth.
  std::optional<double> ridgePoint(DType t, std::string_view level) const;

  /// Coordinates of a device in the topology, one per fabric (innermost
  /// first), each the member index within that fabric's instance.
  std::vector<int64_t> coordinates(int64_t device) const;
  DevicePath path(int64_t from, int64_t to) const;
  /// Bisection bandwidth (bytes/s, one direction) of the whole system: the
  /// minimum over fabrics of that fabric's bisection times its instances.
  double bisectionBandwidth() const;
  /// Bisection bandwidth of one instance of fabric `i`. A member of fabric
  /// i > 0 is a group of devices (a node), each with its own port, so the
  /// per-member figure is `bandwidth` x devices per member.
  double fabricBisectionBandwidth(int i) const;

private:
  const System &sys;
};

} // namespace strata::hw

#endif // STRATA_HARDWARE_SYSTEM_H
