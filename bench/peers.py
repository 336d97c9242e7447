#!/usr/bin/env python3
"""Solve a DIMACS `p asn` (or `p min`: OR-Tools SimpleMinCostFlow) file with the peer solvers, timing only the solve (parsing and array
building excluded), and print one JSON line per solver: {"solver", "cost", "seconds"}.

Peers: OR-Tools LinearSumAssignment and SimpleMinCostFlow, LEMON's NetworkSimplex (`p min`
only, through Debian's `dimacs-solver`), SciPy's
min_weight_full_bipartite_matching (sparse) and linear_sum_assignment (dense, only when the
matrix is complete), lap.lapjv (dense, complete matrices only).
Usage: peers.py FILE [--repeat 3]"""
import json
import statistics
import sys
import time

import numpy as np


def read_asn(path):
    left, src, dst, cost = [], [], [], []
    nodes = 0
    with open(path) as f:
        for line in f:
            if line.startswith("a "):
                _, s, d, c = line.split()
                src.append(int(s))
                dst.append(int(d))
                cost.append(int(c))
            elif line.startswith("n "):
                left.append(int(line.split()[1]))
            elif line.startswith("p "):
                nodes = int(line.split()[2])
    left_index = {v: i for i, v in enumerate(sorted(left))}
    right = sorted(set(range(1, nodes + 1)) - set(left))
    right_index = {v: i for i, v in enumerate(right)}
    s = np.array([left_index[v] for v in src], dtype=np.int64)
    d = np.array([right_index[v] for v in dst], dtype=np.int64)
    return len(left), len(right), s, d, np.array(cost, dtype=np.int64)


def read_min(path):
    supply, src, dst, cap, cost = {}, [], [], [], []
    nodes = 0
    with open(path) as f:
        for line in f:
            if line.startswith("a "):
                _, a, b, lo, hi, c = line.split()
                assert lo == "0", "lower bounds are not used by the benchmark's instances"
                src.append(int(a) - 1)
                dst.append(int(b) - 1)
                cap.append(int(hi))
                cost.append(int(c))
            elif line.startswith("n "):
                _, v, b = line.split()
                supply[int(v) - 1] = int(b)
            elif line.startswith("p "):
                nodes = int(line.split()[2])
    b = np.zeros(nodes, dtype=np.int64)
    for v, x in supply.items():
        b[v] = x
    arr = lambda xs: np.array(xs, dtype=np.int64)
    return nodes, b, arr(src), arr(dst), arr(cap), arr(cost)


def min_cost_flow_peers(path, repeat):
    from ortools.graph.python import min_cost_flow

    nodes, b, s, d, cap, c = read_min(path)

    def ortools_mcf():
        f = min_cost_flow.SimpleMinCostFlow()
        f.add_arcs_with_capacity_and_unit_cost(s, d, cap, c)
        f.set_nodes_supplies(np.arange(nodes, dtype=np.int64), b)
        status = f.solve()
        assert status == f.OPTIMAL, status
        return f.optimal_cost()

    return [("ortools-SimpleMinCostFlow", *timed(ortools_mcf, repeat)), lemon(path, repeat, b, cap, c)]


def lemon(path, repeat, b, cap, c):
    """LEMON 1.3.1's NetworkSimplex through its `dimacs-solver` (Debian liblemon-utils): the
    tool's own times for building the solver and running it, parse excluded. At its best: in
    32-bit `int` (its default and fastest) when every supply, capacity and the largest possible
    total cost fit; otherwise in `long long`, and in `int` too when the capacities and supplies
    fit, kept (as the faster) only if it finds the same optimum as `long long`."""
    import subprocess

    bound = 2**31 - 1
    big = int(np.abs(b).sum()) // 2 * int(np.abs(c).max(initial=0))
    small = max(int(cap.max(initial=0)), int(np.abs(b).max(initial=0))) < bound

    def run(kind):
        times, cost = [], None
        for _ in range(repeat):
            # The tool writes its report (times, the optimum) to stderr, the flow to stdout.
            out = subprocess.run(["dimacs-solver", kind, path], capture_output=True,
                                 text=True, check=True).stderr
            seconds = 0.0
            for line in out.splitlines():
                if line.startswith(("Setup NetworkSimplex", "Run NetworkSimplex")):
                    seconds += float(line.rsplit("real: ", 1)[1].rstrip("s"))
                elif line.startswith("Min flow cost:"):
                    cost = int(line.split(":")[1])
            times.append(seconds)
        return (f"lemon-NetworkSimplex{kind}", cost, statistics.median(times))

    if small and big < bound:
        return run("-int")
    wide = run("-long")
    if small:
        narrow = run("-int")
        if narrow[1] == wide[1] and narrow[2] < wide[2]:
            return narrow
    return wide


def timed(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, statistics.median(times)


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    if path.endswith(".min"):
        for name, cost, seconds in min_cost_flow_peers(path, repeat):
            print(json.dumps({"solver": name, "cost": int(cost), "seconds": seconds}))
        return
    n_left, n_right, s, d, c = read_asn(path)
    complete = len(c) == n_left * n_right
    out = []

    from ortools.graph.python import linear_sum_assignment, min_cost_flow

    def ortools_lsa():
        a = linear_sum_assignment.SimpleLinearSumAssignment()
        a.add_arcs_with_cost(s, d, c)
        status = a.solve()
        assert status == a.OPTIMAL, status
        return a.optimal_cost()

    if n_left == n_right:
        out.append(("ortools-LinearSumAssignment", *timed(ortools_lsa, repeat)))

    def ortools_mcf():
        f = min_cost_flow.SimpleMinCostFlow()
        n = n_left + n_right
        f.add_arcs_with_capacity_and_unit_cost(s, n_left + d, np.ones(len(c), dtype=np.int64), c)
        sink = n
        f.add_arcs_with_capacity_and_unit_cost(
            np.arange(n_left, n, dtype=np.int64), np.full(n_right, sink, dtype=np.int64),
            np.ones(n_right, dtype=np.int64), np.zeros(n_right, dtype=np.int64))
        supplies = np.zeros(n + 1, dtype=np.int64)
        supplies[:n_left] = 1
        supplies[sink] = -n_left
        f.set_nodes_supplies(np.arange(n + 1, dtype=np.int64), supplies)
        status = f.solve()
        assert status == f.OPTIMAL, status
        return f.optimal_cost()

    out.append(("ortools-SimpleMinCostFlow", *timed(ortools_mcf, repeat)))

    from scipy.optimize import linear_sum_assignment as scipy_lsa
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    # SciPy treats stored zeros as missing edges: shift every cost by one and take it back.
    def scipy_sparse():
        m = csr_matrix((c + 1, (s, d)), shape=(n_left, n_right))
        rows, cols = min_weight_full_bipartite_matching(m)
        return int(np.asarray(m[rows, cols]).sum()) - n_left

    out.append(("scipy-min_weight_full_bipartite_matching", *timed(scipy_sparse, repeat)))

    if complete:
        dense = np.zeros((n_left, n_right), dtype=np.int64)
        dense[s, d] = c

        def scipy_dense():
            rows, cols = scipy_lsa(dense)
            return int(dense[rows, cols].sum())

        out.append(("scipy-linear_sum_assignment", *timed(scipy_dense, repeat)))
        if n_left == n_right:
            import lap

            dense_f = dense.astype(np.float64)

            def lapjv():
                cost, x, y = lap.lapjv(dense_f)
                return int(round(cost))

            out.append(("lap-lapjv", *timed(lapjv, repeat)))

    for name, cost, seconds in out:
        print(json.dumps({"solver": name, "cost": int(cost), "seconds": seconds}))


if __name__ == "__main__":
    main()
