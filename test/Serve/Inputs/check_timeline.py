"""Checks a strata-serve --timeline trace against the same run's JSON report
and per-request CSV; prints 'ok' or what disagrees and exits 1.

  check_timeline.py TRACE.json REPORT.json REQUESTS.csv

 - one "X" step slice per simulated step (throughput.steps), named by what
   the step does, the counts matching prefill/decode/mixed_steps;
 - an engine's steps never overlap and run in time order;
 - every request has its "to first token" slice from its arrival to its
   first token, and a "decode" slice to its finish when it decodes, at the
   times the CSV gives (to the trace's nanosecond resolution, 1 ns);
 - the CSV's TTFT p50 (nearest rank) is the report's."""
import csv
import json
import math
import sys

trace = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
rows = list(csv.DictReader(open(sys.argv[3])))
errors = []
events = trace["traceEvents"]
steps = [e for e in events if e["ph"] == "X"]
tp = report["throughput"]
if len(steps) != tp["steps"]:
    errors.append("%d step slices, report has %d steps" % (len(steps), tp["steps"]))
for kind, field in (("prefill", "prefill_steps"), ("decode", "decode_steps"),
                    ("mixed", "mixed_steps")):
    n = sum(1 for e in steps if e["name"] == kind)
    if n != tp[field]:
        errors.append("%d %s slices, report has %d" % (n, kind, tp[field]))
by_engine = {}
for e in steps:
    by_engine.setdefault(e["pid"], []).append(e)
for pid, es in by_engine.items():
    for a, b in zip(es, es[1:]):
        if b["ts"] < a["ts"] + a["dur"] - 1e-6:
            errors.append("engine pid %d: step at %r overlaps the one at %r" % (pid, b["ts"], a["ts"]))
            break
names = {e["pid"]: e["args"]["name"] for e in events
         if e["ph"] == "M" and e["name"] == "process_name"}
if names.get(0) != "requests" or not all(names.get(p, "").startswith("engine ") for p in by_engine):
    errors.append("process names: %r" % names)
begins = {}
for e in events:
    if e["ph"] in ("b", "e"):
        begins.setdefault((e["id"], e["name"]), {})[e["ph"]] = e["ts"]
if len(rows) != report["requests"]:
    errors.append("%d CSV rows, %d requests" % (len(rows), report["requests"]))
for r in rows:
    first = begins.get((r["id"], "to first token"), {})
    us = lambda s: round(float(s) * 1e9) / 1e3
    near = lambda a, b: a is not None and abs(a - b) <= 1.5e-3  # 1 ns
    if not near(first.get("b"), us(r["arrival_s"])) or not near(first.get("e"), us(r["first_token_s"])):
        errors.append("request %s: first-token slice %r, CSV %s..%s" % (r["id"], first, r["arrival_s"], r["first_token_s"]))
        break
    if float(r["finish_s"]) > float(r["first_token_s"]):
        dec = begins.get((r["id"], "decode"), {})
        if not near(dec.get("e"), us(r["finish_s"])):
            errors.append("request %s: decode slice %r, finish %s" % (r["id"], dec, r["finish_s"]))
            break
ttft = sorted(float(r["ttft_s"]) for r in rows)
p50 = ttft[max(0, math.ceil(0.5 * len(ttft)) - 1)]
want = report["latency_s"]["ttft"]["p50"]
if abs(p50 - want) > 1e-9 * max(1.0, abs(want)):
    errors.append("CSV TTFT p50 %r, report %r" % (p50, want))
print("ok" if not errors else "FAILED: " + "; ".join(errors))
sys.exit(0 if not errors else 1)
