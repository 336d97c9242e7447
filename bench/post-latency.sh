#!/usr/bin/env bash
# Single-transfer posting latency (p50, p99) on SQLite and PostgreSQL under 19 concurrent
# provider offices, each posting commitments one at a time through the ledger. Writes
# bench/RESULTS-post-latency.md.  Usage: bench/post-latency.sh [PER_OFFICE]
# PostgreSQL: COUNTERPART_TEST_PG (default postgres://postgres@127.0.0.1:5432/test), in a
# schema of its own, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
per="${1:-300}"
pg="${COUNTERPART_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
schema="bench_latency_$$"
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql "$pg" -X -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
cargo build --release --quiet -p counterpart-cli --bin counterpart --example post_latency
bin=target/release/counterpart
lat=target/release/examples/post_latency

$bin --db "$work/bench.db" demo --no-serve >/dev/null 2>&1
sqlite=$($lat --db "$work/bench.db" --per-office "$per")
psql "$pg" -X -q -c "CREATE SCHEMA $schema" >/dev/null
url="$pg?options=-c%20search_path%3D$schema"
$bin --database "$url" demo --no-serve >/dev/null 2>&1
postgres=$($lat --database "$url" --per-office "$per")

row() { read -r backend offices n secs p50 p99 max <<<"$1"; echo "| $backend | $offices | $n | $secs | $(echo "$n / $secs" | bc) | $p50 | $p99 | $max |"; }
cat > bench/RESULTS-post-latency.md <<MD
# Posting latency under 19 concurrent offices

Measured by \`bench/post-latency.sh $per\` on $(nproc) cores, $(date -u +%Y-%m-%d), release build.
Each of 19 provider offices posts $per commitments one after another through
\`counterpart_app::ledger::post\` — one transaction each: lock the office's chain head and the
accounts, check every ledger rule, write the transfer, its journal entry, the balances and the
chain head — into the demo's database (SQLite: WAL, synchronous=FULL; PostgreSQL: local
server, fsync on). Latency is per posting, from call to acknowledged commit.

| backend | offices | postings | seconds | postings/s | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|---:|---:|---:|
$(row "$sqlite")
$(row "$postgres")
MD
cat bench/RESULTS-post-latency.md
