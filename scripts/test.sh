#!/usr/bin/env bash
# Builds everything and runs every test (lit regression tests and GoogleTest
# unit tests, through one lit run). Ends with "N passed, N failed" and exits
# non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
strata_ensure_deps
strata_build

log="$BUILD_DIR/test-results.log"
set +e
"$LLVM_PREFIX/bin/lit" -sv --xunit-xml-output "$BUILD_DIR/test-results.xml" \
  "$BUILD_DIR/test" "$BUILD_DIR/test/unit" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
python3 - "$BUILD_DIR/test-results.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit "$status"
