//===- Presets.cpp - Built-in hardware presets ----------------------------===//
//
// Every figure carries its source next to it; docs/hardware-presets.md has
// the same table per preset. Conventions used throughout:
//
//  * Peaks are dense (no 2:4 sparsity) datasheet figures. A chip has one
//    clock; where a datasheet computes different units' peaks at different
//    clocks (H100: tensor peaks at 1.83 GHz, CUDA-core peaks at 1.98 GHz), the
//    chip clock is the tensor-core one and the other unit's per-cycle rate is
//    scaled so that rate x cores x clock reproduces its datasheet peak.
//  * HBM capacities: datasheets write "80GB"; HBM stacks are binary-sized
//    (a 16 GB HBM2e stack holds 16 GiB) and drivers report ~80 GiB, so the
//    datasheet number is taken in GiB (within 0.5% of what nvidia-smi /
//    rocm-smi report, also for H200's 141 and MI300X's 192).
//  * Energies and on-chip bandwidths/latencies that vendors do not publish
//    are marked ESTIMATE with their basis; `static_power` is 25% of TDP
//    (ESTIMATE: idle draw of these parts is 15-30% of TDP);
//    `launch_overhead` and all `efficiency` fields are calibration
//    parameters: 1.0 unless marked CALIBRATED, where one value per chip is
//    fitted against ../shared/reference (benchmarks/strata-calibrate).
//
//===----------------------------------------------------------------------===//

#include "strata/Hardware/Presets.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"

using namespace strata::hw;

namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
constexpr double GBps = 1e9, TBps = 1e12, GHz = 1e9, ns = 1e-9, us = 1e-6,
                 pJ = 1e-12;

// ESTIMATE (energy per byte moved). Horowitz, "Computing's energy problem",
// ISSCC 2014 (45 nm): 8 KB SRAM 64-bit read 10 pJ, 1 MB SRAM 100 pJ; scaled
// ~4x down to 7/5/4 nm. HBM2/2e: O'Connor et al., "Fine-grained DRAM",
// MICRO 2017: 3.9 pJ/bit; used for HBM3/3e too (no better public figure).
constexpr double kRegisterEnergy = 0.3 * pJ;  // per byte
constexpr double kSharedMemEnergy = 1.0 * pJ; // per byte, ~100-200 KB SRAM
constexpr double kL2Energy = 5.0 * pJ;        // per byte, incl. crossbar
constexpr double kHbmEnergy = 3.9 * 8 * pJ;   // 3.9 pJ/bit
constexpr double kStaticFraction = 0.25;      // of TDP, see file comment
constexpr double kGpuLaunchOverhead = 4 * us; // calibration parameter
// Per kernel node of a replayed CUDA graph: a chain of no-op kernels
// replayed from a graph costs ~0.58 us per node over a fixed ~15 us per
// replay, against ~6.4 us per individually launched kernel (measured,
// RTX 5070 Ti, CUDA 13.3: ahrefs/ocannl issue #488); NVIDIA's "Getting
// Started with CUDA Graphs" (2019) likewise brings the per-kernel time of
// a 2.9 us kernel to 3.4 us. docs/hardware-presets.md.
constexpr double kCudaGraphNodeOverhead = 0.6 * us;

MemoryLevel level(std::string name, Scope scope, Management mgmt,
                  uint64_t capacity, double readBw, double writeBw,
                  double latency, double energy) {
  MemoryLevel l;
  l.name = std::move(name);
  l.scope = scope;
  l.management = mgmt;
  l.capacity = capacity;
  l.readBandwidth = readBw;
  l.writeBandwidth = writeBw;
  l.latency = latency;
  l.energyPerByte = energy;
  return l;
}

ComputeUnit unit(std::string name, UnitKind kind, std::vector<int64_t> shape,
                 std::vector<std::pair<DType, double>> rates) {
  ComputeUnit u;
  u.name = std::move(name);
  u.kind = kind;
  u.shape = std::move(shape);
  u.rates = std::move(rates);
  return u;
}

Fabric fabric(std::string name, FabricKind kind, std::vector<int64_t> shape,
              double bandwidth, double latency, double energy,
              bool inNetworkReduction = false) {
  Fabric f;
  f.name = std::move(name);
  f.kind = kind;
  f.shape = std::move(shape);
  f.bandwidth = bandwidth;
  f.latency = latency;
  f.energyPerByte = energy;
  f.inNetworkReduction = inNetworkReduction;
  return f;
}

System single(std::string name, Chip chip) {
  System s;
  s.name = std::move(name);
  s.chip = std::move(chip);
  return s;
}

//===----------------------------------------------------------------------===//
// NVIDIA
//===----------------------------------------------------------------------===//

// Register file: 256 KB per SM on A100/H100/B200 (whitepapers' SM tables).
// Bandwidth ESTIMATE: 4 sub-partitions x 32 lanes x 3 operands x 4 B =
// 1536 B/clk read, 1 result operand = 512 B/clk write; 1 cycle latency.
MemoryLevel nvidiaRf(double clock) {
  return level("rf", Scope::Core, Management::Scratchpad, 256 * KiB,
               1536 * clock, 512 * clock, 1 / clock, kRegisterEnergy);
}

// Shared memory: 32 banks x 4 B = 128 B/clk per SM (CUDA C Programming
// Guide, "Shared Memory"); latency ~23-30 cycles (Jia et al., "Dissecting
// the Ampere GPU architecture via microbenchmarking", 2021) -> 30 cycles.
MemoryLevel nvidiaSmem(uint64_t capacity, double clock) {
  return level("smem", Scope::Core, Management::Scratchpad, capacity,
               128 * clock, 128 * clock, 30 / clock, kSharedMemEnergy);
}

Chip a100Chip() {
  Chip c;
  c.name = "a100-sxm-80g";
  // NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020), Table 3:
  // 108 SMs, 1410 MHz boost clock; all peaks in the datasheet use 1410 MHz.
  c.clock = 1.41 * GHz;
  c.cores = 108;
  c.units = {
      // Whitepaper Table 3 / A100 80GB datasheet, dense: FP64 tensor 19.5,
      // TF32 156, BF16/FP16 312 TFLOPS, INT8 624 TOPS -> per SM per clock
      // 128, 1024, 2048, 4096. Native mma.sync shape m16n8k16.
      unit("tensor", UnitKind::Matrix, {16, 8, 16},
           {{DType::f64, 128},
            {DType::tf32, 1024},
            {DType::bf16, 2048},
            {DType::fp16, 2048},
            {DType::int8, 4096}}),
      // Whitepaper Table 3: FP64 9.7, FP32 19.5, BF16 39, FP16 78 TFLOPS
      // (non-tensor) -> 64, 128, 256, 512 per SM per clock; a warp is 32.
      unit("cuda", UnitKind::Vector, {32},
           {{DType::f64, 64},
            {DType::f32, 128},
            {DType::bf16, 256},
            {DType::fp16, 512}}),
  };
  // CALIBRATED (docs/cost-model.md, benchmarks/strata-calibrate): tensor
  // cores sustain 80 % of the datasheet peak in tuned kernels (FA2 paper
  // Sec. 4.1 reports up to 73 % forward; large cuBLAS GEMMs ~80-85 %).
  c.units[0].efficiency = 0.8;
  c.memory = {
      nvidiaRf(c.clock),
      // Whitepaper: 192 KB combined L1/shared per SM, up to 164 KB of it
      // configurable as shared memory (the addressable scratchpad).
      nvidiaSmem(164 * KiB, c.clock),
      // Whitepaper: 40 MB L2; read bandwidth 5120 B/clk (2.3x V100).
      // Latency ESTIMATE ~200 cycles (Jia et al. 2021).
      level("l2", Scope::Chip, Management::Cache, 40 * MiB, 5120 * c.clock,
            5120 * c.clock, 200 / c.clock, kL2Energy),
      // A100 80GB datasheet: 80GB HBM2e, 2,039 GB/s (SXM).
      // Latency ESTIMATE ~500 ns (Jia et al. 2021: ~470 cycles + L2 miss).
      level("hbm", Scope::Chip, Management::Scratchpad, 80 * GiB, 2039 * GBps,
            2039 * GBps, 500 * ns, kHbmEnergy),
  };
  c.staticPower = kStaticFraction * 400; // datasheet: 400 W TDP (SXM)
  c.launchOverhead = kGpuLaunchOverhead;
  c.graphNodeOverhead = kCudaGraphNodeOverhead;
  return c;
}

// H100 whitepaper (NVIDIA H100 Tensor Core GPU Architecture, 2022) and the
// H100 datasheet: tensor peaks are quoted at 1830 MHz (989.4 TFLOPS BF16 =
// 132 SMs x 4096 FLOP/clk x 1.83 GHz); CUDA-core peaks at the 1980 MHz max
// boost (67 TFLOPS FP32 = 132 x 256 x 1.98 GHz).
constexpr double kH100Clock = 1.83 * GHz;
constexpr double kH100CudaScale = 1.98 / 1.83; // CUDA-core clock / chip clock

Chip h100Chip(std::string name, uint64_t hbmCapacity, double hbmBandwidth) {
  Chip c;
  c.name = std::move(name);
  c.clock = kH100Clock;
  c.cores = 132;
  c.units = {
      // Datasheet (SXM, dense): FP64 tensor 67, TF32 494.5, BF16/FP16 989.5,
      // FP8 1979 TFLOPS, INT8 1979 TOPS -> per SM per clock at 1.83 GHz:
      // 2048, 4096, 8192 (FP64 tensor: 256 at 1.98 GHz, scaled).
      // Native wgmma shape m64n256k16; reached only through wgmma.
      unit("tensor", UnitKind::Matrix, {64, 256, 16},
           {{DType::f64, 256 * kH100CudaScale},
            {DType::tf32, 2048},
            {DType::bf16, 4096},
            {DType::fp16, 4096},
            {DType::fp8, 8192},
            {DType::int8, 8192}}),
      // The same tensor cores driven by the Ampere-style synchronous
      // mma.sync (m16n8k16), what FlashAttention-2 issues on Hopper: "the
      // older mma.sync instruction can only reach about 2/3 the peak
      // throughput of Hopper Tensor Cores" (FlashAttention-3 blog, PyTorch,
      // July 2024, note 1, citing Luo et al., "Benchmarking and Dissecting
      // the Nvidia Hopper GPU Architecture", arXiv:2402.13499) -> 2/3 of
      // the wgmma BF16/FP16 rate. Other dtypes have no published figure on
      // this path and are not listed.
      unit("tensor-sync", UnitKind::Matrix, {16, 8, 16},
           {{DType::bf16, 4096.0 * 2 / 3}, {DType::fp16, 4096.0 * 2 / 3}}),
      // Datasheet: FP64 34, FP32 67 TFLOPS = 128 and 256 FLOP/clk/SM at
      // 1.98 GHz, scaled to the chip clock (see above).
      unit("cuda", UnitKind::Vector, {32},
           {{DType::f64, 128 * kH100CudaScale},
            {DType::f32, 256 * kH100CudaScale}}),
  };
  // The datasheet peaks above need wgmma (asynchronous warpgroup MMAs).
  c.units[0].asynchronous = true;
  // TMA multicast within thread-block clusters (H100 whitepaper, "Thread
  // Block Clusters"); tuned GEMMs share a tile between the 2 CTAs of a
  // cluster (CUTLASS's 2x1 clusters, DeepGEMM's kNumTMAMulticast = 2).
  c.multicastCores = 2;
  // CALIBRATED: mma.sync kernels sustain 80 % of that path's rate, the
  // A100's value for the same instruction path (not refitted here).
  c.units[1].efficiency = 0.8;
  c.memory = {
      nvidiaRf(c.clock),
      // Whitepaper: 256 KB L1/shared per SM, up to 228 KB as shared memory.
      nvidiaSmem(228 * KiB, c.clock),
      // Whitepaper: 50 MB L2. Bandwidth is not published: ESTIMATE 5.5 TB/s
      // (Chips and Cheese microbenchmark, "Nvidia's H100: Funny L2, and
      // Tons of Bandwidth", 2023); latency ESTIMATE ~260 cycles.
      level("l2", Scope::Chip, Management::Cache, 50 * MiB, 5.5 * TBps,
            5.5 * TBps, 260 / c.clock, kL2Energy),
      level("hbm", Scope::Chip, Management::Scratchpad, hbmCapacity,
            hbmBandwidth, hbmBandwidth, 500 * ns, kHbmEnergy),
  };
  c.staticPower = kStaticFraction * 700; // datasheet: up to 700 W (SXM)
  c.launchOverhead = kGpuLaunchOverhead;
  c.graphNodeOverhead = kCudaGraphNodeOverhead;
  return c;
}

// H100 SXM datasheet: 80GB HBM3, 3.35 TB/s.
Chip h100SxmChip() { return h100Chip("h100-sxm", 80 * GiB, 3.35 * TBps); }
// H800 SXM5: the H100 SXM5's GH100 part (132 SMs, clocks, tensor peaks, 80GB
// HBM3 at 3.35 TB/s) with NVLink cut to 400 GB/s total, i.e. 200 GB/s per
// direction (NVIDIA H800 specifications), and FP64 cut to 1 TFLOPS (the
// FP64 tensor path is not listed; the CUDA-core FP64 rate is
// 1e12 / (132 SMs x 1.83 GHz) = 4.14 FLOP/clk/SM).
Chip h800SxmChip() {
  Chip c = h100Chip("h800-sxm", 80 * GiB, 3.35 * TBps);
  for (ComputeUnit &u : c.units) {
    if (u.name != "cuda") {
      llvm::erase_if(u.rates,
                     [](const auto &r) { return r.first == DType::f64; });
      continue;
    }
    for (auto &[dtype, rate] : u.rates)
      if (dtype == DType::f64)
        rate = 1e12 / (132 * kH100Clock);
  }
  return c;
}
// H200 datasheet: 141GB HBM3e, 4.8 TB/s; otherwise the same GH100 part
// (same SMs, clocks, peaks and 700 W TDP).
Chip h200Chip() { return h100Chip("h200", 141 * GiB, 4.8 * TBps); }

// B200: NVIDIA does not publish the clock its peaks use. With 148 SMs and
// 8192 dense BF16 FLOP/clk/SM (2x Hopper per SM), the 2.25 PFLOPS dense
// BF16 of the HGX/DGX B200 datasheets implies 2.25e15 / (148 x 8192)
// = 1.856 GHz, which is used as the chip clock (DERIVED).
constexpr double kB200Clock = 2.25e15 / (148.0 * 8192.0);

Chip b200Chip() {
  Chip c;
  c.name = "b200";
  c.clock = kB200Clock;
  c.cores = 148;
  auto perSm = [](double flops) { return flops / (148 * kB200Clock); };
  c.units = {
      // HGX B200 datasheet (2024), per GPU, sparse figures halved for dense:
      // FP64 tensor 40 TFLOPS, TF32 1.1 (listed 2.2 sparse; 4096/clk gives
      // 1.125), BF16/FP16 2.25, FP8 4.5, INT8 4.5 POPS, FP4 9 PFLOPS.
      // Native tcgen05 UMMA shape m128n256k16.
      unit("tensor", UnitKind::Matrix, {128, 256, 16},
           {{DType::f64, perSm(40e12)},
            {DType::tf32, 4096},
            {DType::bf16, 8192},
            {DType::fp16, 8192},
            {DType::fp8, 16384},
            {DType::int8, 16384},
            {DType::fp4, 32768}}),
      // HGX B200 datasheet: FP64 40, FP32 80 TFLOPS (non-tensor).
      unit("cuda", UnitKind::Vector, {32},
           {{DType::f64, perSm(40e12)}, {DType::f32, perSm(80e12)}}),
  };
  c.memory = {
      nvidiaRf(c.clock),
      // CUDA C Programming Guide, compute capability 10.0: 228 KB shared
      // memory per SM (256 KB L1/shared).
      nvidiaSmem(228 * KiB, c.clock),
      // L2: UNCONFIRMED. 126 MB reported by third-party analyses, not by an
      // NVIDIA datasheet; bandwidth ESTIMATE 2x H100's.
      level("l2", Scope::Chip, Management::Cache, 126 * MiB, 11 * TBps,
            11 * TBps, 300 / c.clock, kL2Energy),
      // DGX B200 datasheet: 1,440 GB HBM3e total, 64 TB/s for 8 GPUs ->
      // 180 GB and 8 TB/s per GPU (8 stacks hold 192 GB physically; the HGX
      // B200 datasheet lists 180 GB at 7.7 TB/s).
      level("hbm", Scope::Chip, Management::Scratchpad, 180 * GiB, 8 * TBps,
            8 * TBps, 500 * ns, kHbmEnergy),
  };
  c.staticPower = kStaticFraction * 1000; // HGX B200: up to 1000 W
  c.launchOverhead = kGpuLaunchOverhead;
  c.graphNodeOverhead = kCudaGraphNodeOverhead;
  return c;
}

// NVLink: per direction per GPU. A100 whitepaper: 12 NVLink3 links x 25 GB/s
// = 300 GB/s per direction (600 GB/s total). H100 whitepaper: 18 NVLink4
// links = 450 GB/s per direction (900 GB/s total). DGX B200 datasheet:
// NVLink5 1.8 TB/s total = 900 GB/s per direction.
// Latency (per-message alpha through NVSwitch, NCCL level) ESTIMATE 2 us and
// energy ESTIMATE 5 pJ/bit (SerDes + switch traversal): calibration
// parameters.
constexpr double kNvlinkLatency = 2 * us;
constexpr double kNvlinkEnergy = 5 * 8 * pJ;
// InfiniBand: one HDR (200 Gb/s = 25 GB/s, DGX A100) or NDR (400 Gb/s =
// 50 GB/s, DGX H100) ConnectX NIC per GPU, 8 per node (DGX datasheets);
// rail-optimised two-level fat tree. Latency ESTIMATE 5 us per message
// (NIC + 3 switch hops + software); energy ESTIMATE 20 pJ/bit (NIC, switch,
// optics).
constexpr double kIbLatency = 5 * us;
constexpr double kIbEnergy = 20 * 8 * pJ;

// NVIDIA L40S (Ada Lovelace, AD102) datasheet (L40S product brief, 2023):
// 142 SMs (18,176 CUDA cores), FP32 91.6 TFLOPS -> 18,176 x 2 x clock, so
// the clock is 2.52 GHz; dense tensor peaks FP8 733, BF16/FP16 362.05, TF32
// 183 TFLOPS, INT8 733 TOPS (the datasheet's second figures are with
// sparsity); 48 GB GDDR6 with ECC at 864 GB/s; 350 W max power; PCIe Gen4
// x16, no NVLink. Ada has no wgmma: its tensor cores take mma.sync
// (m16n8k16), so there is one matrix path.
constexpr double kL40sClock = 91.6e12 / (18176.0 * 2);

Chip l40sChip() {
  Chip c;
  c.name = "l40s";
  c.clock = kL40sClock;
  c.cores = 142;
  const double perSm = 142 * kL40sClock; // FLOP/s per FLOP/clk/SM
  c.units = {
      // Per SM per clock from the dense datasheet peaks (DERIVED: 1011.8
      // BF16/FP16, 2048 FP8/INT8, 511 TF32).
      unit("tensor", UnitKind::Matrix, {16, 8, 16},
           {{DType::tf32, 183e12 / perSm},
            {DType::bf16, 362.05e12 / perSm},
            {DType::fp16, 362.05e12 / perSm},
            {DType::fp8, 733e12 / perSm},
            {DType::int8, 733e12 / perSm}}),
      // 128 FP32 lanes per SM (2 FLOP each); Ada runs FP16/BF16 non-tensor
      // math at the FP32 rate (datasheet: FP32 91.6 TFLOPS).
      unit("cuda", UnitKind::Vector, {32},
           {{DType::f32, 256}, {DType::bf16, 256}, {DType::fp16, 256}}),
  };
  // The same tuned-kernel tensor efficiency as the other NVIDIA parts
  // (CALIBRATED on A100/H100, docs/cost-model.md), not fitted to L40S rows.
  c.units[0].efficiency = 0.8;
  c.memory = {
      nvidiaRf(c.clock),
      // CUDA C Programming Guide, compute capability 8.9: 128 KB L1/shared
      // per SM, at most 100 KB of it shared memory.
      nvidiaSmem(100 * KiB, c.clock),
      // Ada Lovelace architecture whitepaper: AD102 has 96 MB of L2 (the
      // L40S brief does not state its L2; ESTIMATE: the full die's). Read
      // bandwidth ESTIMATE 5120 B/clk as A100's; latency ESTIMATE ~200
      // cycles.
      level("l2", Scope::Chip, Management::Cache, 96 * MiB, 5120 * c.clock,
            5120 * c.clock, 200 / c.clock, kL2Energy),
      // Datasheet: 48 GB GDDR6, 864 GB/s. Latency ESTIMATE ~600 ns (GDDR6
      // behind a large L2). Energy ESTIMATE: HBM's per byte (GDDR6 costs
      // more per bit; not modelled separately).
      level("gddr6", Scope::Chip, Management::Scratchpad, 48 * GiB, 864 * GBps,
            864 * GBps, 600 * ns, kHbmEnergy),
  };
  c.staticPower = kStaticFraction * 350; // datasheet: 350 W max power
  c.launchOverhead = kGpuLaunchOverhead;
  c.graphNodeOverhead = kCudaGraphNodeOverhead;
  return c;
}

System dgx(std::string name, Chip chip, double nvlinkBw, bool nvls,
           int64_t nodes, double ibBw) {
  System s;
  s.name = std::move(name);
  s.chip = std::move(chip);
  // DGX A100/H100/B200: 8 GPUs, every one on the NVSwitch fabric. H100 and
  // B200 NVSwitches reduce in the network (NVLink SHARP, "NVLS"); A100's
  // third-generation NVSwitch does not.
  s.topology.push_back(fabric("nvlink", FabricKind::Switch, {8}, nvlinkBw,
                              kNvlinkLatency, kNvlinkEnergy, nvls));
  if (nodes > 0)
    s.topology.push_back(fabric("ib", FabricKind::FatTree, {nodes}, ibBw,
                                kIbLatency, kIbEnergy));
  s.devices = 8 * std::max<int64_t>(nodes, 1);
  return s;
}

//===----------------------------------------------------------------------===//
// Google TPU v5p
//===----------------------------------------------------------------------===//

// Cloud TPU v5p documentation ("TPU v5p", system architecture): 2
// TensorCores per chip, each with 4 MXUs, a vector unit and a scalar unit;
// 459 TFLOPS BF16 per chip; 95 GiB HBM2e at 2765 GB/s; ICI 4800 Gbps
// (= 600 GB/s per direction, "1200 GBps bidirectional") in a 3D torus.
// Modelled as 2 cores (TensorCores) of 4 MXUs each; with 128x128 MXUs
// (2 x 128 x 128 = 32768 FLOP/clk each) the peak implies 459e12 /
// (8 x 32768) = 1.75 GHz, the clock used.
Chip tpuV5pChip() {
  Chip c;
  c.name = "tpu-v5p";
  c.clock = 1.75 * GHz;
  c.cores = 2;
  c.units = {
      // 4 MXUs x 32768 = 131072 BF16 FLOP/clk per TensorCore -> 459 TFLOPS;
      // INT8 2x (918 TOPS, v5p launch announcement, Dec 2023). Shape: the
      // 128x128 weight tile (N, K) with LHS rows streamed in groups of 8
      // sublanes.
      unit("mxu", UnitKind::Matrix, {8, 128, 128},
           {{DType::bf16, 4 * 32768.0}, {DType::int8, 8 * 32768.0}}),
      // VPU: 8 sublanes x 128 lanes of 32-bit ALUs. ESTIMATE 2 FLOP per lane
      // per clock (not published).
      unit("vpu", UnitKind::Vector, {1024}, {{DType::f32, 2048}}),
  };
  c.memory = {
      // VMEM per TensorCore: UNCONFIRMED 64 MiB (Pallas TPU docs list VMEM
      // per generation; not found for v5p). Bandwidth ESTIMATE 8 KiB/clk
      // read, 4 KiB/clk write; latency a few cycles.
      level("vmem", Scope::Core, Management::Scratchpad, 64 * MiB,
            8192 * c.clock, 4096 * c.clock, 8 / c.clock, kSharedMemEnergy),
      level("hbm", Scope::Chip, Management::Scratchpad, 95 * GiB, 2765 * GBps,
            2765 * GBps, 500 * ns, kHbmEnergy),
  };
  // TDP not published: ESTIMATE 400 W -> 25%.
  c.staticPower = kStaticFraction * 400;
  // XLA launches whole fused programs; per-op overhead ESTIMATE 2 us
  // (calibration parameter).
  c.launchOverhead = 2 * us;
  return c;
}

//===----------------------------------------------------------------------===//
// Google TPU v4
//===----------------------------------------------------------------------===//

// Cloud TPU v4 documentation ("TPU v4", system architecture): 2 TensorCores
// per chip, each with 4 MXUs, a vector unit and a scalar unit; 275 TFLOPS
// peak per chip (bf16 or int8); 32 GiB HBM2 at 1200 GB/s; measured
// min/mean/max power 90/170/192 W; 4096 chips per pod in a 3D mesh, a 3D
// torus on slices whose sides are multiples of 4; per pod 1.1 PB/s
// all-reduce and 24 TB/s bisection bandwidth. Jouppi et al., "TPU v4: An
// Optically Reconfigurable Supercomputer for Machine Learning with Hardware
// Support for Embeddings" (ISCA 2023): 128x128 MXUs, six ICI links per chip.
// With 8 MXUs of 2 x 128 x 128 FLOP/clk the peak implies 275e12 / (8 x
// 32768) = 1.05 GHz, the clock used.
Chip tpuV4Chip() {
  Chip c;
  c.name = "tpu-v4";
  c.clock = 275e12 / (8 * 32768.0);
  c.cores = 2;
  c.units = {
      // 4 MXUs x 32768 = 131072 BF16 FLOP/clk per TensorCore -> 275 TFLOPS;
      // INT8 at the same rate ("275 teraflops (bf16 or int8)").
      unit("mxu", UnitKind::Matrix, {8, 128, 128},
           {{DType::bf16, 4 * 32768.0}, {DType::int8, 4 * 32768.0}}),
      // VPU: 8 sublanes x 128 lanes of 32-bit ALUs, as v5p. ESTIMATE 2 FLOP
      // per lane per clock (not published).
      unit("vpu", UnitKind::Vector, {1024}, {{DType::f32, 2048}}),
  };
  c.memory = {
      // VMEM per TensorCore: UNCONFIRMED 16 MiB (the v4 paper's vector
      // memory; 128 MiB of CMEM per chip is not modelled). Bandwidth
      // ESTIMATE 8 KiB/clk read, 4 KiB/clk write, as v5p.
      level("vmem", Scope::Core, Management::Scratchpad, 16 * MiB,
            8192 * c.clock, 4096 * c.clock, 8 / c.clock, kSharedMemEnergy),
      level("hbm", Scope::Chip, Management::Scratchpad, 32 * GiB, 1200 * GBps,
            1200 * GBps, 500 * ns, kHbmEnergy),
  };
  // Measured maximum power 192 W (Cloud TPU v4 documentation).
  c.staticPower = kStaticFraction * 192;
  // XLA launches whole fused programs; per-op overhead ESTIMATE 2 us, as
  // v5p.
  c.launchOverhead = 2 * us;
  return c;
}

//===----------------------------------------------------------------------===//
// AMD MI300X
//===----------------------------------------------------------------------===//

// AMD Instinct MI300X data sheet and CDNA 3 white paper (2023): 304 CUs,
// 2100 MHz peak engine clock (all peaks use it).
Chip mi300xChip() {
  Chip c;
  c.name = "mi300x";
  c.clock = 2.1 * GHz;
  c.cores = 304;
  c.units = {
      // Data sheet, dense matrix: FP64 163.4, FP32 163.4, TF32 653.7,
      // BF16/FP16 1307.4, FP8 2614.9 TFLOPS, INT8 2614.9 TOPS -> per CU per
      // clock 256, 256, 1024, 2048, 4096. MFMA shape 32x32x8.
      unit("matrix", UnitKind::Matrix, {32, 32, 8},
           {{DType::f64, 256},
            {DType::f32, 256},
            {DType::tf32, 1024},
            {DType::bf16, 2048},
            {DType::fp16, 2048},
            {DType::fp8, 4096},
            {DType::int8, 4096}}),
      // Data sheet, vector: FP64 81.7, FP32 163.4 TFLOPS -> 128, 256.
      unit("vector", UnitKind::Vector, {64},
           {{DType::f64, 128}, {DType::f32, 256}}),
  };
  c.memory = {
      // CDNA 3 white paper: 512 KB VGPR file per CU. Bandwidth ESTIMATE as
      // for NVIDIA SMs (1536 B/clk read, 512 B/clk write).
      level("rf", Scope::Core, Management::Scratchpad, 512 * KiB,
            1536 * c.clock, 512 * c.clock, 1 / c.clock, kRegisterEnergy),
      // CDNA 3 white paper: 64 KB LDS per CU, 128 B/clk. Latency ESTIMATE
      // ~64 cycles.
      level("smem", Scope::Core, Management::Scratchpad, 64 * KiB,
            128 * c.clock, 128 * c.clock, 64 / c.clock, kSharedMemEnergy),
      // CDNA 3 white paper: 4 MB L2 per XCD, 8 XCDs, 2 KB/clk per XCD;
      // modelled chip-wide (32 MB, 8 x 2048 B/clk). Latency ESTIMATE.
      level("l2", Scope::Chip, Management::Cache, 32 * MiB, 8 * 2048 * c.clock,
            8 * 2048 * c.clock, 250 / c.clock, kL2Energy),
      // Data sheet: 256 MB AMD Infinity Cache (memory-side last-level
      // cache), 17.2 TB/s peak (CDNA 3 white paper). Latency ESTIMATE.
      level("llc", Scope::Chip, Management::Cache, 256 * MiB, 17.2 * TBps,
            17.2 * TBps, 250 * ns, 2 * kL2Energy),
      // Data sheet: 192 GB HBM3, 5.3 TB/s.
      level("hbm", Scope::Chip, Management::Scratchpad, 192 * GiB, 5.3 * TBps,
            5.3 * TBps, 600 * ns, kHbmEnergy),
  };
  c.staticPower = kStaticFraction * 750; // data sheet: 750 W TBP
  c.launchOverhead = kGpuLaunchOverhead;
  return c;
}

//===----------------------------------------------------------------------===//
// Hypothetical designs
//===----------------------------------------------------------------------===//

// HYPOTHETICAL. An SRAM-heavy dataflow chip in the spirit of wafer-scale
// designs (Cerebras WSE: 48 KB SRAM per core, single-cycle access, ~1.1 GHz,
// 2D mesh fabric; Hot Chips 2021/2022), scaled down to a 64x64 grid of cores
// on one die with modest off-chip LPDDR5X.
Chip meshSramChip() {
  Chip c;
  c.name = "mesh-sram";
  c.clock = 1.1 * GHz;
  c.cores = 64 * 64;
  c.grid = std::array<int64_t, 2>{64, 64};
  c.units = {
      // An 8x8 outer-product engine per core: 64 MAC/clk -> 128 BF16
      // FLOP/clk (2x for FP8/INT8); 4096 cores x 128 x 1.1 GHz = 577 TFLOPS.
      unit("matrix", UnitKind::Matrix, {8, 8, 1},
           {{DType::bf16, 128}, {DType::fp8, 256}, {DType::int8, 256}}),
      // 16-lane FMA vector unit (Cerebras cores: 4-16 lanes).
      unit("vector", UnitKind::Vector, {16},
           {{DType::f32, 32}, {DType::bf16, 64}}),
  };
  c.memory = {
      // 48 KiB per core, 1-cycle; 64 B/clk read feeds the 8x8 engine
      // (2 x 8 bf16 operands = 32 B/clk) with headroom, 32 B/clk write.
      // 192 MiB on chip in total.
      level("sram", Scope::Core, Management::Scratchpad, 48 * KiB, 64 * c.clock,
            32 * c.clock, 1 / c.clock, 0.5 * pJ),
      // 64 GiB LPDDR5X at 512 GB/s (Grace-class memory system: up to
      // 512 GB/s); LPDDR5X ~4 pJ/bit ESTIMATE; latency ESTIMATE 150 ns.
      level("dram", Scope::Chip, Management::Scratchpad, 64 * GiB, 512 * GBps,
            512 * GBps, 150 * ns, 4 * 8 * pJ),
  };
  OnChipNetwork noc;
  noc.kind = NocKind::Mesh;
  noc.linkBandwidth = 32 * c.clock; // 32 B/clk per link per direction
  noc.hopLatency = 1 / c.clock;     // one cycle per router hop
  noc.energyPerByte = 1 * pJ;       // ~0.1 pJ/bit/mm, ~1 mm per hop
  c.noc = noc;
  c.staticPower = kStaticFraction * 250; // assumed 250 W part
  c.launchOverhead = 1 * us; // program loaded once; calibration parameter
  return c;
}

// HYPOTHETICAL. Two identical compute dies in one package, each with its
// own HBM, joined by a die-to-die link; modelled as a 2-device system whose
// "d2d" fabric is a direct link (fully_connected, 2 members). Each die is
// Hopper-class (72 SMs-like cores at 1.8 GHz, 4 HBM3e stacks). The d2d link
// takes 2.5 TB/s per direction (B200's NV-HBI: 10 TB/s; MI300X XCD-IOD:
// ~2.1 TB/s per XCD), ~0.5 pJ/bit (UCIe advanced package), ~100 ns.
Chip chipletDie() {
  Chip c;
  c.name = "chiplet-die";
  c.clock = 1.8 * GHz;
  c.cores = 72;
  c.units = {
      unit("matrix", UnitKind::Matrix, {64, 128, 16},
           {{DType::tf32, 2048},
            {DType::bf16, 4096},
            {DType::fp16, 4096},
            {DType::fp8, 8192},
            {DType::int8, 8192}}),
      unit("vector", UnitKind::Vector, {32},
           {{DType::f64, 128}, {DType::f32, 256}}),
  };
  c.memory = {
      nvidiaRf(c.clock),
      nvidiaSmem(228 * KiB, c.clock),
      level("l2", Scope::Chip, Management::Cache, 48 * MiB, 5 * TBps, 5 * TBps,
            250 / c.clock, kL2Energy),
      level("hbm", Scope::Chip, Management::Scratchpad, 96 * GiB, 4 * TBps,
            4 * TBps, 500 * ns, kHbmEnergy),
  };
  c.staticPower = kStaticFraction * 500; // assumed 500 W per die
  c.launchOverhead = kGpuLaunchOverhead;
  return c;
}

//===----------------------------------------------------------------------===//
// Tenstorrent Wormhole (n150, n300)
//===----------------------------------------------------------------------===//

// Sources (docs/hardware-presets.md has the table):
//  [S] docs.tenstorrent.com/aibs/wormhole/specifications.html, "Card
//      Comparison Table" (n150s/n150d/n300s/n300d columns).
//  [I] github.com/tenstorrent/tt-isa-documentation, WormholeB0/: README.md
//      @ 585749d1, NoC/README.md @ 13547104 ("Performance" table),
//      TensixTile/L1.md @ 29e53cf9, TensixCoprocessor/VectorUnit.md
//      @ f7fda211.
//  [G] tt-metal tech_reports/GEMM_FLOPS/GEMM_FLOPS.md @ 06bd3735,
//      "Matrix Multiplication TFLOPS on Wormhole/Blackhole" and
//      "Utilization derivation formula".
//  [E] tt-metal tech_reports/EthernetMultichip/BasicEthernetGuide.md @
//      e804727c, "Ethernet Link", "N300", "Single Ethernet Link Round-Trip
//      Latency".
//  [L] tt-metal tech_reports/LLMs/llms.md @ 0100dbfc, sections 4.1
//      "Tracing", 4.5 "Performance Analysis", 4.6.1 "Data movement".
//  [D] tt-metal tech_reports/Saturating_DRAM_bandwidth/
//      Saturating_DRAM_bandwidth.md @ 0c3eb94a, the bandwidth table.
//
// One Wormhole ASIC: 80 Tensix tiles (72 enabled on n150, 64 per ASIC on
// n300 [S, I]), 12 GiB GDDR6, 16 x 100 GbE, two NoCs. The
// chip is modelled as the compute grid tt-metal programs: 8 x 8 Tensix cores
// ([G]: "Currently the max for Wormhole is 8x8"); the 8 further cores an
// n150 has are not in that grid, so they are left out (see the peaks below).
constexpr double kWormholeClock = 1 * GHz; // [S] "AI Clock 1 GHz"

Chip wormholeChip(std::string name, double boardPower, int64_t asics) {
  Chip c;
  c.name = std::move(name);
  c.clock = kWormholeClock;
  c.grid = std::array<int64_t, 2>{8, 8};
  c.cores = 8 * 8;
  c.units = {
      // [G]: the matrix engine (FPU) computes 8x16 x 16x16 per cycle = 4096
      // FLOP/clk/core at LoFi (one fidelity phase); HiFi2 takes 2 phases,
      // HiFi4 4 ("TFLOPS are calculated by dividing by the MATH_FIDELITY
      // value": LoFi ~4, HiFi2 ~2, HiFi4 ~1 TFLOPS per core at 1 GHz).
      // bf16/fp16 at full precision need HiFi4: 1024. fp8 is the spec
      // sheet's "FP8" figure, a LoFi rate: 4096. Block fp8 (bfp8, HiFi2:
      // 2048, the sheet's "BLOCKFP8") has no dtype here; see
      // docs/hardware-presets.md. No int8 peak is published: none given.
      // 64 cores x 1 GHz x {4096, 1024} = 262.1 / 65.5 TFLOP/s per ASIC.
      unit("fpu", UnitKind::Matrix, {8, 16, 16},
           {{DType::bf16, 1024}, {DType::fp16, 1024}, {DType::fp8, 4096}}),
      // [I] VectorUnit.md: the SFPU is 32 lanes of 32 bits; SFPMAD
      // (VD = VA * VB + VC) issues once per cycle -> 64 FP32 FLOP/clk.
      // Narrower data is computed widened to fp32.
      unit("sfpu", UnitKind::Vector, {32}, {{DType::f32, 64}}),
  };
  c.memory = {
      // [I] L1.md: 1464 KiB of scratchpad per Tensix tile ([S]: "1.5MB per
      // Tensix Core"; tt-metal reserves part of it for firmware and kernel
      // binaries). 16 banks of 128 bits; the two unpackers (L1 -> compute)
      // jointly reach five 128-bit reads per cycle = 80 B/clk, the four
      // packers (compute -> L1) one 128-bit write each = 64 B/clk.
      // Latency ESTIMATE 8 cycles (not published); energy ESTIMATE as other
      // ~1 MB SRAMs (Horowitz 2014 scaled).
      level("l1", Scope::Core, Management::Scratchpad, 1464 * KiB, 80 * c.clock,
            64 * c.clock, 8 / c.clock, kSharedMemEnergy),
      // [S]: 12GB GDDR6 per ASIC, 192-bit bus, 12 GT/s, 288 GB/s per ASIC
      // (576 GB/s on n300 = 2 x 288). [I] README: six 2 GiB banks = 12 GiB.
      // Latency ESTIMATE 600 ns (GDDR6 + NoC hops, not published); energy
      // ESTIMATE 7.5 pJ/bit (GDDR6 class, vendor figures 7-8 pJ/bit).
      level("dram", Scope::Chip, Management::Scratchpad, 12 * GiB, 288 * GBps,
            288 * GBps, 600 * ns, 7.5 * 8 * pJ),
  };
  // [L] 4.6.1: DRAM-sharded matmuls (weights sharded over the 12 banks, each
  // read by the core next to its bank) achieve "around 240 GB/s on a
  // Wormhole" of the 288 GB/s; [D]: 239-260 GB/s in Llama3-70B and
  // Mixtral decode matmuls, 267 GB/s in a read micro-benchmark. The
  // achievable fraction is 240 / 288.
  c.memory.back().efficiency = 240.0 / 288.0;
  // [I] NoC/README.md: two NoCs, each a 2D torus over the 10x12 tile grid,
  // NoC 0 routing +x/+y and NoC 1 -x/-y, so each direction of a neighbour
  // link is one NoC's link: one 256-bit flit = 32 B per cycle; router to
  // router 9 cycles. (The 8x8 compute grid is a sub-grid of that torus.)
  // Energy ESTIMATE 1 pJ/B/hop as mesh-sram.
  OnChipNetwork noc;
  noc.kind = NocKind::Torus;
  noc.linkBandwidth = 32 * c.clock;
  noc.hopLatency = 9 / c.clock;
  noc.energyPerByte = 1 * pJ;
  c.noc = noc;
  // [S] TBP: n150 160 W, n300 300 W (two ASICs) -> per ASIC, 25% static.
  c.staticPower = kStaticFraction * boardPower / double(asics);
  // [L] 4.5.5: "Typically tracing reduces the OP-to-OP gap below 6us" (the
  // device-side dispatch gap between traced programs; 2-22 us measured in
  // tt-metal issue #11386). Untraced programs wait for the host instead:
  // see hostDispatch in the spatial calibration runner.
  c.launchOverhead = 6 * us;
  return c;
}

System wormholeN150() {
  return single("wormhole-n150", wormholeChip("wormhole-n150", 160, 1));
}

// n300: two ASICs on one board joined by Ethernet [E]: "In total, there are
// 200 Gbps of bandwidth, in each direction, between the local and remote
// chips" = 2 links x 12.5 GB/s = 25 GB/s per direction ([S] writes
// "Internal Chip-to-Chip 400GbE", both directions counted); tt-metal's
// dispatcher reserves one of the two links, leaving 12.5 GB/s to kernels.
// Latency [E]: 530-620 ns one way over one link (measured) -> 0.6 us.
// Energy ESTIMATE 5 pJ/bit (SerDes, as the NVLink ESTIMATE).
System wormholeN300() {
  System s = single("wormhole-n300", wormholeChip("wormhole-n300", 300, 2));
  s.devices = 2;
  s.topology.push_back(fabric("eth", FabricKind::FullyConnected, {2},
                              2 * 12.5 * GBps, 0.6 * us, 5 * 8 * pJ));
  return s;
}

//===----------------------------------------------------------------------===//
// Name parsing
//===----------------------------------------------------------------------===//

/// A positive decimal integer (no sign, no leading '+'), at most `max`.
std::optional<int64_t> parseCount(llvm::StringRef s, int64_t max) {
  if (s.empty() || !llvm::all_of(s, llvm::isDigit))
    return std::nullopt;
  int64_t v;
  if (s.getAsInteger(10, v) || v <= 0 || v > max)
    return std::nullopt;
  return v;
}

// Largest sizes accepted: a v5p pod has 8960 chips; 4096 DGX nodes bound
// any InfiniBand fat tree built so far.
constexpr int64_t kMaxTpuChips = 8960;
constexpr int64_t kMaxTpuV4Chips = 4096; // a TPU v4 pod
constexpr int64_t kMaxDgxNodes = 4096;

/// A TPU v4 slice `AxBxC` (a 3D torus of ICI), or `AxBxC-xN`: N such
/// slices over the data-center network, as PaLM trained on two 3072-chip
/// pods (Chowdhery et al. 2022, section 4).
std::optional<System> tpuV4Slices(llvm::StringRef spec) {
  auto [dims, count] = spec.split("-x");
  int64_t slices = 1;
  if (spec.contains("-x")) {
    std::optional<int64_t> n = parseCount(count, 64);
    if (!n)
      return std::nullopt;
    slices = *n;
  }
  llvm::SmallVector<llvm::StringRef, 3> parts;
  dims.split(parts, 'x');
  if (parts.size() != 3)
    return std::nullopt;
  std::vector<int64_t> shape;
  int64_t n = 1;
  for (llvm::StringRef p : parts) {
    std::optional<int64_t> d = parseCount(p, kMaxTpuV4Chips);
    if (!d)
      return std::nullopt;
    shape.push_back(*d);
    n *= *d;
    if (n > kMaxTpuV4Chips)
      return std::nullopt;
  }
  System s;
  s.name = ("tpu-v4-" + spec).str();
  s.chip = tpuV4Chip();
  s.devices = n * slices;
  // Six ICI links per chip. Per link and direction the documented 24 TB/s
  // bisection of a 4096-chip pod over the links that halving a 16x16x16
  // torus cuts (2 x 16 x 16 = 512): 46.875 GB/s, 281.25 GB/s per chip (the
  // documented 1.1 PB/s all-reduce bandwidth per pod is 269 GB/s per chip).
  // Latency ESTIMATE 1 us, energy ESTIMATE 5 pJ/bit, as v5p.
  s.topology.push_back(fabric("ici", FabricKind::Torus, shape, 6 * 46.875 * GBps,
                              1 * us, 5 * 8 * pJ));
  // Between slices: the data-center network. ESTIMATE 100 Gb/s per host of
  // 4 chips (PaLM: 768 hosts per 3072-chip pod) = 3.125 GB/s per chip;
  // latency ESTIMATE 10 us, energy ESTIMATE 20 pJ/bit.
  if (slices > 1)
    s.topology.push_back(fabric("dcn", FabricKind::FatTree, {slices},
                                3.125 * GBps, 10 * us, 20 * 8 * pJ));
  return s;
}

std::optional<System> tpuSlice(llvm::StringRef dims) {
  llvm::SmallVector<llvm::StringRef, 3> parts;
  dims.split(parts, 'x');
  if (parts.size() != 3)
    return std::nullopt;
  std::vector<int64_t> shape;
  int64_t n = 1;
  for (llvm::StringRef p : parts) {
    std::optional<int64_t> d = parseCount(p, kMaxTpuChips);
    if (!d)
      return std::nullopt;
    shape.push_back(*d);
    n *= *d;
    if (n > kMaxTpuChips)
      return std::nullopt;
  }
  System s;
  s.name = ("tpu-v5p-" + dims).str();
  s.chip = tpuV5pChip();
  s.devices = n;
  // 600 GB/s per direction over 6 links (100 GB/s per link per direction,
  // Fabric::linkBandwidth). Wrap-around links exist for full 4x4x4 cubes
  // and larger; smaller slices are modelled as tori too (documented).
  // Latency ESTIMATE 1 us, energy ESTIMATE 5 pJ/bit.
  s.topology.push_back(
      fabric("ici", FabricKind::Torus, shape, 600 * GBps, 1 * us, 5 * 8 * pJ));
  return s;
}

} // namespace

std::vector<std::string> strata::hw::presetNames() {
  return {"a100-sxm-80g",  "h100-sxm",   "h200",       "b200",
          "tpu-v5p",       "mi300x",     "dgx-a100",   "dgx-h100",
          "dgx-b200",      "dgx-a100x4", "dgx-h100x4", "tpu-v5p-4x4x4",
          "mi300x-x8",     "mesh-sram",  "chiplet-2x", "wormhole-n150",
          "wormhole-n300", "tpu-v4",     "tpu-v4-4x4x4", "l40s",
          "h800-sxm",      "hgx-h800"};
}

std::optional<System> strata::hw::getPreset(std::string_view nameView) {
  llvm::StringRef name(nameView.data(), nameView.size());
  if (name == "a100-sxm-80g")
    return single("a100-sxm-80g", a100Chip());
  if (name == "h100-sxm")
    return single("h100-sxm", h100SxmChip());
  if (name == "h200")
    return single("h200", h200Chip());
  if (name == "h800-sxm")
    return single("h800-sxm", h800SxmChip());
  // HGX H800: 8 H800 SXM5 on NVSwitch at the H800's 200 GB/s per direction.
  if (name == "hgx-h800")
    return dgx("hgx-h800", h800SxmChip(), 200 * GBps, true, 0, 0);
  if (name == "b200")
    return single("b200", b200Chip());
  if (name == "l40s")
    return single("l40s", l40sChip());
  if (name == "tpu-v5p")
    return single("tpu-v5p", tpuV5pChip());
  if (name == "tpu-v4")
    return single("tpu-v4", tpuV4Chip());
  if (name == "mi300x")
    return single("mi300x", mi300xChip());
  if (name == "mesh-sram")
    return single("mesh-sram", meshSramChip());
  if (name == "wormhole-n150")
    return wormholeN150();
  if (name == "wormhole-n300")
    return wormholeN300();

  if (name == "dgx-a100")
    return dgx("dgx-a100", a100Chip(), 300 * GBps, false, 0, 0);
  if (name == "dgx-h100")
    return dgx("dgx-h100", h100SxmChip(), 450 * GBps, true, 0, 0);
  if (name == "dgx-b200")
    return dgx("dgx-b200", b200Chip(), 900 * GBps, true, 0, 0);
  llvm::StringRef rest = name;
  if (rest.consume_front("dgx-a100x")) {
    if (std::optional<int64_t> n = parseCount(rest, kMaxDgxNodes))
      return dgx(name.str(), a100Chip(), 300 * GBps, false, *n, 25 * GBps);
    return std::nullopt;
  }
  rest = name;
  if (rest.consume_front("dgx-h100x")) {
    if (std::optional<int64_t> n = parseCount(rest, kMaxDgxNodes))
      return dgx(name.str(), h100SxmChip(), 450 * GBps, true, *n, 50 * GBps);
    return std::nullopt;
  }
  rest = name;
  if (rest.consume_front("tpu-v5p-"))
    return tpuSlice(rest);
  rest = name;
  if (rest.consume_front("tpu-v4-"))
    return tpuV4Slices(rest);

  if (name == "mi300x-x8") {
    // AMD Instinct MI300X Platform: 8 OAMs fully connected by 7 Infinity
    // Fabric links each, 128 GB/s bidirectional (64 GB/s per direction) per
    // link -> 448 GB/s per GPU per direction (AMD: 896 GB/s aggregate).
    // Latency ESTIMATE 2 us (RCCL-level alpha), energy ESTIMATE 5 pJ/bit.
    System s = single("mi300x-x8", mi300xChip());
    s.devices = 8;
    s.topology.push_back(fabric("xgmi", FabricKind::FullyConnected, {8},
                                7 * 64 * GBps, 2 * us, 5 * 8 * pJ));
    return s;
  }
  if (name == "chiplet-2x") {
    System s = single("chiplet-2x", chipletDie());
    s.devices = 2;
    s.topology.push_back(fabric("d2d", FabricKind::FullyConnected, {2},
                                2.5 * TBps, 100 * ns, 0.5 * 8 * pJ));
    return s;
  }
  return std::nullopt;
}
