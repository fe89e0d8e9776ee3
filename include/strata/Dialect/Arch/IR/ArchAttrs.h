//===- ArchAttrs.h - Hardware description attributes ------------*- C++ -*-===//
//
// Attributes of the `arch` dialect, the parse/print helpers their ODS
// parameters use, and the conversions to and from the MLIR-free hardware
// model (strata/Hardware/System.h), which is the single source of truth for
// validation and queries.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECT_ARCH_IR_ARCHATTRS_H
#define STRATA_DIALECT_ARCH_IR_ARCHATTRS_H

#include "strata/Dialect/Arch/IR/ArchDialect.h"
#include "strata/Hardware/System.h"
#include "strata/Hardware/Units.h"

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/bit.h"

namespace strata::arch {

/// A double as an attribute parameter: attribute storage hashes its
/// parameters, and llvm::hash_value has no overload for double. It converts
/// to and from double implicitly; accessors return the plain double.
struct Real {
  double value = 0;
  Real() = default;
  Real(double v) : value(v) {}
  operator double() const { return value; }
  bool operator==(const Real &o) const { return value == o.value; }
};
inline llvm::hash_code hash_value(const Real &r) {
  return llvm::hash_value(llvm::bit_cast<uint64_t>(r.value));
}

/// One `dtype = FLOP/cycle/core` entry of a unit's rates.
struct Rate {
  hw::DType dtype;
  double flopsPerCycle;
  bool operator==(const Rate &o) const {
    return dtype == o.dtype && flopsPerCycle == o.flopsPerCycle;
  }
};
inline llvm::hash_code hash_value(const Rate &r) {
  return llvm::hash_combine(static_cast<int>(r.dtype),
                            llvm::bit_cast<uint64_t>(r.flopsPerCycle));
}

//===----------------------------------------------------------------------===//
// Parameter parsing and printing (used by the generated code)
//===----------------------------------------------------------------------===//

mlir::FailureOr<double> parseNumber(mlir::AsmParser &p);
mlir::FailureOr<double> parseQuantity(mlir::AsmParser &p, hw::Quantity q);
mlir::FailureOr<uint64_t> parseCapacity(mlir::AsmParser &p);
void printQuantity(mlir::AsmPrinter &p, double v, hw::Quantity q);
mlir::FailureOr<llvm::SmallVector<Rate>> parseRates(mlir::AsmParser &p);
void printRates(mlir::AsmPrinter &p, llvm::ArrayRef<Rate> rates);
mlir::FailureOr<llvm::SmallVector<int64_t>> parseDims(mlir::AsmParser &p);
void printDims(mlir::AsmPrinter &p, llvm::ArrayRef<int64_t> dims);

/// Parses a keyword naming an enumerator of a hardware-model enum.
mlir::FailureOr<hw::UnitKind> parseEnumKeyword(mlir::AsmParser &p,
                                               llvm::StringRef what,
                                               hw::UnitKind *);
mlir::FailureOr<hw::Scope> parseEnumKeyword(mlir::AsmParser &p,
                                            llvm::StringRef what, hw::Scope *);
mlir::FailureOr<hw::Management>
parseEnumKeyword(mlir::AsmParser &p, llvm::StringRef what, hw::Management *);
mlir::FailureOr<hw::NocKind> parseEnumKeyword(mlir::AsmParser &p,
                                              llvm::StringRef what,
                                              hw::NocKind *);
mlir::FailureOr<hw::FabricKind>
parseEnumKeyword(mlir::AsmParser &p, llvm::StringRef what, hw::FabricKind *);
template <typename EnumT>
mlir::FailureOr<EnumT> parseEnum(mlir::AsmParser &p, llvm::StringRef what) {
  return parseEnumKeyword(p, what, static_cast<EnumT *>(nullptr));
}

/// Parses one attribute written in full (`#arch.chip<...>`) of type AttrT.
template <typename AttrT>
mlir::FailureOr<AttrT> parseNestedAttr(mlir::AsmParser &p) {
  llvm::SMLoc loc = p.getCurrentLocation();
  mlir::Attribute attr;
  if (p.parseAttribute(attr))
    return mlir::failure();
  if (auto typed = llvm::dyn_cast<AttrT>(attr))
    return typed;
  p.emitError(loc) << "expected #" << AttrT::getMnemonic()
                   << " attribute, got " << attr;
  return mlir::failure();
}

/// Parses `[#arch.x<...>, ...]`.
template <typename AttrT>
mlir::FailureOr<llvm::SmallVector<AttrT>> parseAttrList(mlir::AsmParser &p) {
  llvm::SmallVector<AttrT> result;
  if (p.parseCommaSeparatedList(mlir::AsmParser::Delimiter::Square,
                                [&]() -> mlir::ParseResult {
        auto attr = parseNestedAttr<AttrT>(p);
        if (mlir::failed(attr))
          return mlir::failure();
        result.push_back(*attr);
        return mlir::success();
      }))
    return mlir::failure();
  return result;
}
template <typename AttrT>
void printAttrList(mlir::AsmPrinter &p, llvm::ArrayRef<AttrT> attrs) {
  p << '[';
  llvm::interleaveComma(attrs, p, [&](AttrT a) { p.printAttribute(a); });
  p << ']';
}

} // namespace strata::arch

#define GET_ATTRDEF_CLASSES
#include "strata/Dialect/Arch/IR/ArchAttrs.h.inc"

namespace strata::arch {

//===----------------------------------------------------------------------===//
// Conversion to and from the hardware model
//===----------------------------------------------------------------------===//

hw::ComputeUnit toModel(ComputeUnitAttr a);
hw::MemoryLevel toModel(LevelAttr a);
hw::OnChipNetwork toModel(NocAttr a);
hw::Chip toModel(ChipAttr a);
hw::Fabric toModel(FabricAttr a);
hw::System toModel(SystemAttr a);

/// Builds the attribute for a description. The description must be valid
/// (hw::validate returns no problem); the attribute verifiers assert this.
ComputeUnitAttr toAttr(mlir::MLIRContext *ctx, const hw::ComputeUnit &u);
LevelAttr toAttr(mlir::MLIRContext *ctx, const hw::MemoryLevel &l);
NocAttr toAttr(mlir::MLIRContext *ctx, const hw::OnChipNetwork &n);
ChipAttr toAttr(mlir::MLIRContext *ctx, const hw::Chip &c);
FabricAttr toAttr(mlir::MLIRContext *ctx, const hw::Fabric &f);
SystemAttr toAttr(mlir::MLIRContext *ctx, const hw::System &s);

} // namespace strata::arch

#endif // STRATA_DIALECT_ARCH_IR_ARCHATTRS_H
