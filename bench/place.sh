#!/usr/bin/env bash
# The placement benchmark (issue 6): a round of 87,500 people into 30,000 posts with 1-3 seats
# and about 20-50 candidate posts each, end to end from the database — load, model, solve,
# certificate — on SQLite: the demo's frame and the round imported as a CSV bundle.
# Writes bench/RESULTS-place.md. Usage: bench/place.sh [PEOPLE] [POSTS]
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-87500}
posts=${2:-30000}
cargo build --release --quiet -p counterpart-cli --bin counterpart
bin=$PWD/target/release/counterpart
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The demo's frame (program, regions, pairs, statistics) without its people, then the round.
(cd "$work" && "$bin" demo --no-serve >/dev/null)
"$bin" --db "$work/counterpart.db" export bundle --out "$work/demo" >/dev/null
mkdir "$work/round"
for table in program quota_periods regions region_tags provider_rates pairs indicators facts targets; do
  [ -f "$work/demo/$table.csv" ] && cp "$work/demo/$table.csv" "$work/round/"
done
shape=$(python3 bench/make-round.py "$work/demo/pairs.csv" "$work/round" "$people" "$posts")
"$bin" --db "$work/round.db" import "$work/round" >/dev/null
runs=()
for _ in 1 2 3; do
  "$bin" --db "$work/round.db" place --round 2030 --limit 0 --format json >/dev/null 2>"$work/err"
  runs+=("$(grep '^placed in' "$work/err")")
done
median=$(printf '%s\n' "${runs[@]}" | sort -t' ' -k3 -n | sed -n 2p)
cat > bench/RESULTS-place.md <<MD
# Placement round benchmark

Measured by \`bench/place.sh $people $posts\` on $(nproc --all) cores at commit $(git rev-parse --short HEAD),
$(date -u +%Y-%m-%d), release build, SQLite, median of 3 by total time. The round: $shape
(generated, simulated), imported with the demo's frame (program, regions, pairs) into a fresh
database; \`counterpart place --round 2030\`.
Bar (issue 6): ≤ 5 s end to end from the database, with the solver's share reported.

Median run: $median

All runs:
$(printf -- '- %s\n' "${runs[@]}")
MD
cat bench/RESULTS-place.md
