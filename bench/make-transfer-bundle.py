#!/usr/bin/env python3
"""Write a CSV bundle of N transfers (a third each commit, disburse, spend) over N/3 projects of
the demo's real pairs, for the bulk-import benchmark.  Usage: make-transfer-bundle.py N OUT_DIR"""
import csv
import sys
from pathlib import Path

n = int(sys.argv[1])
out = Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
pairs_file = Path(__file__).resolve().parent.parent / "data/demo/xinjiang-2010/pairs.csv"
pairs = [(r["provider"], r["recipient"]) for r in csv.DictReader(open(pairs_file, encoding="utf-8"))]
projects = n // 3
with open(out / "projects.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "provider", "recipient", "category", "status", "title_en", "title_zh", "year", "budget_fen",
                "housing_units", "school_places", "hospital_beds", "jobs", "people_trained", "provenance", "source",
                "confidence"])
    for i in range(projects):
        provider, recipient = pairs[i % len(pairs)]
        w.writerow([f"b{i}", provider, recipient, "health", "under_construction", "Ward", "病房", 2015,
                    100_000 + i % 1000, 0, 0, 1, 0, 0, "simulated", "", ""])
with open(out / "transfers.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "project", "kind", "amount_fen", "currency", "value_date", "corrects", "phase", "pending_of",
                "provenance", "source", "confidence"])
    for i in range(projects):
        budget = 100_000 + i % 1000
        day = 1 + i % 28
        w.writerow([f"b{i}.c", f"b{i}", "commit", budget, "CNY", f"2015-03-{day:02d}", "", "single", "", "simulated", "", ""])
        w.writerow([f"b{i}.d", f"b{i}", "disburse", budget, "CNY", f"2015-06-{day:02d}", "", "single", "", "simulated", "", ""])
        w.writerow([f"b{i}.s", f"b{i}", "spend", budget - 1000, "CNY", f"2015-09-{day:02d}", "", "single", "", "simulated", "", ""])
print(f"{projects} projects, {projects * 3} transfers in {out}")
