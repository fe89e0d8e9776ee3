"""Finite differences by hand: the elasticity of latency for an axis from
two separate strata-pipeline reports (the base value x0.99 and x1.01),
compared with strata-explore's sensitivity.csv.

usage: elasticity.py sensitivity.csv AXIS points.json LOW report-low.json
                     HIGH report-high.json"""
import csv
import json
import math
import sys

sens, axis, points_path = sys.argv[1:4]
low, low_report, high, high_report = sys.argv[4:8]
points = json.load(open(points_path))["points"]
x_low = points[int(low)]["axes"][axis]
x_high = points[int(high)]["axes"][axis]
l_low = json.load(open(low_report))["summary"]["latency_s"]
l_high = json.load(open(high_report))["summary"]["latency_s"]
by_hand = (math.log(l_high) - math.log(l_low)) / (math.log(x_high) - math.log(x_low))
row = next(r for r in csv.DictReader(open(sens)) if r["axis"] == axis)
tool = float(row["elasticity_latency"])
ok = math.isclose(tool, by_hand, rel_tol=1e-9, abs_tol=1e-12)
print(f"{axis}: tool {tool!r} by hand {by_hand!r} {'ok' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
