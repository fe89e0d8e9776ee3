//===- Passes.td - Strata passes ---------------------------*- tablegen -*-===//

#ifndef STRATA_TRANSFORMS_PASSES
#define STRATA_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def StrataSetSystemPass : Pass<"strata-set-system", "mlir::ModuleOp"> {
  let summary = "Attach the target system to the module";
  let description = [{
    Resolves `system` (a preset name, a `.json` file or a `.mlir` file) and
    attaches it to the module as `arch.system`, replacing any system already
    attached. Every later pass reads the target from that attribute.

    ```
    strata-opt --strata-set-system=system=h100-sxm model.mlir
    ```
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect"];
}

def StrataDescribeSystemPass : Pass<"strata-describe-system", "mlir::ModuleOp"> {
  let summary = "Print the target system and its derived figures";
  let description = [{
    Prints the module's system (or the one named by `system`, which is then
    attached): peak FLOP/s per unit and dtype, aggregate capacity and
    bandwidth per memory level with roofline ridge points, and the topology
    with per-fabric and system bisection bandwidth. The IR is unchanged
    except for the attached system.
  }];
  let options = [
    Option<"system", "system", "std::string", /*default=*/"\"\"",
           "Preset name, or path to a .json or .mlir system description">,
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the description ('-' for stdout)">
  ];
  let dependentDialects = ["::strata::arch::ArchDialect"];
}

#endif // STRATA_TRANSFORMS_PASSES
