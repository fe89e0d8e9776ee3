# Shared by scripts/run.sh and scripts/test.sh: install what is missing,
# configure and build. Sourced, not executed.
set -euo pipefail

STRATA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STRATA_BUILD_DIR:-$STRATA_ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22

# Debian 12 packages Strata builds against; LLVM/MLIR 22 come from
# bookworm-security (22.1.x).
STRATA_PACKAGES=(
  cmake ninja-build g++ python3
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libabsl-dev libgtest-dev libbenchmark-dev
  # The sanitizer + fuzzer build (build-asan/, docs/testing.md): clang and
  # its compiler-rt (ASan, UBSan, libFuzzer).
  clang-22 libclang-rt-22-dev
  # strata-explore: OpenMPI for its MPI scale-out (mpirun -np N, docs/explore.md)
  # and Chromium for the headless-browser test of its report.html.
  openmpi-bin libopenmpi-dev chromium
)

strata_ensure_deps() {
  local missing=()
  for p in "${STRATA_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "strata: installing missing packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

SANITIZE_BUILD_DIR="${STRATA_SANITIZE_BUILD_DIR:-$STRATA_ROOT/build-asan}"

# AddressSanitizer + UndefinedBehaviorSanitizer build with the libFuzzer
# harnesses (STRATA_SANITIZE, STRATA_FUZZ), by clang-22, at -O1 with line
# tables for readable stacks. Builds only what the test suite runs.
strata_build_sanitized() {
  if [ ! -f "$SANITIZE_BUILD_DIR/build.ninja" ]; then
    CC=clang-22 CXX=clang++-22 cmake -G Ninja -S "$STRATA_ROOT" -B "$SANITIZE_BUILD_DIR" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_FLAGS_RELEASE="-O1 -gline-tables-only -DNDEBUG" \
      -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only -DNDEBUG" \
      -DSTRATA_SANITIZE=ON -DSTRATA_FUZZ=ON \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit"
  fi
  cmake --build "$SANITIZE_BUILD_DIR" --target \
    strata-opt strata-translate strata-explore strata-serve strata-calibrate StrataUnitTests \
    strata-fuzz-ir strata-fuzz-json "$@"
}

# The sanitizers' run-time settings, for the sanitized build's tests.
strata_sanitizer_env() {
  # Debian's libLLVM/libMLIR are not instrumented, but LLVM's headers poison
  # and unpoison memory by hand when the code including them is compiled
  # with ASan (LLVM_ADDRESS_SANITIZER_BUILD; e.g. BumpPtrAllocator poisons a new
  # slab and unpoisons what Allocate hands out). Inline header functions
  # exist twice, instrumented in Strata's objects and plain in the
  # libraries, and the linker keeps one copy of each: an instrumented copy
  # poisons memory that a plain one hands out without unpoisoning, and the
  # next instrumented access reports a false use-after-poison (first in
  # mlir::Dialect::addType, inside MLIRContext construction).
  # allow_user_poisoning=0 ignores the manual poisoning; every other ASan
  # check stays on.
  #
  # Reports also go to files under $SANITIZER_REPORTS (log_path), so one from
  # a process whose failure a test expects (`not strata-opt ...`) is not
  # lost: scripts/test.sh counts each such file as a failure.
  SANITIZER_REPORTS="$SANITIZE_BUILD_DIR/sanitizer-reports"
  rm -rf "$SANITIZER_REPORTS" && mkdir -p "$SANITIZER_REPORTS"
  export ASAN_OPTIONS="allow_user_poisoning=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:log_path=$SANITIZER_REPORTS/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$SANITIZER_REPORTS/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export ASAN_SYMBOLIZER_PATH="$LLVM_PREFIX/bin/llvm-symbolizer"
}

strata_build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -G Ninja -S "$STRATA_ROOT" -B "$BUILD_DIR" \
      -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit"
  fi
  cmake --build "$BUILD_DIR" "$@"
}
