#!/usr/bin/env python3
"""How close Strata's mappings come to each chip's roofline (issue 14's goals).

Prints, from the pipeline's own JSON reports (nothing here computes a cost):
  1. mesh-sram end to end: Llama-3-8B prefill (2048), GPT-2 prefill (1024),
     Llama-3-8B decode (1 token after 2048), against the goals, and the same
     with activation residency off (strata-pipeline residency=false): latency
     and DRAM bytes moved; and with strata-tile's tiles kept under residency
     (retile=false);
  2. every contraction of Llama-3-8B prefill on every single-chip preset:
     modelled time over its roofline floor (`roofline_s`: useful FLOPs at the
     matrix unit's peak or compulsory bytes at the home level's bandwidth,
     whichever is larger), flagged when above 1.3x, with the remark the
     estimate gives each op above 1.3x of its floor
     (`remark-above-floor=1.3`: the bound and why); the count above 1.3x
     and how many of them have a remark;
  3. the time of the whole pipeline for Llama-3-70B prefill on mesh-sram.

Usage: benchmarks/mapping-goals.py [BUILD_DIR]   (default: build)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
TRANSLATE = os.path.join(BUILD, "bin", "strata-translate")
OPT = os.path.join(BUILD, "bin", "strata-opt")
PRESETS = ["a100-sxm-80g", "h100-sxm", "h200", "b200", "tpu-v5p", "mi300x",
           "mesh-sram"]


def report(model, system, mode="prefill", extra=(), must_succeed=True,
           pipeline="", remarks=None):
    """Runs generate | strata-pipeline and returns (JSON report or the
    error line, seconds). With `remarks` (a dict), the remarks the estimate
    gives ops above 1.3x of their floor are stored in it by op name."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        gen = [TRANSLATE, "--import-model-config", model, f"--mode={mode}",
               *extra]
        options = f"system={system} report=json report-file={out.name}"
        if pipeline:
            options += " " + pipeline
        if remarks is not None:
            options += " remark-above-floor=1.3"
        opt = [OPT, f"--strata-pipeline={options}", "-o", os.devnull,
               "-mlir-print-op-on-diagnostic=false",
               *(["--strata-remarks"] if remarks is not None else [])]
        start = time.perf_counter()
        g = subprocess.Popen(gen, stdout=subprocess.PIPE)
        p = subprocess.run(opt, stdin=g.stdout, capture_output=True, text=True)
        g.wait()
        seconds = time.perf_counter() - start
        if g.returncode or p.returncode:
            if not must_succeed:
                return p.stderr.strip().splitlines()[0], seconds
            sys.exit(f"failed: {' '.join(gen)} | {' '.join(opt)}\n{p.stderr}")
        if remarks is not None:
            # "... remark: ...: 'NAME' modelled at 1.52x its roofline
            # floor: WHY"
            for line in p.stderr.splitlines():
                head, sep, why = line.partition("x its roofline floor: ")
                if sep and "'" in head:
                    remarks[head.split("'")[-2]] = why
        with open(out.name) as f:
            return json.load(f), seconds


def fmt_time(s):
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def floor(r):
    return sum(o.get("roofline_s", 0) for o in r["ops"])


print("== mesh-sram end to end (goal: modelled <= goal) ==")
print(f"{'workload':34} {'modelled':>10} {'sum of op floors':>17} "
      f"{'ratio':>6} {'goal':>9}  met")
goals = [("Llama-3-8B prefill 2048", "llama-3-8b", "prefill", (), 83e-3),
         ("GPT-2 prefill 1024", "gpt2", "prefill", ("--seq=1024",), 1.0e-3),
         ("Llama-3-8B decode (kv 2048)", "llama-3-8b", "decode", (), 47e-3)]
for label, model, mode, extra, goal in goals:
    r, _ = report(model, "mesh-sram", mode, extra)
    lat = r["summary"]["latency_s"]
    print(f"{label:34} {fmt_time(lat):>10} {fmt_time(floor(r)):>17} "
          f"{lat / floor(r):>5.2f}x {fmt_time(goal):>9}  "
          f"{'yes' if lat <= goal else 'NO'}")

print()
print("== mesh-sram activation residency (strata-residency): with / without ==")
print(f"{'workload':34} {'modelled':>10} {'DRAM bytes':>12} "
      f"{'without':>10} {'DRAM bytes':>12}")


def dram(r):
    return sum(o.get("bytes", {}).get("dram", 0) for o in r["ops"])


for label, model, mode, extra, _ in goals:
    on, _ = report(model, "mesh-sram", mode, extra)
    off, _ = report(model, "mesh-sram", mode, extra,
                    pipeline="residency=false")
    print(f"{label:34} {fmt_time(on['summary']['latency_s']):>10} "
          f"{dram(on) / 2**20:>8.1f} MiB "
          f"{fmt_time(off['summary']['latency_s']):>10} "
          f"{dram(off) / 2**20:>8.1f} MiB")

print()
print("== mesh-sram contractions re-planned for resident operands "
      "(strata-residency retile): with / without ==")
print(f"{'workload':34} {'modelled':>10} {'retile=false':>13}")
for label, model, mode, extra, _ in goals:
    on, _ = report(model, "mesh-sram", mode, extra)
    off, _ = report(model, "mesh-sram", mode, extra, pipeline="retile=false")
    print(f"{label:34} {fmt_time(on['summary']['latency_s']):>10} "
          f"{fmt_time(off['summary']['latency_s']):>13}")

print()
print("== Llama-3-8B prefill contractions: modelled / roofline floor "
      "(goal <= 1.3x) ==")
over = 0
rows = 0
explained = 0
unexplained = []
why_counts = {}
for system in PRESETS:
    remarks = {}
    r, _ = report("llama-3-8b", system, remarks=remarks)
    for o in r["ops"]:
        if o.get("class") not in ("contraction", "kernel") or \
                o["flops"] < 1e9 or not o.get("roofline_s"):
            continue
        ratio = o["time_s"] / o["roofline_s"]
        rows += 1
        flag = ""
        if ratio > 1.3:
            over += 1
            why = remarks.get(o["name"])
            if why:
                explained += 1
                flag = "  > 1.3x, remark"
                key = why.split(":")[0]
                why_counts[key] = why_counts.get(key, 0) + 1
            else:
                flag = "  > 1.3x, NO remark"
                unexplained.append(f"{system} {o['name']}")
        print(f"{system:13} {o['name']:26} {fmt_time(o['time_s']):>10} "
              f"{fmt_time(o['roofline_s']):>10} {ratio:5.2f}x "
              f"{o['bound_by']:>8}{flag}")
print(f"{rows} contractions, {over} above 1.3x of their floor, "
      f"{explained} of them with a remark naming why")
for key, n in sorted(why_counts.items(), key=lambda kv: -kv[1]):
    print(f"  {n:3} x {key}")
if unexplained:
    print(f"  without a remark: "
          f"{', '.join(unexplained)}")

print()
result, seconds = report("llama-3-70b", "mesh-sram", must_succeed=False)
print(f"Llama-3-70B prefill, generate + strata-pipeline on mesh-sram: "
      f"{seconds:.2f} s (goal < 1 s)")
if isinstance(result, str):
    print(f"  (the pipeline's answer: {result})")
