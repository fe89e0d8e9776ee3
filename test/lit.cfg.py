# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "STRATA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".json", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.strata_obj_root, "test")
# Unit tests are run by their own suite (test/unit, GoogleTest format);
# Inputs/ hold fixtures and data/ the in-repo reference set, not tests.
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs",
                   "data"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shared", config.shared_dir))
# The published reference set the tests read: the in-repo copy, so a clone
# with nothing beside it tests the same. ../shared/reference is only compared
# with it (test/Robustness/reference-copy.test), when it exists.
config.substitutions.append(("%reference", config.reference_dir))
if os.path.isdir(os.path.join(config.shared_dir, "reference")):
    config.available_features.add("shared-reference")
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.strata_tools_dir, config.llvm_tools_dir,
             os.path.join(config.strata_obj_root, "benchmarks")]
tools = [
    ToolSubst("strata-opt", unresolved="ignore"),
    ToolSubst("strata-translate", unresolved="ignore"),
    ToolSubst("strata-explore", unresolved="ignore"),
    ToolSubst("strata-calibrate", unresolved="ignore"),
    ToolSubst("strata-serve", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.strata_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# Reliability (docs/testing.md): the source root for test/Docs, and the
# libFuzzer harnesses, built only in the sanitizer build (build-asan/).
config.substitutions.append(("%strata_src_root", config.strata_src_root))
config.substitutions.append(("%strata_obj_root", config.strata_obj_root))
# Headless Chromium for the browser test of strata-explore's report.html
# (Debian's chromium, in scripts/common.sh's package list).
import shutil
if shutil.which("chromium"):
    config.available_features.add("chromium")
# strata-explore's MPI scale-out test: the tool built with MPI and an
# mpirun to start it (Debian's openmpi-bin, in scripts/common.sh).
if getattr(config, "strata_explore_mpi", False) and shutil.which("mpirun"):
    config.available_features.add("mpi")
# %mpirun: mpirun allowed to run as root (CI containers) and, under the
# sanitizer build, without LeakSanitizer in the ranks: OpenMPI's runtime
# leaves allocations behind in MCA components it unloads at MPI_Finalize,
# which LeakSanitizer reports from frames it cannot attribute (nor
# suppress). AddressSanitizer's memory checks and UBSan stay on.
import shlex
_asan = os.environ.get("ASAN_OPTIONS", "")
config.substitutions.append(
    ("%mpirun",
     "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
     "ASAN_OPTIONS=%s mpirun --oversubscribe"
     % shlex.quote((_asan + ":" if _asan else "") + "detect_leaks=0")))
if os.path.exists(os.path.join(config.strata_tools_dir, "strata-fuzz-ir")):
    config.available_features.add("strata-fuzz")
