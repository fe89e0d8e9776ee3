// One case per verifier error. The cases are grouped by the system they are
// checked against (split-file), and each group is split into independent
// cases (-split-input-file): local checks need no system; the others name
// levels, units, fabrics and limits of a preset.
//
// RUN: split-file %s %t
// RUN: strata-opt %t/local.mlir -split-input-file -verify-diagnostics
// RUN: strata-opt %t/h100.mlir --strata-set-system=system=dgx-h100 -split-input-file -verify-diagnostics
// RUN: strata-opt %t/mesh.mlir --strata-set-system=system=mesh-sram -split-input-file -verify-diagnostics
// RUN: strata-opt %t/a100.mlir --strata-set-system=system=dgx-a100 -split-input-file -verify-diagnostics
// RUN: strata-opt %t/multi.mlir --strata-set-system=system=dgx-h100x4 -split-input-file -verify-diagnostics

//--- local.mlir

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

// expected-error @+1 {{tile buffer dimensions must be static and positive}}
func.func private @zero_dim(!tile.buf<0x64xf32, "smem">)

// -----

// expected-error @+1 {{a tile buffer needs at least one dimension}}
func.func private @rank0(!tile.buf<f32, "smem">)

// -----

// expected-error @+1 {{tile buffer elements must be integers or floats, got 'index'}}
func.func private @index_elements(!tile.buf<4xindex, "smem">)

// -----

// expected-error @+1 {{tile buffer needs a memory level name}}
func.func private @no_level(!tile.buf<4xf32, "">)

// -----

//===----------------------------------------------------------------------===//
// kernel
//===----------------------------------------------------------------------===//

func.func @kernel_results(%x: tensor<4xf32>) {
  // expected-error @+1 {{has 1 outs but 0 results}}
  tile.kernel "k" outs(%x : tensor<4xf32>) {
  ^bb0(%X: !tile.buf<4xf32, "hbm">):
  }
  return
}

// -----

func.func @kernel_result_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{result #0 has type 'tensor<8xf32>' but outs #0 has type 'tensor<4xf32>'}}
  %r = tile.kernel "k" outs(%x : tensor<4xf32>) {
  ^bb0(%X: !tile.buf<4xf32, "hbm">):
  } -> tensor<8xf32>
  return
}

// -----

func.func @kernel_arguments(%a: tensor<4xf32>, %x: tensor<4xf32>) {
  // expected-error @+1 {{body has 1 arguments but the kernel has 2 ins and outs (one buffer per operand)}}
  %r = tile.kernel "k" ins(%a : tensor<4xf32>) outs(%x : tensor<4xf32>) {
  ^bb0(%X: !tile.buf<4xf32, "hbm">):
  } -> tensor<4xf32>
  return
}

// -----

func.func @kernel_argument_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{body argument #0 must be a !tile.buf of shape 4xf32 (the operand's), got '!tile.buf<4xf16, "hbm">'}}
  %r = tile.kernel "k" outs(%x : tensor<4xf32>) {
  ^bb0(%X: !tile.buf<4xf16, "hbm">):
  } -> tensor<4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// spread, loop
//===----------------------------------------------------------------------===//

func.func @spread_no_cores() {
  // expected-error @+1 {{needs at least one core, got cores(0)}}
  tile.spread cores(0) over (%i) in (4) {
  }
  return
}

// -----

func.func @spread_trip_count() {
  // expected-error @+1 {{trip count #1 must be at least 1, got 0}}
  tile.spread cores(4) over (%i, %j) in (4, 0) {
  }
  return
}

// -----

func.func @spread_arguments() {
  // expected-error @+1 {{body needs one index argument per trip count (2)}}
  "tile.spread"() <{cores = 4 : i64, trip_counts = array<i64: 4, 4>}> ({
  ^bb0(%i: index):
    "tile.yield"() : () -> ()
  }) : () -> ()
  return
}

// -----

func.func @spread_nested() {
  tile.spread cores(4) over (%i) in (4) {
    // expected-error @+1 {{may not be nested in another tile.spread}}
    tile.spread cores(4) over (%j) in (4) {
    }
  }
  return
}

// -----

func.func @loop_trip_count() {
  // expected-error @+1 {{trip count must be at least 1, got -3}}
  tile.loop %k in -3 {
  }
  return
}

// -----

func.func @loop_pipeline() {
  // expected-error @+1 {{pipeline depth must be at least 1, got 0}}
  tile.loop %k in 8 pipeline(0) {
  }
  return
}

// -----

func.func @loop_pipeline_deeper_than_trips() {
  // expected-error @+1 {{pipeline(3) cannot keep more iterations in flight than the 2 it has}}
  tile.loop %k in 2 pipeline(3) {
  }
  return
}

// -----

func.func @loop_needs_rotating_buffers(%src: !tile.buf<1024x64xbf16, "hbm">) {
  // expected-note @+1 {{allocated here}}
  %a = tile.alloc : !tile.buf<64x64xbf16, "smem">
  // expected-note @+1 {{pipelined loop here}}
  tile.loop %k in 16 pipeline(2) {
    // expected-error @+1 {{writes a buffer with buffers(1) inside a tile.loop with pipeline(2), which needs at least 2 rotating buffers}}
    %t = tile.copy %src[%k, %k] -> %a bytes(8192)
        : !tile.buf<1024x64xbf16, "hbm"> -> !tile.buf<64x64xbf16, "smem">
    tile.wait %t
  }
  return
}

// -----

//===----------------------------------------------------------------------===//
// alloc, copy, wait
//===----------------------------------------------------------------------===//

func.func @alloc_no_buffers() {
  // expected-error @+1 {{needs at least one buffer, got buffers(0)}}
  %a = tile.alloc buffers(0) : !tile.buf<64x64xbf16, "smem">
  return
}

// -----

func.func @copy_element_types(%s: !tile.buf<64x64xbf16, "hbm">, %d: !tile.buf<64x64xf32, "smem">) {
  // expected-error @+1 {{source elements are 'bf16' but destination elements are 'f32'}}
  %t = tile.copy %s -> %d bytes(16384) : !tile.buf<64x64xbf16, "hbm"> -> !tile.buf<64x64xf32, "smem">
  return
}

// -----

func.func @copy_both_indexed(%s: !tile.buf<64x64xf32, "hbm">, %d: !tile.buf<64x64xf32, "smem">, %i: index) {
  // expected-error @+1 {{may index only one side; the other is the tile}}
  %t = tile.copy %s[%i, %i] -> %d[%i, %i] bytes(16384) : !tile.buf<64x64xf32, "hbm"> -> !tile.buf<64x64xf32, "smem">
  return
}

// -----

func.func @copy_shapes(%s: !tile.buf<64x64xf32, "hbm">, %d: !tile.buf<32x64xf32, "smem">) {
  // expected-error @+1 {{moves a 64x64 source into a 32x64 destination; index the larger side to move one tile of it}}
  %t = tile.copy %s -> %d bytes(8192) : !tile.buf<64x64xf32, "hbm"> -> !tile.buf<32x64xf32, "smem">
  return
}

// -----

func.func @copy_index_count(%s: !tile.buf<1024x64xf32, "hbm">, %d: !tile.buf<32x64xf32, "smem">, %i: index) {
  // expected-error @+1 {{indexes a rank-2 source with 1 tile indices}}
  %t = tile.copy %s[%i] -> %d bytes(8192) : !tile.buf<1024x64xf32, "hbm"> -> !tile.buf<32x64xf32, "smem">
  return
}

// -----

func.func @copy_tile_rank(%s: !tile.buf<1024xf32, "hbm">, %d: !tile.buf<32x32xf32, "smem">, %i: index) {
  // expected-error @+1 {{a rank-2 tile does not fit in a rank-1 buffer}}
  %t = tile.copy %s[%i] -> %d bytes(4096) : !tile.buf<1024xf32, "hbm"> -> !tile.buf<32x32xf32, "smem">
  return
}

// -----

func.func @copy_dims_count(%s: !tile.buf<1x2048x32x128xbf16, "hbm">, %d: !tile.buf<128x128xbf16, "smem">, %i: index) {
  // expected-error @+1 {{dims lists 3 dimensions for a rank-2 tile}}
  %t = tile.copy %s[%i, %i, %i, %i] -> %d dims [0, 1, 3] bytes(32768) : !tile.buf<1x2048x32x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
  return
}

// -----

func.func @copy_dims_order(%s: !tile.buf<1x2048x32x128xbf16, "hbm">, %d: !tile.buf<128x128xbf16, "smem">, %i: index) {
  // expected-error @+1 {{dims must be strictly increasing}}
  %t = tile.copy %s[%i, %i, %i, %i] -> %d dims [3, 1] bytes(32768) : !tile.buf<1x2048x32x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
  return
}

// -----

func.func @copy_dims_range(%s: !tile.buf<1x2048x32x128xbf16, "hbm">, %d: !tile.buf<128x128xbf16, "smem">, %i: index) {
  // expected-error @+1 {{dims entry 4 is not a dimension of the rank-4 source}}
  %t = tile.copy %s[%i, %i, %i, %i] -> %d dims [1, 4] bytes(32768) : !tile.buf<1x2048x32x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
  return
}

// -----

func.func @copy_dims_unindexed(%s: !tile.buf<128x128xbf16, "hbm">, %d: !tile.buf<128x128xbf16, "smem">) {
  // expected-error @+1 {{has dims but no indexed side to place them on}}
  %t = tile.copy %s -> %d dims [0, 1] bytes(32768) : !tile.buf<128x128xbf16, "hbm"> -> !tile.buf<128x128xbf16, "smem">
  return
}

// -----

func.func @copy_dims_broadcast_extent(%s: !tile.buf<2048xbf16, "hbm">, %d: !tile.buf<16x2xbf16, "smem">, %i: index) {
  // expected-error @+1 {{dims entry -1 (broadcast) needs extent 1, but tile dimension 1 is 2}}
  %t = tile.copy %s[%i] -> %d dims [0, -1] bytes(64) : !tile.buf<2048xbf16, "hbm"> -> !tile.buf<16x2xbf16, "smem">
  return
}

// -----

func.func @copy_rank_without_dims(%s: !tile.buf<2048xbf16, "hbm">, %d: !tile.buf<16x1xbf16, "smem">, %i: index) {
  // expected-error @+1 {{a rank-2 tile does not fit in a rank-1 buffer}}
  %t = tile.copy %s[%i] -> %d bytes(32) : !tile.buf<2048xbf16, "hbm"> -> !tile.buf<16x1xbf16, "smem">
  return
}

// -----

func.func @map_expr_no_flops(%x: !tile.buf<16x16xf32, "rf">) {
  // expected-error @+1 {{'expr' needs flops(n): it has no default cost}}
  tile.map expr %x -> %x on "cuda" : (!tile.buf<16x16xf32, "rf">) -> !tile.buf<16x16xf32, "rf">
  return
}

// -----


func.func @gather_element_types(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<8xi32, "smem">, %d: !tile.buf<8x64xf32, "smem">) {
  // expected-error @+1 {{source elements are 'bf16' but destination elements are 'f32'}}
  %t = tile.gather %s rows(%i) -> %d bytes(2048) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<8x64xf32, "smem">
  return
}

// -----

func.func @gather_float_indices(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<8xf32, "smem">, %d: !tile.buf<8x64xbf16, "smem">) {
  // expected-error @+1 {{indices must be a rank-1 tile of integers, got 8xf32}}
  %t = tile.gather %s rows(%i) -> %d bytes(1024) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<8xf32, "smem"> -> !tile.buf<8x64xbf16, "smem">
  return
}

// -----

func.func @gather_index_rank(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<1x8xi32, "smem">, %d: !tile.buf<8x64xbf16, "smem">) {
  // expected-error @+1 {{indices must be a rank-1 tile of integers, got 1x8xi32}}
  %t = tile.gather %s rows(%i) -> %d bytes(1024) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<1x8xi32, "smem"> -> !tile.buf<8x64xbf16, "smem">
  return
}

// -----

func.func @gather_row_count(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<8xi32, "smem">, %d: !tile.buf<16x64xbf16, "smem">) {
  // expected-error @+1 {{gathers 8 rows of a 1000x64 source into a 8x64 tile, but the destination is 16x64}}
  %t = tile.gather %s rows(%i) -> %d bytes(2048) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<16x64xbf16, "smem">
  return
}

// -----

func.func @gather_partial_rows(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<8xi32, "smem">, %d: !tile.buf<8x32xbf16, "smem">) {
  // expected-error @+1 {{gathers 8 rows of a 1000x64 source into a 8x64 tile, but the destination is 8x32}}
  %t = tile.gather %s rows(%i) -> %d bytes(512) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<8x32xbf16, "smem">
  return
}

// -----

func.func @gather_bytes(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<8xi32, "smem">, %d: !tile.buf<8x64xbf16, "smem">) {
  // expected-error @+1 {{bytes(128000) does not match the 1024 bytes of a 8x64xbf16 payload}}
  %t = tile.gather %s rows(%i) -> %d bytes(128000) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<8x64xbf16, "smem">
  return
}

// -----

func.func @gather_needs_rotating_buffers(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<8xi32, "smem">) {
  // expected-note @+1 {{allocated here}}
  %d = tile.alloc : !tile.buf<8x64xbf16, "smem">
  // expected-note @+1 {{pipelined loop here}}
  tile.loop %k in 4 pipeline(2) {
    // expected-error @+1 {{writes a buffer with buffers(1) inside a tile.loop with pipeline(2), which needs at least 2 rotating buffers}}
    %t = tile.gather %s rows(%i) -> %d bytes(1024) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<8x64xbf16, "smem">
    tile.wait %t
  }
  return
}

// -----

func.func @copy_bytes(%s: !tile.buf<1024x64xbf16, "hbm">, %d: !tile.buf<32x64xbf16, "smem">, %i: index) {
  // expected-error @+1 {{bytes(8192) does not match the 4096 bytes of a 32x64xbf16 payload}}
  %t = tile.copy %s[%i, %i] -> %d bytes(8192) : !tile.buf<1024x64xbf16, "hbm"> -> !tile.buf<32x64xbf16, "smem">
  return
}

// -----

func.func @wait_nothing() {
  // expected-error @+1 {{needs at least one token to wait on}}
  tile.wait
  return
}

// -----

func.func @wait_on_buffer(%b: !tile.buf<4xf32, "smem">) {
  // expected-error @+1 {{operand #0 must be variadic of Completion of an asynchronous transfer, but got '!tile.buf<4xf32, "smem">'}}
  "tile.wait"(%b) : (!tile.buf<4xf32, "smem">) -> ()
  return
}

// -----

//===----------------------------------------------------------------------===//
// noc_copy
//===----------------------------------------------------------------------===//

func.func @noc_unicast_cores(%b: !tile.buf<8x8xbf16, "sram">) {
  // expected-error @+1 {{unicast delivers to one core, not cores(4)}}
  %t = tile.noc_copy unicast %b -> %b cores(4) hops(1) bytes(128) : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x8xbf16, "sram">
  return
}

// -----

func.func @noc_multicast_cores(%b: !tile.buf<8x8xbf16, "sram">) {
  // expected-error @+1 {{multicast needs at least 2 receiving cores, got cores(1)}}
  %t = tile.noc_copy multicast %b -> %b hops(1) bytes(128) : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x8xbf16, "sram">
  return
}

// -----

func.func @noc_hops(%b: !tile.buf<8x8xbf16, "sram">) {
  // expected-error @+1 {{needs at least one hop, got hops(0)}}
  %t = tile.noc_copy unicast %b -> %b hops(0) bytes(128) : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x8xbf16, "sram">
  return
}

// -----

func.func @noc_shapes(%s: !tile.buf<8x8xbf16, "sram">, %d: !tile.buf<8x16xbf16, "sram">) {
  // expected-error @+1 {{moves a 8x8 source into a 8x16 destination}}
  %t = tile.noc_copy unicast %s -> %d hops(1) bytes(128) : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x16xbf16, "sram">
  return
}

// -----

//===----------------------------------------------------------------------===//
// mma, map, reduce, fill
//===----------------------------------------------------------------------===//

func.func @mma_rank(%a: !tile.buf<4x64x64xbf16, "smem">, %b: !tile.buf<64x64xbf16, "smem">, %c: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{operands must be rank-2 tiles, got 4x64x64, 64x64, 64x64}}
  tile.mma %a, %b, %c on "tensor" : !tile.buf<4x64x64xbf16, "smem">, !tile.buf<64x64xbf16, "smem">, !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @mma_k(%a: !tile.buf<128x64xbf16, "smem">, %b: !tile.buf<32x256xbf16, "smem">, %c: !tile.buf<128x256xf32, "rf">) {
  // expected-error @+1 {{contracts lhs K = 64 with rhs K = 32 (lhs 128x64, rhs 32x256)}}
  tile.mma %a, %b, %c on "tensor" : !tile.buf<128x64xbf16, "smem">, !tile.buf<32x256xbf16, "smem">, !tile.buf<128x256xf32, "rf">
  return
}

// -----

func.func @mma_acc_shape(%a: !tile.buf<128x64xbf16, "smem">, %b: !tile.buf<256x64xbf16, "smem">, %c: !tile.buf<128x128xf32, "rf">) {
  // expected-error @+1 {{accumulator is 128x128 but lhs x rhs is 128x256}}
  tile.mma %a, %b, %c on "tensor" transpose_rhs : !tile.buf<128x64xbf16, "smem">, !tile.buf<256x64xbf16, "smem">, !tile.buf<128x128xf32, "rf">
  return
}

// -----

func.func @mma_operand_types(%a: !tile.buf<64x64xbf16, "smem">, %b: !tile.buf<64x64xf16, "smem">, %c: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{lhs elements are 'bf16' but rhs elements are 'f16'}}
  tile.mma %a, %b, %c on "tensor" : !tile.buf<64x64xbf16, "smem">, !tile.buf<64x64xf16, "smem">, !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @mma_accumulator_type(%a: !tile.buf<64x64xi8, "smem">, %b: !tile.buf<64x64xi8, "smem">, %c: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{cannot accumulate 'i8' products in 'f32' (needs the same class, at least as wide)}}
  tile.mma %a, %b, %c on "tensor" : !tile.buf<64x64xi8, "smem">, !tile.buf<64x64xi8, "smem">, !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @map_arity(%a: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{'add' takes 2 inputs, got 1}}
  tile.map add %a -> %a on "cuda" : (!tile.buf<64x64xf32, "rf">) -> !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @map_broadcast(%a: !tile.buf<64x64xf32, "rf">, %b: !tile.buf<64x2xf32, "rf">) {
  // expected-error @+1 {{input #1 of shape 64x2 does not broadcast to the output shape 64x64}}
  tile.map mul %a, %b -> %a on "cuda" : (!tile.buf<64x64xf32, "rf">, !tile.buf<64x2xf32, "rf">) -> !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @map_flops(%a: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{flops per element must not be negative, got -1}}
  tile.map exp %a -> %a on "cuda" flops(-1) : (!tile.buf<64x64xf32, "rf">) -> !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @reduce_dim(%a: !tile.buf<64x64xf32, "rf">, %r: !tile.buf<64x1xf32, "rf">) {
  // expected-error @+1 {{dim(2) is out of range for a rank-2 input}}
  tile.reduce sum %a -> %r dim(2) on "cuda" : !tile.buf<64x64xf32, "rf"> -> !tile.buf<64x1xf32, "rf">
  return
}

// -----

func.func @reduce_shape(%a: !tile.buf<64x32xf32, "rf">, %r: !tile.buf<64x1xf32, "rf">) {
  // expected-error @+1 {{reducing 64x32 along dim 0 gives 1x32, but the output is 64x1}}
  tile.reduce max %a -> %r dim(0) on "cuda" : !tile.buf<64x32xf32, "rf"> -> !tile.buf<64x1xf32, "rf">
  return
}

// -----

func.func @fill_type(%a: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{fills 'f32' elements with a value of type 'f16'}}
  tile.fill %a, 0.0 : f16 on "cuda" : !tile.buf<64x64xf32, "rf">
  return
}

// -----

//===----------------------------------------------------------------------===//
// collective, send, recv
//===----------------------------------------------------------------------===//

func.func @collective_element_type(%x: tensor<64xf32>) {
  // expected-error @+1 {{changes the element type from 'f32' to 'bf16'}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(ring) bytes(256) : tensor<64xf32> -> tensor<64xbf16>
  return
}

// -----

func.func @collective_reduce_with_dim(%x: tensor<64xf32>) {
  // expected-error @+1 {{'all_reduce' keeps the shape; dim() applies only to all_gather and reduce_scatter}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(ring) dim(0) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @collective_reduce_shape(%x: tensor<64xf32>) {
  // expected-error @+1 {{'all_to_all' keeps the type or moves a split between two dimensions, but 'tensor<64xf32>' becomes 'tensor<128xf32>'}}
  %r = tile.collective all_to_all %x over "nvlink" algorithm(ring) bytes(256) : tensor<64xf32> -> tensor<128xf32>
  return
}

// -----

func.func @collective_gather_without_dim(%x: tensor<64xf32>) {
  // expected-error @+1 {{'all_gather' needs dim(d), the dimension it concatenates}}
  %r = tile.collective all_gather %x over "nvlink" algorithm(ring) bytes(256) : tensor<64xf32> -> tensor<512xf32>
  return
}

// -----

func.func @collective_scatter_shape(%x: tensor<64x8xf32>) {
  // expected-error @+1 {{'reduce_scatter' along dim 0 cannot turn 'tensor<64x8xf32>' into 'tensor<8x4xf32>'}}
  %r = tile.collective reduce_scatter %x over "nvlink" algorithm(ring) dim(0) bytes(2048) : tensor<64x8xf32> -> tensor<8x4xf32>
  return
}

// -----

func.func @collective_bytes(%x: tensor<64xf32>) {
  // expected-error @+1 {{bytes(64) does not match the 256 bytes of a 64xf32 payload}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(ring) bytes(64) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @send_stage(%x: tensor<64xf32>) {
  // expected-error @+1 {{stage must not be negative, got stage(-1)}}
  tile.send %x to stage(-1) over "ib" bytes(256) : tensor<64xf32>
  return
}

// -----

func.func @recv_bytes() {
  // expected-error @+1 {{bytes(255) does not match the 256 bytes of a 64xf32 payload}}
  %x = tile.recv from stage(0) over "ib" bytes(255) : tensor<64xf32>
  return
}

// -----

func.func @direct_reduce(%x: tensor<64xf32>) {
  // expected-error @+1 {{algorithm(direct) is all_to_all's; 'all_reduce' needs ring, tree, recursive_halving_doubling, torus_dim_ordered, hierarchical or in_network}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(direct) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @group_not_positive(%x: tensor<64xf32>) {
  // expected-error @+1 {{group() member counts must be positive, not 0}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(ring) group([0]) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @all_to_all_three_dims(%x: tensor<8x8x4xf32>) {
  // expected-error @+1 {{'all_to_all' keeps the type or moves a split between two dimensions, but 'tensor<8x8x4xf32>' becomes 'tensor<2x16x8xf32>'}}
  %r = tile.collective all_to_all %x over "nvlink" algorithm(direct) bytes(1024) : tensor<8x8x4xf32> -> tensor<2x16x8xf32>
  return
}

// -----

func.func @grid_wrong_cores() {
  // expected-error @+1 {{grid(8, 8) is 64 cores, not cores(32)}}
  tile.spread cores(32) over (%i, %j) in (8, 8) grid(8, 8) {
  }
  return
}

// -----

func.func @grid_one_dim() {
  // expected-error @+1 {{grid lays the last two dimensions on the core grid, but the spread has 1}}
  tile.spread cores(8) over (%i) in (8) grid(2, 4) {
  }
  return
}

// -----

func.func @grid_larger_than_space() {
  // expected-error @+1 {{grid(8, 8) is larger than the space it lays out (4, 8)}}
  tile.spread cores(64) over (%i, %j) in (4, 8) grid(8, 8) {
  }
  return
}

// -----

func.func @multicast_without_grid(%A: !tile.buf<64x64xbf16, "dram">) {
  tile.spread cores(4) over (%i, %j) in (2, 2) {
    %a = tile.alloc : !tile.buf<32x32xbf16, "sram">
    // expected-error @+1 {{multicast needs an enclosing tile.spread laid on the core grid (grid(rows, cols))}}
    %t = tile.copy %A[%i, %i] -> %a multicast(1) bytes(2048) : !tile.buf<64x64xbf16, "dram"> -> !tile.buf<32x32xbf16, "sram">
  }
  return
}

// -----

func.func @multicast_indexed_along_axis(%A: !tile.buf<64x64xbf16, "dram">) {
  tile.spread cores(4) over (%i, %j) in (2, 2) grid(2, 2) {
    %a = tile.alloc : !tile.buf<32x32xbf16, "sram">
    // expected-error @+1 {{multicast along grid axis 1 shares one tile among the cores of that axis, but the copy is indexed by the spread index laid on it}}
    %t = tile.copy %A[%i, %j] -> %a multicast(1) bytes(2048) : !tile.buf<64x64xbf16, "dram"> -> !tile.buf<32x32xbf16, "sram">
  }
  return
}

// -----

func.func @multicast_bad_axis(%A: !tile.buf<64x64xbf16, "dram">) {
  tile.spread cores(4) over (%i, %j) in (2, 2) grid(2, 2) {
    %a = tile.alloc : !tile.buf<32x32xbf16, "sram">
    // expected-error @+1 {{multicast axis must be 0 (a grid column) or 1 (a grid row), got 2}}
    %t = tile.copy %A[%i, %i] -> %a multicast(2) bytes(2048) : !tile.buf<64x64xbf16, "dram"> -> !tile.buf<32x32xbf16, "sram">
  }
  return
}

// -----

func.func @resident_out_of_range(%x: tensor<64xf32>) {
  // expected-error @+1 {{resident operand 1 is out of range (the kernel has 1 ins and outs)}}
  %r = tile.kernel "k" outs(%x : tensor<64xf32>) resident([1]) {
  ^bb0(%X: !tile.buf<64xf32, "sram">):
  } -> tensor<64xf32>
  return
}

// -----

func.func @resident_unordered(%x: tensor<64xf32>, %y: tensor<64xf32>) {
  // expected-error @+1 {{resident operands must be strictly increasing}}
  %r = tile.kernel "k" ins(%x : tensor<64xf32>) outs(%y : tensor<64xf32>) resident([1, 0]) {
  ^bb0(%X: !tile.buf<64xf32, "sram">, %Y: !tile.buf<64xf32, "sram">):
  } -> tensor<64xf32>
  return
}

// -----

func.func @resident_and_spilled(%x: tensor<64xf32>) {
  // expected-error @+1 {{operand 0 is both resident and spilled}}
  %r = tile.kernel "k" outs(%x : tensor<64xf32>) resident([0]) spilled([0]) {
  ^bb0(%X: !tile.buf<64xf32, "sram">):
  } -> tensor<64xf32>
  return
}

//--- h100.mlir

// Checked against dgx-h100: eight h100-sxm chips on one NVLink switch.

func.func @unknown_level() {
  // expected-error @+1 {{level 'sram' is not in chip 'h100-sxm' (levels: rf, smem, l2, hbm)}}
  %a = tile.alloc : !tile.buf<128x64xbf16, "sram">
  return
}

// -----

func.func @unknown_level_in_kernel(%x: tensor<64xf32>) {
  // expected-error @+1 {{level 'dram' is not in chip 'h100-sxm' (levels: rf, smem, l2, hbm)}}
  %r = tile.kernel "k" outs(%x : tensor<64xf32>) {
  ^bb0(%X: !tile.buf<64xf32, "dram">):
  } -> tensor<64xf32>
  return
}

// -----

func.func @gather_unknown_level(%s: !tile.buf<1000x64xbf16, "hbm">, %i: !tile.buf<8xi32, "smem">, %d: !tile.buf<8x64xbf16, "sram">) {
  // expected-error @+1 {{level 'sram' is not in chip 'h100-sxm' (levels: rf, smem, l2, hbm)}}
  %t = tile.gather %s rows(%i) -> %d bytes(1024) : !tile.buf<1000x64xbf16, "hbm">, !tile.buf<8xi32, "smem"> -> !tile.buf<8x64xbf16, "sram">
  return
}

// -----

func.func @alloc_capacity() {
  // expected-error @+1 {{needs 2 x 128 KiB of 'smem' but an instance holds 228 KiB}}
  %a = tile.alloc buffers(2) : !tile.buf<256x256xbf16, "smem">
  return
}

// -----

func.func @spread_too_many_cores() {
  // expected-error @+1 {{spreads over 144 cores but chip 'h100-sxm' has 132}}
  tile.spread cores(144) over (%i) in (144) {
  }
  return
}

// -----

func.func @mma_unknown_unit(%a: !tile.buf<64x16xbf16, "smem">, %b: !tile.buf<16x256xbf16, "smem">, %c: !tile.buf<64x256xf32, "rf">) {
  // expected-error @+1 {{unit 'mxu' is not in chip 'h100-sxm' (units: tensor, tensor-sync, cuda)}}
  tile.mma %a, %b, %c on "mxu" : !tile.buf<64x16xbf16, "smem">, !tile.buf<16x256xbf16, "smem">, !tile.buf<64x256xf32, "rf">
  return
}

// -----

func.func @mma_on_vector_unit(%a: !tile.buf<64x16xbf16, "smem">, %b: !tile.buf<16x256xbf16, "smem">, %c: !tile.buf<64x256xf32, "rf">) {
  // expected-error @+1 {{needs a matrix unit, but unit 'cuda' of chip 'h100-sxm' is a vector unit (matrix units: tensor, tensor-sync)}}
  tile.mma %a, %b, %c on "cuda" : !tile.buf<64x16xbf16, "smem">, !tile.buf<16x256xbf16, "smem">, !tile.buf<64x256xf32, "rf">
  return
}

// -----

func.func @mma_unsupported_dtype(%a: !tile.buf<64x16xf32, "smem">, %b: !tile.buf<16x256xf32, "smem">, %c: !tile.buf<64x256xf32, "rf">) {
  // expected-error @+1 {{unit 'tensor' has no rate for 'f32' (rates: f64, tf32, bf16, fp16, fp8, int8)}}
  tile.mma %a, %b, %c on "tensor" : !tile.buf<64x16xf32, "smem">, !tile.buf<16x256xf32, "smem">, !tile.buf<64x256xf32, "rf">
  return
}

// -----

func.func @mma_not_native(%a: !tile.buf<128x64xbf16, "smem">, %b: !tile.buf<64x128xbf16, "smem">, %c: !tile.buf<128x128xf32, "rf">) {
  // expected-error @+1 {{tile 128x128x64 (MxNxK) is not a multiple of unit 'tensor''s native 64x256x16; mark it 'padded' to pay for the padding}}
  tile.mma %a, %b, %c on "tensor" : !tile.buf<128x64xbf16, "smem">, !tile.buf<64x128xbf16, "smem">, !tile.buf<128x128xf32, "rf">
  return
}

// -----

func.func @mma_needlessly_padded(%a: !tile.buf<128x64xbf16, "smem">, %b: !tile.buf<64x256xbf16, "smem">, %c: !tile.buf<128x256xf32, "rf">) {
  // expected-error @+1 {{is marked 'padded' but tile 128x256x64 is a multiple of unit 'tensor''s native 64x256x16}}
  tile.mma %a, %b, %c on "tensor" padded : !tile.buf<128x64xbf16, "smem">, !tile.buf<64x256xbf16, "smem">, !tile.buf<128x256xf32, "rf">
  return
}

// -----

func.func @map_on_matrix_unit(%a: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{needs a vector unit, but unit 'tensor' of chip 'h100-sxm' is a matrix unit (vector units: cuda)}}
  tile.map exp %a -> %a on "tensor" : (!tile.buf<64x64xf32, "rf">) -> !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @reduce_unknown_unit(%a: !tile.buf<64x64xf32, "rf">, %r: !tile.buf<64x1xf32, "rf">) {
  // expected-error @+1 {{unit 'sfu' is not in chip 'h100-sxm' (units: tensor, tensor-sync, cuda)}}
  tile.reduce sum %a -> %r dim(1) on "sfu" : !tile.buf<64x64xf32, "rf"> -> !tile.buf<64x1xf32, "rf">
  return
}

// -----

func.func @fill_on_matrix_unit(%a: !tile.buf<64x64xf32, "rf">) {
  // expected-error @+1 {{needs a vector unit, but unit 'tensor' of chip 'h100-sxm' is a matrix unit (vector units: cuda)}}
  tile.fill %a, 0.0 : f32 on "tensor" : !tile.buf<64x64xf32, "rf">
  return
}

// -----

func.func @noc_without_network(%b: !tile.buf<8x8xbf16, "smem">) {
  // expected-error @+1 {{chip 'h100-sxm' has no on-chip network}}
  %t = tile.noc_copy unicast %b -> %b hops(1) bytes(128) : !tile.buf<8x8xbf16, "smem"> -> !tile.buf<8x8xbf16, "smem">
  return
}

// -----

func.func @unknown_fabric(%x: tensor<64xf32>) {
  // expected-error @+1 {{fabric 'ib' is not in the topology of system 'dgx-h100' (fabrics: nvlink)}}
  %r = tile.collective all_reduce %x over "ib" algorithm(ring) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @gather_factor(%x: tensor<64xf32>) {
  // expected-error @+1 {{'all_gather' over fabric 'nvlink' (8 members) must change dim 0 8x, not 4x}}
  %r = tile.collective all_gather %x over "nvlink" algorithm(ring) dim(0) bytes(256) : tensor<64xf32> -> tensor<256xf32>
  return
}

// -----

func.func @torus_algorithm_on_switch(%x: tensor<64xf32>) {
  // expected-error @+1 {{algorithm(torus_dim_ordered) needs a torus or mesh fabric, but 'nvlink' is a switch}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(torus_dim_ordered) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @hierarchical_on_one_fabric(%x: tensor<64xf32>) {
  // expected-error @+1 {{algorithm(hierarchical) needs a topology of at least two fabrics}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(hierarchical) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @send_unknown_fabric(%x: tensor<64xf32>) {
  // expected-error @+1 {{fabric 'ib' is not in the topology of system 'dgx-h100' (fabrics: nvlink)}}
  tile.send %x to stage(1) over "ib" bytes(256) : tensor<64xf32>
  return
}

// -----

func.func @group_length(%x: tensor<64xf32>) {
  // expected-error @+1 {{group() has 2 entries, but fabric 'nvlink' is number 1 of the topology (one entry per fabric up to it, innermost first)}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(ring) group([2, 4]) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @group_not_dividing(%x: tensor<64xf32>) {
  // expected-error @+1 {{group() puts 3 members on fabric 'nvlink', which does not divide its 8 members}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(ring) group([3]) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @group_gather_factor(%x: tensor<64xf32>) {
  // expected-error @+1 {{'all_gather' over a group (4 members) must change dim 0 4x, not 8x}}
  %r = tile.collective all_gather %x over "nvlink" algorithm(ring) dim(0) group([4]) bytes(256) : tensor<64xf32> -> tensor<512xf32>
  return
}

// -----

func.func @all_to_all_factor(%x: tensor<8x8xf32>) {
  // expected-error @+1 {{'all_to_all' over a group (4 members) must move its split 4x, not 2x}}
  %r = tile.collective all_to_all %x over "nvlink" algorithm(direct) group([4]) bytes(256) : tensor<8x8xf32> -> tensor<4x16xf32>
  return
}

// -----

func.func @grid_on_gpu() {
  // expected-error @+1 {{grid needs a chip with a core grid; chip 'h100-sxm' has none}}
  tile.spread cores(64) over (%i, %j) in (8, 8) grid(8, 8) {
  }
  return
}

// -----

func.func @resident_without_grid(%x: tensor<64xf32>) {
  // expected-error @+1 {{keeps operands resident in the grid's SRAM, but chip 'h100-sxm' has no core grid with an on-chip network}}
  %r = tile.kernel "k" outs(%x : tensor<64xf32>) resident([0]) {
  ^bb0(%X: !tile.buf<64xf32, "smem">):
  } -> tensor<64xf32>
  return
}

//--- mesh.mlir

// Checked against mesh-sram: 64 x 64 cores on a mesh NoC, "sram" per core,
// "dram" per chip.

func.func @noc_chip_scoped_level(%s: !tile.buf<8x8xbf16, "sram">, %d: !tile.buf<8x8xbf16, "dram">) {
  // expected-error @+1 {{moves data between cores, but level 'dram' is chip-scoped, not core-scoped}}
  %t = tile.noc_copy unicast %s -> %d hops(1) bytes(128) : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x8xbf16, "dram">
  return
}

// -----

func.func @noc_too_many_cores(%b: !tile.buf<8x8xbf16, "sram">) {
  // expected-error @+1 {{delivers to 4096 cores, but chip 'mesh-sram' has 4096 (one is the sender)}}
  %t = tile.noc_copy multicast %b -> %b cores(4096) hops(126) bytes(128) : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x8xbf16, "sram">
  return
}

// -----

func.func @noc_beyond_diameter(%b: !tile.buf<8x8xbf16, "sram">) {
  // expected-error @+1 {{hops(127) exceeds the 126-hop diameter of chip 'mesh-sram''s network}}
  %t = tile.noc_copy unicast %b -> %b hops(127) bytes(128) : !tile.buf<8x8xbf16, "sram"> -> !tile.buf<8x8xbf16, "sram">
  return
}

// -----

func.func @spread_too_many_cores() {
  // expected-error @+1 {{spreads over 8192 cores but chip 'mesh-sram' has 4096}}
  tile.spread cores(8192) over (%i, %j) in (64, 128) {
  }
  return
}

// -----

func.func @grid_beyond_chip() {
  // expected-error @+1 {{grid(2, 128) does not fit chip 'mesh-sram''s 64x64 core grid}}
  tile.spread cores(256) over (%i, %j) in (2, 128) grid(2, 128) {
  }
  return
}


// -----

func.func @resident_at_home(%x: tensor<64xf32>) {
  // expected-error @+1 {{resident operand 0 must be placed in a core-scoped level (the grid's SRAM), got 'dram'}}
  %r = tile.kernel "k" outs(%x : tensor<64xf32>) resident([0]) {
  ^bb0(%X: !tile.buf<64xf32, "dram">):
  } -> tensor<64xf32>
  return
}

// -----

func.func @on_chip_not_listed(%x: tensor<64xf32>) {
  // expected-error @+1 {{operand 0 is placed in core-scoped level 'sram' but is not listed in resident(...)}}
  %r = tile.kernel "k" outs(%x : tensor<64xf32>) {
  ^bb0(%X: !tile.buf<64xf32, "sram">):
  } -> tensor<64xf32>
  return
}

//--- a100.mlir

// Checked against dgx-a100: its NVLink switch does not reduce in the network.

func.func @in_network_without_switch_reduction(%x: tensor<64xf32>) {
  // expected-error @+1 {{algorithm(in_network) needs a fabric that reduces in the switch, but 'nvlink' does not}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(in_network) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

//--- multi.mlir

// Checked against dgx-h100x4: NVLink inside each of 4 nodes, InfiniBand
// between them.

func.func @hierarchical_one_fabric_group(%x: tensor<64xf32>) {
  // expected-error @+1 {{algorithm(hierarchical) needs a group on at least two fabrics, e.g. group([8, 4])}}
  %r = tile.collective all_reduce %x over "ib" algorithm(hierarchical) group([1, 4]) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @hierarchical_innermost(%x: tensor<64xf32>) {
  // expected-error @+1 {{algorithm(hierarchical) needs a group on at least two fabrics, but 'nvlink' is the innermost}}
  %r = tile.collective all_reduce %x over "nvlink" algorithm(hierarchical) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}

// -----

func.func @group_below_its_fabric(%x: tensor<64xf32>) {
  // expected-error @+1 {{group() has one member on fabric 'ib'; name the outermost fabric the group crosses}}
  %r = tile.collective all_reduce %x over "ib" algorithm(ring) group([8, 1]) bytes(256) : tensor<64xf32> -> tensor<64xf32>
  return
}
