//===- TileOps.td - Tile dialect operations ----------------*- tablegen -*-===//

#ifndef STRATA_TILE_OPS
#define STRATA_TILE_OPS

include "tile/TileDialect.td"
include "tile/TileTypes.td"
include "tile/TileAttrs.td"
include "tile/TileInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Structure: kernel, spread, loop, yield
//===----------------------------------------------------------------------===//

def Tile_KernelOp : Tile_Op<"kernel", [
    AttrSizedOperandSegments, IsolatedFromAbove,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "The tile schedule that replaces one tensor op";
  let description = [{
    Ties a lowered schedule to the tensor values of the op it replaces, so
    tile IR lives inside func-on-tensors after a linalg op is lowered. The
    results are the `outs` tensors once the schedule has written them
    (destination-passing style, as in linalg).

    The body has one block argument per `ins` and `outs` operand: a
    `!tile.buf` with the tensor's shape and element type, placed in the
    level where the tensor lives (its home, e.g. `"hbm"`). Inside the body
    everything is a buffer in a named level; tensors exist only at the
    boundary. The body is isolated from above: a schedule depends only on
    its operands, so the cost model can price it alone (and once, however
    often it is called).

    `name` identifies the op in reports (`"layers.attn.qk_matmul"`).

    `resident([i, ...])` (on a chip with a core grid and an on-chip
    network): operands `i` (numbered over `ins` then `outs`) live in the
    grid's distributed SRAM rather than at home — an activation kept on
    chip between consecutive kernels (layer fusion across cores, as Stream
    does). Their body arguments are placed in the core-scoped staging level
    (`!tile.buf<1024x768xbf16, "sram">`: the tensor spread over the cores'
    scratchpads), so the copies that read or write them move bytes core to
    core over the network, never through home. `spilled([i, ...])` lists
    the activations a `strata-residency` pass wanted on chip but the grid's
    free SRAM could not hold: they stay at home, and the IR says so.

    ```mlir
    %q = tile.kernel "attn.q_proj" ins(%x, %w : tensor<1024x768xbf16>,
                                               tensor<768x768xbf16>)
                                   outs(%e : tensor<1024x768xbf16>)
                                   resident([0, 2]) {
    ^bb0(%X: !tile.buf<1024x768xbf16, "sram">,
         %W: !tile.buf<768x768xbf16, "dram">,
         %Q: !tile.buf<1024x768xbf16, "sram">):
      ...
    } -> tensor<1024x768xbf16>
    ```

    ```mlir
    %r = tile.kernel "mlp.up" ins(%a, %b : tensor<4096x8192xbf16>,
                                           tensor<8192x1280xbf16>)
                              outs(%c : tensor<4096x1280xf32>) {
    ^bb0(%A: !tile.buf<4096x8192xbf16, "hbm">,
         %B: !tile.buf<8192x1280xbf16, "hbm">,
         %C: !tile.buf<4096x1280xf32, "hbm">):
      tile.spread cores(132) over (%m, %n) in (32, 5) { ... }
    } -> tensor<4096x1280xf32>
    ```
  }];
  let arguments = (ins
    StrAttr:$name,
    Variadic<AnyRankedTensor>:$inputs,
    Variadic<AnyRankedTensor>:$outputs,
    OptionalAttr<DenseI64ArrayAttr>:$resident,
    OptionalAttr<DenseI64ArrayAttr>:$spilled
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name (`ins` `(` $inputs^ `:` qualified(type($inputs)) `)`)?
    (`outs` `(` $outputs^ `:` qualified(type($outputs)) `)`)?
    (`resident` `(` $resident^ `)`)? (`spilled` `(` $spilled^ `)`)?
    $body (`->` qualified(type($results))^)? attr-dict-with-keyword
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::mlir::StringAttr":$name,
                   "::mlir::ValueRange":$inputs, "::mlir::ValueRange":$outputs), [{
      build($_builder, $_state, resultTypes, name, inputs, outputs,
            /*resident=*/nullptr, /*spilled=*/nullptr);
    }]>
  ];
  let extraClassDeclaration = [{
    /// The buffer standing for input `i` / output `i` inside the body.
    ::mlir::BlockArgument getInputBuffer(unsigned i) {
      return getBody().getArgument(i);
    }
    ::mlir::BlockArgument getOutputBuffer(unsigned i) {
      return getBody().getArgument(getInputs().size() + i);
    }
    /// Whether operand `i` (over ins then outs) lives in the grid's SRAM.
    bool isResident(unsigned i) {
      std::optional<::llvm::ArrayRef<int64_t>> r = getResident();
      return r && ::llvm::is_contained(*r, int64_t(i));
    }
  }];
}

def Tile_SpreadOp : Tile_Op<"spread", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "Distribute a static iteration space over cores";
  let description = [{
    Runs the body once per point of a static iteration space, the points
    distributed over `cores` cores (`cores` at most the chip's). The block
    arguments are the tile indices of the point, of type `index`. With more
    points than cores the work runs in `ceil(points / cores)` waves; the
    cost model charges the last, partial wave in full (wave quantisation).

    The body is SPMD: a `tile.alloc` of a core-scoped level inside it gives
    every core its own instance, and `tile.noc_copy` addresses the same
    allocation on other cores.

    `grid(rows, cols)` lays the last two dimensions on a `rows x cols`
    rectangle of a grid chip's cores (`cores` = rows x cols): point
    `(.., i, j)` runs on core `(i mod rows, j mod cols)` of the rectangle,
    and the space runs as `ceil(t0 / rows) x ceil(t1 / cols)` rectangles
    (times the leading trip counts) one after the other. Placement matters
    on a grid: `tile.copy ... multicast(axis)` shares one fetch among the
    cores of a grid row or column.

    ```mlir
    // 4096x1280 output in 128x256 tiles: 160 points on 132 cores (2 waves).
    tile.spread cores(132) over (%m, %n) in (32, 5) {
      ...
    }
    // 2048x14336 output in 32x56 tiles on a 64x64 mesh: 4 waves.
    tile.spread cores(4096) over (%m, %n) in (64, 256) grid(64, 64) {
      ...
    }
    ```
  }];
  let arguments = (ins Tile_I64Attr:$cores, DenseI64ArrayAttr:$trip_counts,
                       OptionalAttr<DenseI64ArrayAttr>:$grid);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "int64_t":$cores, "::llvm::ArrayRef<int64_t>":$tripCounts,
                   CArg<"::llvm::ArrayRef<int64_t>", "{}">:$grid)>
  ];
  let extraClassDeclaration = [{
    /// Points in the iteration space (product of the trip counts).
    int64_t getNumIterations();
    /// Rounds of `cores` points: ceil(points / cores), or with a grid the
    /// rectangles of it the space needs.
    int64_t getNumWaves();
    ::mlir::Block::BlockArgListType getTileIndices() {
      return getBody().getArguments();
    }
  }];
}

def Tile_LoopOp : Tile_Op<"loop", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "A sequential loop with a static trip count and pipelining";
  let description = [{
    Runs the body `trip_count` times on each core, the block argument (an
    `index`) counting iterations. `pipeline(d)` lets up to `d` iterations be
    in flight: the async transfers of iteration `i + d - 1` are issued while
    iteration `i` computes (1: no overlap, 2: double buffering, 3: triple).
    Every buffer allocated outside the loop and written by a transfer inside
    it must therefore have at least `d` rotating buffers
    (`tile.alloc buffers(d)`); the verifier checks this.

    ```mlir
    tile.loop %k in 128 pipeline(2) {
      %ta = tile.copy %A[%m, %k] -> %a bytes(16384) : ...
      ...
    }
    ```
  }];
  let arguments = (ins Tile_I64Attr:$trip_count,
                       DefaultValuedAttr<Tile_I64Attr, "1">:$pipeline);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "int64_t":$tripCount, CArg<"int64_t", "1">:$pipeline)>
  ];
  let extraClassDeclaration = [{
    ::mlir::BlockArgument getInductionVar() {
      return getBody().getArgument(0);
    }
  }];
}

def Tile_YieldOp : Tile_Op<"yield", [
    Pure, Terminator, ReturnLike,
    ParentOneOf<["KernelOp", "SpreadOp", "LoopOp"]>]> {
  let summary = "Terminates a tile region";
  let description = [{
    Ends the body of `tile.kernel`, `tile.spread` and `tile.loop`. Buffers
    are memory, so nothing is yielded; the printer elides it.
  }];
  let assemblyFormat = "attr-dict";
}

//===----------------------------------------------------------------------===//
// Buffers and transfers
//===----------------------------------------------------------------------===//

def Tile_AllocOp : Tile_Op<"alloc"> {
  let summary = "Allocate a tile buffer in a memory level";
  let description = [{
    Allocates a buffer of the result type in the level its type names.
    `buffers(n)` reserves `n` rotating copies for a pipelined `tile.loop`
    (2: double buffering); the footprint is `n` times the buffer size. In a
    core-scoped level every core has its own instance.

    When the module has an `arch.system`, the level must exist and the
    footprint must fit in one instance of it.

    ```mlir
    %a = tile.alloc buffers(2) : !tile.buf<128x64xbf16, "smem">
    ```
  }];
  let arguments = (ins DefaultValuedAttr<Tile_I64Attr, "1">:$buffers);
  let results = (outs Res<Tile_AnyBuf, "", [MemAlloc]>:$result);
  let assemblyFormat = [{
    (`buffers` `(` $buffers^ `)`)? attr-dict `:` qualified(type($result))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    BufType getType() { return ::llvm::cast<BufType>(getResult().getType()); }
    /// Bytes reserved: buffers x buffer size.
    int64_t getFootprintInBytes() {
      return getBuffers() * getType().getSizeInBytes();
    }
  }];
}

def Tile_CopyOp : Tile_Op<"copy", [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getBytesMoved", "getTransferLevels"]>]> {
  let summary = "Asynchronous DMA of a tile between memory levels";
  let description = [{
    Starts copying one tile from `source` to `dest` and returns a token that
    completes when the bytes have landed; `after(...)` lists tokens the copy
    waits for before starting. The levels are those of the two buffer types.

    The tile is the unindexed side. The other side may be indexed by tile
    indices (as many as its rank): index `i` of a dimension selects elements
    `[i * t, (i + 1) * t)`, where `t` is the tile's size in that dimension
    (the tile's shape is right-aligned; leading dimensions it lacks have
    size 1). Tiles hanging over the edge read zeros and drop writes. With no
    indices on either side the two shapes must be equal.

    `dims [i, j, ...]` places the tile's dimensions on the listed dimensions
    of the indexed side instead (strictly increasing, one per tile
    dimension); every other dimension has extent 1. This cuts a tile whose
    rows are not the indexed buffer's second-to-last dimension, such as 128
    query positions of one head from a `[batch, seq, heads, head_dim]`
    tensor (`dims [1, 3]`), without a transposing copy. An entry of `-1`
    marks a broadcast dimension: a tile dimension of extent 1 that the
    indexed side lacks (a `[rows]` vector into a `[rows x 1]` tile, a
    `[cols]` weight into a `[1 x cols]` tile), so the tile has the rank of
    the computation it feeds and `tile.map` broadcasts it.

    `bytes` is the payload of one execution, the tile's size; it is derived
    from the types (the builder computes it, the verifier checks it) and kept
    in the IR so the traffic of a schedule can be read off it.

    `multicast(axis)` (inside a `tile.spread` laid on the core grid with
    `grid(rows, cols)`): the cores of one wave that differ only along grid
    `axis` (0: the cores of a grid column, 1: those of a grid row) need the
    same tile, so it is fetched from the source once for all of them and
    delivered to each over the on-chip network (SUMMA's panel broadcast:
    `A[%m, %k]` is the same for every `%n` of a row). The indices of the
    indexed side must therefore not use the spread index laid on that axis.
    `bytes` stays what each core receives.

    ```mlir
    %t = tile.copy %A[%m, %k] -> %a after(%t0) bytes(16384)
        : !tile.buf<4096x8192xbf16, "hbm"> -> !tile.buf<128x64xbf16, "smem">
    %u = tile.copy %acc -> %C[%m, %n] bytes(131072)
        : !tile.buf<128x256xf32, "rf"> -> !tile.buf<4096x1280xf32, "hbm">
    %o = tile.copy %ob -> %O[%b, %qb, %h, %c0] dims [1, 3] bytes(32768)
        : !tile.buf<128x128xbf16, "rf"> -> !tile.buf<1x2048x32x128xbf16, "hbm">
    %w = tile.copy %W[%c0] -> %wt dims [-1, 0] bytes(8192)
        : !tile.buf<4096xbf16, "hbm"> -> !tile.buf<1x4096xbf16, "smem">
    ```
  }];
  let arguments = (ins
    Arg<Tile_AnyBuf, "", [MemRead]>:$source,
    Variadic<Index>:$source_indices,
    Arg<Tile_AnyBuf, "", [MemWrite]>:$dest,
    Variadic<Index>:$dest_indices,
    Variadic<Tile_TokenType>:$deps,
    OptionalAttr<DenseI64ArrayAttr>:$dims,
    OptionalAttr<I64Attr>:$multicast,
    Tile_I64Attr:$bytes
  );
  let results = (outs Tile_TokenType:$token);
  let assemblyFormat = [{
    $source (`[` $source_indices^ `]`)? `->` $dest (`[` $dest_indices^ `]`)?
    (`after` `(` $deps^ `)`)? (`dims` $dims^)?
    (`multicast` `(` $multicast^ `)`)? `bytes` `(` $bytes `)`
    attr-dict `:` qualified(type($source)) `->` qualified(type($dest))
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$source, "::mlir::ValueRange":$sourceIndices,
                   "::mlir::Value":$dest, "::mlir::ValueRange":$destIndices,
                   CArg<"::mlir::ValueRange", "{}">:$deps,
                   CArg<"::llvm::ArrayRef<int64_t>", "{}">:$tileDims)>
  ];
  let extraClassDeclaration = [{
    BufType getSourceType() { return ::llvm::cast<BufType>(getSource().getType()); }
    BufType getDestType() { return ::llvm::cast<BufType>(getDest().getType()); }
    /// The type of the tile moved: the unindexed side.
    BufType getTileType() {
      return getSourceIndices().empty() ? getSourceType() : getDestType();
    }
    /// Cores of the enclosing grid spread that receive each fetch of a
    /// multicast copy, averaged over its waves (1 without `multicast`).
    double getMulticastShare();
  }];
}

def Tile_GatherOp : Tile_Op<"gather", [
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getBytesMoved", "getTransferLevels"]>]> {
  let summary = "Asynchronous indirect DMA: rows of a buffer picked by data";
  let description = [{
    Starts copying rows of `source` into `dest`, the row of each destination
    position given by data: destination row `i` is source row `indices[i]`
    (a row is everything after the first dimension). This is an embedding
    lookup, or a paged read, where the addresses come from the values of
    another tile rather than from tile indices, which `tile.copy` cannot
    express. Returns a token like `tile.copy`; `after(...)` lists tokens
    to wait for first.

    `indices` is a rank-1 tile of integers in a level the DMA engine reads
    (copied there like any other tile, and waited for before the gather is
    issued); its length is the destination's first dimension. The
    destination's other dimensions are the source's: whole rows move.
    Index values are not checked; a row out of range reads zeros, as a tile
    over the edge does.

    `bytes` is the payload of one execution: the destination's size, the
    rows actually gathered (the source is never read whole). It is checked
    against the types, and the cost model prices it as a transfer from the
    source's level to the destination's.

    ```mlir
    %t = tile.gather %table rows(%ids) -> %rows bytes(65536)
        : !tile.buf<128256x4096xbf16, "hbm">, !tile.buf<8xi32, "smem">
          -> !tile.buf<8x4096xbf16, "smem">
    ```
  }];
  let arguments = (ins
    Arg<Tile_AnyBuf, "", [MemRead]>:$source,
    Arg<Tile_AnyBuf, "", [MemRead]>:$indices,
    Arg<Tile_AnyBuf, "", [MemWrite]>:$dest,
    Variadic<Tile_TokenType>:$deps,
    Tile_I64Attr:$bytes
  );
  let results = (outs Tile_TokenType:$token);
  let assemblyFormat = [{
    $source `rows` `(` $indices `)` `->` $dest
    (`after` `(` $deps^ `)`)? `bytes` `(` $bytes `)` attr-dict
    `:` qualified(type($source)) `,` qualified(type($indices))
    `->` qualified(type($dest))
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$source, "::mlir::Value":$indices,
                   "::mlir::Value":$dest,
                   CArg<"::mlir::ValueRange", "{}">:$deps)>
  ];
  let extraClassDeclaration = [{
    BufType getSourceType() { return ::llvm::cast<BufType>(getSource().getType()); }
    BufType getIndicesType() { return ::llvm::cast<BufType>(getIndices().getType()); }
    BufType getDestType() { return ::llvm::cast<BufType>(getDest().getType()); }
  }];
}

def Tile_WaitOp : Tile_Op<"wait"> {
  let summary = "Block until asynchronous transfers complete";
  let description = [{
    Waits for every token; the buffers those transfers wrote may be read
    afterwards.

    ```mlir
    tile.wait %ta, %tb
    ```
  }];
  let arguments = (ins Variadic<Tile_TokenType>:$tokens);
  let assemblyFormat = "$tokens attr-dict";
  let hasVerifier = 1;
}

def Tile_NocCopyOp : Tile_Op<"noc_copy", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getBytesMoved", "getTransferLevels"]>]> {
  let summary = "Asynchronous core-to-core transfer over the on-chip network";
  let description = [{
    On a mesh-style chip, sends the executing core's `source` tile to the
    instance of `dest` held by other cores (the body of a `tile.spread` is
    SPMD, so `dest` names one allocation that every core has). `unicast`
    delivers to one core; `multicast` to `cores(n)` cores (n >= 2), the
    network replicating the payload. `hops(h)` is the longest route in
    router hops, which sets latency and link occupancy. `dest` may be
    indexed like a `tile.copy` destination to place the tile in a slot of a
    larger buffer (the indices are the sender's, so each sender can fill its
    own slot: a row all-gather). Returns a token like `tile.copy`; `bytes`
    is the payload (the source tile), checked against the types.

    With an `arch.system`, the chip must have an on-chip network, both
    levels must be core-scoped, `cores` must leave a sender among the chip's
    cores and `hops` must not exceed the network's diameter.

    ```mlir
    %t = tile.noc_copy multicast %w -> %w_in cores(63) hops(63) bytes(128)
        : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x8xbf16, "sram">
    ```
  }];
  let arguments = (ins
    Tile_NocModeAttr:$mode,
    Arg<Tile_AnyBuf, "", [MemRead]>:$source,
    Arg<Tile_AnyBuf, "", [MemWrite]>:$dest,
    Variadic<Index>:$dest_indices,
    DefaultValuedAttr<Tile_I64Attr, "1">:$cores,
    Tile_I64Attr:$hops,
    Variadic<Tile_TokenType>:$deps,
    Tile_I64Attr:$bytes
  );
  let results = (outs Tile_TokenType:$token);
  let assemblyFormat = [{
    custom<EnumKeyword>($mode) $source `->` $dest (`[` $dest_indices^ `]`)?
    (`cores` `(` $cores^ `)`)? `hops` `(` $hops `)`
    (`after` `(` $deps^ `)`)? `bytes` `(` $bytes `)` attr-dict
    `:` qualified(type($source)) `->` qualified(type($dest))
  }];
  let hasVerifier = 1;
}

def Tile_SplitReduceOp : Tile_Op<"split_reduce", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getBytesMoved", "getTransferLevels"]>]> {
  let summary = "Reduce-scatter of partial results over the on-chip network";
  let description = [{
    Inside a `tile.spread`, the points that differ only in spread dimension
    `dim` (its trip count is the number of parts, at least 2) hold partial
    results of one tile in their own instances of `inputs`; they combine them
    over the on-chip network, each ending with its share of the rows: part
    `j` (its index along `dim`) receives rows
    `[j * rows / parts, (j + 1) * rows / parts)` of the combined result in
    `outputs` (the parts run on neighbouring cores of a grid row).

    - `sum`: one input, added elementwise (split-K of a contraction).
    - `softmax`: the partial outputs of an online softmax over disjoint key
      ranges (split-KV attention): the unnormalised output `acc` `[r x c]`,
      the row maximum `m` `[r x 1]` and the row sum `l` `[r x 1]`, combined
      as `m = max_j m_j`, `acc = sum_j exp(m_j - m) acc_j`,
      `l = sum_j exp(m_j - m) l_j` (FlashDecoding's rescaling).

    Every buffer is rank 2 and f32; the rows of the inputs divide by the
    parts, and each output has `rows / parts` rows and its input's columns.
    `hops(h)` is the longest route between two parts of the reduction (the
    ring folded on the run of cores), `bytes` what each part sends:
    `(parts - 1) / parts` of its inputs, checked against the types. The cost
    model prices the time (CostModel::splitReduceTime: link bandwidth, hop
    latency, and contention over all links); the cost interface reports the
    bytes as on-chip-network traffic.

    With an `arch.system`, the chip must have an on-chip network, every
    level must be core-scoped and `hops` must not exceed the network's
    diameter.

    ```mlir
    tile.split_reduce softmax (%acc, %m, %l) -> (%acc_s, %m_s, %l_s) dim(2)
        hops(2) bytes(50688)
        : (!tile.buf<128x64xf32, "sram">, !tile.buf<128x1xf32, "sram">,
           !tile.buf<128x1xf32, "sram">)
        -> (!tile.buf<8x64xf32, "sram">, !tile.buf<8x1xf32, "sram">,
            !tile.buf<8x1xf32, "sram">)
    ```
  }];
  let arguments = (ins
    Tile_SplitReduceKindAttr:$kind,
    Arg<Variadic<Tile_AnyBuf>, "", [MemRead]>:$inputs,
    Arg<Variadic<Tile_AnyBuf>, "", [MemWrite]>:$outputs,
    Tile_I64Attr:$dim,
    Tile_I64Attr:$hops,
    Tile_I64Attr:$bytes
  );
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) `(` $inputs `)` `->` `(` $outputs `)`
    `dim` `(` $dim `)` `hops` `(` $hops `)` `bytes` `(` $bytes `)` attr-dict
    `:` `(` qualified(type($inputs)) `)` `->` `(` qualified(type($outputs)) `)`
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The parts: the trip count of the enclosing spread's dimension `dim`
    /// (0 outside a spread or with `dim` out of range).
    int64_t getParts();
  }];
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tile_MmaOp : Tile_Op<"mma", [
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getFlopsPerExecution", "getComputeUnit"]>]> {
  let summary = "Matrix multiply-accumulate on a matrix unit";
  let description = [{
    `acc += lhs * rhs` on the named matrix unit: `lhs` is MxK (KxM with
    `transpose_lhs`), `rhs` KxN (NxK with `transpose_rhs`, as for `Q Kᵀ`),
    `acc` MxN. `lhs` and `rhs` share an element type; `acc` is of the same
    class (float or integer) and at least as wide.

    With an `arch.system`, the unit must be a matrix unit with a rate for
    the operand element type, and its native `[M, N, K]` shape must divide
    the tile's, or the op must say `padded` (the unit then computes the
    padded shape; the cost model charges it). `padded` on a tile that needs
    no padding is an error, so the flag never lies.

    ```mlir
    tile.mma %a, %b, %acc on "tensor"
        : !tile.buf<128x64xbf16, "smem">, !tile.buf<64x256xbf16, "smem">,
          !tile.buf<128x256xf32, "rf">
    ```
  }];
  let arguments = (ins
    Arg<Tile_AnyBuf, "", [MemRead]>:$lhs,
    Arg<Tile_AnyBuf, "", [MemRead]>:$rhs,
    Arg<Tile_AnyBuf, "", [MemRead, MemWrite]>:$acc,
    StrAttr:$unit,
    UnitAttr:$transpose_lhs,
    UnitAttr:$transpose_rhs,
    UnitAttr:$padded
  );
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $acc `on` $unit
    (`transpose_lhs` $transpose_lhs^)? (`transpose_rhs` $transpose_rhs^)?
    (`padded` $padded^)? attr-dict
    `:` qualified(type($lhs)) `,` qualified(type($rhs)) `,` qualified(type($acc))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The problem shape [M, N, K] of one execution.
    ::llvm::SmallVector<int64_t, 3> getMatmulShape();
  }];
}

def Tile_FillOp : Tile_Op<"fill", [
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getFlopsPerExecution", "getComputeUnit"]>]> {
  let summary = "Set every element of a buffer on a vector unit";
  let description = [{
    Writes `value` (of the buffer's element type) to every element: the
    zero an `tile.mma` accumulator starts from, the `-inf` a running max
    starts from. A buffer's contents are undefined until written, and
    `tile.mma` always accumulates, so a schedule states its initialisation
    explicitly. The cost interface counts one vector operation per element.

    ```mlir
    tile.fill %acc, 0.000000e+00 : f32 on "cuda" : !tile.buf<128x256xf32, "rf">
    ```
  }];
  let arguments = (ins
    Arg<Tile_AnyBuf, "", [MemWrite]>:$dest,
    TypedAttrInterface:$value,
    StrAttr:$unit
  );
  let assemblyFormat = [{
    $dest `,` $value `on` $unit attr-dict `:` qualified(type($dest))
  }];
  let hasVerifier = 1;
}

def Tile_MapOp : Tile_Op<"map", [
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getFlopsPerExecution", "getComputeUnit"]>]> {
  let summary = "Elementwise operation on a vector unit";
  let description = [{
    Applies `kind` elementwise to the inputs and writes `output` on the
    named vector unit. Inputs have the output's rank; each dimension equals
    the output's or is 1 (broadcast, as for a row max or a bias). Inputs may
    have another element type than the output (`cast` converts).

    The number of inputs follows the kind: one for unary kinds (`exp`,
    `silu`, `cast`, ...), two for binary (`add`, `mul`, `max`, ...), three
    for `fma`; `expr` takes any number and stands for an elementwise
    expression of them that is not a chain of the other kinds (a linalg body
    selecting by coordinate, as RoPE does); with no inputs it computes each
    element from its coordinates alone (RoPE's cos/sin table built from
    `linalg.index`). `flops(n)` overrides the kind's
    FLOP-per-element count (the defaults are listed in
    docs/tile-dialect.md), e.g. for a cheaper approximation or to weight
    transcendentals as the cost model does; `expr` has no default and
    requires it.

    ```mlir
    tile.map silu %h -> %g on "cuda"
        : (!tile.buf<128x256xf32, "rf">) -> !tile.buf<128x256xf32, "rf">
    tile.map sub %s, %rowmax -> %s on "cuda"
        : (!tile.buf<128x128xf32, "rf">, !tile.buf<128x1xf32, "rf">)
          -> !tile.buf<128x128xf32, "rf">
    tile.map expr -> %table on "cuda" flops(59)
        : () -> !tile.buf<8x64x2x2xbf16, "smem">
    ```
  }];
  let arguments = (ins
    Tile_MapKindAttr:$kind,
    Arg<Variadic<Tile_AnyBuf>, "", [MemRead]>:$inputs,
    Arg<Tile_AnyBuf, "", [MemWrite]>:$output,
    StrAttr:$unit,
    OptionalAttr<Tile_I64Attr>:$flops_per_element
  );
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) ($inputs^)? `->` $output `on` $unit
    (`flops` `(` $flops_per_element^ `)`)? attr-dict
    `:` custom<ParenTypes>(type($inputs)) `->` qualified(type($output))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `flops(n)` if given, else the kind's default.
    int64_t getEffectiveFlopsPerElement();
  }];
}

def Tile_ReduceOp : Tile_Op<"reduce", [
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getFlopsPerExecution", "getComputeUnit"]>]> {
  let summary = "Reduction along one dimension on a vector unit";
  let description = [{
    Reduces `input` along `dim` with `kind` (`sum`, `max`, `min`) into
    `output`, which has the input's shape with dimension `dim` set to 1 (the
    rank is kept so the result broadcasts back in `tile.map`).

    ```mlir
    tile.reduce max %s -> %m dim(1) on "cuda"
        : !tile.buf<128x128xf32, "rf"> -> !tile.buf<128x1xf32, "rf">
    ```
  }];
  let arguments = (ins
    Tile_ReduceKindAttr:$kind,
    Arg<Tile_AnyBuf, "", [MemRead]>:$input,
    Arg<Tile_AnyBuf, "", [MemWrite]>:$output,
    Tile_I64Attr:$dim,
    StrAttr:$unit
  );
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) $input `->` $output `dim` `(` $dim `)` `on` $unit attr-dict
    `:` qualified(type($input)) `->` qualified(type($output))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Interconnect (between chips)
//===----------------------------------------------------------------------===//

def Tile_CollectiveOp : Tile_Op<"collective", [
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getBytesMoved", "getFabricName"]>]> {
  let summary = "A collective over the devices of a fabric";
  let description = [{
    `all_reduce`, `all_gather`, `reduce_scatter` or `all_to_all` of a
    tensor among a group of devices whose outermost fabric is the named
    one, with the algorithm chosen by the route step (`strata-route`).
    `all_gather` concatenates and `reduce_scatter` splits along `dim(d)`;
    `all_to_all` keeps the type or moves a split from one dimension to
    another (each device sends 1/group of one dimension to every member
    and concatenates what it receives along another); `all_reduce` keeps
    the type. `bytes` is the payload each device contributes (its input),
    checked against the type.

    `group([m0, m1, ...])` gives the members the group has on each fabric
    of the topology, innermost first, up to the named fabric: `group([4])`
    over `"nvlink"` is four GPUs of one NVLink domain, `group([2, 4])` over
    `"ib"` two GPUs in each of four nodes. Without it the group is one
    instance of the named fabric (all its members).

    With an `arch.system`, the fabric must be in the topology, `group` has
    one entry per fabric up to it, each dividing that fabric's size, and
    crosses the named fabric; gather and scatter must change `dim` (and
    all_to_all its two dimensions) by exactly the group's size;
    `in_network` needs a fabric that reduces in the switch;
    `torus_dim_ordered` needs a torus or mesh; `hierarchical` a group that
    spans at least two fabrics; `direct` is all_to_all's algorithm.

    ```mlir
    %r = tile.collective all_reduce %x over "nvlink" algorithm(ring)
        bytes(16777216) : tensor<4096x1024xf32> -> tensor<4096x1024xf32>
    %g = tile.collective all_reduce %y over "ib" algorithm(hierarchical)
        group([2, 4]) bytes(16777216) : tensor<4096x1024xf32> -> tensor<4096x1024xf32>
    ```
  }];
  let arguments = (ins
    Tile_CollectiveKindAttr:$kind,
    AnyRankedTensor:$input,
    StrAttr:$fabric,
    Tile_CollectiveAlgorithmAttr:$algorithm,
    OptionalAttr<Tile_I64Attr>:$dim,
    OptionalAttr<DenseI64ArrayAttr>:$group,
    Tile_I64Attr:$bytes
  );
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    custom<EnumKeyword>($kind) $input `over` $fabric `algorithm` `(` custom<EnumKeyword>($algorithm) `)`
    (`dim` `(` $dim^ `)`)? (`group` `(` $group^ `)`)? `bytes` `(` $bytes `)` attr-dict
    `:` qualified(type($input)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Devices taking part: the product of `group`, else the named fabric's
    /// member count (0 when neither is known: no system attached).
    int64_t getGroupSize();
  }];
}

def Tile_SendOp : Tile_Op<"send", [
    DeclareOpInterfaceMethods<TileCostOpInterface,
                              ["getBytesMoved", "getFabricName"]>]> {
  let summary = "Send a tensor to another pipeline stage over a fabric";
  let description = [{
    Point-to-point transfer of activations to pipeline stage `stage` across
    the named fabric; matched by a `tile.recv` in that stage. The cost model
    charges the transfer here, once.

    ```mlir
    tile.send %act to stage(1) over "ib" bytes(33554432) : tensor<4096x4096xf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, Tile_I64Attr:$stage,
                       StrAttr:$fabric, Tile_I64Attr:$bytes);
  let assemblyFormat = [{
    $input `to` `stage` `(` $stage `)` `over` $fabric `bytes` `(` $bytes `)`
    attr-dict `:` qualified(type($input))
  }];
  let hasVerifier = 1;
}

def Tile_RecvOp : Tile_Op<"recv"> {
  let summary = "Receive a tensor from another pipeline stage over a fabric";
  let description = [{
    The receiving end of a `tile.send` from stage `stage`. It carries no
    cost of its own (the send is charged).

    ```mlir
    %act = tile.recv from stage(0) over "ib" bytes(33554432) : tensor<4096x4096xf16>
    ```
  }];
  let arguments = (ins Tile_I64Attr:$stage, StrAttr:$fabric, Tile_I64Attr:$bytes);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `from` `stage` `(` $stage `)` `over` $fabric `bytes` `(` $bytes `)`
    attr-dict `:` qualified(type($result))
  }];
  let hasVerifier = 1;
}

#endif // STRATA_TILE_OPS
