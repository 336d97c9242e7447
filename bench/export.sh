#!/usr/bin/env bash
# Streamed export of one million transfers: time and peak memory of `counterpart export table
# transfers` as CSV and as XLSX, of `export bundle`, and of the API's CSV. Bars: ≤ 10 s and
# ≤ 100 MB peak RSS; the script fails (exit 1) when an export misses either or when the exported
# rows differ from those imported. Writes bench/RESULTS-export.md.  Usage: bench/export.sh [N]
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

# The same table through the web application's API (GET /api/v1/tables/transfers.csv), streamed
# to curl; the server's peak memory over its whole life.
$bin --db "$work/db" user add bench --role admin >/dev/null 2>&1
token=$($bin --db "$work/db" user token bench 2>/dev/null)
/usr/bin/time -f "%M" -o "$work/serve.rss" $bin --db "$work/db" serve --bind 127.0.0.1:18190 >/dev/null 2>&1 &
spid=$!
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:18190/api/v1/openapi.json >/dev/null && break; sleep 0.5; done
start=$(date +%s.%N)
curl -sf -H "Authorization: Bearer $token" http://127.0.0.1:18190/api/v1/tables/transfers.csv -o "$work/api.csv"
api_seconds=$(echo "$(date +%s.%N) - $start" | bc)
pkill -TERM -P "$spid" || true
wait "$spid" 2>/dev/null || true
api_mb=$(( $(tail -n 1 "$work/serve.rss") / 1024 ))
cmp "$work/api.csv" "$work/transfers.csv" >/dev/null && api_same="yes" || api_same="no"

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
| \`GET /api/v1/tables/transfers.csv\` (the server's peak over its life) | $(printf %.2f "$api_seconds") | $api_mb |

Bars: ≤ 10 s and ≤ 100 MB for every export of the million rows (checked by the script). The
bundle's transfers.csv holds the same rows as the one imported: $same. The API's CSV is
byte-identical to the CLI's: $api_same.
MD
cat bench/RESULTS-export.md

# The bars, asserted.
status=0
over() { awk -v s="$2" -v m="$3" 'BEGIN { exit !(s > 10 || m > 100) }' && { echo "bar missed: $1 took $2 s, $3 MB" >&2; status=1; } || true; }
for name in csv xlsx bundle; do IFS='|' read -r s m <<<"${!name}"; over "$name" "$s" "$m"; done
over api "$api_seconds" "$api_mb"
[ "$same" = yes ] && [ "$api_same" = yes ] || { echo "exported rows differ" >&2; status=1; }
exit $status
