#!/usr/bin/env bash
# Warm re-solve of the network simplex after one pair is forbidden or fixed, on program-size
# transport problems (500 providers × 5,000 recipients). Writes bench/RESULTS-resolve.md.
# Usage: bench/resolve.sh [CHANGES]
set -euo pipefail
cd "$(dirname "$0")/.."
changes="${1:-100}"
cargo build --release --quiet -p counterpart-cli --example resolve_latency
rows=""
for name in transport-500-5000-50 transport-500-5000-all; do
  f=$(python3 bench/make-instances.py bench/instances --only "$name")
  read -r cold setup p50 p99 max pivots <<<"$(target/release/examples/resolve_latency "$f" --changes "$changes")"
  rows="$rows| $name | $cold | $setup | $p50 | $p99 | $max | $pivots |"$'\n'
done
cat > bench/RESULTS-resolve.md <<MD
# Warm re-solve after fixing or forbidding one pair

Measured by \`bench/resolve.sh $changes\` on $(nproc --all) cores at commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d), release build.
Each change alternately forbids an arc that carries flow or fixes one that does not (by a
prohibitive or a very low cost), re-solves from the previous optimum, checks the certificate,
and restores the cost. Timed: the cost change and the re-solve, to the optimum's cost,
potentials and flows as the solver holds them (\`NetworkSimplex::optimize\`; an owned copy of
the flows, \`to_solution\`, is made untimed for the certificate check). Setup: the one-time
preparation for warm re-solves after the cold solve (the proof of the optimum and each node's
arcs, \`prepare_warm\`). Bar (issue 3): ≤ 5 ms.

| instance | cold solve (ms) | setup (ms) | warm p50 (ms) | warm p99 (ms) | warm max (ms) | pivots per re-solve |
|---|---:|---:|---:|---:|---:|---:|
$rows
MD
cat bench/RESULTS-resolve.md
