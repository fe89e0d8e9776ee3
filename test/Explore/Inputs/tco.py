"""Recomputes the price model of docs/explore.md from a point's own
latency, energy, tokens and chips, and the spec's prices.

usage: tco.py spec.json points.json
Prints 'ok N' when every valid point's power, capex, tco and cost per
token agree with the formulas (to 1e-12 relative)."""
import json
import math
import sys

spec = json.load(open(sys.argv[1]))
price = {"chip_price_usd": 25000, "pue": 1.56, "electricity_usd_per_kwh": 0.08,
         "amortization_years": 4}
price.update(spec.get("price", {}))
hours = 365.25 * 24 * price["amortization_years"]
n = 0
for p in json.load(open(sys.argv[2]))["points"]:
    if not p["valid"]:
        continue
    chips = p["chips"]
    power = p["energy_j"] / p["latency_s"] * chips
    capex = price["chip_price_usd"] * chips
    energy_per_hour = power * price["pue"] / 1000 * price["electricity_usd_per_kwh"]
    tco = capex + energy_per_hour * hours
    per_hour = capex / hours + energy_per_hour
    tokens = p["tokens_per_s"] * p["latency_s"]
    cpt = per_hour * p["latency_s"] / 3600 / tokens
    for key, want in (("power_w", power), ("capex_usd", capex),
                      ("tco_usd", tco), ("cost_per_token_usd", cpt)):
        if not math.isclose(p[key], want, rel_tol=1e-12):
            print(f"point {p['point']}: {key} {p[key]!r} != {want!r}")
            sys.exit(1)
    n += 1
print(f"ok {n}")
