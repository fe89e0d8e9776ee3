//===- TileNetworkOps.cpp - Tile ops that move data between cores ---------===//
//
// Verifiers and cost-interface methods of the ops whose traffic crosses the
// on-chip network: tile.noc_copy (a core-to-core transfer) and
// tile.split_reduce (a reduce-scatter of partial results among the points
// of a spread).
//
//===----------------------------------------------------------------------===//

#include "TileOpsDetail.h"
#include "strata/Dialect/Tile/IR/TileOps.h"

#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace strata;
using namespace strata::tile;
using namespace strata::tile::detail;

//===----------------------------------------------------------------------===//
// NocCopyOp
//===----------------------------------------------------------------------===//

/// Router hops between the two farthest cores of the chip's network.
static int64_t getNetworkDiameter(arch::ChipAttr chip) {
  ArrayRef<int64_t> grid = chip.getGrid();
  if (grid.size() != 2)
    return chip.getCores() - 1;
  switch (chip.getNoc().getKind()) {
  case hw::NocKind::Mesh:
    return (grid[0] - 1) + (grid[1] - 1);
  case hw::NocKind::Torus:
    return grid[0] / 2 + grid[1] / 2;
  case hw::NocKind::Crossbar:
    return 1;
  case hw::NocKind::Ring:
    return chip.getCores() / 2;
  }
  llvm_unreachable("unknown network kind");
}

/// Once a system is attached: the chip has an on-chip network and every
/// level the op touches is core-scoped (a network links cores). `what`
/// says what the op does between cores ("moves data", "reduces").
static LogicalResult verifyNetworkLevels(Operation *op, arch::ChipAttr chip,
                                         ArrayRef<StringRef> levels,
                                         StringRef what) {
  if (!chip.getNoc())
    return op->emitOpError() << "chip '" << chip.getName()
                             << "' has no on-chip network";
  for (StringRef name : levels) {
    arch::LevelAttr level = findLevel(chip, name);
    if (level.getScope() != hw::Scope::Core)
      return op->emitOpError()
             << what << " between cores, but level '" << name << "' is "
             << hw::toString(level.getScope()) << "-scoped, not core-scoped";
  }
  return success();
}


LogicalResult NocCopyOp::verify() {
  auto source = cast<BufType>(getSource().getType());
  auto dest = cast<BufType>(getDest().getType());
  if (failed(verifyTileTransfer(*this, source, /*numSourceIndices=*/0, dest,
                                getDestIndices().size())))
    return failure();
  if (getMode() == NocMode::Unicast && getCores() != 1)
    return emitOpError() << "unicast delivers to one core, not cores("
                         << getCores() << ")";
  if (getMode() == NocMode::Multicast && getCores() < 2)
    return emitOpError() << "multicast needs at least 2 receiving cores, got "
                         << "cores(" << getCores() << ")";
  if (getHops() < 1)
    return emitOpError() << "needs at least one hop, got hops(" << getHops()
                         << ")";
  if (failed(verifyPayload(*this, getBytes(), source)) ||
      failed(verifyBufferLevels(*this)))
    return failure();

  arch::ChipAttr chip = getTargetChip(*this);
  if (!chip)
    return success();
  if (failed(verifyNetworkLevels(*this, chip,
                                 {source.getLevel(), dest.getLevel()},
                                 "moves data")))
    return failure();
  if (getCores() >= chip.getCores())
    return emitOpError() << "delivers to " << getCores() << " cores, but chip '"
                         << chip.getName() << "' has " << chip.getCores()
                         << " (one is the sender)";
  int64_t diameter = getNetworkDiameter(chip);
  if (getHops() > diameter)
    return emitOpError() << "hops(" << getHops() << ") exceeds the " << diameter
                         << "-hop diameter of chip '" << chip.getName()
                         << "''s network";
  return success();
}

int64_t NocCopyOp::getBytesMoved() { return getBytes(); }

std::pair<StringRef, StringRef> NocCopyOp::getTransferLevels() {
  return {cast<BufType>(getSource().getType()).getLevel(),
          cast<BufType>(getDest().getType()).getLevel()};
}

CostKind NocCopyOp::getCostKind() { return CostKind::Noc; }

//===----------------------------------------------------------------------===//
// SplitReduceOp
//===----------------------------------------------------------------------===//

int64_t SplitReduceOp::getParts() {
  auto spread = (*this)->getParentOfType<SpreadOp>();
  if (!spread || getDim() < 0 ||
      getDim() >= int64_t(spread.getTripCounts().size()))
    return 0;
  return spread.getTripCounts()[getDim()];
}

LogicalResult SplitReduceOp::verify() {
  auto spread = (*this)->getParentOfType<SpreadOp>();
  if (!spread)
    return emitOpError() << "reduces over the points of a tile.spread, but "
                            "is not inside one";
  int64_t rank = int64_t(spread.getTripCounts().size());
  if (getDim() < 0 || getDim() >= rank)
    return emitOpError() << "dim(" << getDim()
                         << ") is out of range for a rank-" << rank
                         << " spread";
  int64_t parts = getParts();
  if (parts < 2)
    return emitOpError() << "needs at least 2 parts, but spread dim "
                         << getDim() << " has trip count " << parts;
  size_t operands = getKind() == SplitReduceKind::Softmax ? 3 : 1;
  if (getInputs().size() != operands || getOutputs().size() != operands)
    return emitOpError() << stringifySplitReduceKind(getKind()) << " takes "
                         << operands << " input(s) and " << operands
                         << " output(s), got " << getInputs().size() << " and "
                         << getOutputs().size();
  int64_t rows = 0, sent = 0;
  for (auto [i, in, out] :
       llvm::enumerate(getInputs().getTypes(), getOutputs().getTypes())) {
    auto a = cast<BufType>(in), r = cast<BufType>(out);
    if (a.getRank() != 2 || r.getRank() != 2)
      return emitOpError() << "operand " << i << " must be rank 2";
    if (!a.getElementType().isF32() || !r.getElementType().isF32())
      return emitOpError() << "partials are f32, operand " << i << " is not";
    if (i == 0)
      rows = a.getShape()[0];
    if (a.getShape()[0] != rows)
      return emitOpError() << "input " << i << " has " << a.getShape()[0]
                           << " rows, input 0 has " << rows;
    if (i > 0 && a.getShape()[1] != 1)
      return emitOpError() << "softmax's row max and row sum are [rows x 1], "
                              "input "
                           << i << " is " << formatShape(a.getShape());
    if (rows % parts)
      return emitOpError() << rows << " rows do not divide into " << parts
                           << " parts";
    SmallVector<int64_t> expected = {rows / parts, a.getShape()[1]};
    if (r.getShape() != ArrayRef<int64_t>(expected))
      return emitOpError() << "output " << i << " is "
                           << formatShape(r.getShape()) << ", but a part of "
                           << formatShape(a.getShape()) << " is "
                           << formatShape(expected);
    sent += getSizeInBytes(a) / parts * (parts - 1);
  }
  if (getBytes() != sent)
    return emitOpError() << "bytes(" << getBytes()
                         << ") does not match the " << sent
                         << " bytes each part sends";
  if (getHops() < 1)
    return emitOpError() << "needs at least one hop, got hops(" << getHops()
                         << ")";
  if (failed(verifyBufferLevels(*this)))
    return failure();
  arch::ChipAttr chip = getTargetChip(*this);
  if (!chip)
    return success();
  SmallVector<StringRef> levels;
  for (Type t : getOperandTypes())
    levels.push_back(cast<BufType>(t).getLevel());
  if (failed(verifyNetworkLevels(*this, chip, levels, "reduces")))
    return failure();
  int64_t diameter = getNetworkDiameter(chip);
  if (getHops() > diameter)
    return emitOpError() << "hops(" << getHops() << ") exceeds the "
                         << diameter << "-hop diameter of chip '"
                         << chip.getName() << "''s network";
  return success();
}

int64_t SplitReduceOp::getBytesMoved() { return getBytes(); }

std::pair<StringRef, StringRef> SplitReduceOp::getTransferLevels() {
  return {cast<BufType>(getInputs().front().getType()).getLevel(),
          cast<BufType>(getOutputs().front().getType()).getLevel()};
}

CostKind SplitReduceOp::getCostKind() { return CostKind::Noc; }
