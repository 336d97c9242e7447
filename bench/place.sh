#!/usr/bin/env bash
# The placement benchmark (issue 6): a round of 87,500 people into 30,000 posts with 1-3 seats
# and about 20-50 candidate posts each, end to end from the database — load, model, solve,
# certificate — on the demo database (SQLite) with the round imported as a CSV bundle.
# Writes bench/RESULTS-place.md. Usage: bench/place.sh [PEOPLE] [POSTS]
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-87500}
posts=${2:-30000}
cargo build --release --quiet -p counterpart-cli --bin counterpart
bin=$PWD/target/release/counterpart
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$bin" demo --no-serve >/dev/null)
"$bin" --db "$work/counterpart.db" export bundle --out "$work/demo" >/dev/null
shape=$(python3 bench/make-round.py "$work/demo/pairs.csv" "$work/round" "$people" "$posts")
"$bin" --db "$work/counterpart.db" import "$work/round" >/dev/null
runs=()
for _ in 1 2 3; do
  "$bin" --db "$work/counterpart.db" place --round 2030 --limit 0 --format json >/dev/null 2>"$work/err"
  runs+=("$(grep '^placed in' "$work/err")")
done
median=$(printf '%s\n' "${runs[@]}" | sort -t' ' -k3 -n | sed -n 2p)
cat > bench/RESULTS-place.md <<MD
# Placement round benchmark

Measured by \`bench/place.sh $people $posts\` on $(nproc --all) cores at commit $(git rev-parse --short HEAD),
$(date -u +%Y-%m-%d), release build, SQLite, median of 3 by total time. The round: $shape
(generated, simulated), imported into the demo database; \`counterpart place --round 2030\`.
Bar (issue 6): ≤ 5 s end to end from the database, with the solver's share reported.

Median run: $median

All runs:
$(printf -- '- %s\n' "${runs[@]}")
MD
cat bench/RESULTS-place.md
