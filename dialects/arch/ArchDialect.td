//===- ArchDialect.td - Hardware description dialect -------*- tablegen -*-===//

#ifndef STRATA_ARCH_DIALECT
#define STRATA_ARCH_DIALECT

include "mlir/IR/OpBase.td"

def Arch_Dialect : Dialect {
  let name = "arch";
  let cppNamespace = "::strata::arch";
  let summary = "Accelerator systems as typed, verified data";
  let description = [{
    The `arch` dialect describes an accelerator system completely enough for
    a cost model: the chip (clock, cores or a core grid, compute units with
    their native shapes and per-dtype rates), its memory hierarchy (ordered
    levels with scope, capacity, bandwidth, latency and energy), the on-chip
    network of grid chips, and the multi-chip topology (hierarchical fabrics
    with per-link bandwidth, latency, energy and switch features).

    Quantities are written in human units (`80 GiB`, `3.35 TB/s`, `1.83 GHz`,
    `600 ns`, `7 pJ/B`) and printed canonically. Every attribute is a thin
    view of the MLIR-free hardware model (`strata/Hardware/System.h`); the
    verifiers call the model's `validate`, so the IR, the JSON importer and
    the presets share one definition of impossible hardware.

    A module carries its system as the discardable attribute
    `arch.system = #arch.system<...>`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Name of the module attribute that carries the target system.
    static constexpr ::llvm::StringLiteral kSystemAttrName = "arch.system";
  private:
    void registerAttributes();
  public:
  }];
}

#endif // STRATA_ARCH_DIALECT
