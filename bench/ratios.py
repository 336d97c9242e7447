#!/usr/bin/env python3
"""The min-cost flow summary under bench/RESULTS.md's table: from the rows on stdin, ours
against LEMON's NetworkSimplex and OR-Tools' SimpleMinCostFlow on every `p min` instance,
the worst ratio and the geometric mean (the bars of the min-cost flow issue: every instance
≤ 1.0× LEMON, geometric mean ≤ 0.8×, every instance ≤ 0.6× OR-Tools)."""
import math
import re
import sys

ratios = {"lemon": [], "ortools-SimpleMinCostFlow": []}
for line in sys.stdin:
    cells = [c.strip() for c in line.split("|")]
    if len(cells) < 4 or "lemon-NetworkSimplex" not in line:
        continue
    for cell in cells:
        found = re.match(r"(lemon-NetworkSimplex\S*|ortools-SimpleMinCostFlow) [0-9.]+ s \(×([0-9.]+)\)", cell)
        if found:
            key = "lemon" if found[1].startswith("lemon") else found[1]
            ratios[key].append((cells[1], float(found[2])))
for key, label in [("lemon", "LEMON NetworkSimplex"), ("ortools-SimpleMinCostFlow", "OR-Tools SimpleMinCostFlow")]:
    values = ratios[key]
    if not values:
        continue
    geo = math.exp(sum(math.log(max(r, 1e-3)) for _, r in values) / len(values))
    worst = max(values, key=lambda v: v[1])
    print(f"- Ours against {label}, {len(values)} min-cost flow instances: geometric mean "
          f"×{geo:.2f}, worst ×{worst[1]:.2f} ({worst[0]}), "
          f"{sum(r <= 1.0 for _, r in values)} of {len(values)} at ×1.00 or less.")
