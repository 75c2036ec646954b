#!/usr/bin/env bash
# gateboard's pool beside Hermes Agent's own kanban code, on the same workloads in one run:
# TASKS flat and dag tasks (the shapes of `gateboard bench`) drained by 4 workers, zero-length
# work, durable commits on both sides. Hermes runs as 4 processes calling its `claim_task` and
# `complete_task` (benches/hermes_drain.py); gateboard as `gateboard bench --workers 4`.
# Rounds alternate so each ratio compares numbers taken moments apart. Installs hermes-agent
# 0.19.0 from PyPI into target/tmp on first use, as the interop tests do.
# Usage: bash benches/vs_hermes.sh [TASKS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=${1:-1000}
rounds=${2:-2}
cargo build --release --quiet
gb=target/release/gateboard
site=target/tmp/hermes-agent-0.19.0
if [ ! -d "$site/hermes_cli" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$site" hermes-agent==0.19.0
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "| round | workload | Hermes tasks/s | gateboard tasks/s | ratio |"
echo "|---|---|---|---|---|"
for round in $(seq "$rounds"); do
  rm -rf "$scratch"/*
  declare -A hermes
  for shape in flat dag; do
    hermes[$shape]=$(HOME="$scratch" HERMES_HOME="$scratch" PYTHONPATH="$site" \
      python3 benches/hermes_drain.py "$scratch/hermes-$shape.db" "$shape" "$tasks" 4 |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["rate"])')
  done
  "$gb" bench --workers 4 --tasks "$tasks" --dir "$scratch" |
    awk -F'|' -v r="$round" -v hf="${hermes[flat]}" -v hd="${hermes[dag]}" '
      $2 ~ /flat|dag/ {
        gsub(/ /, "", $2); h = ($2 == "flat") ? hf : hd
        printf "| %d | %s | %.0f | %.0f | %.1f |\n", r, $2, h, $4, $4 / h
      }'
done
