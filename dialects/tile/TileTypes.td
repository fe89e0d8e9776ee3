//===- TileTypes.td - Tile dialect types -------------------*- tablegen -*-===//

#ifndef STRATA_TILE_TYPES
#define STRATA_TILE_TYPES

include "tile/TileDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class Tile_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Tile_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Tile_BufType : Tile_Type<"Buf", "buf", [ShapedTypeInterface]> {
  let summary = "A statically shaped tile held in a named memory level";
  let description = [{
    A buffer of `shape` elements of `elementType` placed in the memory level
    `level` of the target chip (`"rf"`, `"smem"`, `"hbm"`, `"sram"`, ...).
    Where the level is core-scoped, every core running the schedule holds its
    own instance. The level is part of the type, so every value says where
    its bytes live and every transfer says which levels it connects.

    ```mlir
    !tile.buf<128x64xbf16, "smem">
    !tile.buf<4096x8192xbf16, "hbm">
    ```

    Shapes are static and positive; element types are integers or floats.
    When the module has an `arch.system`, the ops using a buffer check that
    its level exists in the chip.
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t", "static shape">:$shape,
    "::mlir::Type":$elementType,
    StringRefParameter<"memory level name">:$level
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    TypeBuilderWithInferredContext<(ins "::llvm::ArrayRef<int64_t>":$shape,
                                        "::mlir::Type":$elementType,
                                        "::llvm::StringRef":$level), [{
      return $_get(elementType.getContext(), shape, elementType, level);
    }]>
  ];
  let extraClassDeclaration = [{
    // ShapedTypeInterface: a buffer is always ranked.
    bool hasRank() const { return true; }
    ::mlir::ShapedType cloneWith(::std::optional< ::llvm::ArrayRef<int64_t>> shape,
                                 ::mlir::Type elementType) const;
    /// Bytes the buffer occupies (one instance; sub-byte types packed).
    int64_t getSizeInBytes() const;
  }];
}

def Tile_TokenType : Tile_Type<"Token", "token"> {
  let summary = "Completion of an asynchronous transfer";
  let description = [{
    Produced by the async transfers (`tile.copy`, `tile.noc_copy`); consumed
    by `tile.wait` and by the `after(...)` lists of later transfers.
  }];
}

def Tile_AnyBuf : Type<CPred<"::llvm::isa< ::strata::tile::BufType>($_self)">,
                       "tile buffer", "::strata::tile::BufType">;

#endif // STRATA_TILE_TYPES
