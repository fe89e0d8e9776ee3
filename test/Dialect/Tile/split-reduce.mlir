// tile.split_reduce: a reduce-scatter of partial results among the points of
// a tile.spread over the on-chip network. Round trips (custom and generic
// form) on the SRAM mesh, one case per verifier error: local checks (no
// system), then those needing a system (a chip without a network, levels,
// the network's diameter).
//
// RUN: split-file %s %t
// RUN: strata-opt %t/ops.mlir --strata-set-system=system=mesh-sram | FileCheck %t/ops.mlir
// RUN: strata-opt %t/ops.mlir --strata-set-system=system=mesh-sram -mlir-print-op-generic \
// RUN:   | strata-opt --strata-set-system=system=mesh-sram | FileCheck %t/ops.mlir
// RUN: strata-opt %t/local.mlir -split-input-file -verify-diagnostics
// RUN: strata-opt %t/mesh.mlir --strata-set-system=system=mesh-sram -split-input-file -verify-diagnostics
// RUN: strata-opt %t/h100.mlir --strata-set-system=system=h100-sxm -split-input-file -verify-diagnostics

//--- ops.mlir

// CHECK-LABEL: func.func @combine
// CHECK:         tile.split_reduce softmax(%{{.*}}, %{{.*}}, %{{.*}}) -> (%{{.*}}, %{{.*}}, %{{.*}}) dim(1) hops(2) bytes(6336) : (!tile.buf<32x64xf32, "sram">, !tile.buf<32x1xf32, "sram">, !tile.buf<32x1xf32, "sram">) -> (!tile.buf<8x64xf32, "sram">, !tile.buf<8x1xf32, "sram">, !tile.buf<8x1xf32, "sram">)
// CHECK:         tile.split_reduce sum(%{{.*}}) -> (%{{.*}}) dim(1) hops(2) bytes(6144) : (!tile.buf<32x64xf32, "sram">) -> (!tile.buf<8x64xf32, "sram">)
func.func @combine() {
  tile.spread cores(64) over (%q, %s) in (16, 4) {
    %acc = tile.alloc : !tile.buf<32x64xf32, "sram">
    %m = tile.alloc : !tile.buf<32x1xf32, "sram">
    %l = tile.alloc : !tile.buf<32x1xf32, "sram">
    %racc = tile.alloc : !tile.buf<8x64xf32, "sram">
    %rm = tile.alloc : !tile.buf<8x1xf32, "sram">
    %rl = tile.alloc : !tile.buf<8x1xf32, "sram">
    tile.split_reduce softmax (%acc, %m, %l) -> (%racc, %rm, %rl) dim(1)
        hops(2) bytes(6336)
        : (!tile.buf<32x64xf32, "sram">, !tile.buf<32x1xf32, "sram">, !tile.buf<32x1xf32, "sram">)
        -> (!tile.buf<8x64xf32, "sram">, !tile.buf<8x1xf32, "sram">, !tile.buf<8x1xf32, "sram">)
    tile.split_reduce sum (%acc) -> (%racc) dim(1) hops(2) bytes(6144)
        : (!tile.buf<32x64xf32, "sram">) -> (!tile.buf<8x64xf32, "sram">)
  }
  return
}

//--- local.mlir

func.func @outside_spread(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<4x8xf32, "sram">) {
  // expected-error @+1 {{reduces over the points of a tile.spread, but is not inside one}}
  tile.split_reduce sum (%a) -> (%r) dim(0) hops(1) bytes(128) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<4x8xf32, "sram">)
  return
}

// -----

func.func @dim_out_of_range(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<4x8xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{dim(1) is out of range for a rank-1 spread}}
    tile.split_reduce sum (%a) -> (%r) dim(1) hops(1) bytes(128) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<4x8xf32, "sram">)
  }
  return
}

// -----

func.func @one_part(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<8x8xf32, "sram">) {
  tile.spread cores(2) over (%q, %s) in (2, 1) {
    // expected-error @+1 {{needs at least 2 parts, but spread dim 1 has trip count 1}}
    tile.split_reduce sum (%a) -> (%r) dim(1) hops(1) bytes(0) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<8x8xf32, "sram">)
  }
  return
}

// -----

func.func @softmax_arity(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<4x8xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{softmax takes 3 input(s) and 3 output(s), got 1 and 1}}
    tile.split_reduce softmax (%a) -> (%r) dim(0) hops(1) bytes(128) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<4x8xf32, "sram">)
  }
  return
}

// -----

func.func @not_f32(%a: !tile.buf<8x8xbf16, "sram">, %r: !tile.buf<4x8xbf16, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{partials are f32, operand 0 is not}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(1) bytes(64) : (!tile.buf<8x8xbf16, "sram">) -> (!tile.buf<4x8xbf16, "sram">)
  }
  return
}

// -----

func.func @rows_do_not_divide(%a: !tile.buf<6x8xf32, "sram">, %r: !tile.buf<1x8xf32, "sram">) {
  tile.spread cores(4) over (%s) in (4) {
    // expected-error @+1 {{6 rows do not divide into 4 parts}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(1) bytes(144) : (!tile.buf<6x8xf32, "sram">) -> (!tile.buf<1x8xf32, "sram">)
  }
  return
}

// -----

func.func @wrong_share(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<8x8xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{output 0 is 8x8, but a part of 8x8 is 4x8}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(1) bytes(128) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<8x8xf32, "sram">)
  }
  return
}

// -----

func.func @row_vectors(%a: !tile.buf<8x8xf32, "sram">, %m: !tile.buf<8x2xf32, "sram">,
                       %ra: !tile.buf<4x8xf32, "sram">, %rm: !tile.buf<4x2xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{softmax's row max and row sum are [rows x 1], input 1 is 8x2}}
    tile.split_reduce softmax (%a, %m, %m) -> (%ra, %rm, %rm) dim(0) hops(1) bytes(192) : (!tile.buf<8x8xf32, "sram">, !tile.buf<8x2xf32, "sram">, !tile.buf<8x2xf32, "sram">) -> (!tile.buf<4x8xf32, "sram">, !tile.buf<4x2xf32, "sram">, !tile.buf<4x2xf32, "sram">)
  }
  return
}

// -----

func.func @wrong_bytes(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<4x8xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{bytes(256) does not match the 128 bytes each part sends}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(1) bytes(256) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<4x8xf32, "sram">)
  }
  return
}

// -----

func.func @no_hops(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<4x8xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{needs at least one hop, got hops(0)}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(0) bytes(128) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<4x8xf32, "sram">)
  }
  return
}

//--- mesh.mlir

func.func @chip_scoped(%a: !tile.buf<8x8xf32, "dram">, %r: !tile.buf<4x8xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{reduces between cores, but level 'dram' is chip-scoped, not core-scoped}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(1) bytes(128) : (!tile.buf<8x8xf32, "dram">) -> (!tile.buf<4x8xf32, "sram">)
  }
  return
}

// -----

func.func @past_diameter(%a: !tile.buf<8x8xf32, "sram">, %r: !tile.buf<4x8xf32, "sram">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{hops(127) exceeds the 126-hop diameter of chip 'mesh-sram''s network}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(127) bytes(128) : (!tile.buf<8x8xf32, "sram">) -> (!tile.buf<4x8xf32, "sram">)
  }
  return
}

//--- h100.mlir

func.func @no_network(%a: !tile.buf<8x8xf32, "smem">, %r: !tile.buf<4x8xf32, "smem">) {
  tile.spread cores(2) over (%s) in (2) {
    // expected-error @+1 {{chip 'h100-sxm' has no on-chip network}}
    tile.split_reduce sum (%a) -> (%r) dim(0) hops(1) bytes(128) : (!tile.buf<8x8xf32, "smem">) -> (!tile.buf<4x8xf32, "smem">)
  }
  return
}
