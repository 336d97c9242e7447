#!/usr/bin/env bash
# Costs at scale: N transfers (bench/make-transfer-bundle.py: a third each commit, disburse,
# spend, over N/3 projects of the demo's real pairs) imported into the demo's published frame,
# then `verify` (median of 3 runs), on SQLite at each size asked for and on PostgreSQL at those
# up to 1M; then the first and second request of the main pages after the server starts (cold,
# warm). Every time is wall clock; peak RSS from /usr/bin/time. Writes bench/RESULTS-scale.md.
#   Usage: bench/scale.sh [SIZES...]   (default: 1000000; the issue's run: 1000000 10000000)
# PostgreSQL: COUNTERPART_TEST_PG (default postgres://postgres@127.0.0.1:5432/test), in a schema
# of its own, dropped afterwards. Not run in CI: 10M takes long.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000000}")
pg="${COUNTERPART_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
schema="bench_scale_$$"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; psql "$pg" -X -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
cargo build --release --quiet -p counterpart-cli
bin=target/release/counterpart

# Seconds and peak RSS (MB) of a command, as "S MB"; its output goes to $work/out.
timed() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1
  awk '{printf "%s %.0f", $1, $2 / 1024}' "$work/time"
}

# The median of three runs of verify: "S MB".
verify3() {
  for _ in 1 2 3; do timed "$bin" "$@" verify; echo; done | sort -n | sed -n 2p
}

# "STATUS SECONDS" as milliseconds, with the status when it is not 200.
ms() {
  local t
  t=$(printf '%.1f' "$(echo "${1#* } * 1000" | bc)")
  if [ "${1% *}" = 200 ]; then echo "$t"; else echo "${t}_(HTTP_${1% *})"; fi
}

# First and second GET of each page right after the server starts, in ms: "path cold warm".
pages() {
  local port=18190
  "$bin" "$@" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null && break; sleep 1; done
  for path in / /providers/shanghai /recipients/kashgar /assessment /api/v1/compliance; do
    local cold warm
    cold=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$path")
    warm=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$path")
    # A page that fails (the server gives up on a request after 60 s) shows its status.
    printf '%s %s %s\n' "$path" "$(ms "$cold")" "$(ms "$warm")"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

rows=""
page_rows=""
for n in "${sizes[@]}"; do
  python3 bench/make-transfer-bundle.py "$n" "$work/bundle-$n" >&2
  backends=(sqlite)
  # PostgreSQL at the sizes up to a million (its bulk load is the slow part).
  [ "$n" -le 1000000 ] && backends+=(postgresql)
  for backend in "${backends[@]}"; do
    if [ "$backend" = sqlite ]; then
      target=(--db "$work/scale-$n.db")
    else
      psql "$pg" -X -q -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
      target=(--database "$pg?options=-c%20search_path%3D$schema")
    fi
    "$bin" "${target[@]}" import data/demo/xinjiang-2010 >/dev/null 2>&1
    sync
    read -r import_s import_mb <<<"$(timed "$bin" "${target[@]}" import "$work/bundle-$n")"
    grep -q '^imported' <(tr '\r' '\n' <"$work/out") || { cat "$work/out" >&2; exit 1; }
    read -r verify_s verify_mb <<<"$(verify3 "${target[@]}")"
    grep -q '^ledger verified' "$work/out" || { cat "$work/out" >&2; exit 1; }
    rate=$(echo "$n / $verify_s" | bc)
    rows+="| $backend | $n | $import_s | $import_mb | $verify_s | $verify_mb | $rate |"$'\n'
    pages "${target[@]}" >"$work/pages"
    while read -r path cold warm; do
      page_rows+="| $backend | $n | $path | ${cold//_/ } | ${warm//_/ } |"$'\n'
    done <"$work/pages"
    if [ "$backend" = sqlite ]; then rm -f "$work/scale-$n.db"*; fi
  done
  rm -rf "$work/bundle-$n"
done

cat > bench/RESULTS-scale.md <<MD
# Costs at scale

Measured by \`bench/scale.sh ${sizes[*]}\` at commit $(git rev-parse --short HEAD) on $(nproc) cores,
$(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%Y-%m-%d), release build. N transfers from
\`bench/make-transfer-bundle.py N\` (simulated: a third each commit, disburse, spend over N/3
projects; three accounts a project, so about as many accounts as transfers) imported into the
demo's published frame. Wall-clock seconds; peak RSS from \`/usr/bin/time\`. \`verify\` is the
median of three runs; entries/s is N over that time.

| backend | transfers | import (s) | import RSS (MB) | verify (s) | verify RSS (MB) | verify entries/s |
|---|---:|---:|---:|---:|---:|---:|
$rows
Bars (issue 23): verify peak RSS ≤ 256 MB at any size and ≥ 1,000,000 entries/s on SQLite;
import ≤ 512 MB for 10M transfers and ≥ 100,000 transfers/s.

## Pages right after the server starts

The first request (cold) and the second (warm) of each page, in ms, one client on loopback.
Bar (issue 23): p95 ≤ 100 ms for every page, the first request after a write included.

| backend | transfers | page | cold (ms) | warm (ms) |
|---|---:|---|---:|---:|
$page_rows
MD
cat bench/RESULTS-scale.md
