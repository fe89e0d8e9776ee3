//===- CostModel.h - The cost core: time, traffic, energy -------*- C++ -*-===//
//
// One cost model for Strata. It turns a description of work (a matrix
// multiply, a vector map or reduction, a fused attention, a transfer, a
// collective) into an estimate on a hardware description: time, the
// resource that bounds it, bytes per memory level, energy and utilisation.
//
// It knows nothing of MLIR or passes: passes and the estimate pass describe
// work with these structs and ask; they never re-derive formulas. Every
// formula is documented in docs/cost-model.md; the calibration knobs are the
// hardware description's efficiencies and launch overhead (one value per
// chip), never per workload.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COST_COSTMODEL_H
#define STRATA_COST_COSTMODEL_H

#include "strata/Hardware/System.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata::cost {

/// What limits an estimate.
enum class BoundKind {
  Compute,  ///< a compute unit (resource = unit name)
  Memory,   ///< a memory level's bandwidth (resource = level name)
  Latency,  ///< fixed latencies: memory first-byte, pipeline fill/drain
  Overhead, ///< per-launch overhead dominates
  Link,     ///< an interconnect fabric (resource = fabric name)
};
std::string_view toString(BoundKind k);

/// The name estimates give the on-chip network of a grid chip in their
/// traffic (bytes delivered to cores over it) and bound-by.
inline constexpr std::string_view kNetworkLevel = "noc";

/// Bytes moved into or out of one memory level.
struct LevelTraffic {
  std::string level;
  double bytes = 0;
  double time = 0; ///< seconds that level's bandwidth needs for `bytes`
};

struct Estimate {
  double time = 0;    ///< seconds, including fill/drain and launch overhead
  double flops = 0;   ///< useful arithmetic operations
  double transcendentals = 0;
  /// Busy time of the compute unit (padding and wave quantisation included).
  double computeTime = 0;
  std::string unit;   ///< the compute unit used (empty for pure movement)
  BoundKind boundKind = BoundKind::Compute;
  std::string boundBy; ///< resource name: unit, level, fabric, or "latency"
  std::vector<LevelTraffic> traffic; ///< innermost level first
  double energy = 0;  ///< joules: dynamic (FLOPs, bytes) + static × time
  /// flops / (time × unit peak) for the dtype used.
  double unitUtilization = 0;

  /// Accumulates `other` executed `times` times, one after the other.
  void accumulate(const Estimate &other, double times = 1);
  /// Bytes for a level, 0 if untouched.
  double bytesAt(std::string_view level) const;
};

/// C[b,m,n] = A[b,m,k] · B[b,k,n] on the matrix unit. Operand byte sizes are
/// given by the caller because broadcasts (a weight shared over the batch,
/// grouped-query K/V) make them differ from b·m·k·elt.
struct MatmulWork {
  int64_t batch = 1, m = 1, n = 1, k = 1;
  hw::DType dtype = hw::DType::bf16;
  double aBytes = 0, bBytes = 0, cBytes = 0;
  /// On a grid chip: operands kept in the cores' SRAM between kernels
  /// (strata-residency, tile.kernel `resident`). Their tiles reach the cores
  /// over the network (a multicast panel, else re-laid as uniform traffic)
  /// and never cross home.
  bool aOnChip = false, bOnChip = false, cOnChip = false;
  /// Per-core bytes of the staging level the tiles may use; the rest holds
  /// the resident tensors. 0: the whole level.
  double stagingBudget = 0;
  /// The kernel may multicast an operand tile to the cores of a
  /// thread-block cluster (Chip::multicastCores), as DeepGEMM does for a
  /// single GEMM with M >= 512 and not for a masked grouped one. false: every
  /// core loads its own tiles (the tile IR path has no cluster multicast).
  bool multicast = false;
  /// Fine-grained (block-scaled) FP8: every `promotionK` elements of K the
  /// kernel waits for its MMAs, scales the partial products and adds them
  /// into a second f32 accumulator on the vector unit (DeepGEMM's CUDA-core
  /// promotion, 128). 0: the matrix unit accumulates on its own.
  int64_t promotionK = 0;
  /// The kernel waits for each output tile's store to reach home before
  /// its core starts the next tile (DeepGEMM's math warpgroups issue the
  /// TMA store and tma_store_wait<0>() in the tile loop), so the stores do
  /// not overlap the MMAs. false: the epilogue overlaps the next tile.
  bool serialEpilogue = false;
};

/// How a matmul is tiled for the staging level: each core computes a
/// tileM x tileN output tile, stepping K by tileK through `stages` buffers
/// (2 = double buffering). `tiles` output tiles run in `waves` over the
/// cores. A default-constructed tiling (tileM == 0) means "not tiled".
struct MatmulTiling {
  int64_t tileM = 0, tileN = 0, tileK = 0;
  int64_t stages = 1;
  double tiles = 0, waves = 0;
  /// On a chip with a core grid: output tiles laid on gridRows x gridCols
  /// rectangles of the grid (M tiles down the rows, N tiles along the
  /// columns), one rectangle per wave. Each K step fetches a rectangle's A
  /// panel once per grid row and multicasts it along the row, and its B
  /// panel once per grid column, multicast down the column (SUMMA). 0: no
  /// grid mapping (every core fetches its own operands).
  int64_t gridRows = 0, gridCols = 0;
  /// On a chip without a core grid: `multicast` cores of a thread-block
  /// cluster compute neighbouring output tiles and share one operand's tile,
  /// fetched from the cache once and multicast into each core's staging
  /// level (TMA multicast): A along N (multicastOperand 0, the cluster's
  /// tiles share a row block) or B along M (1). 1: every core fetches its
  /// own operands.
  int64_t multicast = 1;
  int multicastOperand = 0;
};

struct MatmulPlan {
  MatmulTiling tiling;
  Estimate estimate;
};

/// Work of one compute op on a named unit.
struct UnitWork {
  std::string unit;
  double flops = 0;
  hw::DType dtype = hw::DType::bf16;
};

/// Bytes moved by one transfer between two levels of the chip (`bytes`:
/// what one core receives per execution).
struct TransferWork {
  std::string from, to;
  double bytes = 0;
  /// Delivery over the on-chip network of a grid chip. A multicast copy is
  /// fetched from `from` once for every `share` executions (the cores of a
  /// grid row or column that need the same tile) and delivered to each over
  /// the network along grid axis `axis` (0: down a column, 1: along a row);
  /// a core-to-core copy (`share` 1, `overNetwork`) crosses `hops` links.
  /// `hops` is the longest route, which adds to the latency.
  double share = 1;
  int axis = -1;
  int64_t hops = 0;
  bool overNetwork = false;
  /// A read or write of a tensor resident in the grid's SRAM (tile.kernel
  /// `resident`), laid out by another kernel: the bytes cross the whole
  /// grid as uniform traffic, so besides each core's link they load the
  /// bisection and every link (CostModel::gridRedistributionTime).
  bool redistribute = false;
  /// A tile multicast within a thread-block cluster: read from the cache
  /// (and home) once per `clusterShare` cores that receive it.
  double clusterShare = 1;
};

/// A tiled schedule, as tile IR expresses it: `tiles` independent tiles
/// spread over `cores` cores; each tile runs a prologue, a loop of `trips`
/// iterations pipelined `pipeline` deep, and an epilogue. Compute ops of one
/// phase run one after the other (they share the core's issue slots);
/// transfers overlap compute when the loop is pipelined (depth >= 2).
struct KernelWork {
  double tiles = 1;
  int64_t cores = 1;
  int64_t trips = 1;
  int64_t pipeline = 1;
  std::vector<UnitWork> prologueCompute, loopCompute, epilogueCompute;
  std::vector<TransferWork> prologueTransfers, loopTransfers,
      epilogueTransfers;
  /// Unique bytes of the kernel's operands at home (each tensor once):
  /// what a cache between staging and home lets through. 0 = unknown, then
  /// every staged byte comes from home.
  double idealHomeBytes = 0;
  /// On a grid chip: the spread laid on gridRows x gridCols rectangles of
  /// the core grid, `gridWaves` rectangles one after the other. 0: cores
  /// are interchangeable and the tiles run in ceil(tiles / cores) waves.
  int64_t gridRows = 0, gridCols = 0;
  double gridWaves = 0;
  /// The epilogue's transfers to home finish before the core's next tile
  /// starts: each core drains its tile at its share of home bandwidth,
  /// after the pipelined loop and not overlapped with it.
  bool serialEpilogue = false;
};

/// Elementwise maps and reductions on the vector unit (softmax pieces, norms,
/// activations, optimizer updates, casts).
struct VectorWork {
  double elements = 0; ///< iteration-space size
  double flops = 0;
  double transcendentals = 0;
  hw::DType dtype = hw::DType::f32;
  double bytesRead = 0, bytesWritten = 0;
  /// Bytes read from tensors kept in a grid chip's distributed scratchpads
  /// (re-laid over the on-chip network, not home): an epilogue's residual
  /// input once strata-residency keeps it on chip. Only withEpilogue reads
  /// it.
  double networkBytesRead = 0;
};

/// Pure data movement (copies, gathers, concatenation) at the home level.
struct MoveWork {
  double bytesRead = 0, bytesWritten = 0;
};

/// The matrix instructions a kernel issues. `Any`: the fastest matrix unit
/// of the chip (cuBLAS, FlashAttention-3 with wgmma). `Synchronous`:
/// warp-level synchronous MMAs (mma.sync, what FlashAttention-2 issues on
/// every NVIDIA chip), which cannot reach a unit marked
/// `ComputeUnit::asynchronous` (Hopper's wgmma path).
/// The instructions a kernel's matrix products issue. `Any`: the kernel is
/// the compiler's (or the engine library's) to choose, so attention is
/// priced on whichever matrix unit is cheapest for its shape (wgmma's
/// 64-row tiles pad a decode step's few query rows 4x more than mma.sync's
/// 16); `Asynchronous`: a kernel written for the asynchronous path
/// (FlashAttention-3: wgmma, TMA); `Synchronous`: mma.sync
/// (FlashAttention-2 on every chip). For a plain matmul `Any` is the fastest
/// unit.
enum class MatrixPath { Any, Synchronous, Asynchronous };
std::string_view toString(MatrixPath p);
std::optional<MatrixPath> parseMatrixPath(std::string_view s);

/// Fused (flash-style) attention: softmax(Q·Kᵀ·scale + mask)·V per head,
/// tiled over query blocks, streaming K/V blocks, scores never leaving the
/// core. `asyncOverlap` says whether the schedule overlaps the softmax and
/// the loads with the matrix unit (warp-specialised, pipelined: FA3) or runs
/// them one after the other (FA2).
struct AttentionWork {
  int64_t batch = 1, heads = 1, kvHeads = 1;
  int64_t qLen = 1, kvLen = 1, headDim = 64;
  /// The value head dim when it differs from the query/key one (MLA's
  /// weight-absorbed decode: 576-wide keys, 512-wide values); 0: headDim.
  int64_t vHeadDim = 0;
  /// The values are the first vHeadDim columns of the keys (MLA's latent
  /// cache), so each cached position is read once, not twice.
  bool valuesInKeys = false;
  /// The heads sharing a kv head are rows of one query block (qLen x
  /// heads / kvHeads rows), as decode kernels for few kv heads tile them
  /// (FlashMLA, FlashInfer's GQA decode). A causal mask is then not applied:
  /// a decode step's few new tokens hide at most qLen - 1 keys.
  bool packGroupedHeads = false;
  bool causal = false;
  /// A causal sliding window (Mistral, Gemma 2/3, gpt-oss local layers):
  /// query position s sees keys t with s - window < t <= s. The schedule
  /// visits only the K/V blocks that hold such keys, as FlashAttention's
  /// window_size does; 0 (or a window past every key) means causal alone.
  int64_t window = 0;
  bool backward = false; ///< the backward pass (dQ, dK, dV) instead
  bool asyncOverlap = true;
  /// The instructions the kernel issues, hence the matrix unit it runs on
  /// (CostModel::matrixUnit).
  MatrixPath path = MatrixPath::Any;
  hw::DType dtype = hw::DType::bf16;
  /// The K/V element type when the cache is stored narrower than the
  /// queries (an fp8 KV cache under bf16 attention): K/V stream at its
  /// width and are dequantised per block on the vector unit.
  std::optional<hw::DType> kvDType;
  /// Q, K, V or O kept in a grid chip's SRAM by strata-residency
  /// (tile.kernel `resident`): their bytes cross the network, re-laid
  /// (gridRedistributionTime plus the mean route's hop latency), not home.
  bool qOnChip = false, kOnChip = false, vOnChip = false, oOnChip = false;
};

/// The flash schedule the attention estimate assumes, for the tile pass to
/// write as IR: `tileM` query rows per block (one head's positions, or the
/// grouped heads of a decode step), `tileN` keys per K/V block streamed
/// through `stages` rotating staging buffers. Each of the `heads` groups has
/// `qTiles` query blocks, each split over `splits` cores along the keys
/// (split-KV, then a combine); one split walks `kvBlocks` K/V blocks, and
/// `visitedBlocks` is the sum over a group's query blocks (fewer than
/// qTiles x kvBlocks under a causal mask). A default tiling (tileM == 0)
/// means no flash schedule fits.
struct AttentionTiling {
  int64_t tileM = 0, tileN = 0;
  int64_t stages = 2;
  int64_t qTiles = 0, kvBlocks = 0, splits = 1, visitedBlocks = 0;
  /// Split-KV on a core grid: the splits of a query block reduce their
  /// partial softmax outputs over the on-chip network (a reduce-scatter of
  /// the block's rows, tile.split_reduce), each split then writing
  /// tileM / splits rows of O; and a causal block's K/V blocks are dealt to
  /// the splits round-robin (block kb of split j is kb * splits + j), so
  /// the causal skipping is balanced over them. Otherwise the splits'
  /// partials go through home to a second spread (FlashDecoding).
  bool combineOnNetwork = false;
};

struct AttentionPlan {
  AttentionTiling tiling;
  Estimate estimate;
  /// The schedule's time before the floors of its home and network bytes.
  double schedule = 0;
};

/// Collective communication patterns.
enum class CollectiveKind { AllReduce, AllGather, ReduceScatter, AllToAll,
                            SendRecv };
std::string_view toString(CollectiveKind k);
/// Algorithms; `Auto` picks the cheapest applicable one.
enum class CollectiveAlgorithm { Auto, Ring, Tree, RecursiveHalvingDoubling,
                                 InNetwork, Direct, TorusDimOrdered,
                                 Hierarchical };
std::string_view toString(CollectiveAlgorithm a);

struct CollectiveWork {
  CollectiveKind kind = CollectiveKind::AllReduce;
  double bytes = 0;      ///< per-device buffer size (the full reduced tensor)
  int64_t groupSize = 2; ///< participating devices
  int fabric = 0;        ///< topology index the group spans (outermost)
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::Auto;
  /// A group that spans two fabrics: the innermost fabric it crosses and
  /// the members it has in one instance of that fabric (`groupSize` is a
  /// multiple). `Hierarchical` runs that part there and the rest on
  /// `fabric`; the flat algorithms price the whole group on `fabric`.
  /// -1: the group lies on `fabric` alone.
  int innerFabric = -1;
  int64_t innerGroupSize = 1;
};

/// Whether an activation should live in a grid chip's distributed SRAM
/// between the kernel that writes it and those that read it, in seconds:
/// its round trip through home (written once, read `reads` times at the
/// home level's bandwidth) against re-laying it over the on-chip network
/// for each read (CostModel::gridRedistributionTime).
struct ResidencyQuote {
  double homeTime = 0;
  double networkTime = 0;
  bool pays() const { return networkTime < homeTime; }
};

struct CollectiveEstimate {
  Estimate estimate;
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::Ring;
  double busBandwidth = 0; ///< nccl-tests convention, bytes/s
};

/// The cost core. Construct once per system; all queries are const,
/// deterministic. Results of `matmul` (with its tiling) and `attention` are
/// memoised on the work description; the memo makes a model unsafe to
/// share between threads (use one model per thread).
/// How the engine issues a program's kernels: each launched on its own
/// (eager: `Chip::launchOverhead` per kernel), or replayed from a captured
/// graph (CUDA graphs: `Chip::graphNodeOverhead` per kernel node). vLLM
/// and TensorRT-LLM capture decode in CUDA graphs by default and run
/// prefill eagerly (docs/serving.md, "Kernel launches").
enum class LaunchMode { Eager, Graph };

/// "eager" or "graph"; nullopt otherwise.
std::optional<LaunchMode> parseLaunchMode(llvm::StringRef s);
llvm::StringRef toString(LaunchMode m);

class CostModel {
public:
  explicit CostModel(const hw::System &system,
                     LaunchMode launch = LaunchMode::Eager);
  ~CostModel();
  CostModel(const CostModel &) = delete;
  CostModel &operator=(const CostModel &) = delete;

  const hw::System &system() const { return sys; }
  LaunchMode launchMode() const { return launch; }
  /// What one kernel pays to start under the launch mode.
  double launchCost() const {
    return sys.chip.kernelStartCost(launch == LaunchMode::Graph);
  }

  Estimate matmul(const MatmulWork &w) const;
  /// The cheapest tiling the model finds for `w` (the search the tiling
  /// pass asks for), with its estimate. Memoised.
  MatmulPlan planMatmul(const MatmulWork &w) const;
  /// The estimate of `w` under a given tiling; nullopt if its buffers do
  /// not fit the staging level or there is no matrix unit.
  std::optional<Estimate> matmulWithTiling(const MatmulWork &w,
                                           const MatmulTiling &t) const;
  /// Tile sizes the search considers along M (dim 0), N (1) or K (2).
  std::vector<int64_t> matmulTileCandidates(hw::DType t, int dim) const;
  Estimate vector(const VectorWork &w) const;
  /// A tiled schedule (tile IR). The matmul formula is this one applied to
  /// the tiling it chooses, so tile IR and linalg agree.
  Estimate kernel(const KernelWork &w) const;
  Estimate move(const MoveWork &w) const;
  /// `producer` with an elementwise epilogue applied to its output tiles
  /// before they are stored: the epilogue's arithmetic runs on the vector
  /// unit after the producer's, and only its extra operands (a bias, a
  /// residual) and any widening of the output cross the home level. No
  /// second launch, no round trip of the intermediate.
  Estimate withEpilogue(const Estimate &producer,
                        const VectorWork &extra) const;
  Estimate attention(const AttentionWork &w) const;
  /// The blocks, pipelining and split-KV `attention` prices, with its
  /// estimate (the same one). Memoised.
  AttentionPlan planAttention(const AttentionWork &w) const;
  /// Bytes per core the flash schedule of `t` keeps in the staging level
  /// (Q block, K/V stages, split-KV combine partials) and in the innermost
  /// level (scores, probabilities, output accumulator, softmax vectors); the
  /// allocations strata-tile writes for it.
  std::pair<double, double> attentionBuffers(const AttentionWork &w,
                                             const AttentionTiling &t) const;
  CollectiveEstimate collective(const CollectiveWork &w) const;

  /// Grid chips (lib/Cost/GridMapping.cpp). What the cores' staging
  /// scratchpads hold together (0 without a core grid and a network).
  double distributedCapacity() const;
  /// Mean router hops between two cores of the grid under uniform traffic:
  /// (rows + cols) / 3 on a mesh, (rows + cols) / 4 on a torus, 1 on a
  /// crossbar, cores / 4 on a ring. 0 without a grid.
  double meanGridHops() const;
  /// Seconds to re-lay `bytes`, spread evenly over the grid's cores, into
  /// another layout over the network with uniform traffic: the slowest of
  /// each core's receive link, the bisection (half the bytes cross the
  /// middle cut of the longer axis) and every link (bytes x mean hops over
  /// all directed links); the route's hop latency is not included.
  double gridRedistributionTime(double bytes) const;
  /// Seconds for `parts` cores next to each other on the grid (a run of a
  /// grid row) to reduce-scatter a partial result of `bytes` each over the
  /// network, `concurrent` such groups at once: a ring folded onto the run
  /// (neighbour hops on a torus or crossbar, two on a mesh), parts - 1
  /// steps of bytes / parts over one link plus the route's hop latency,
  /// or, when slower, every group's traffic over all the chip's directed
  /// links (contention). 0 without a grid, a network or parts < 2.
  double splitReduceTime(double bytes, int64_t parts,
                         double concurrent) const;
  /// The longest route of that ring, in router hops: 2 on a mesh or ring
  /// network past two parts (the fold), else 1.
  int64_t splitReduceHops(int64_t parts) const;
  /// Keeping an activation of `bytes` read `reads` times on chip, priced.
  ResidencyQuote residency(double bytes, int64_t reads) const;
  /// Keeping a weight of `bytes` on chip across the `reads` kernel
  /// executions that read it (decode steps, layers of a loop), priced:
  /// `reads` home reads against one fill from home (a kernel: its launch
  /// and the home latency too) plus `reads` redistributions over the
  /// network.
  ResidencyQuote residentWeight(double bytes, double reads) const;

  /// The level where tensors live between ops (the outermost chip-scoped
  /// level, e.g. HBM), and the scratchpad tiles are staged in (the largest
  /// core-scoped scratchpad, e.g. shared memory or SRAM).
  const hw::MemoryLevel &homeLevel() const;
  const hw::MemoryLevel &stagingLevel() const;

  /// The roofline floor of an op: `flops` at the peak of the unit it runs
  /// on (the matrix unit when `matrix`, else the vector unit) against its
  /// compulsory `homeBytes` at the home level's bandwidth, whichever is
  /// larger. No launch overhead or latency: a floor, not an estimate.
  double rooflineBound(double flops, hw::DType t, bool matrix,
                       double homeBytes) const;

  /// Why `e` (one execution of an op) takes longer than
  /// its roofline floor `floor`, whose operands and results are
  /// `compulsoryBytes`: the resource that bounds it and the mechanism the
  /// model prices there (operand re-reads through a cache with no multicast
  /// between cores, traffic above compulsory at home, matrix-unit time lost
  /// to padding and wave quantisation, vector work between matrix blocks,
  /// launch overhead). One line, for a remark.
  std::string explainAboveFloor(const Estimate &e, double floor,
                                double compulsoryBytes) const;
  /// The matrix unit a kernel issuing `path` instructions of dtype `t`
  /// runs on: the fastest matrix unit with a rate for `t` that the path
  /// reaches; nullptr when there is none.
  const hw::ComputeUnit *matrixUnit(hw::DType t,
                                    MatrixPath path = MatrixPath::Any) const;

  /// Peak FLOP/s of the unit a matmul/vector op of this dtype runs on.
  double matmulPeak(hw::DType t) const;
  double vectorPeak(hw::DType t) const;

  /// Energy per FLOP of a dtype (joules), from the documented default table
  /// (docs/cost-model.md) until the hardware description carries it.
  static double energyPerFlop(hw::DType t);

  /// Cost of one transcendental (exp, rsqrt, ...) in vector FLOPs: GPU-class
  /// SMs have 16 special-function lanes per 128 FP32 FMA lanes (256 FLOP).
  static constexpr double kTranscendentalFlops = 16;

private:
  struct Memo;
  const hw::System &sys;
  LaunchMode launch = LaunchMode::Eager;
  hw::SystemQuery query;
  int homeIndex = -1, stagingIndex = -1;
  std::unique_ptr<Memo> memo;

  MatmulPlan planMatmulUncached(const MatmulWork &w) const;
  /// Per-core staging bytes a matmul's tiles may use (MatmulWork::
  /// stagingBudget, at most the level's capacity).
  double stagingRoom(const MatmulWork &w) const;
  /// The cheapest SUMMA mapping on a grid chip's cores (nullopt: no tile
  /// fits the staging level).
  std::optional<MatmulPlan> planMatmulOnGrid(const MatmulWork &w) const;
  AttentionPlan planAttentionUncached(const AttentionWork &w) const;
  /// The flash schedule of `w` with its matrix products on `unit`.
  AttentionPlan planAttentionOn(const AttentionWork &w,
                                const hw::ComputeUnit &unit) const;
  void finish(Estimate &e, double peak) const;
};

} // namespace strata::cost

#endif // STRATA_COST_COSTMODEL_H
