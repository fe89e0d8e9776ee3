//===- TileDialect.td - Tiles, placement, transfers --------*- tablegen -*-===//

#ifndef STRATA_TILE_DIALECT
#define STRATA_TILE_DIALECT

include "mlir/IR/OpBase.td"

def Tile_Dialect : Dialect {
  let name = "tile";
  let cppNamespace = "::strata::tile";
  let summary = "Explicit schedules: tiles, placement, transfers, compute";
  let description = [{
    The `tile` dialect is what a linalg op becomes once Strata has decided
    how it runs on the target chip. Every decision is explicit IR:

    * which tiles: the shapes of `!tile.buf` values and the static trip
      counts of `tile.spread` and `tile.loop`;
    * held where: the memory level named in each `!tile.buf` type;
    * moved how: `tile.copy` (DMA between levels), `tile.noc_copy`
      (core-to-core over the on-chip network), `tile.collective` and
      `tile.send`/`tile.recv` (between chips over a named fabric);
    * computed on what: the unit named by `tile.mma`, `tile.map`,
      `tile.reduce`;
    * overlapped how: `tile.loop ... pipeline(N)` and multi-buffered
      `tile.alloc ... buffers(N)`, with `!tile.token`s ordering async
      transfers.

    A schedule is a loop nest with static trip counts, never unrolled tiles,
    so IR size grows with the number of graph ops and not with tensor sizes.
    Ops that do work implement `TileCostOpInterface` so the cost model can
    price a schedule without knowing each op.

    When the enclosing module carries an `arch.system`, verifiers also check
    the names used against the chip: memory levels, compute units and their
    kinds and native shapes, core counts, the on-chip network and fabrics.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
  private:
    void registerTypes();
    void registerAttributes();
  public:
  }];
}

// Counts, sizes and indices: a signless i64 read back as a signed int64_t.
// (I64Attr's getter returns uint64_t, under which a negative trip count
// written in the IR would pass a `>= 1` check as a huge number.)
def Tile_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
                                                "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

class Tile_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tile_Dialect, mnemonic, traits>;

#endif // STRATA_TILE_DIALECT
