#!/usr/bin/env bash
# Streamed export of one million transfers: time and peak memory of `counterpart export table
# transfers` as CSV and as XLSX, and of `export bundle`. Bars: ≤ 10 s and ≤ 100 MB peak RSS.
# Writes bench/RESULTS-export.md.  Usage: bench/export.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
bin=target/release/counterpart

python3 bench/make-transfer-bundle.py "$n" "$work/bundle" >&2
$bin --db "$work/db" import data/demo/xinjiang-2010 2>/dev/null
$bin --db "$work/db" import "$work/bundle" 2>/dev/null

measure() { # name, then the command; prints "seconds|MB"
  local name="$1"; shift
  /usr/bin/time -f "%e|%M" -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.log"
  awk -F'|' '{ printf "%s|%d", $1, $2 / 1024 }' "$work/$name.time"
}
csv=$(measure csv $bin --db "$work/db" export table transfers --out "$work/transfers.csv")
xlsx=$(measure xlsx $bin --db "$work/db" export table transfers --format xlsx --out "$work/transfers.xlsx")
bundle=$(measure bundle $bin --db "$work/db" export bundle --out "$work/out")
rows=$(($(wc -l < "$work/transfers.csv") - 1))
want=$(($(wc -l < "$work/bundle/transfers.csv") - 1))
[ "$rows" -eq "$want" ] || { echo "exported $rows rows, expected $want" >&2; exit 1; }
cmp <(sort "$work/bundle/transfers.csv") <(sort "$work/out/transfers.csv") >/dev/null \
  && same="yes" || same="no"

row() { IFS='|' read -r s m <<<"$2"; echo "| $1 | $s | $m |"; }
cat > bench/RESULTS-export.md <<MD
# Streamed exports

Measured by \`bench/export.sh $n\` on $(nproc) cores, $(date -u +%Y-%m-%d): a SQLite database
holding the demo's published frame and $rows transfers (with their projects), exported by reading
one row at a time from one snapshot.

| export | seconds | peak RSS (MB) |
|---|---:|---:|
$(row "\`export table transfers\` (CSV, $rows rows)" "$csv")
$(row "\`export table transfers --format xlsx\`" "$xlsx")
$(row "\`export bundle\` (every table)" "$bundle")

Bars: ≤ 10 s and ≤ 100 MB for the million-row CSV. The bundle's transfers.csv holds the same
rows as the one imported: $same.
MD
cat bench/RESULTS-export.md
