#!/usr/bin/env bash
# The solver benchmark: generate DIMACS instances, solve each with `counterpart solve` and with
# the peers (OR-Tools, SciPy, lap — installed from PyPI into bench/.venv), check that every
# optimum agrees, and write bench/RESULTS.md with median times (of 3) and ratios.
# Times: ours is the solver's own "solved in" (solve plus certificate check; parsing excluded,
# and for a complete assignment the cost matrix built from the parsed arcs, as the peers' input
# arrays are); the peers' is their solve call (array building excluded). Single-threaded.
# Memory: ours is the peak RSS of the whole `counterpart solve` process (file text and parsed
# problem included), the largest of the three runs.
# LEMON 1.3.1's NetworkSimplex (Debian's liblemon-utils, installed here when missing) runs on
# every `p min` file through its dimacs-solver, timed by its own report (solver set-up and run).
# Usage: bench/solvers.sh [INSTANCE ...]   (default: all of bench/make-instances.py and
# bench/make-families.py)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "ortools==9.15.6755" "scipy==1.17.1" "lap==0.5.13" numpy
fi
command -v dimacs-solver >/dev/null || { apt-get update -qq && apt-get install -y -qq liblemon-utils >/dev/null; }
cargo build --release --quiet -p counterpart-cli --bin counterpart
instances=bench/instances
files=$(python3 bench/make-instances.py "$instances" ${1:+--only "$@"}
        python3 bench/make-families.py "$instances" ${1:+--only "$@"})
cores=$(nproc --all)
commit=$(git rev-parse --short HEAD)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
rows=""
status=0
for f in $files; do
  name=$(basename "$f"); name=${name%.*}
  ours_cost="" ; times=() ; peak=0
  for _ in 1 2 3; do
    out=$(/usr/bin/time -f "%M" -o "$f.rss" target/release/counterpart solve --quiet "$f" 2>"$f.err")
    ours_cost=${out#s }
    times+=("$(sed -n 's/^solved in \([0-9.]*\) s.*/\1/p' "$f.err")")
    kb=$(tail -n 1 "$f.rss"); [ "$kb" -gt "$peak" ] && peak=$kb
  done
  ours=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  peak_mb=$((peak / 1024))
  method=$(sed -n 's/^solved in [0-9.]* s with \(.*\), certificate checked/\1/p' "$f.err")
  peers=$("$venv/bin/python" bench/peers.py "$f" --repeat 3)
  line="| $name | $method | $ours | $peak_mb"
  while read -r json; do
    solver=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["solver"])' "$json")
    cost=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cost"])' "$json")
    raw=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$json")
    secs=$(python3 -c "print('%.4g' % $raw)")
    ratio=$(python3 -c "print('%.2f' % ($ours / max($raw, 1e-9)))")
    agree="✓"; [ "$cost" = "$ours_cost" ] || { agree="✗ $cost"; status=1; }
    line="$line | $solver $secs s (×$ratio) $agree"
  done <<<"$peers"
  rows="$rows$line |"$'\n'
  echo "$line |" >&2
done
# A run over some instances keeps the other instances' rows of the last full run.
if [ $# -gt 0 ] && [ -f bench/RESULTS.md ]; then
  kept=$(python3 - "$@" <<'PY'
import sys
names = set(sys.argv[1:])
for line in open("bench/RESULTS.md"):
    cells = line.split("|")
    if line.startswith("| ") and len(cells) > 2 and cells[1].strip() not in names | {"instance", "---"}:
        print(line, end="")
PY
)
  [ -n "$kept" ] && rows="$kept"$'\n'"$rows"
fi
cat > bench/RESULTS.md <<MD
# Solver benchmark

Measured by \`bench/solvers.sh\` on $cores cores at commit $commit, $(date -u +%Y-%m-%d), single-threaded, median of 3
(rows kept from an earlier run when only some instances were re-run: see git history).
"ours" is \`counterpart solve\`'s own time: solve plus certificate check (parsing excluded),
and its peak RSS (the whole process: file text, parsed problem, solver); each peer's time is its
solve call. "×r" is ours divided by the peer's (below 1: ours is
faster); ✓ means the peer found the same optimum.

| instance | our method | ours (s) | ours peak (MB) | peers |
|---|---|---:|---:|---|
$rows

$(python3 bench/ratios.py <<<"$rows")
MD
cat bench/RESULTS.md
exit $status
