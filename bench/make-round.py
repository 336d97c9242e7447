#!/usr/bin/env python3
"""Write a placement round as a CSV bundle (people.csv, posts.csv) for the demo database:
PEOPLE people from the demo's providers and POSTS posts with 1-3 seats in its paired areas,
specialties drawn so that a person has about 20-50 candidate posts (their specialty, in an area
paired with their provider). Reads the demo's pairs from PAIRS_CSV (an exported pairs.csv).

Usage: make-round.py PAIRS_CSV OUT_DIR [PEOPLE] [POSTS]   (default 87500 30000)"""
import csv
import random
import sys
from collections import defaultdict
from pathlib import Path

pairs_csv, out = Path(sys.argv[1]), Path(sys.argv[2])
people = int(sys.argv[3]) if len(sys.argv) > 3 else 87_500
posts = int(sys.argv[4]) if len(sys.argv) > 4 else 30_000
rng = random.Random(2026)
paired = defaultdict(list)
with open(pairs_csv) as f:
    for row in csv.DictReader(f):
        if not row["last_year"]:
            paired[row["provider"]].append(row["recipient"])
providers = sorted(paired)
recipients = sorted({r for rs in paired.values() for r in rs})
# Posts per (recipient, specialty) so that a provider's paired areas hold 20-50 posts of one
# specialty: a provider has about len(recipients)/len(providers) areas.
areas_per_provider = len(recipients) / len(providers)
specialties = [f"specialty-{i:02d}" for i in range(max(1, round(posts * areas_per_provider / len(recipients) / 35)))]
out.mkdir(parents=True, exist_ok=True)
with open(out / "posts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "recipient", "host_institution", "specialty", "seats", "provenance", "source", "confidence"])
    for q in range(posts):
        w.writerow([f"bench.post.{q:06d}", rng.choice(recipients), f"Host institution no. {q % 997}",
                    rng.choice(specialties), rng.randint(1, 3), "simulated", "", ""])
with open(out / "people.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "provider", "home_institution", "specialty", "provenance", "source", "confidence"])
    for p in range(people):
        w.writerow([f"bench.person.{p:06d}", rng.choice(providers), f"Institution no. {p % 499}",
                    rng.choice(specialties), "simulated", "", ""])
print(f"{people} people, {posts} posts, {len(specialties)} specialties, {len(recipients)} areas, {len(providers)} providers")
