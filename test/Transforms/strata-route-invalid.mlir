// RUN: split-file %s %t
// RUN: strata-opt %t/layout.mlir --strata-set-system=system=dgx-h100 --strata-route -split-input-file -verify-diagnostics
// RUN: strata-opt %t/a100.mlir --strata-set-system=system=dgx-a100 --strata-route=algorithm=in_network -split-input-file -verify-diagnostics
// RUN: strata-opt %t/switch.mlir --strata-set-system=system=dgx-h100 --strata-route=algorithm=torus_dim_ordered -split-input-file -verify-diagnostics
// RUN: strata-opt %t/onefabric.mlir --strata-set-system=system=dgx-h100x4 --strata-route=algorithm=hierarchical -split-input-file -verify-diagnostics
// RUN: strata-opt %t/alltoall.mlir --strata-set-system=system=dgx-h100 --strata-route=algorithm=ring -split-input-file -verify-diagnostics
// RUN: not strata-opt %t/alltoall.mlir --strata-set-system=system=dgx-h100 --strata-route=algorithm=fastest 2>&1 | FileCheck %s --check-prefix=OPTION

// OPTION: error: strata-route: algorithm=fastest is not one of auto, ring, tree, recursive_halving_doubling, hierarchical, torus_dim_ordered, in_network, direct

//--- layout.mlir

// A grid strata-parallelize did not lay out: which fabric would carry it?
shard.grid @grid(shape = 8)
func.func @no_axis_fabrics(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.all_reduce' op cannot be routed on system 'dgx-h100': grid @grid has no strata.axis_names and strata.axis_fabrics for its 1 axes (strata-parallelize records which fabric each axis is laid on)}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] : tensor<64xf32> -> tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

// The plan was made for a system with InfiniBand; dgx-h100 has none.
shard.grid @grid(shape = 8) {strata.axis_fabrics = {dp = "ib"}, strata.axis_names = ["dp"]}
func.func @missing_fabric(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.all_reduce' op cannot be routed on system 'dgx-h100': grid axis 'dp' is laid on fabric 'ib', which system 'dgx-h100' does not have (fabrics: nvlink)}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] : tensor<64xf32> -> tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

// Sixteen devices do not fit the eight of one node.
shard.grid @grid(shape = 16) {strata.axis_fabrics = {tp = "nvlink"}, strata.axis_names = ["tp"]}
func.func @too_large(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.all_reduce' op cannot be routed on system 'dgx-h100': the axes of grid @grid cannot be laid on the topology of 'dgx-h100' as strata.axis_fabrics records}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] : tensor<64xf32> -> tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

// Collectives partitioning does not produce have no lowering.
shard.grid @grid(shape = 8) {strata.axis_fabrics = {tp = "nvlink"}, strata.axis_names = ["tp"]}
func.func @broadcast(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.broadcast' op cannot be routed: strata-route lowers all_reduce, all_gather, reduce_scatter and all_to_all}}
  %r = shard.broadcast %x on @grid grid_axes = [0] root = [0] : (tensor<64xf32>) -> tensor<64xf32>
  return %r : tensor<64xf32>
}

//--- a100.mlir

// Third-generation NVSwitch (DGX A100) does not reduce in the network.
shard.grid @grid(shape = 8) {strata.axis_fabrics = {tp = "nvlink"}, strata.axis_names = ["tp"]}
func.func @in_network_on_a100(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.all_reduce' op cannot run as algorithm=in_network: fabric 'nvlink' of system 'dgx-a100' does not reduce in the switch}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] : tensor<64xf32> -> tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

shard.grid @grid(shape = 8) {strata.axis_fabrics = {tp = "nvlink"}, strata.axis_names = ["tp"]}
func.func @in_network_gather(%x: tensor<8xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.all_gather' op cannot run as algorithm=in_network: in_network runs all_reduce only, not all_gather}}
  %r = shard.all_gather %x on @grid grid_axes = [0] gather_axis = 0 : tensor<8xf32> -> tensor<64xf32>
  return %r : tensor<64xf32>
}

//--- switch.mlir

shard.grid @grid(shape = 8) {strata.axis_fabrics = {tp = "nvlink"}, strata.axis_names = ["tp"]}
func.func @dim_ordered_on_switch(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.all_reduce' op cannot run as algorithm=torus_dim_ordered: fabric 'nvlink' is a switch, not a torus or mesh}}
  %r = shard.all_reduce %x on @grid grid_axes = [0] : tensor<64xf32> -> tensor<64xf32>
  return %r : tensor<64xf32>
}

//--- onefabric.mlir

// tp=8 fills one node: nothing to do hierarchically.
shard.grid @grid(shape = 4x8) {strata.axis_fabrics = {dp = "ib", tp = "nvlink"}, strata.axis_names = ["dp", "tp"]}
func.func @hierarchical_in_a_node(%x: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'shard.all_reduce' op cannot run as algorithm=hierarchical: the group lies on fabric 'nvlink' alone}}
  %r = shard.all_reduce %x on @grid grid_axes = [1] : tensor<64xf32> -> tensor<64xf32>
  return %r : tensor<64xf32>
}

//--- alltoall.mlir

shard.grid @grid(shape = 8) {strata.axis_fabrics = {ep = "nvlink"}, strata.axis_names = ["ep"]}
func.func @ring_all_to_all(%x: tensor<8x8xf32>) -> tensor<1x64xf32> {
  // expected-error @+1 {{'shard.all_to_all' op cannot run as algorithm=ring: all_to_all runs only as direct}}
  %r = shard.all_to_all %x on @grid grid_axes = [0] split_axis = 0 concat_axis = 1 : tensor<8x8xf32> -> tensor<1x64xf32>
  return %r : tensor<1x64xf32>
}
