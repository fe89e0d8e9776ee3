"""Checks that recompute=none/selective/full reports order their energy as
their FLOPs, and that full recomputation's extra energy per extra FLOP is
that of the step's own work (within 2x): the recomputed forward is priced,
not just timed."""
import json
import sys

runs = {}
for policy in ("none", "selective", "full"):
    with open(f"{sys.argv[1]}/{policy}.json") as f:
        s = json.load(f)["summary"]
    runs[policy] = (s["flops"], s["energy_j"])

(f0, e0), (f1, e1), (f2, e2) = runs["none"], runs["selective"], runs["full"]
if not (f0 < f1 < f2):
    sys.exit(f"FLOPs not ordered: {f0} {f1} {f2}")
if not (e0 < e1 < e2):
    sys.exit(f"energy not ordered: {e0} {e1} {e2}")
print("energy grows with recompute: none < selective < full")
per_flop_step = e0 / f0
per_flop_extra = (e2 - e0) / (f2 - f0)
ratio = per_flop_extra / per_flop_step
if not (0.5 <= ratio <= 2.0):
    sys.exit(f"extra energy per FLOP {per_flop_extra:.3e} vs step {per_flop_step:.3e}")
print("full: extra energy per extra FLOP within 2x of the forward's")
