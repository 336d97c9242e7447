#!/usr/bin/env python3
"""Write DIMACS `p min` instances of the classic min-cost flow families, for bench/solvers.sh.

Usage: make-families.py OUT_DIR [--only NAME ...]
Each family comes at three sizes, about 8,000, 130,000 and 1,000,000 arcs, seeded; every
instance is balanced and has a feasible flow (a skeleton of wide arcs carries all supply).

  netgen-N     NETGEN-style (Klingman, Napier, Stutz 1974, as in Kovács 2015's NETGEN-8):
               N nodes, 8N arcs, √N sources and √N sinks with 1,000·√N supply, the rest
               transshipment; a skeleton of chains from each source through transshipment
               nodes to sinks (capacity = the supply it carries, 30% of it at the highest
               cost), then random arcs, costs 1..10,000, capacities 1..1,000.
  gridgen-N    GRIDGEN-style (Lee and Orlin): a square grid of N nodes, arcs both ways
               between neighbours plus random arcs up to 8N; a source feeding the first
               column and a sink fed by the last, 1,000 units per row; costs 1..10,000,
               capacities 1..1,000 (each row's rightward chain at least its row's share).
  goto-N       GOTO-style (Goldberg's "grid on torus", the hard family): N nodes on a torus
               of √N × √N, 8N arcs: to the next node down and right (wide and cheap, the
               skeleton) and to nodes further along the row at costs growing with the jump,
               capacities 1..8·√N; one source and one sink, supply 16·√N (what the skeleton
               into the sink can take).
  transport-P-R-K  capacitated transportation with a surplus sink (the engine's own shape):
               P providers with spare supply, R recipients demanding 1, K random candidate
               providers each on unit-capacity arcs (costs 0..1,000), and a sink that
               takes each provider's surplus at cost 0.
"""
import math
import random
import sys
from pathlib import Path


def write(path, comment, supply, arcs):
    with open(path, "w") as f:
        f.write(f"c {comment}\n")
        f.write(f"p min {len(supply)} {len(arcs)}\n")
        f.writelines(f"n {v + 1} {b}\n" for v, b in enumerate(supply) if b != 0)
        f.writelines(f"a {u + 1} {v + 1} 0 {cap} {cost}\n" for u, v, cap, cost in arcs)


def netgen(path, n, seed):
    rng = random.Random(seed)
    k = max(2, round(math.sqrt(n)))
    sources, sinks = list(range(k)), list(range(n - k, n))
    trans = list(range(k, n - k))
    rng.shuffle(trans)
    total = 1000 * k
    supply = [0] * n
    shares = [total // k + (1 if s < total % k else 0) for s in range(k)]
    arcs = []
    # Skeleton: each source's chain of transshipment nodes, then its supply split among sinks.
    per = len(trans) // k
    for s in sources:
        supply[s] += shares[s]
        chain = [s] + trans[s * per:(s + 1) * per]
        for a, b in zip(chain, chain[1:]):
            cost = 10_000 if rng.random() < 0.3 else rng.randint(1, 10_000)
            arcs.append((a, b, shares[s], cost))
        targets = rng.sample(sinks, min(len(sinks), 4))
        cuts = sorted(rng.randint(0, shares[s]) for _ in targets[1:])
        parts = [b - a for a, b in zip([0] + cuts, cuts + [shares[s]])]
        for t, part in zip(targets, parts):
            if part:
                cost = 10_000 if rng.random() < 0.3 else rng.randint(1, 10_000)
                arcs.append((rng.choice(chain), t, part, cost))
                supply[t] -= part
    while len(arcs) < 8 * n:
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            arcs.append((a, b, rng.randint(1, 1000), rng.randint(1, 10_000)))
    rng.shuffle(arcs)
    arcs.sort(key=lambda arc: arc[0])  # as NETGEN writes them: grouped by tail
    write(path, f"NETGEN-style, {n} nodes, {len(arcs)} arcs, {k} sources and sinks, seed {seed}",
          supply, arcs)


def gridgen(path, n, seed):
    rng = random.Random(seed)
    side = max(2, round(math.sqrt(n)))
    node = lambda r, c: r * side + c
    source, sink = side * side, side * side + 1
    supply = [0] * (side * side + 2)
    supply[source], supply[sink] = 1000 * side, -1000 * side
    arcs = []
    for r in range(side):
        arcs.append((source, node(r, 0), 1000, 0))
        arcs.append((node(r, side - 1), sink, 1000, 0))
        for c in range(side):
            here = node(r, c)
            if c + 1 < side:
                arcs.append((here, node(r, c + 1), rng.randint(1000, 2000), rng.randint(1, 10_000)))
                arcs.append((node(r, c + 1), here, rng.randint(1, 1000), rng.randint(1, 10_000)))
            if r + 1 < side:
                arcs.append((here, node(r + 1, c), rng.randint(1, 1000), rng.randint(1, 10_000)))
                arcs.append((node(r + 1, c), here, rng.randint(1, 1000), rng.randint(1, 10_000)))
    cells = side * side
    while len(arcs) < 8 * cells:
        a, b = rng.randrange(cells), rng.randrange(cells)
        if a != b:
            arcs.append((a, b, rng.randint(1, 1000), rng.randint(1, 10_000)))
    arcs.sort(key=lambda arc: arc[0])
    write(path, f"GRIDGEN-style, {side}x{side} grid, {len(arcs)} arcs, seed {seed}", supply, arcs)


def goto(path, n, seed):
    rng = random.Random(seed)
    side = max(4, round(math.sqrt(n)))
    cells = side * side
    node = lambda r, c: (r % side) * side + (c % side)
    max_cap = 8 * side
    max_cost = 4 * cells
    arcs = []
    for r in range(side):
        for c in range(side):
            here = node(r, c)
            # The skeleton: wide and cheap, down the column and along the row (a torus).
            arcs.append((here, node(r + 1, c), max_cap, 1))
            arcs.append((here, node(r, c + 1), max_cap, 1))
            # Six jumps further along the row, dearer the further they go, narrow.
            for _ in range(6):
                jump = rng.randint(2, side - 1) if side > 3 else 2
                cost = rng.randint(1, max_cost // side) * jump
                arcs.append((here, node(r + rng.randint(-1, 1), c + jump), rng.randint(1, max_cap), cost))
    arcs = [a for a in arcs if a[0] != a[1]]
    supply = [0] * cells
    supply[0], supply[cells // 2 + side // 2] = 2 * max_cap, -2 * max_cap
    arcs.sort(key=lambda arc: arc[0])
    write(path, f"GOTO-style, {side}x{side} torus, {len(arcs)} arcs, seed {seed}", supply, arcs)


def transport(path, providers, recipients, k, seed):
    rng = random.Random(seed)
    supply = [0] * (providers + recipients + 1)
    sink = providers + recipients
    spare = [rng.randint(recipients // providers, 3 * recipients // providers + 1) for _ in range(providers)]
    arcs = []
    for r in range(recipients):
        supply[providers + r] = -1
        for p in rng.sample(range(providers), k):
            arcs.append((p, providers + r, 1, rng.randint(0, 1000)))
    for p in range(providers):
        supply[p] = spare[p]
        arcs.append((p, sink, spare[p], 0))
    supply[sink] = -(sum(spare) - recipients)
    assert supply[sink] <= 0, "providers must have supply to spare"
    arcs.sort(key=lambda arc: arc[0])
    write(path, f"transport with surplus sink, {providers} providers x {recipients} recipients, "
          f"{k} candidates, seed {seed}", supply, arcs)


FAMILIES = {
    "netgen-1k": lambda p: netgen(p, 1024, 21),
    "netgen-16k": lambda p: netgen(p, 16_384, 22),
    "netgen-131k": lambda p: netgen(p, 131_072, 23),
    "gridgen-1k": lambda p: gridgen(p, 1024, 24),
    "gridgen-16k": lambda p: gridgen(p, 16_384, 25),
    "gridgen-131k": lambda p: gridgen(p, 131_072, 26),
    "goto-1k": lambda p: goto(p, 1024, 27),
    "goto-16k": lambda p: goto(p, 16_384, 28),
    "goto-131k": lambda p: goto(p, 131_072, 29),
    "transport-100-2000-5": lambda p: transport(p, 100, 2000, 5, 30),
    "transport-500-25000-5": lambda p: transport(p, 500, 25_000, 5, 31),
    "transport-2000-100000-10": lambda p: transport(p, 2000, 100_000, 10, 32),
}

if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    only = sys.argv[3:] if len(sys.argv) > 2 and sys.argv[2] == "--only" else list(FAMILIES)
    # Names of the other generator's instances are skipped (bench/solvers.sh asks both).
    for name in (name for name in only if name in FAMILIES):
        path = out / f"{name}.min"
        if not path.exists():
            FAMILIES[name](path)
        print(path)
