"""Recomputes the Pareto front of points.json by brute force (every pair)
and compares it with pareto.csv.

usage: front.py points.json pareto.csv OBJ1 OBJ2"""
import csv
import json
import sys

points = json.load(open(sys.argv[1]))["points"]
keys = {"latency": "latency_s", "energy": "energy_j", "throughput": "tokens_per_s",
        "energy_per_token": "energy_per_token_j", "mfu": "mfu", "power": "power_w",
        "cost_per_token": "cost_per_token_usd", "tco": "tco_usd", "capex": "capex_usd"}
sign = {"throughput": -1, "mfu": -1}
objs = sys.argv[3:5]
ok = [p for p in points if p["valid"] and p["feasible"]]
def v(p):
    return [sign.get(o, 1) * p[keys[o]] for o in objs]
def dominates(a, b):
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))
want = sorted(p["point"] for p in ok if not any(dominates(v(q), v(p)) for q in ok))
got = [int(r["point"]) for r in csv.DictReader(open(sys.argv[2]))]
if want != got:
    print(f"front MISMATCH: brute force {want}, pareto.csv {got}")
    sys.exit(1)
print(f"front ok ({len(got)} points)")
