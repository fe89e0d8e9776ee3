//===- TileInterfaces.td - Tile dialect interfaces ---------*- tablegen -*-===//

#ifndef STRATA_TILE_INTERFACES
#define STRATA_TILE_INTERFACES

include "mlir/IR/OpBase.td"

def TileCostOpInterface : OpInterface<"TileCostOpInterface"> {
  let cppNamespace = "::strata::tile";
  let description = [{
    What one execution of a tile op costs, in quantities the cost model
    prices: FLOP on a named compute unit, or bytes moved between memory
    levels, between cores over the on-chip network, or between chips over a
    fabric. `getExecutionCount()` multiplies in the static trip counts of the
    enclosing `tile.loop` and `tile.spread` ops, so a walk over a schedule
    sums totals without knowing any op or unrolling anything.

    Counts are whole-schedule totals over all cores: the cost model divides
    a `tile.spread`'s iterations over its cores (with wave quantisation).
  }];
  let methods = [
    InterfaceMethod<[{
        Which hardware resource one execution occupies: a compute unit, the
        memory system (DMA between levels), the on-chip network or a fabric.
      }],
      "::strata::tile::CostKind", "getCostKind">,
    InterfaceMethod<[{
        FLOP performed by one execution (0 for transfers).
      }],
      "int64_t", "getFlopsPerExecution", (ins), [{}], [{ return 0; }]>,
    InterfaceMethod<[{
        Payload bytes moved by one execution (0 for compute). A multicast
        counts its payload once; the network replicates it.
      }],
      "int64_t", "getBytesMoved", (ins), [{}], [{ return 0; }]>,
    InterfaceMethod<[{
        Name of the compute unit doing the work, or "" for transfers.
      }],
      "::llvm::StringRef", "getComputeUnit", (ins), [{}],
      [{ return ""; }]>,
    InterfaceMethod<[{
        Source and destination memory levels of a DMA or on-chip-network
        transfer; empty names for compute and fabric ops.
      }],
      "::std::pair< ::llvm::StringRef, ::llvm::StringRef>", "getTransferLevels",
      (ins), [{}], [{ return {"", ""}; }]>,
    InterfaceMethod<[{
        Name of the fabric a multi-chip transfer crosses, or "".
      }],
      "::llvm::StringRef", "getFabricName", (ins), [{}], [{ return ""; }]>,
    InterfaceMethod<[{
        Times the op executes in the whole schedule: the product of the trip
        counts of every enclosing `tile.loop` and `tile.spread`.
      }],
      "int64_t", "getExecutionCount", (ins), [{}],
      [{ return ::strata::tile::getStaticExecutionCount($_op); }]>,
    InterfaceMethod<[{
        FLOP over the whole schedule.
      }],
      "int64_t", "getTotalFlops", (ins), [{}],
      [{ return $_op.getFlopsPerExecution() * $_op.getExecutionCount(); }]>,
    InterfaceMethod<[{
        Bytes moved over the whole schedule.
      }],
      "int64_t", "getTotalBytesMoved", (ins), [{}],
      [{ return $_op.getBytesMoved() * $_op.getExecutionCount(); }]>
  ];
}

#endif // STRATA_TILE_INTERFACES
