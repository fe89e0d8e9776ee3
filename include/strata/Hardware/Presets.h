//===- Presets.h - Built-in hardware presets --------------------*- C++ -*-===//
//
// Real parts (figures from public datasheets and whitepapers, cited next to
// each value in Presets.cpp and summarised in docs/hardware-presets.md) and
// hypothetical designs, addressable by name.
//
// Names:
//   a100-sxm-80g, h100-sxm, h200, b200, tpu-v5p, mi300x   single chips
//   dgx-a100, dgx-h100, dgx-b200           one 8-GPU node (NVSwitch)
//   dgx-a100xN, dgx-h100xN                 N nodes on an InfiniBand fat tree
//   tpu-v5p-AxBxC                          a v5p slice on a 3D torus (ICI)
//   mi300x-x8                              8 MI300X, Infinity Fabric mesh
//   mesh-sram                              hypothetical SRAM-heavy 2D mesh
//   chiplet-2x                             hypothetical 2-die chiplet package
//   wormhole-n150, wormhole-n300           Tenstorrent Wormhole cards (1 and
//                                          2 ASICs, Ethernet between them)
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_HARDWARE_PRESETS_H
#define STRATA_HARDWARE_PRESETS_H

#include "strata/Hardware/System.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::hw {

/// The canonical preset names (parametrised families listed with one
/// representative size, e.g. "dgx-h100x4", "tpu-v5p-4x4x4"), stable order.
std::vector<std::string> presetNames();

/// Builds the named preset, or nullopt if the name is unknown or its size
/// suffix is malformed. The result always passes validate().
std::optional<System> getPreset(std::string_view name);

} // namespace strata::hw

#endif // STRATA_HARDWARE_PRESETS_H
