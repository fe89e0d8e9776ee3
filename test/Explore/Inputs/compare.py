"""Checks that strata-explore's points equal separate strata-pipeline runs.

usage: compare.py points.json INDEX report.json [INDEX report.json ...]
Exits 1 naming the first point whose latency or energy differs (compared
as the exact doubles both print)."""
import json
import sys

points = json.load(open(sys.argv[1]))["points"]
args = sys.argv[2:]
for index, path in zip(args[0::2], args[1::2]):
    p = points[int(index)]
    r = json.load(open(path))["summary"]
    for key in ("latency_s", "energy_j"):
        if p[key] != r[key]:
            print(f"point {index}: {key} {p[key]!r} != pipeline {r[key]!r}")
            sys.exit(1)
    print(f"point {index}: latency {p['latency_s']!r} energy {p['energy_j']!r}"
          f" relowered {p['relowered']} ok")
