//===- ArchAttrs.td - Hardware description attributes ------*- tablegen -*-===//

#ifndef STRATA_ARCH_ATTRS
#define STRATA_ARCH_ATTRS

include "arch/ArchDialect.td"
include "mlir/IR/AttrTypeBase.td"

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

// A quantity written as `<number> <unit>` and stored in SI base units.
// Doubles are stored as `Real` (hashable by attribute storage) and read back
// as plain `double`.
class Arch_RealParameter<string desc>
    : AttrOrTypeParameter<"strata::arch::Real", desc, "double"> {
  let convertFromStorage = "$_self.value";
}

class Arch_Quantity<string kind, string desc> : Arch_RealParameter<desc> {
  let parser = "strata::arch::parseQuantity($_parser, strata::hw::Quantity::"
               # kind # ")";
  let printer = "strata::arch::printQuantity($_printer, $_self, "
                "strata::hw::Quantity::" # kind # ")";
}
class Arch_OptionalQuantity<string kind, string desc>
    : Arch_Quantity<kind, desc> {
  let defaultValue = "0.0";
}
def Arch_Capacity : AttrOrTypeParameter<"uint64_t", "capacity in bytes"> {
  let parser = "strata::arch::parseCapacity($_parser)";
  let printer = "strata::arch::printQuantity($_printer, double($_self), "
                "::strata::hw::Quantity::Bytes)";
}

// A keyword naming a value of one of the hardware model's enums.
class Arch_Enum<string enumName, string what>
    : AttrOrTypeParameter<"::strata::hw::" # enumName, what> {
  let parser = "strata::arch::parseEnum<strata::hw::" # enumName
               # ">($_parser, \"" # what # "\")";
  let printer = "$_printer << ::strata::hw::toString($_self)";
}

// A plain number with a default (efficiencies are fractions, default 1).
class Arch_Fraction<string desc> : Arch_RealParameter<desc> {
  let defaultValue = "1.0";
  let parser = "strata::arch::parseNumber($_parser)";
  let printer = "$_printer << ::strata::hw::formatShortest($_self)";
}

def Arch_RateList : ArrayRefParameter<"strata::arch::Rate",
                                      "FLOP per cycle per core, by dtype"> {
  let parser = "strata::arch::parseRates($_parser)";
  let printer = "strata::arch::printRates($_printer, $_self)";
}

class Arch_AttrList<string elementType, string desc>
    : ArrayRefParameter<elementType, desc> {
  let parser = "strata::arch::parseAttrList<" # elementType # ">($_parser)";
  let printer = "strata::arch::printAttrList($_printer, $_self)";
}

class Arch_OptionalAttrList<string elementType, string desc>
    : Arch_AttrList<elementType, desc> {
  // value_or() needs the storage type; the printer compares accessor values.
  let defaultValue = "::llvm::SmallVector<" # elementType # ">()";
  let comparator = "::llvm::ArrayRef<" # elementType # ">($_lhs) == "
                   "::llvm::ArrayRef<" # elementType # ">($_rhs)";
}

// A nested `#arch.*` attribute, written in full.
class Arch_NestedAttr<string cppType, string desc>
    : AttrOrTypeParameter<cppType, desc> {
  let parser = "strata::arch::parseNestedAttr<" # cppType # ">($_parser)";
  let printer = "$_printer.printAttribute($_self)";
}

def Arch_OptionalNoc : Arch_NestedAttr<"strata::arch::NocAttr",
                                       "on-chip network"> {
  let defaultValue = "strata::arch::NocAttr()";
}

def Arch_Dims : ArrayRefParameter<"int64_t", "dimensions"> {
  let parser = "strata::arch::parseDims($_parser)";
  let printer = "strata::arch::printDims($_printer, $_self)";
}
def Arch_OptionalDims : ArrayRefParameter<"int64_t", "dimensions"> {
  let parser = "strata::arch::parseDims($_parser)";
  let printer = "strata::arch::printDims($_printer, $_self)";
  let defaultValue = "::llvm::SmallVector<int64_t>()";
  let comparator = "::llvm::ArrayRef<int64_t>($_lhs) == "
                   "::llvm::ArrayRef<int64_t>($_rhs)";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Arch_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Arch_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
  let genVerifyDecl = 1;
}

def Arch_ComputeUnitAttr : Arch_Attr<"ComputeUnit", "unit"> {
  let summary = "A compute unit present in every core";
  let description = [{
    A matrix unit (tensor core, MXU, MFMA) with its native `[M, N, K]`
    shape, or a vector unit (optionally with `[lanes]`), and its dense rates
    in FLOP per cycle per core for each supported dtype. `efficiency` is the
    achievable fraction of peak, a calibration parameter of the cost model.
    `asynchronous = true` marks a unit only asynchronous warpgroup
    instructions reach (Hopper's wgmma); kernels issuing synchronous MMAs
    (mma.sync) use the chip's other matrix unit.

    ```mlir
    #arch.unit<"tensor", kind = matrix, shape = [64, 256, 16],
               rates = {bf16 = 4096, fp8 = 8192}>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"unit name">:$name,
    Arch_Enum<"UnitKind", "unit kind">:$kind,
    Arch_OptionalDims:$shape,
    Arch_RateList:$rates,
    Arch_Fraction<"achievable fraction of peak">:$efficiency,
    DefaultValuedParameter<"bool", "false",
                           "reached only by asynchronous warpgroup MMAs">:$asynchronous
  );
  let assemblyFormat = [{
    `<` $name `,` struct($kind, $shape, $rates, $efficiency, $asynchronous) `>`
  }];
}

def Arch_LevelAttr : Arch_Attr<"Level", "level"> {
  let summary = "One level of the memory hierarchy";
  let description = [{
    Capacity, bandwidth, latency and energy are per instance: per core for a
    `core`-scoped level, per chip for `chip`, once for `system`.
    `write_bandwidth` defaults to `bandwidth` (printed only when it differs).
    `management` says whether software moves data explicitly (`scratchpad`)
    or hardware does (`cache`).

    ```mlir
    #arch.level<"hbm", scope = chip, management = scratchpad,
                capacity = 80 GB, bandwidth = 3.35 TB/s, latency = 600 ns,
                energy = 7 pJ/B>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"level name">:$name,
    Arch_Enum<"Scope", "scope">:$scope,
    Arch_Enum<"Management", "management">:$management,
    Arch_Capacity:$capacity,
    Arch_Quantity<"BytesPerSecond", "read bandwidth per instance">:$bandwidth,
    Arch_OptionalQuantity<"BytesPerSecond",
                          "write bandwidth per instance (0: as read)">:$write_bandwidth,
    Arch_OptionalQuantity<"Seconds", "latency to first byte">:$latency,
    Arch_OptionalQuantity<"JoulesPerByte", "energy per byte moved">:$energy,
    Arch_Fraction<"achievable fraction of bandwidth">:$efficiency
  );
  let assemblyFormat = [{
    `<` $name `,` struct($scope, $management, $capacity, $bandwidth, $write_bandwidth, $latency, $energy, $efficiency) `>`
  }];
}

def Arch_NocAttr : Arch_Attr<"Noc", "noc"> {
  let summary = "On-chip network connecting the cores of a grid chip";
  let description = [{
    ```mlir
    #arch.noc<kind = mesh, bandwidth = 64 GB/s, hop_latency = 1 ns,
              energy = 0.1 pJ/B>
    ```
  }];
  let parameters = (ins
    Arch_Enum<"NocKind", "network kind">:$kind,
    Arch_Quantity<"BytesPerSecond", "bandwidth per link per direction">:$bandwidth,
    Arch_OptionalQuantity<"Seconds", "latency per hop">:$hop_latency,
    Arch_OptionalQuantity<"JoulesPerByte", "energy per byte per hop">:$energy
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

def Arch_ChipAttr : Arch_Attr<"Chip", "chip"> {
  let summary = "A chip: clock, cores, compute units, memory, network";
  let description = [{
    `memory` is ordered from the level closest to the compute units
    outwards. Mesh-style chips give `grid = [rows, cols]` and a `noc`.
    `static_power` is drawn regardless of activity; `launch_overhead` is the
    fixed cost of starting one kernel (a calibration parameter);
    `graph_node_overhead` what one kernel node of a replayed graph (CUDA
    graphs) costs instead (0: as `launch_overhead`).
  }];
  let parameters = (ins
    StringRefParameter<"chip name">:$name,
    Arch_Quantity<"Hertz", "clock at which the rates give the peak">:$clock,
    "int64_t":$cores,
    Arch_OptionalDims:$grid,
    Arch_AttrList<"strata::arch::ComputeUnitAttr", "compute units">:$units,
    Arch_AttrList<"strata::arch::LevelAttr", "memory levels, innermost first">:$memory,
    Arch_OptionalNoc:$noc,
    Arch_OptionalQuantity<"Watts", "static power">:$static_power,
    Arch_OptionalQuantity<"Seconds", "per-kernel launch overhead">:$launch_overhead,
    Arch_OptionalQuantity<"Seconds", "per kernel node of a replayed graph (0: as launch_overhead)">:$graph_node_overhead
  );
  let assemblyFormat = [{
    `<` $name `,` struct($clock, $cores, $grid, $units, $memory, $noc, $static_power, $launch_overhead, $graph_node_overhead) `>`
  }];
}

def Arch_FabricAttr : Arch_Attr<"Fabric", "fabric"> {
  let summary = "One level of the multi-chip topology";
  let description = [{
    `shape` gives the members of one instance: one entry for `switch`,
    `fat_tree`, `ring` and `fully_connected`, one per dimension for `torus`
    and `mesh`. Bandwidth is per device per direction; latency is the
    per-message (alpha) term. `in_network_reduction` marks switches that
    reduce in the fabric (NVLink SHARP, InfiniBand SHARP).

    ```mlir
    #arch.fabric<"nvlink", kind = switch, shape = [8], bandwidth = 450 GB/s,
                 latency = 2 us, in_network_reduction = true>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"fabric name">:$name,
    Arch_Enum<"FabricKind", "fabric kind">:$kind,
    Arch_Dims:$shape,
    Arch_Quantity<"BytesPerSecond", "bandwidth per device per direction">:$bandwidth,
    Arch_OptionalQuantity<"Seconds", "per-message latency">:$latency,
    Arch_OptionalQuantity<"JoulesPerByte", "energy per byte">:$energy,
    DefaultValuedParameter<"bool", "false", "switch reduces in the network">:$in_network_reduction,
    Arch_Fraction<"achievable fraction of bandwidth">:$efficiency
  );
  let assemblyFormat = [{
    `<` $name `,` struct($kind, $shape, $bandwidth, $latency, $energy, $in_network_reduction, $efficiency) `>`
  }];
}

def Arch_SystemAttr : Arch_Attr<"System", "system"> {
  let summary = "A whole system: chips and the topology joining them";
  let description = [{
    `topology` is ordered innermost first; the fabric sizes multiply to
    `devices`.

    ```mlir
    #arch.system<"dgx-h100", chip = #arch.chip<...>, devices = 8,
                 topology = [#arch.fabric<"nvlink", kind = switch, ...>]>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"system name">:$name,
    Arch_NestedAttr<"strata::arch::ChipAttr", "the chip">:$chip,
    DefaultValuedParameter<"int64_t", "1", "number of chips">:$devices,
    Arch_OptionalAttrList<"strata::arch::FabricAttr",
                          "fabrics, innermost first">:$topology
  );
  let assemblyFormat = [{
    `<` $name `,` struct($chip, $devices, $topology) `>`
  }];
}

#endif // STRATA_ARCH_ATTRS
