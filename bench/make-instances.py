#!/usr/bin/env python3
"""Write DIMACS assignment and min-cost flow instances for the solver benchmark.

Usage: make-instances.py OUT_DIR [--only NAME ...]
Families (seeded, reproducible):
  sparse-N-K-uC    sparse assignment, N x N, K candidates per left node, uniform costs 0..C
  sparse-N-K-gC    the same with geometric costs (most small, a few large)
  sparse-N-K-tC    near-tie costs (C - small noise)
  dense-N          complete N x N, uniform costs 0..1000
  seats-N-P-K-uC   capacitated assignment (min-cost flow): N people, P posts with 1-4 seats
  transport-P-R-K  providers with capacity to recipients with need (min-cost flow)
Each instance has a perfect matching (a hidden random permutation is always among the arcs)."""
import random
import sys
from pathlib import Path


def sparse(path, n, k, cmax, kind, seed):
    rng = random.Random(seed)
    perm = list(range(n))
    rng.shuffle(perm)
    with open(path, "w") as f:
        f.write(f"c sparse assignment {n}x{n}, {k} candidates, {kind} costs up to {cmax}, seed {seed}\n")
        f.write(f"p asn {2 * n} {n * k}\n")
        for i in range(n):
            f.write(f"n {i + 1}\n")
        lines = []
        for i in range(n):
            targets = {perm[i]}
            while len(targets) < k:
                targets.add(rng.randrange(n))
            for j in targets:
                if kind == "u":
                    c = rng.randint(0, cmax)
                elif kind == "g":
                    c = min(cmax, int(rng.expovariate(1.0) * cmax / 20))
                else:
                    c = cmax - rng.randint(0, 3)
                lines.append(f"a {i + 1} {n + j + 1} {c}\n")
        f.writelines(lines)


def dense(path, n, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write(f"c dense assignment {n}x{n}, uniform costs 0..1000, seed {seed}\n")
        f.write(f"p asn {2 * n} {n * n}\n")
        for i in range(n):
            f.write(f"n {i + 1}\n")
        for i in range(n):
            f.write("".join(f"a {i + 1} {n + j + 1} {rng.randint(0, 1000)}\n" for j in range(n)))


def transport(path, providers, recipients, candidates, seed):
    """Program-size min-cost flow: providers with capacity, recipients with need, arcs to
    every recipient (candidates=None) or to `candidates` random ones, capacities to spare."""
    rng = random.Random(seed)
    need = [rng.randint(1, 20) for _ in range(recipients)]
    total = sum(need)
    supply = [total // providers + (1 if p < total % providers else 0) for p in range(providers)]
    arcs = []
    for r in range(recipients):
        targets = range(providers) if candidates is None else rng.sample(range(providers), candidates)
        for p in targets:
            arcs.append((p + 1, providers + r + 1, 0, need[r], rng.randint(0, 1000)))
    with open(path, "w") as f:
        f.write(f"c transport {providers} providers x {recipients} recipients, seed {seed}\n")
        f.write(f"p min {providers + recipients} {len(arcs)}\n")
        for p, s in enumerate(supply):
            f.write(f"n {p + 1} {s}\n")
        for r, d in enumerate(need):
            f.write(f"n {providers + r + 1} {-d}\n")
        f.writelines(f"a {a} {b} {lo} {cap} {c}\n" for a, b, lo, cap, c in arcs)


def seats(path, people, posts, k, cmax, seed):
    """Capacitated assignment as min-cost flow: people (supply 1) to posts with 1-4 seats
    (arc post -> sink, capacity = seats), k candidate posts per person, uniform costs 0..cmax.
    A hidden seat per person is always among the candidates, so every person can be placed."""
    rng = random.Random(seed)
    seat_count = [rng.randint(1, 4) for _ in range(posts)]
    pool = [q for q in range(posts) for _ in range(seat_count[q])]
    assert len(pool) >= people, "fewer seats than people"
    rng.shuffle(pool)
    sink = people + posts + 1
    with open(path, "w") as f:
        f.write(f"c capacitated assignment: {people} people, {posts} posts with 1-4 seats "
                f"({len(pool)} seats), {k} candidates, costs up to {cmax}, seed {seed}\n")
        f.write(f"p min {sink} {people * k + posts}\n")
        for p in range(people):
            f.write(f"n {p + 1} 1\n")
        f.write(f"n {sink} {-people}\n")
        lines = []
        for p in range(people):
            targets = {pool[p]}
            while len(targets) < k:
                targets.add(rng.randrange(posts))
            for q in targets:
                lines.append(f"a {p + 1} {people + q + 1} 0 1 {rng.randint(0, cmax)}\n")
        for q in range(posts):
            lines.append(f"a {people + q + 1} {sink} 0 {seat_count[q]} 0\n")
        f.writelines(lines)


INSTANCES = {
    "sparse-10k-20-u1000": lambda p: sparse(p, 10_000, 20, 1000, "u", 1),
    "sparse-100k-20-u1000": lambda p: sparse(p, 100_000, 20, 1000, "u", 2),
    "sparse-100k-20-u1000000": lambda p: sparse(p, 100_000, 20, 1_000_000, "u", 3),
    "sparse-100k-20-g1000000": lambda p: sparse(p, 100_000, 20, 1_000_000, "g", 4),
    "sparse-100k-20-t1000": lambda p: sparse(p, 100_000, 20, 1000, "t", 5),
    "sparse-100k-50-u1000": lambda p: sparse(p, 100_000, 50, 1000, "u", 6),
    "dense-2000": lambda p: dense(p, 2000, 7),
    "dense-5000": lambda p: dense(p, 5000, 10),
    "seats-100k-45k-20-u1000": lambda p: seats(p, 100_000, 45_000, 20, 1000, 11),
    "transport-500-5000-50": lambda p: transport(p, 500, 5000, 50, 8),
    "transport-500-5000-all": lambda p: transport(p, 500, 5000, None, 9),
}

if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    only = sys.argv[3:] if len(sys.argv) > 2 and sys.argv[2] == "--only" else list(INSTANCES)
    # Names of the other generator's instances are skipped (bench/solvers.sh asks both).
    for name in (name for name in only if name in INSTANCES):
        path = out / (f"{name}.min" if name.startswith(("transport", "seats")) else f"{name}.asn")
        if not path.exists():
            INSTANCES[name](path)
        print(path)
