#!/usr/bin/env bash
# Builds everything and runs every test (lit regression tests and GoogleTest
# unit tests, through one lit run). Ends with "N passed, N failed, N skipped"
# and exits non-zero on any failure.
#
#   ./scripts/test.sh              the release build (build/)
#   ./scripts/test.sh --sanitize   only the ASan+UBSan build (build-asan/,
#                                  clang-22), which also runs the fuzz smoke
#                                  tests (test/Fuzz)
#   CI=true ./scripts/test.sh      both, counts folded into the one last line
#                                  (what .ci/run does on CI; STRATA_SANITIZE=1
#                                  does the same anywhere)
# See docs/testing.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

release=1 sanitize=0
case "${1:-}" in
  --sanitize) release=0 sanitize=1 ;;
  "") ;;
  *) echo "usage: $0 [--sanitize]" >&2; exit 2 ;;
esac
if [ "${CI:-}" = true ] || [ "${STRATA_SANITIZE:-0}" = 1 ]; then sanitize=1; fi

strata_ensure_deps

# run_suite DIR: one lit run over DIR's regression and unit suites.
status=0
results=()
run_suite() {
  local dir="$1" rc
  set +e
  rm -f "$dir/test-results.xml"
  "$LLVM_PREFIX/bin/lit" -sv --xunit-xml-output "$dir/test-results.xml" \
    "$dir/test" "$dir/test/unit" 2>&1 | tee "$dir/test-results.log"
  rc=${PIPESTATUS[0]}
  set -e
  results+=("$dir/test-results.xml")
  if [ "$rc" -ne 0 ]; then status=$rc; fi
}

if [ "$release" = 1 ]; then
  strata_build
  run_suite "$BUILD_DIR"
fi
if [ "$sanitize" = 1 ]; then
  start=$SECONDS
  if strata_build_sanitized; then
    built=$SECONDS
    strata_sanitizer_env
    run_suite "$SANITIZE_BUILD_DIR"
    # Every sanitizer report is a failure, also one from a process a test
    # expected to fail.
    reports=("$SANITIZER_REPORTS"/*)
    if [ -e "${reports[0]}" ]; then
      echo "strata: ${#reports[@]} sanitizer report(s) in $SANITIZER_REPORTS:"
      head -n 20 "${reports[@]}"
      status=1
      for r in "${reports[@]}"; do results+=("$r.report"); done  # one failure each
    fi
  else
    built=$SECONDS status=1
    results+=("$SANITIZE_BUILD_DIR/build-failed")  # counted as one failure
  fi
  echo "strata: sanitizer build $((built - start)) s, suite $((SECONDS - built)) s"
fi

python3 - "${results[@]}" <<'PY'
import sys, xml.etree.ElementTree as ET
tests = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        failed += 1  # a build or lit itself did not finish
        continue
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests += sum(int(s.get("tests", 0)) for s in suites)
    failed += sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped += sum(int(s.get("skipped", 0)) for s in suites)
print(f"{tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit "$status"
