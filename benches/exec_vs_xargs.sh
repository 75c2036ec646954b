#!/usr/bin/env bash
# The executor's overhead beside plain process spawning: 2,000 tasks of `true` run by
# `gateboard work --workers 4` (durable bookkeeping: claim, log, completion per task) next to
# `xargs -P 4` running the same 2,000 `sh -c true`, alternated in one run so the ratio compares
# numbers taken moments apart. Usage: bash benches/exec_vs_xargs.sh [TASKS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=${1:-2000}
rounds=${2:-3}
cargo build --release --quiet
gb=target/release/gateboard
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
graph="$scratch/true.toml"
for i in $(seq "$tasks"); do printf '[tasks.t%d]\ncmd = "true"\n' "$i"; done > "$graph"
now() { date +%s.%N; }
echo "| round | gateboard work tasks/s | xargs -P 4 tasks/s | ratio |"
echo "|---|---|---|---|"
for round in $(seq "$rounds"); do
  db="$scratch/board$round.db"
  "$gb" --db "$db" init > /dev/null
  "$gb" --db "$db" import "$graph" > /dev/null
  start=$(now)
  "$gb" --db "$db" work --workers 4 --exit-when-idle > /dev/null
  gb_secs=$(awk "BEGIN { print $(now) - $start }")
  done_count=$("$gb" --db "$db" ls --status done | wc -l)
  [ "$done_count" -eq "$tasks" ] || { echo "only $done_count of $tasks tasks done" >&2; exit 1; }
  start=$(now)
  seq "$tasks" | xargs -P 4 -I{} sh -c true
  xargs_secs=$(awk "BEGIN { print $(now) - $start }")
  awk -v r="$round" -v n="$tasks" -v g="$gb_secs" -v x="$xargs_secs" \
    'BEGIN { printf "| %d | %.0f | %.0f | %.2f |\n", r, n / g, n / x, x / g }'
done
