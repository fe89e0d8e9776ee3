//===- TileAttrs.td - Tile dialect attributes --------------*- tablegen -*-===//

#ifndef STRATA_TILE_ATTRS
#define STRATA_TILE_ATTRS

include "tile/TileDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

// Each enum is a dialect attribute printed as a bare keyword inside op
// formats (`tile.map silu ...`); the generic form spells the attribute out.
class Tile_EnumAttr<EnumInfo info, string name>
    : EnumAttr<Tile_Dialect, info, name>;

def Tile_MapKind : I32EnumAttr<"MapKind", "elementwise operation", [
    // Unary.
    I32EnumAttrCase<"Neg", 0, "neg">,
    I32EnumAttrCase<"Abs", 1, "abs">,
    I32EnumAttrCase<"Exp", 2, "exp">,
    I32EnumAttrCase<"Log", 3, "log">,
    I32EnumAttrCase<"Sqrt", 4, "sqrt">,
    I32EnumAttrCase<"Rsqrt", 5, "rsqrt">,
    I32EnumAttrCase<"Recip", 6, "recip">,
    I32EnumAttrCase<"Tanh", 7, "tanh">,
    I32EnumAttrCase<"Sigmoid", 8, "sigmoid">,
    I32EnumAttrCase<"Relu", 9, "relu">,
    I32EnumAttrCase<"Gelu", 10, "gelu">,
    I32EnumAttrCase<"Silu", 11, "silu">,
    I32EnumAttrCase<"Cast", 12, "cast">,
    // Binary.
    I32EnumAttrCase<"Add", 13, "add">,
    I32EnumAttrCase<"Sub", 14, "sub">,
    I32EnumAttrCase<"Mul", 15, "mul">,
    I32EnumAttrCase<"Div", 16, "div">,
    I32EnumAttrCase<"Max", 17, "max">,
    I32EnumAttrCase<"Min", 18, "min">,
    // Ternary.
    I32EnumAttrCase<"Fma", 19, "fma">,
    // Any arity (none: a function of the element coordinates): an
    // elementwise expression of its inputs whose per-element cost is given
    // by flops(n) (a linalg body that is not a chain of the kinds above).
    I32EnumAttrCase<"Expr", 20, "expr">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::strata::tile";
}
def Tile_MapKindAttr : Tile_EnumAttr<Tile_MapKind, "map_kind">;

def Tile_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Max", 1, "max">,
    I32EnumAttrCase<"Min", 2, "min">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::strata::tile";
}
def Tile_ReduceKindAttr : Tile_EnumAttr<Tile_ReduceKind, "reduce_kind">;

def Tile_NocMode : I32EnumAttr<"NocMode", "on-chip network delivery mode", [
    I32EnumAttrCase<"Unicast", 0, "unicast">,
    I32EnumAttrCase<"Multicast", 1, "multicast">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::strata::tile";
}
def Tile_NocModeAttr : Tile_EnumAttr<Tile_NocMode, "noc_mode">;

def Tile_SplitReduceKind : I32EnumAttr<"SplitReduceKind",
    "cross-core reduction of partial results", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Softmax", 1, "softmax">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::strata::tile";
}
def Tile_SplitReduceKindAttr
    : Tile_EnumAttr<Tile_SplitReduceKind, "split_reduce_kind">;

def Tile_CollectiveKind : I32EnumAttr<"CollectiveKind", "collective", [
    I32EnumAttrCase<"AllReduce", 0, "all_reduce">,
    I32EnumAttrCase<"AllGather", 1, "all_gather">,
    I32EnumAttrCase<"ReduceScatter", 2, "reduce_scatter">,
    I32EnumAttrCase<"AllToAll", 3, "all_to_all">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::strata::tile";
}
def Tile_CollectiveKindAttr
    : Tile_EnumAttr<Tile_CollectiveKind, "collective_kind">;

def Tile_CollectiveAlgorithm
    : I32EnumAttr<"CollectiveAlgorithm", "collective algorithm", [
    I32EnumAttrCase<"Ring", 0, "ring">,
    I32EnumAttrCase<"Tree", 1, "tree">,
    I32EnumAttrCase<"RecursiveHalvingDoubling", 2,
                    "recursive_halving_doubling">,
    I32EnumAttrCase<"Hierarchical", 3, "hierarchical">,
    I32EnumAttrCase<"TorusDimOrdered", 4, "torus_dim_ordered">,
    I32EnumAttrCase<"InNetwork", 5, "in_network">,
    I32EnumAttrCase<"Direct", 6, "direct">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::strata::tile";
}
def Tile_CollectiveAlgorithmAttr
    : Tile_EnumAttr<Tile_CollectiveAlgorithm, "algorithm">;

#endif // STRATA_TILE_ATTRS
