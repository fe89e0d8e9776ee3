#!/usr/bin/env python3
"""Checks a report=trace file (docs/cost-report.md, "Chrome trace").

    check-trace.py TRACE [--report REPORT.json]

Fails (exit 1) unless, on every (pid, tid) track: begin/end events pair up
by name and nest, every complete ("X") event lies inside the blocks open
around it, and complete events outside blocks do not overlap. With a JSON
report of the same run that has a `step`, also checks the drawn schedule
against it: each stage's "bubble" slices sum to `step.bubble_s` and the last
forward/backward slot (with its transfer) ends at `step.pipeline_s`.
Prints a summary for FileCheck: the processes and threads, the deepest
nesting, and event counts.
"""
import argparse
import json
import sys
from collections import defaultdict


def fail(msg):
    print(f"check-trace: {msg}")
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--report")
    args = ap.parse_args()
    doc = json.load(open(args.trace))
    events = doc["traceEvents"]
    procs, threads = {}, {}
    tracks = defaultdict(list)
    for e in events:
        if e["ph"] == "M":
            if e["name"] == "process_name":
                procs[e["pid"]] = e["args"]["name"]
            elif e["name"] == "thread_name":
                threads[(e["pid"], e["tid"])] = e["args"]["name"]
            continue
        if e["ph"] not in ("X", "B", "E"):
            fail(f"unexpected phase {e['ph']}")
        tracks[(e["pid"], e["tid"])].append(e)

    ns = lambda us: round(us * 1000)
    deepest = 0
    counts = defaultdict(int)
    for key, evs in sorted(tracks.items()):
        if key not in threads:
            fail(f"track {key} has no thread_name")
        stack = []  # (name, start ns, latest end inside)
        last_end = 0
        prev_ts = 0
        for e in evs:
            t = ns(e["ts"])
            if t < prev_ts:
                fail(f"{threads[key]}: events out of order at {e['name']}")
            prev_ts = t
            counts[e["ph"]] += 1
            if e["ph"] == "B":
                stack.append([e["name"], t, t])
                deepest = max(deepest, len(stack))
            elif e["ph"] == "E":
                if not stack or stack[-1][0] != e["name"]:
                    fail(f"{threads[key]}: end of '{e['name']}' does not match "
                         f"{stack[-1][0] if stack else 'nothing open'}")
                name, start, inner = stack.pop()
                if t < inner:
                    fail(f"{threads[key]}: '{name}' ends before its contents")
                if stack:
                    stack[-1][2] = max(stack[-1][2], t)
            else:
                end = t + ns(e["dur"])
                if e["dur"] < 0:
                    fail(f"{threads[key]}: negative duration")
                if stack:
                    if t < stack[-1][1]:
                        fail(f"{threads[key]}: '{e['name']}' starts before its block")
                    stack[-1][2] = max(stack[-1][2], end)
                    deepest = max(deepest, len(stack) + 1)
                elif t < last_end:
                    fail(f"{threads[key]}: '{e['name']}' overlaps the slice before it")
                last_end = max(last_end, end)
        if stack:
            fail(f"{threads[key]}: '{stack[-1][0]}' never ends")

    for pid in sorted(procs):
        print(f"process {pid}: {procs[pid]}")
        for (p, tid), name in sorted(threads.items()):
            if p == pid:
                print(f"  thread {tid}: {name} ({len(tracks[(p, tid)])} events)")
    print(f"nesting depth {deepest}; {counts['X']} complete, {counts['B']} begin, {counts['E']} end")
    print(f"truncated: {str(doc['otherData']['truncated']).lower()}")

    if args.report:
        report = json.load(open(args.report))
        step = report.get("step")
        if step:
            slots = [e for e in events if e.get("pid") == 2 and e["ph"] == "X"
                     and e.get("cat") in ("forward", "backward", "p2p")]
            tol = 1e-9 * (8 * step["stages"] * step["microbatches"] + 1)
            end = max(e["ts"] + e["dur"] for e in slots) * 1e-6
            # Stage 0's last backward (its gradients' receive first) ends
            # the pipeline.
            if abs(end - step["pipeline_s"]) > tol + 1e-9 * step["pipeline_s"]:
                fail(f"schedule ends at {end} s, the report's pipeline_s is {step['pipeline_s']}")
            for s in range(step["stages"]):
                bubbles = sum(e["dur"] for e in events if e.get("pid") == 2
                              and e["ph"] == "X" and e.get("tid") == 2 * s + 1
                              and e["name"] == "bubble") * 1e-6
                if abs(bubbles - step["bubble_s"]) > tol + 1e-9 * step["bubble_s"]:
                    fail(f"stage {s}: bubbles sum to {bubbles} s, the report's bubble_s is {step['bubble_s']}")
            print(f"schedule matches the report: pipeline {step['pipeline_s']:.6g} s, "
                  f"bubble {step['bubble_s']:.6g} s per stage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
