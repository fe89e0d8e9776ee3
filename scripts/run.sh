#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on a built-in
# default: describe a preset system (STRATA_SYSTEM, default dgx-h100) with its
# derived figures.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
strata_ensure_deps
strata_build
system="${STRATA_SYSTEM:-${1:-dgx-h100}}"
echo "module {}" | "$BUILD_DIR/bin/strata-opt" \
  --strata-describe-system="system=$system" -o /dev/null
