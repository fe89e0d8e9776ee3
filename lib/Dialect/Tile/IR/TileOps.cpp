//===- TileOps.cpp - Tile dialect operations ------------------------------===//
//
// Verifiers, custom formats and cost-interface implementations of the tile
// ops. Each verifier checks what is local to the op; when the enclosing
// module carries an `arch.system`, it also checks the names the op uses
// (levels, units, fabrics) and the limits it assumes (cores, native shapes,
// capacities, network diameter) against that system.
//
//===----------------------------------------------------------------------===//

#include "strata/Dialect/Tile/IR/TileOps.h"
#include "TileOpsDetail.h"
#include "strata/Dialect/Arch/IR/ArchAttrs.h"
#include "strata/Dialect/Arch/Utils/SystemLoader.h"
#include "strata/Hardware/Units.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace strata;
using namespace strata::tile;
using namespace strata::tile::detail;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// "128x64": a shape as written in types, for diagnostics.
std::string strata::tile::detail::formatShape(ArrayRef<int64_t> shape) {
  return llvm::join(
      llvm::map_range(shape, [](int64_t d) { return std::to_string(d); }), "x");
}

/// "128x64xbf16": a shape and element type as written in types, unquoted.
static std::string formatTile(ArrayRef<int64_t> shape, Type elementType) {
  std::string text = formatShape(shape) + "x";
  llvm::raw_string_ostream os(text);
  elementType.print(os);
  return text;
}

static std::string formatBytes(int64_t bytes) {
  return hw::formatQuantity(double(bytes), hw::Quantity::Bytes);
}

/// Comma-separated names of a list of `arch` attributes, or "none".
template <typename AttrT> static std::string listNames(ArrayRef<AttrT> attrs) {
  if (attrs.empty())
    return "none";
  return llvm::join(
      llvm::map_range(attrs, [](AttrT a) { return a.getName().str(); }), ", ");
}

/// The chip the op is checked against: that of the module's `arch.system`,
/// or null when no system is attached (system checks are then skipped).
arch::ChipAttr strata::tile::detail::getTargetChip(Operation *op) {
  arch::SystemAttr system = arch::getAttachedSystem(op);
  return system ? system.getChip() : arch::ChipAttr();
}

arch::LevelAttr strata::tile::detail::findLevel(arch::ChipAttr chip, StringRef name) {
  for (arch::LevelAttr level : chip.getMemory())
    if (level.getName() == name)
      return level;
  return {};
}

/// Checks that `name` is a memory level of `chip`.
static FailureOr<arch::LevelAttr>
verifyLevel(Operation *op, arch::ChipAttr chip, StringRef name) {
  if (arch::LevelAttr level = findLevel(chip, name))
    return level;
  return op->emitOpError() << "level '" << name << "' is not in chip '"
                           << chip.getName()
                           << "' (levels: " << listNames(chip.getMemory())
                           << ")";
}

/// Checks that every buffer the op touches (operands, results and, for
/// region ops, entry block arguments) is placed in a level of the target
/// chip. A no-op without a system.
LogicalResult strata::tile::detail::verifyBufferLevels(Operation *op) {
  arch::ChipAttr chip = getTargetChip(op);
  if (!chip)
    return success();
  SmallVector<Type> types(op->getOperandTypes());
  llvm::append_range(types, op->getResultTypes());
  for (Region &region : op->getRegions())
    if (!region.empty())
      llvm::append_range(types, region.front().getArgumentTypes());
  llvm::SmallDenseSet<StringRef> checked;
  for (Type type : types) {
    auto buf = dyn_cast<BufType>(type);
    if (!buf || !checked.insert(buf.getLevel()).second)
      continue;
    if (failed(verifyLevel(op, chip, buf.getLevel())))
      return failure();
  }
  return success();
}

/// Checks that `name` is a compute unit of `chip` of kind `kind` (the
/// kind the op needs), and returns it.
static FailureOr<arch::ComputeUnitAttr> verifyUnit(Operation *op,
                                                   arch::ChipAttr chip,
                                                   StringRef name,
                                                   hw::UnitKind kind) {
  ArrayRef<arch::ComputeUnitAttr> units = chip.getUnits();
  const auto *it = llvm::find_if(
      units, [&](arch::ComputeUnitAttr u) { return u.getName() == name; });
  if (it == units.end())
    return op->emitOpError()
           << "unit '" << name << "' is not in chip '" << chip.getName()
           << "' (units: " << listNames(units) << ")";
  if (it->getKind() != kind) {
    SmallVector<arch::ComputeUnitAttr> rightKind;
    llvm::copy_if(units, std::back_inserter(rightKind),
                  [&](arch::ComputeUnitAttr u) { return u.getKind() == kind; });
    return op->emitOpError()
           << "needs a " << hw::toString(kind) << " unit, but unit '" << name
           << "' of chip '" << chip.getName() << "' is a "
           << hw::toString(it->getKind()) << " unit (" << hw::toString(kind)
           << " units: " << listNames(ArrayRef(rightKind)) << ")";
  }
  return *it;
}

/// The hardware dtype whose rate prices arithmetic on `type`, if any.
static std::optional<hw::DType> toHardwareDType(Type type) {
  if (type.isF64())
    return hw::DType::f64;
  if (type.isF32())
    return hw::DType::f32;
  if (type.isTF32())
    return hw::DType::tf32;
  if (type.isBF16())
    return hw::DType::bf16;
  if (type.isF16())
    return hw::DType::fp16;
  if (auto f = dyn_cast<FloatType>(type)) {
    if (f.getWidth() == 8)
      return hw::DType::fp8;
    if (f.getWidth() == 4)
      return hw::DType::fp4;
  }
  if (type.isInteger(8))
    return hw::DType::int8;
  return std::nullopt;
}

/// Checks a payload `bytes` attribute against the bytes the types imply.
LogicalResult strata::tile::detail::verifyPayload(Operation *op, int64_t bytes,
                                    ShapedType payload) {
  int64_t expected = getSizeInBytes(payload);
  if (bytes == expected)
    return success();
  return op->emitOpError() << "bytes(" << bytes << ") does not match the "
                           << expected << " bytes of a "
                           << formatTile(payload.getShape(),
                                         payload.getElementType())
                           << " payload";
}

/// Looks up a fabric of the attached system's topology by name. Null (and
/// success) when no system is attached.
static FailureOr<arch::FabricAttr> verifyFabric(Operation *op, StringRef name) {
  arch::SystemAttr system = arch::getAttachedSystem(op);
  if (!system)
    return arch::FabricAttr();
  for (arch::FabricAttr fabric : system.getTopology())
    if (fabric.getName() == name)
      return fabric;
  return op->emitOpError() << "fabric '" << name
                           << "' is not in the topology of system '"
                           << system.getName()
                           << "' (fabrics: " << listNames(system.getTopology())
                           << ")";
}

/// Parses `(%a, %b)` as region arguments of type index.
static ParseResult
parseIndexArguments(OpAsmParser &parser,
                    SmallVectorImpl<OpAsmParser::Argument> &args) {
  if (parser.parseArgumentList(args, OpAsmParser::Delimiter::Paren))
    return failure();
  for (OpAsmParser::Argument &arg : args)
    arg.type = parser.getBuilder().getIndexType();
  return success();
}

/// Adds the single body block with `numIndices` index arguments and the
/// implicit terminator to a region op being built.
static void buildIndexedBody(OpBuilder &builder, OperationState &state,
                             unsigned numIndices) {
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (unsigned i = 0; i < numIndices; ++i)
    block->addArgument(builder.getIndexType(), state.location);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(block);
  YieldOp::create(builder, state.location);
}

/// custom<EnumKeyword>: an enum attribute of this dialect as a bare keyword
/// (`silu`, `all_reduce`, `ring`). The attribute's own printer leads with a
/// space (for the generic `#tile<algorithm ring>` form), which would read
/// `algorithm( ring)` inside an op.
template <typename EnumAttrT>
static ParseResult parseEnumKeyword(OpAsmParser &parser, EnumAttrT &attr) {
  using EnumT = decltype(std::declval<EnumAttrT>().getValue());
  llvm::SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumT> value = symbolizeEnum<EnumT>(keyword);
  if (!value)
    return parser.emitError(loc)
           << "unknown " << EnumAttrT::getMnemonic() << " '" << keyword << "'";
  attr = EnumAttrT::get(parser.getContext(), *value);
  return success();
}

template <typename EnumAttrT>
static void printEnumKeyword(OpAsmPrinter &p, Operation *, EnumAttrT attr) {
  p << stringifyEnum(attr.getValue());
}

/// custom<ParenTypes>: `(` type, ... `)`, possibly empty (an `expr` map of
/// no inputs), which the declarative `(` type($inputs) `)` cannot parse.
static ParseResult parseParenTypes(OpAsmParser &parser,
                                   SmallVectorImpl<Type> &types) {
  if (parser.parseLParen())
    return failure();
  if (succeeded(parser.parseOptionalRParen()))
    return success();
  if (parser.parseTypeList(types))
    return failure();
  return parser.parseRParen();
}

static void printParenTypes(OpAsmPrinter &p, Operation *, TypeRange types) {
  p << "(";
  llvm::interleaveComma(types, p, [&](Type t) { p.printType(t); });
  p << ")";
}

//===----------------------------------------------------------------------===//
// Execution counts (TileCostOpInterface)
//===----------------------------------------------------------------------===//

int64_t strata::tile::getStaticExecutionCount(Operation *op) {
  int64_t count = 1;
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (auto loop = dyn_cast<LoopOp>(parent))
      count *= loop.getTripCount();
    else if (auto spread = dyn_cast<SpreadOp>(parent))
      count *= spread.getNumIterations();
    else if (isa<KernelOp>(parent))
      break; // A kernel is priced once per call of its enclosing function.
  }
  return count;
}

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

/// `resident` and `spilled` name distinct operands, in increasing order, and
/// no operand is both. With a system: resident operands need a chip with a
/// core grid and an on-chip network (the tensor is spread over the cores'
/// scratchpads), and their buffers a core-scoped level; every other operand
/// lives in a chip-scoped level.
static LogicalResult verifyResidency(KernelOp kernel) {
  unsigned numOperands = kernel->getNumOperands();
  auto checkList = [&](std::optional<ArrayRef<int64_t>> list,
                       StringRef what) -> LogicalResult {
    if (!list)
      return success();
    for (auto [i, index] : llvm::enumerate(*list)) {
      if (index < 0 || index >= int64_t(numOperands))
        return kernel.emitOpError()
               << what << " operand " << index << " is out of range (the "
               << "kernel has " << numOperands << " ins and outs)";
      if (i > 0 && index <= (*list)[i - 1])
        return kernel.emitOpError()
               << what << " operands must be strictly increasing";
    }
    return success();
  };
  if (failed(checkList(kernel.getResident(), "resident")) ||
      failed(checkList(kernel.getSpilled(), "spilled")))
    return failure();
  if (std::optional<ArrayRef<int64_t>> spilled = kernel.getSpilled())
    for (int64_t index : *spilled)
      if (kernel.isResident(unsigned(index)))
        return kernel.emitOpError()
               << "operand " << index << " is both resident and spilled";
  arch::ChipAttr chip = getTargetChip(kernel);
  if (!chip)
    return success();
  if (kernel.getResident() && !kernel.getResident()->empty() &&
      (chip.getGrid().empty() || !chip.getNoc()))
    return kernel.emitOpError()
           << "keeps operands resident in the grid's SRAM, but chip '"
           << chip.getName() << "' has no core grid with an on-chip network";
  for (auto [i, arg] : llvm::enumerate(kernel.getBody().getArguments())) {
    auto buf = cast<BufType>(arg.getType());
    arch::LevelAttr level = findLevel(chip, buf.getLevel());
    if (!level)
      continue; // verifyBufferLevels names it
    bool coreScoped = level.getScope() == hw::Scope::Core;
    if (kernel.isResident(i) && !coreScoped)
      return kernel.emitOpError()
             << "resident operand " << i << " must be placed in a "
             << "core-scoped level (the grid's SRAM), got '"
             << buf.getLevel() << "'";
    if (!kernel.isResident(i) && coreScoped)
      return kernel.emitOpError()
             << "operand " << i << " is placed in core-scoped level '"
             << buf.getLevel() << "' but is not listed in resident(...)";
  }
  return success();
}

LogicalResult KernelOp::verify() {
  if (getOutputs().size() != getResults().size())
    return emitOpError() << "has " << getOutputs().size() << " outs but "
                         << getResults().size() << " results";
  for (auto [i, out, result] :
       llvm::enumerate(getOutputs().getTypes(), getResultTypes()))
    if (out != result)
      return emitOpError() << "result #" << i << " has type " << result
                           << " but outs #" << i << " has type " << out;

  Block &body = getBody().front();
  unsigned numOperands = getInputs().size() + getOutputs().size();
  if (body.getNumArguments() != numOperands)
    return emitOpError() << "body has " << body.getNumArguments()
                         << " arguments but the kernel has " << numOperands
                         << " ins and outs (one buffer per operand)";
  for (auto [i, operand, arg] :
       llvm::enumerate(getOperands(), body.getArguments())) {
    auto tensor = cast<RankedTensorType>(operand.getType());
    auto buf = dyn_cast<BufType>(arg.getType());
    if (!buf || buf.getShape() != tensor.getShape() ||
        buf.getElementType() != tensor.getElementType())
      return emitOpError() << "body argument #" << i
                           << " must be a !tile.buf of shape "
                           << formatTile(tensor.getShape(),
                                         tensor.getElementType())
                           << " (the operand's), got " << arg.getType();
  }
  if (failed(verifyResidency(*this)))
    return failure();
  return verifyBufferLevels(*this);
}

//===----------------------------------------------------------------------===//
// SpreadOp
//===----------------------------------------------------------------------===//

void SpreadOp::build(OpBuilder &builder, OperationState &state, int64_t cores,
                     ArrayRef<int64_t> tripCounts, ArrayRef<int64_t> grid) {
  state.addAttribute(getCoresAttrName(state.name),
                     builder.getI64IntegerAttr(cores));
  state.addAttribute(getTripCountsAttrName(state.name),
                     builder.getDenseI64ArrayAttr(tripCounts));
  if (!grid.empty())
    state.addAttribute(getGridAttrName(state.name),
                       builder.getDenseI64ArrayAttr(grid));
  buildIndexedBody(builder, state, tripCounts.size());
}

int64_t SpreadOp::getNumIterations() {
  int64_t points = 1;
  for (int64_t trips : getTripCounts())
    points *= trips;
  return points;
}

int64_t SpreadOp::getNumWaves() {
  std::optional<ArrayRef<int64_t>> grid = getGrid();
  if (!grid || grid->size() != 2 || getTripCounts().size() < 2)
    return llvm::divideCeil(getNumIterations(), getCores());
  ArrayRef<int64_t> trips = getTripCounts();
  int64_t waves = 1;
  for (int64_t t : trips.drop_back(2))
    waves *= t;
  return waves * llvm::divideCeil(trips[trips.size() - 2], (*grid)[0]) *
         llvm::divideCeil(trips.back(), (*grid)[1]);
}

// tile.spread cores(132) over (%m, %n) in (32, 5) { ... }
ParseResult SpreadOp::parse(OpAsmParser &parser, OperationState &result) {
  int64_t cores;
  SmallVector<OpAsmParser::Argument> indices;
  SmallVector<int64_t> tripCounts;
  if (parser.parseKeyword("cores") || parser.parseLParen() ||
      parser.parseInteger(cores) || parser.parseRParen() ||
      parser.parseKeyword("over") || parseIndexArguments(parser, indices) ||
      parser.parseKeyword("in") ||
      parser.parseCommaSeparatedList(
          OpAsmParser::Delimiter::Paren, [&]() -> ParseResult {
            return parser.parseInteger(tripCounts.emplace_back());
          }))
    return failure();
  Builder &builder = parser.getBuilder();
  result.addAttribute(getCoresAttrName(result.name),
                      builder.getI64IntegerAttr(cores));
  result.addAttribute(getTripCountsAttrName(result.name),
                      builder.getDenseI64ArrayAttr(tripCounts));
  if (succeeded(parser.parseOptionalKeyword("grid"))) {
    SmallVector<int64_t> grid;
    if (parser.parseCommaSeparatedList(
            OpAsmParser::Delimiter::Paren, [&]() -> ParseResult {
              return parser.parseInteger(grid.emplace_back());
            }))
      return failure();
    result.addAttribute(getGridAttrName(result.name),
                        builder.getDenseI64ArrayAttr(grid));
  }
  Region *body = result.addRegion();
  if (parser.parseRegion(*body, indices) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  SpreadOp::ensureTerminator(*body, builder, result.location);
  return success();
}

void SpreadOp::print(OpAsmPrinter &p) {
  p << " cores(" << getCores() << ") over (";
  llvm::interleaveComma(getTileIndices(), p,
                        [&](BlockArgument arg) { p.printOperand(arg); });
  p << ") in (";
  llvm::interleaveComma(getTripCounts(), p);
  p << ") ";
  if (std::optional<ArrayRef<int64_t>> grid = getGrid()) {
    p << "grid(";
    llvm::interleaveComma(*grid, p);
    p << ") ";
  }
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
  p.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(),
      {getCoresAttrName().getValue(), getTripCountsAttrName().getValue(),
       getGridAttrName().getValue()});
}

LogicalResult SpreadOp::verify() {
  if (getCores() < 1)
    return emitOpError() << "needs at least one core, got cores(" << getCores()
                         << ")";
  ArrayRef<int64_t> tripCounts = getTripCounts();
  if (tripCounts.empty())
    return emitOpError() << "needs at least one dimension to spread";
  for (auto [i, trips] : llvm::enumerate(tripCounts))
    if (trips < 1)
      return emitOpError() << "trip count #" << i << " must be at least 1, got "
                           << trips;
  Block &body = getBody().front();
  if (body.getNumArguments() != tripCounts.size() ||
      !llvm::all_of(body.getArgumentTypes(),
                    [](Type t) { return t.isIndex(); }))
    return emitOpError() << "body needs one index argument per trip count ("
                         << tripCounts.size() << ")";
  // Nested spreads would need a second level of cores the hardware model
  // does not have; loops inside a spread express the rest.
  if ((*this)->getParentOfType<SpreadOp>())
    return emitOpError() << "may not be nested in another tile.spread";
  arch::ChipAttr chip = getTargetChip(*this);
  if (chip && getCores() > chip.getCores())
    return emitOpError() << "spreads over " << getCores()
                         << " cores but chip '" << chip.getName() << "' has "
                         << chip.getCores();
  if (std::optional<ArrayRef<int64_t>> grid = getGrid()) {
    if (grid->size() != 2 || (*grid)[0] < 1 || (*grid)[1] < 1)
      return emitOpError() << "grid needs two positive extents (rows, cols)";
    if (tripCounts.size() < 2)
      return emitOpError() << "grid lays the last two dimensions on the core "
                              "grid, but the spread has "
                           << tripCounts.size();
    if ((*grid)[0] * (*grid)[1] != getCores())
      return emitOpError() << "grid(" << (*grid)[0] << ", " << (*grid)[1]
                           << ") is " << (*grid)[0] * (*grid)[1]
                           << " cores, not cores(" << getCores() << ")";
    if ((*grid)[0] > tripCounts[tripCounts.size() - 2] ||
        (*grid)[1] > tripCounts.back())
      return emitOpError() << "grid(" << (*grid)[0] << ", " << (*grid)[1]
                           << ") is larger than the space it lays out ("
                           << tripCounts[tripCounts.size() - 2] << ", "
                           << tripCounts.back() << ")";
    if (chip) {
      ArrayRef<int64_t> chipGrid = chip.getGrid();
      if (chipGrid.size() != 2)
        return emitOpError() << "grid needs a chip with a core grid; chip '"
                             << chip.getName() << "' has none";
      if ((*grid)[0] > chipGrid[0] || (*grid)[1] > chipGrid[1])
        return emitOpError() << "grid(" << (*grid)[0] << ", " << (*grid)[1]
                             << ") does not fit chip '" << chip.getName()
                             << "''s " << chipGrid[0] << "x" << chipGrid[1]
                             << " core grid";
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LoopOp
//===----------------------------------------------------------------------===//

void LoopOp::build(OpBuilder &builder, OperationState &state, int64_t tripCount,
                   int64_t pipeline) {
  state.addAttribute(getTripCountAttrName(state.name),
                     builder.getI64IntegerAttr(tripCount));
  state.addAttribute(getPipelineAttrName(state.name),
                     builder.getI64IntegerAttr(pipeline));
  buildIndexedBody(builder, state, 1);
}

// tile.loop %k in 128 pipeline(2) { ... }
ParseResult LoopOp::parse(OpAsmParser &parser, OperationState &result) {
  OpAsmParser::Argument index;
  int64_t tripCount;
  int64_t pipeline = 1;
  if (parser.parseArgument(index) || parser.parseKeyword("in") ||
      parser.parseInteger(tripCount))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("pipeline")) &&
      (parser.parseLParen() || parser.parseInteger(pipeline) ||
       parser.parseRParen()))
    return failure();
  Builder &builder = parser.getBuilder();
  index.type = builder.getIndexType();
  result.addAttribute(getTripCountAttrName(result.name),
                      builder.getI64IntegerAttr(tripCount));
  result.addAttribute(getPipelineAttrName(result.name),
                      builder.getI64IntegerAttr(pipeline));
  Region *body = result.addRegion();
  if (parser.parseRegion(*body, index) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  LoopOp::ensureTerminator(*body, builder, result.location);
  return success();
}

void LoopOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printOperand(getInductionVar());
  p << " in " << getTripCount();
  if (getPipeline() != 1)
    p << " pipeline(" << getPipeline() << ")";
  p << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
  p.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(),
      {getTripCountAttrName().getValue(), getPipelineAttrName().getValue()});
}

LogicalResult LoopOp::verify() {
  if (getTripCount() < 1)
    return emitOpError() << "trip count must be at least 1, got "
                         << getTripCount();
  if (getPipeline() < 1)
    return emitOpError() << "pipeline depth must be at least 1, got "
                         << getPipeline();
  if (getPipeline() > getTripCount())
    return emitOpError() << "pipeline(" << getPipeline()
                         << ") cannot keep more iterations in flight than the "
                         << getTripCount() << " it has";
  Block &body = getBody().front();
  if (body.getNumArguments() != 1 || !body.getArgument(0).getType().isIndex())
    return emitOpError() << "body needs exactly one index argument";
  return success();
}

/// A transfer into `dest` issued `depth` iterations ahead overwrites the
/// buffer the current iteration still reads unless the allocation rotates
/// through at least `depth` buffers.
static LogicalResult verifyRotatingBuffers(LoopOp loop, Operation *transfer,
                                           Value dest) {
  auto alloc = dest.getDefiningOp<AllocOp>();
  if (!alloc || loop->isAncestor(alloc))
    return success(); // Allocated per iteration: nothing is shared.
  if (alloc.getBuffers() >= loop.getPipeline())
    return success();
  InFlightDiagnostic diag = transfer->emitOpError()
                            << "writes a buffer with buffers("
                            << alloc.getBuffers()
                            << ") inside a tile.loop with pipeline("
                            << loop.getPipeline() << "), which needs at least "
                            << loop.getPipeline() << " rotating buffers";
  diag.attachNote(alloc.getLoc()) << "allocated here";
  diag.attachNote(loop.getLoc()) << "pipelined loop here";
  return diag;
}

LogicalResult LoopOp::verifyRegions() {
  if (getPipeline() == 1)
    return success();
  WalkResult result = getBody().walk([&](Operation *op) {
    Value dest;
    if (auto copy = dyn_cast<CopyOp>(op))
      dest = copy.getDest();
    else if (auto gather = dyn_cast<GatherOp>(op))
      dest = gather.getDest();
    else if (auto noc = dyn_cast<NocCopyOp>(op))
      dest = noc.getDest();
    if (dest && failed(verifyRotatingBuffers(*this, op, dest)))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// AllocOp
//===----------------------------------------------------------------------===//

LogicalResult AllocOp::verify() {
  if (getBuffers() < 1)
    return emitOpError() << "needs at least one buffer, got buffers("
                         << getBuffers() << ")";
  if (failed(verifyBufferLevels(*this)))
    return failure();
  arch::ChipAttr chip = getTargetChip(*this);
  if (!chip)
    return success();
  arch::LevelAttr level = findLevel(chip, getType().getLevel());
  if (uint64_t(getFootprintInBytes()) > level.getCapacity())
    return emitOpError() << "needs " << getBuffers() << " x "
                         << formatBytes(getType().getSizeInBytes()) << " of '"
                         << level.getName() << "' but an instance holds "
                         << formatBytes(level.getCapacity());
  return success();
}

//===----------------------------------------------------------------------===//
// CopyOp
//===----------------------------------------------------------------------===//

void CopyOp::build(OpBuilder &builder, OperationState &state, Value source,
                   ValueRange sourceIndices, Value dest, ValueRange destIndices,
                   ValueRange deps, ArrayRef<int64_t> tileDims) {
  auto tile =
      cast<BufType>(sourceIndices.empty() ? source.getType() : dest.getType());
  build(builder, state, TokenType::get(builder.getContext()), source,
        sourceIndices, dest, destIndices, deps,
        tileDims.empty() ? DenseI64ArrayAttr()
                         : builder.getDenseI64ArrayAttr(tileDims),
        /*multicast=*/IntegerAttr(), tile.getSizeInBytes());
}

/// Checks the two sides of a transfer of one tile: equal element types, and
/// either equal shapes (neither side indexed) or one tile index per
/// dimension of the indexed side, whose rank the tile does not exceed.
LogicalResult strata::tile::detail::verifyTileTransfer(Operation *op, BufType source,
                                        size_t numSourceIndices, BufType dest,
                                        size_t numDestIndices) {
  if (source.getElementType() != dest.getElementType())
    return op->emitOpError()
           << "source elements are " << source.getElementType()
           << " but destination elements are " << dest.getElementType();
  if (numSourceIndices && numDestIndices)
    return op->emitOpError()
           << "may index only one side; the other is the tile";
  if (!numSourceIndices && !numDestIndices) {
    if (source.getShape() != dest.getShape())
      return op->emitOpError()
             << "moves a " << formatShape(source.getShape())
             << " source into a " << formatShape(dest.getShape())
             << " destination; index the larger side to move one tile of it";
    return success();
  }
  bool sourceIndexed = numSourceIndices != 0;
  BufType whole = sourceIndexed ? source : dest;
  BufType tile = sourceIndexed ? dest : source;
  size_t numIndices = sourceIndexed ? numSourceIndices : numDestIndices;
  if (numIndices != size_t(whole.getRank()))
    return op->emitOpError() << "indexes a rank-" << whole.getRank() << " "
                             << (sourceIndexed ? "source" : "destination")
                             << " with " << numIndices << " tile indices";
  if (tile.getRank() > whole.getRank() && !op->hasAttr("dims"))
    return op->emitOpError()
           << "a rank-" << tile.getRank() << " tile does not fit in a rank-"
           << whole.getRank() << " buffer";
  return success();
}

double CopyOp::getMulticastShare() {
  std::optional<int64_t> axis = getMulticast();
  auto spread = (*this)->getParentOfType<SpreadOp>();
  if (!axis || !spread || !spread.getGrid())
    return 1;
  ArrayRef<int64_t> trips = spread.getTripCounts();
  int64_t extent = trips[trips.size() - 2 + *axis];
  int64_t side = (*spread.getGrid())[*axis];
  // A ragged last rectangle shares among fewer cores.
  return double(extent) / double(llvm::divideCeil(extent, side));
}

/// A multicast copy shares one fetch among the cores of a grid row or
/// column, so what it moves must not depend on the position along it.
static LogicalResult verifyMulticast(CopyOp op) {
  std::optional<int64_t> axis = op.getMulticast();
  if (!axis)
    return success();
  if (*axis != 0 && *axis != 1)
    return op.emitOpError() << "multicast axis must be 0 (a grid column) or 1 "
                               "(a grid row), got "
                            << *axis;
  auto spread = op->getParentOfType<SpreadOp>();
  if (!spread || !spread.getGrid())
    return op.emitOpError()
           << "multicast needs an enclosing tile.spread laid on the core grid "
              "(grid(rows, cols))";
  unsigned dim = spread.getTripCounts().size() - 2 + *axis;
  Value along = spread.getTileIndices()[dim];
  for (Value index : llvm::concat<Value>(op.getSourceIndices(),
                                         op.getDestIndices()))
    if (index == along)
      return op.emitOpError()
             << "multicast along grid axis " << *axis
             << " shares one tile among the cores of that axis, but the copy "
                "is indexed by the spread index laid on it";
  return success();
}

LogicalResult CopyOp::verify() {
  if (failed(verifyTileTransfer(*this, getSourceType(),
                                getSourceIndices().size(), getDestType(),
                                getDestIndices().size())) ||
      failed(verifyPayload(*this, getBytes(), getTileType())) ||
      failed(verifyMulticast(*this)))
    return failure();
  if (std::optional<ArrayRef<int64_t>> dims = getDims()) {
    bool sourceIndexed = !getSourceIndices().empty();
    if (!sourceIndexed && getDestIndices().empty())
      return emitOpError() << "has dims but no indexed side to place them on";
    BufType whole = sourceIndexed ? getSourceType() : getDestType();
    if (int64_t(dims->size()) != getTileType().getRank())
      return emitOpError() << "dims lists " << dims->size()
                           << " dimensions for a rank-"
                           << getTileType().getRank() << " tile";
    // -1 is a broadcast dimension: a tile dimension of extent 1 that the
    // indexed side lacks, so a [T] row vector lands in a [rows x 1] tile
    // that tile.map broadcasts without a reshape outside the kernel.
    int64_t last = -1;
    for (auto [i, d] : llvm::enumerate(*dims)) {
      if (d == -1) {
        if (getTileType().getShape()[i] != 1)
          return emitOpError() << "dims entry -1 (broadcast) needs extent 1, "
                               << "but tile dimension " << i << " is "
                               << getTileType().getShape()[i];
        continue;
      }
      if (d < 0 || d >= whole.getRank())
        return emitOpError() << "dims entry " << d << " is not a dimension of "
                             << "the rank-" << whole.getRank() << " "
                             << (sourceIndexed ? "source" : "destination");
      if (d <= last)
        return emitOpError() << "dims must be strictly increasing";
      last = d;
    }
  }
  return verifyBufferLevels(*this);
}

int64_t CopyOp::getBytesMoved() { return getTileType().getSizeInBytes(); }

std::pair<StringRef, StringRef> CopyOp::getTransferLevels() {
  return {getSourceType().getLevel(), getDestType().getLevel()};
}

CostKind CopyOp::getCostKind() { return CostKind::Dma; }

//===----------------------------------------------------------------------===//
// GatherOp
//===----------------------------------------------------------------------===//

void GatherOp::build(OpBuilder &builder, OperationState &state, Value source,
                     Value indices, Value dest, ValueRange deps) {
  build(builder, state, TokenType::get(builder.getContext()), source, indices,
        dest, deps, cast<BufType>(dest.getType()).getSizeInBytes());
}

LogicalResult GatherOp::verify() {
  BufType source = getSourceType(), indices = getIndicesType(),
          dest = getDestType();
  if (source.getElementType() != dest.getElementType())
    return emitOpError() << "source elements are " << source.getElementType()
                         << " but destination elements are "
                         << dest.getElementType();
  Type idx = indices.getElementType();
  if (indices.getRank() != 1 || !idx.isSignlessInteger())
    return emitOpError() << "indices must be a rank-1 tile of integers, got "
                         << formatTile(indices.getShape(), idx);
  // Whole rows: the destination is [len(indices)] x the source's rows.
  if (dest.getRank() != source.getRank() ||
      dest.getShape()[0] != indices.getShape()[0] ||
      dest.getShape().drop_front() != source.getShape().drop_front()) {
    SmallVector<int64_t> expected = {indices.getShape()[0]};
    llvm::append_range(expected, source.getShape().drop_front());
    return emitOpError() << "gathers " << indices.getShape()[0] << " rows of a "
                         << formatShape(source.getShape()) << " source into a "
                         << formatShape(expected)
                         << " tile, but the destination is "
                         << formatShape(dest.getShape());
  }
  if (failed(verifyPayload(*this, getBytes(), dest)))
    return failure();
  return verifyBufferLevels(*this);
}

int64_t GatherOp::getBytesMoved() { return getDestType().getSizeInBytes(); }

std::pair<StringRef, StringRef> GatherOp::getTransferLevels() {
  return {getSourceType().getLevel(), getDestType().getLevel()};
}

CostKind GatherOp::getCostKind() { return CostKind::Dma; }

//===----------------------------------------------------------------------===//
// WaitOp
//===----------------------------------------------------------------------===//

LogicalResult WaitOp::verify() {
  if (getTokens().empty())
    return emitOpError() << "needs at least one token to wait on";
  return success();
}

//===----------------------------------------------------------------------===//
// MmaOp
//===----------------------------------------------------------------------===//

SmallVector<int64_t, 3> MmaOp::getMatmulShape() {
  ArrayRef<int64_t> lhs = cast<BufType>(getLhs().getType()).getShape();
  ArrayRef<int64_t> acc = cast<BufType>(getAcc().getType()).getShape();
  int64_t k = getTransposeLhs() ? lhs[0] : lhs[1];
  return {acc[0], acc[1], k};
}

LogicalResult MmaOp::verify() {
  auto lhs = cast<BufType>(getLhs().getType());
  auto rhs = cast<BufType>(getRhs().getType());
  auto acc = cast<BufType>(getAcc().getType());
  if (lhs.getRank() != 2 || rhs.getRank() != 2 || acc.getRank() != 2)
    return emitOpError() << "operands must be rank-2 tiles, got "
                         << formatShape(lhs.getShape()) << ", "
                         << formatShape(rhs.getShape()) << ", "
                         << formatShape(acc.getShape());
  // Logical [rows, cols] of each operand after the optional transposes.
  int64_t m = getTransposeLhs() ? lhs.getDimSize(1) : lhs.getDimSize(0);
  int64_t k = getTransposeLhs() ? lhs.getDimSize(0) : lhs.getDimSize(1);
  int64_t kRhs = getTransposeRhs() ? rhs.getDimSize(1) : rhs.getDimSize(0);
  int64_t n = getTransposeRhs() ? rhs.getDimSize(0) : rhs.getDimSize(1);
  if (k != kRhs)
    return emitOpError() << "contracts lhs K = " << k
                         << " with rhs K = " << kRhs << " (lhs "
                         << formatShape(lhs.getShape()) << ", rhs "
                         << formatShape(rhs.getShape()) << ")";
  if (acc.getDimSize(0) != m || acc.getDimSize(1) != n)
    return emitOpError() << "accumulator is " << formatShape(acc.getShape())
                         << " but lhs x rhs is " << m << "x" << n;

  Type elt = lhs.getElementType();
  Type accElt = acc.getElementType();
  if (rhs.getElementType() != elt)
    return emitOpError() << "lhs elements are " << elt
                         << " but rhs elements are " << rhs.getElementType();
  if (isa<FloatType>(elt) != isa<FloatType>(accElt) ||
      accElt.getIntOrFloatBitWidth() < elt.getIntOrFloatBitWidth())
    return emitOpError() << "cannot accumulate " << elt << " products in "
                         << accElt
                         << " (needs the same class, at least as wide)";

  if (failed(verifyBufferLevels(*this)))
    return failure();
  arch::ChipAttr chip = getTargetChip(*this);
  if (!chip)
    return success();
  FailureOr<arch::ComputeUnitAttr> unit =
      verifyUnit(*this, chip, getUnit(), hw::UnitKind::Matrix);
  if (failed(unit))
    return failure();
  std::optional<hw::DType> dtype = toHardwareDType(elt);
  bool hasRate = dtype && llvm::any_of(unit->getRates(), [&](arch::Rate r) {
                   return r.dtype == *dtype;
                 });
  if (!hasRate)
    return emitOpError() << "unit '" << getUnit() << "' has no rate for " << elt
                         << " (rates: "
                         << llvm::join(
                                llvm::map_range(unit->getRates(),
                                                [](arch::Rate r) {
                                                  return std::string(
                                                      hw::toString(r.dtype));
                                                }),
                                ", ")
                         << ")";
  ArrayRef<int64_t> native = unit->getShape();
  if (native.size() != 3)
    return success();
  bool fitsNative =
      m % native[0] == 0 && n % native[1] == 0 && k % native[2] == 0;
  if (!fitsNative && !getPadded())
    return emitOpError() << "tile " << m << "x" << n << "x" << k
                         << " (MxNxK) is not a multiple of unit '" << getUnit()
                         << "''s native " << formatShape(native)
                         << "; mark it 'padded' to pay for the padding";
  if (fitsNative && getPadded())
    return emitOpError() << "is marked 'padded' but tile " << m << "x" << n
                         << "x" << k << " is a multiple of unit '" << getUnit()
                         << "''s native " << formatShape(native);
  return success();
}

int64_t MmaOp::getFlopsPerExecution() {
  SmallVector<int64_t, 3> mnk = getMatmulShape();
  return 2 * mnk[0] * mnk[1] * mnk[2];
}

StringRef MmaOp::getComputeUnit() { return getUnit(); }

CostKind MmaOp::getCostKind() { return CostKind::Compute; }

//===----------------------------------------------------------------------===//
// FillOp
//===----------------------------------------------------------------------===//

LogicalResult FillOp::verify() {
  auto dest = cast<BufType>(getDest().getType());
  if (getValue().getType() != dest.getElementType())
    return emitOpError() << "fills " << dest.getElementType()
                         << " elements with a value of type "
                         << getValue().getType();
  if (failed(verifyBufferLevels(*this)))
    return failure();
  if (arch::ChipAttr chip = getTargetChip(*this))
    return verifyUnit(*this, chip, getUnit(), hw::UnitKind::Vector);
  return success();
}

int64_t FillOp::getFlopsPerExecution() {
  return cast<BufType>(getDest().getType()).getNumElements();
}

StringRef FillOp::getComputeUnit() { return getUnit(); }

CostKind FillOp::getCostKind() { return CostKind::Compute; }

//===----------------------------------------------------------------------===//
// MapOp
//===----------------------------------------------------------------------===//

int64_t MapOp::getEffectiveFlopsPerElement() {
  if (std::optional<int64_t> flops = getFlopsPerElement())
    return *flops;
  return getDefaultFlopsPerElement(getKind());
}

LogicalResult MapOp::verify() {
  unsigned arity = getArity(getKind());
  if (getKind() == MapKind::Expr) {
    // An opaque expression (a linalg body with coordinate-dependent
    // selects, say) has no default cost: its FLOP count must be stated.
    // Without inputs it is a function of the element coordinates alone (a
    // table built from linalg.index).
    if (!getFlopsPerElement())
      return emitOpError() << "'expr' needs flops(n): it has no default cost";
  } else if (getInputs().size() != arity)
    return emitOpError() << "'" << stringifyMapKind(getKind()) << "' takes "
                         << arity << " input" << (arity == 1 ? "" : "s")
                         << ", got " << getInputs().size();
  auto output = cast<BufType>(getOutput().getType());
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    auto in = cast<BufType>(input.getType());
    bool broadcasts = in.getRank() == output.getRank() &&
                      llvm::all_of(llvm::zip(in.getShape(), output.getShape()),
                                   [](auto dims) {
                                     auto [inDim, outDim] = dims;
                                     return inDim == outDim || inDim == 1;
                                   });
    if (!broadcasts)
      return emitOpError() << "input #" << i << " of shape "
                           << formatShape(in.getShape())
                           << " does not broadcast to the output shape "
                           << formatShape(output.getShape());
  }
  if (std::optional<int64_t> flops = getFlopsPerElement(); flops && *flops < 0)
    return emitOpError() << "flops per element must not be negative, got "
                         << *flops;
  if (failed(verifyBufferLevels(*this)))
    return failure();
  if (arch::ChipAttr chip = getTargetChip(*this))
    return verifyUnit(*this, chip, getUnit(), hw::UnitKind::Vector);
  return success();
}

int64_t MapOp::getFlopsPerExecution() {
  auto output = cast<BufType>(getOutput().getType());
  return output.getNumElements() * getEffectiveFlopsPerElement();
}

StringRef MapOp::getComputeUnit() { return getUnit(); }

CostKind MapOp::getCostKind() { return CostKind::Compute; }

//===----------------------------------------------------------------------===//
// ReduceOp
//===----------------------------------------------------------------------===//

LogicalResult ReduceOp::verify() {
  auto input = cast<BufType>(getInput().getType());
  auto output = cast<BufType>(getOutput().getType());
  int64_t dim = getDim();
  if (dim < 0 || dim >= input.getRank())
    return emitOpError() << "dim(" << dim << ") is out of range for a rank-"
                         << input.getRank() << " input";
  SmallVector<int64_t> expected(input.getShape());
  expected[dim] = 1;
  if (output.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "reducing " << formatShape(input.getShape())
                         << " along dim " << dim << " gives "
                         << formatShape(expected) << ", but the output is "
                         << formatShape(output.getShape());
  if (failed(verifyBufferLevels(*this)))
    return failure();
  if (arch::ChipAttr chip = getTargetChip(*this))
    return verifyUnit(*this, chip, getUnit(), hw::UnitKind::Vector);
  return success();
}

// One combine per input element (the first of each row is a copy, which the
// count ignores: it is within one element per row).
int64_t ReduceOp::getFlopsPerExecution() {
  return cast<BufType>(getInput().getType()).getNumElements();
}

StringRef ReduceOp::getComputeUnit() { return getUnit(); }

CostKind ReduceOp::getCostKind() { return CostKind::Compute; }

//===----------------------------------------------------------------------===//
// CollectiveOp
//===----------------------------------------------------------------------===//

LogicalResult CollectiveOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (!input.hasStaticShape() || !result.hasStaticShape())
    return emitOpError() << "needs statically shaped tensors";
  if (input.getElementType() != result.getElementType())
    return emitOpError() << "changes the element type from "
                         << input.getElementType() << " to "
                         << result.getElementType();
  CollectiveKind kind = getKind();
  bool resizes = kind == CollectiveKind::AllGather ||
                 kind == CollectiveKind::ReduceScatter;
  // The factor by which a gather grows / a scatter shrinks `dim`, or an
  // all_to_all moves its split; 0 when the type is kept.
  int64_t factor = 0;
  if (!resizes) {
    if (getDim())
      return emitOpError() << "'" << stringifyCollectiveKind(kind)
                           << "' keeps the shape; dim() applies only to "
                              "all_gather and reduce_scatter";
    // An all_to_all may move a split from one dimension to another: one
    // dimension shrinks by the group's size and another grows by it.
    SmallVector<int64_t> changed;
    if (kind == CollectiveKind::AllToAll &&
        input.getRank() == result.getRank() &&
        input.getNumElements() == result.getNumElements())
      for (int64_t d = 0; d < input.getRank(); ++d)
        if (input.getDimSize(d) != result.getDimSize(d))
          changed.push_back(d);
    if (changed.size() == 2) {
      int64_t a = changed[0], b = changed[1];
      int64_t shrink = input.getDimSize(a) > result.getDimSize(a) ? a : b;
      int64_t grow = shrink == a ? b : a;
      if (result.getDimSize(shrink) != 0 &&
          input.getDimSize(shrink) % result.getDimSize(shrink) == 0 &&
          input.getDimSize(grow) != 0 &&
          result.getDimSize(grow) % input.getDimSize(grow) == 0)
        factor = input.getDimSize(shrink) / result.getDimSize(shrink);
    }
    if (input != result && factor == 0)
      return emitOpError() << "'" << stringifyCollectiveKind(kind)
                           << "' keeps the type"
                           << (kind == CollectiveKind::AllToAll
                                   ? " or moves a split between two dimensions"
                                   : "")
                           << ", but " << input << " becomes " << result;
  } else {
    if (!getDim())
      return emitOpError() << "'" << stringifyCollectiveKind(kind)
                           << "' needs dim(d), the dimension it "
                           << (kind == CollectiveKind::AllGather
                                   ? "concatenates"
                                   : "splits");
    int64_t dim = *getDim();
    if (dim < 0 || dim >= input.getRank() ||
        input.getRank() != result.getRank())
      return emitOpError() << "dim(" << dim << ") is out of range for " << input
                           << " -> " << result;
    int64_t small = kind == CollectiveKind::AllGather ? input.getDimSize(dim)
                                                      : result.getDimSize(dim);
    int64_t large = kind == CollectiveKind::AllGather ? result.getDimSize(dim)
                                                      : input.getDimSize(dim);
    bool othersKept =
        llvm::all_of(llvm::seq<int64_t>(0, input.getRank()), [&](int64_t d) {
          return d == dim || input.getDimSize(d) == result.getDimSize(d);
        });
    if (!othersKept || small == 0 || large % small != 0 || large == small)
      return emitOpError() << "'" << stringifyCollectiveKind(kind)
                           << "' along dim " << dim << " cannot turn " << input
                           << " into " << result;
    factor = large / small;
  }
  if (failed(verifyPayload(*this, getBytes(), input)))
    return failure();
  if (getAlgorithm() == CollectiveAlgorithm::Direct &&
      kind != CollectiveKind::AllToAll)
    return emitOpError() << "algorithm(direct) is all_to_all's; '"
                         << stringifyCollectiveKind(kind)
                         << "' needs ring, tree, recursive_halving_doubling, "
                            "torus_dim_ordered, hierarchical or in_network";
  std::optional<ArrayRef<int64_t>> group = getGroup();
  if (group) {
    if (group->empty())
      return emitOpError() << "group() needs one member count per fabric";
    for (int64_t m : *group)
      if (m < 1)
        return emitOpError()
               << "group() member counts must be positive, not " << m;
  }

  FailureOr<arch::FabricAttr> fabric = verifyFabric(*this, getFabric());
  if (failed(fabric))
    return failure();
  if (!*fabric)
    return success();
  arch::SystemAttr system = arch::getAttachedSystem(*this);
  ArrayRef<arch::FabricAttr> topology = system.getTopology();
  size_t index = llvm::find(topology, *fabric) - topology.begin();
  auto fabricSize = [](arch::FabricAttr f) {
    int64_t members = 1;
    for (int64_t d : f.getShape())
      members *= d;
    return members;
  };
  // Fabrics the group has more than one member on.
  int64_t spanned = 0;
  if (group) {
    if (group->size() != index + 1)
      return emitOpError() << "group() has " << group->size()
                           << " entries, but fabric '" << getFabric()
                           << "' is number " << index + 1
                           << " of the topology (one entry per fabric up to "
                              "it, innermost first)";
    for (auto [i, m] : llvm::enumerate(*group)) {
      if (fabricSize(topology[i]) % m != 0)
        return emitOpError()
               << "group() puts " << m << " members on fabric '"
               << topology[i].getName() << "', which does not divide its "
               << fabricSize(topology[i]) << " members";
      spanned += m > 1;
    }
    if (group->back() < 2)
      return emitOpError() << "group() has one member on fabric '"
                           << getFabric()
                           << "'; name the outermost fabric the group crosses";
  }
  int64_t members = getGroupSize();
  if (factor != 0 && factor != members) {
    InFlightDiagnostic diag = emitOpError()
                              << "'" << stringifyCollectiveKind(kind) << "' ";
    if (group)
      diag << "over a group";
    else
      diag << "over fabric '" << getFabric() << "'";
    diag << " (" << members << " members) must ";
    if (getDim())
      diag << "change dim " << *getDim();
    else
      diag << "move its split";
    return diag << " " << members << "x, not " << factor << "x";
  }
  switch (getAlgorithm()) {
  case CollectiveAlgorithm::InNetwork:
    if (!fabric->getInNetworkReduction())
      return emitOpError() << "algorithm(in_network) needs a fabric that "
                              "reduces in the switch, but '"
                           << getFabric() << "' does not";
    break;
  case CollectiveAlgorithm::TorusDimOrdered:
    if (fabric->getKind() != hw::FabricKind::Torus &&
        fabric->getKind() != hw::FabricKind::Mesh)
      return emitOpError() << "algorithm(torus_dim_ordered) needs a torus or "
                              "mesh fabric, but '"
                           << getFabric() << "' is a "
                           << hw::toString(fabric->getKind());
    break;
  case CollectiveAlgorithm::Hierarchical:
    if (topology.size() < 2)
      return emitOpError() << "algorithm(hierarchical) needs a topology of "
                              "at least two fabrics";
    if (index == 0)
      return emitOpError() << "algorithm(hierarchical) needs a group on at "
                              "least two fabrics, but '"
                           << getFabric() << "' is the innermost";
    if (spanned < 2)
      return emitOpError() << "algorithm(hierarchical) needs a group on at "
                              "least two fabrics, e.g. group(["
                           << fabricSize(topology[index - 1]) << ", "
                           << fabricSize(*fabric) << "])";
    break;
  default:
    break;
  }
  return success();
}

int64_t CollectiveOp::getGroupSize() {
  if (std::optional<ArrayRef<int64_t>> group = getGroup()) {
    int64_t members = 1;
    for (int64_t m : *group)
      members *= m;
    return members;
  }
  arch::SystemAttr system = arch::getAttachedSystem(*this);
  if (!system)
    return 0;
  for (arch::FabricAttr f : system.getTopology())
    if (f.getName() == getFabric()) {
      int64_t members = 1;
      for (int64_t d : f.getShape())
        members *= d;
      return members;
    }
  return 0;
}

int64_t CollectiveOp::getBytesMoved() { return getBytes(); }

StringRef CollectiveOp::getFabricName() { return getFabric(); }

CostKind CollectiveOp::getCostKind() { return CostKind::Fabric; }

//===----------------------------------------------------------------------===//
// SendOp, RecvOp
//===----------------------------------------------------------------------===//

/// Checks what send and recv share: a static payload, its byte count, a
/// non-negative stage and a fabric of the topology.
static LogicalResult verifyPointToPoint(Operation *op, Type payloadType,
                                        int64_t stage, int64_t bytes,
                                        StringRef fabric) {
  auto payload = cast<RankedTensorType>(payloadType);
  if (!payload.hasStaticShape())
    return op->emitOpError() << "needs a statically shaped tensor";
  if (stage < 0)
    return op->emitOpError()
           << "stage must not be negative, got stage(" << stage << ")";
  if (failed(verifyPayload(op, bytes, payload)))
    return failure();
  return verifyFabric(op, fabric);
}

LogicalResult SendOp::verify() {
  return verifyPointToPoint(*this, getInput().getType(), getStage(), getBytes(),
                            getFabric());
}

int64_t SendOp::getBytesMoved() { return getBytes(); }

StringRef SendOp::getFabricName() { return getFabric(); }

CostKind SendOp::getCostKind() { return CostKind::Fabric; }

LogicalResult RecvOp::verify() {
  return verifyPointToPoint(*this, getResult().getType(), getStage(),
                            getBytes(), getFabric());
}

#define GET_OP_CLASSES
#include "strata/Dialect/Tile/IR/TileOps.cpp.inc"
