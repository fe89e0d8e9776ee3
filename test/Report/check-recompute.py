"""Checks that recompute=none/selective/full reports order their energy as
their FLOPs, that full recomputation's extra energy per extra FLOP is that
of the step's own work (within 2x): the recomputed forward is priced, not
just timed; and that MFU counts model FLOPs (recomputation left out), HFU
every executed FLOP."""
import json
import sys

runs, summaries = {}, {}
for policy in ("none", "selective", "full"):
    with open(f"{sys.argv[1]}/{policy}.json") as f:
        s = json.load(f)["summary"]
    runs[policy] = (s["flops"], s["energy_j"])
    summaries[policy] = s

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

def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))

model = {p: s["flops"] - s["recompute_flops"] for p, s in summaries.items()}
if not (close(model["none"], model["selective"]) and close(model["none"], model["full"])):
    sys.exit(f"model FLOPs differ: {model}")
if summaries["none"]["recompute_flops"] != 0 or summaries["full"]["recompute_flops"] <= 0:
    sys.exit("recompute_flops: 0 without recomputation, > 0 with")
print("model FLOPs equal under every policy")
for p, s in summaries.items():
    scale = s["latency_s"] * s["peak_flops"]
    if not (close(s["mfu"], model[p] / scale) and close(s["hfu"], s["flops"] / scale)):
        sys.exit(f"{p}: mfu {s['mfu']} hfu {s['hfu']}")
print("mfu = model FLOPs / (latency x peak), hfu = FLOPs / (latency x peak)")
m = [summaries[p]["mfu"] for p in ("none", "selective", "full")]
if not (m[0] > m[1] > m[2]):
    sys.exit(f"mfu not falling with recompute: {m}")
print("mfu falls with recompute: none > selective > full")
