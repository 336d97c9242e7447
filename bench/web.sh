#!/usr/bin/env bash
# The web application under load, on SQLite and on PostgreSQL: the demo built at --scale N
# (default 10: ten times the projects, each ten times smaller, with their transfers), every main
# page's latency (p50 / p95 over R requests each, one after another, signed in where needed),
# and the summary endpoint's throughput with wrk (2 threads, 32 connections, 10 s) on loopback.
# Writes bench/RESULTS-web.md.  Usage: bench/web.sh [SCALE] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-10}"
requests="${2:-100}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
bin=target/release/counterpart
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
pg="${COUNTERPART_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}"
schema="bench_web_$$"

rows=""
for backend in sqlite postgresql; do
  if [ "$backend" = sqlite ]; then
    target=(--db "$work/web.db")
  else
    psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
    target=(--database "$pg?options=-c%20search_path%3D$schema")
  fi
  start=$(date +%s.%N)
  "$bin" "${target[@]}" demo --scale "$scale" --no-serve >"$work/demo-$backend.log" 2>&1
  built=$(echo "$(date +%s.%N) - $start" | bc)
  port=18180
  "$bin" "${target[@]}" serve --bind "127.0.0.1:$port" >"$work/serve-$backend.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >/dev/null && break; sleep 1; done
  # The pairing page is computed once per process in the background: wait for it.
  curl -sf "http://127.0.0.1:$port/pairing" >/dev/null
  python3 bench/web-latency.py "http://127.0.0.1:$port" "$requests" >"$work/latency-$backend.json"
  wrk -t2 -c32 -d10s "http://127.0.0.1:$port/api/v1/summary" >"$work/wrk-$backend.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$backend.txt")
  errors=$(grep -c "Non-2xx\|Socket errors" "$work/wrk-$backend.txt" || true)
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  transfers=$("$bin" "${target[@]}" export table transfers | tail -n +2 | wc -l)
  projects=$("$bin" "${target[@]}" export table projects | tail -n +2 | wc -l)
  worst=$(python3 -c "import json,sys; r=[json.loads(l) for l in open('$work/latency-$backend.json')]; w=max(r,key=lambda x:x['p95']); print(f\"{w['p95']} ms ({w['path']})\")")
  rows+="| $backend | $projects | $transfers | $built | $worst | $rps | $errors |"$'\n'
  table=$(python3 -c "
import json
for l in open('$work/latency-$backend.json'):
    r = json.loads(l)
    print(f\"| {r['path']} | {r['p50']} | {r['p95']} | {r['max']} |\")")
  eval "table_$backend=\"\$table\""
  if [ "$backend" = postgresql ]; then psql "$pg" -qc "DROP SCHEMA $schema CASCADE" >/dev/null; fi
done

cat > bench/RESULTS-web.md <<MD
# The web application under load

Measured by \`bench/web.sh $scale $requests\` on $(nproc) cores, $(date -u +%Y-%m-%d), release build;
client and server on the same machine (loopback). The demo built with \`--scale $scale\`: $scale× the
projects, each $scale× smaller (the same money), with their transfers — simulated records.
Latency: $requests requests per path, one after another on one keep-alive connection, after one
warm-up request (reports and charts are computed once and kept until the records change).
Throughput: \`wrk -t2 -c32 -d10s /api/v1/summary\`.

| backend | projects | transfers | demo built (s) | worst page p95 | summary requests/s | wrk error lines |
|---|---:|---:|---:|---|---:|---:|
$rows
Bars (issue 5): every page's p95 ≤ 100 ms; the summary endpoint ≥ 2,000 requests/s.

## SQLite, per path (ms)

| path | p50 | p95 | max |
|---|---:|---:|---:|
$table_sqlite

## PostgreSQL, per path (ms)

| path | p50 | p95 | max |
|---|---:|---:|---:|
$table_postgresql
MD
cat bench/RESULTS-web.md
