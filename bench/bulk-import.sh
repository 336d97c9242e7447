#!/usr/bin/env bash
# Bulk import of historical transfers into SQLite, with every check and the hash chain kept,
# side by side with a plain baseline: the same transfers.csv loaded by the sqlite3 tool's .import
# into a bare table. Writes bench/RESULTS-bulk-import.md.  Usage: bench/bulk-import.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
cargo build --release --quiet
bin=target/release/counterpart

python3 bench/make-transfer-bundle.py "$n" "$work/bundle" >&2
# The base: the published frame of the demo (program, regions, pairs), no money yet.
$bin --db "$work/ours.db" import data/demo/xinjiang-2010 2>/dev/null
cp "$work/ours.db" "$work/base.db"

start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss" $bin --db "$work/ours.db" import "$work/bundle" 2>"$work/import.log"
end=$(date +%s.%N)
ours=$(echo "$end - $start" | bc)
rss_kb=$(cat "$work/rss")
$bin --db "$work/ours.db" verify >/dev/null

start=$(date +%s.%N)
sqlite3 "$work/bare.db" <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
.mode csv
.import $work/bundle/transfers.csv transfers_bare
SQL
end=$(date +%s.%N)
base=$(echo "$end - $start" | bc)

rate=$(echo "$n / $ours" | bc)
ratio=$(echo "scale=2; $ours / $base" | bc)
cat > bench/RESULTS-bulk-import.md <<MD
# Bulk import of transfers into SQLite

Measured by \`bench/bulk-import.sh $n\` on $(nproc) cores, $(date -u +%Y-%m-%d).
Ours: \`counterpart import\` of a bundle with $((n / 3)) projects and $n transfers into a database
holding the demo's published frame — CSV parsing, every field and reference check, booking
through the double-entry ledger (no overdraft, hash chain per office), one transaction. Baseline:
the sqlite3 tool's \`.import\` of the same transfers.csv into a bare table (no checks, no
projects, no ledger).

| | seconds | transfers/s |
|---|---:|---:|
| counterpart import | $ours | $rate |
| sqlite3 .import (bare table) | $base | $(echo "$n / $base" | bc) |

Ratio ours / baseline: **$ratio** (bar: ≤ 3). Peak RSS of the import: $((rss_kb / 1024)) MB.
\`counterpart verify\` on the result: clean.
MD
cat bench/RESULTS-bulk-import.md
