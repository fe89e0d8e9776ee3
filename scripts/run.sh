#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on a built-in
# default: Llama-3-8B prefill (2048 tokens) and decode (one token after a
# 2048-token context) on an H100 SXM, through the whole Strata path
# (workload generator -> strata-pipeline -> cost report).
#
#   ./scripts/run.sh [MODEL] [SYSTEM]     e.g. ./scripts/run.sh llama-3-70b b200
#
# MODEL is a bundled config name (models/*.json) or a config.json path;
# SYSTEM a preset name or a .json/.mlir system description. STRATA_MODEL and
# STRATA_SYSTEM work too.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
strata_ensure_deps
strata_build
model="${STRATA_MODEL:-${1:-llama-3-8b}}"
system="${STRATA_SYSTEM:-${2:-h100-sxm}}"
for mode in prefill decode; do
  "$BUILD_DIR/bin/strata-translate" --import-model-config "$model" \
    --mode="$mode" \
  | "$BUILD_DIR/bin/strata-opt" --strata-pipeline="system=$system report=text" \
    -mlir-print-op-on-diagnostic=false -o /dev/null
  echo
done
