"""Compares fields of strata-serve JSON reports: prints 'ok' per relation
that holds, else the values and exits 1.

  compare.py A.json FIELD OP B.json [FACTOR]  # A.FIELD OP FACTOR * B.FIELD
  compare.py A.json FIELD near VALUE TOL      # |A.FIELD - VALUE| <= TOL

FIELD is a dotted path (throughput.requests_per_s)."""
import json
import sys


def field(path, name):
    v = json.load(open(path))
    for k in name.split("."):
        v = v[k]
    return v


a, name, op = sys.argv[1], sys.argv[2], sys.argv[3]
x = field(a, name)
if op == "near":
    value, tol = float(sys.argv[4]), float(sys.argv[5])
    ok = abs(x - value) <= tol
    y = value
else:
    factor = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
    y = field(sys.argv[4], name) * factor
    ok = {"gt": x > y, "lt": x < y, "eq": x == y}[op]
print("ok" if ok else "FAILED: %s %s: %r vs %r" % (name, op, x, y))
sys.exit(0 if ok else 1)
