#!/usr/bin/env bash
# Makes the screenshots in this folder from the real TUI: runs gateboard in tmux on a fresh
# default board (which loads the demo DAG and starts four workers), drives it with keys, and
# turns each captured screen (ANSI colours included) into an SVG with the `rich` package.
# Needs: tmux, python3 with rich (pip install rich). Run from anywhere: bash screenshots/make.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cargo build --release --manifest-path "$repo/Cargo.toml" >/dev/null
bin="$repo/target/release/gateboard"
home="$(mktemp -d)"
session="gateboard-shots-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$home"' EXIT

tmux new-session -d -s "$session" -x 110 -y 34 \
  "env -u GATEBOARD_DB -u NO_COLOR HOME=$home XDG_DATA_HOME=$home/data $bin"

shoot() { # name: capture the pane with colours and render it as SVG
  tmux capture-pane -e -p -t "$session" > "$home/$1.ansi"
  python3 - "$home/$1.ansi" "$here/$1.svg" <<'PY'
import os, sys
from rich.console import Console
from rich.text import Text
console = Console(record=True, width=110, file=open(os.devnull, "w"), force_terminal=True, color_system="truecolor")
console.print(Text.from_ansi(open(sys.argv[1], encoding="utf-8").read()), end="")
console.save_svg(sys.argv[2], title="gateboard")
PY
  echo "wrote $here/$1.svg"
}

sleep 4
shoot board
tmux send-keys -t "$session" l l Enter; sleep 0.7
shoot detail
# Esc and the next key sent together read as Alt+key, so each Esc gets a moment to itself.
tmux send-keys -t "$session" Escape; sleep 0.3
# The tree of a task still waiting in todo: what holds it back, and its critical path.
tmux send-keys -t "$session" h h G t; sleep 0.7
shoot tree
tmux send-keys -t "$session" Escape; sleep 0.3
# The buggy writer marks gated children ready: the gate fires on screen (claim_rejected).
tmux send-keys -t "$session" R; sleep 9
shoot race
tmux send-keys -t "$session" '?'; sleep 0.5
shoot help
tmux send-keys -t "$session" Escape; sleep 0.3
tmux send-keys -t "$session" q
