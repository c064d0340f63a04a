#!/usr/bin/env bash
# Regenerates the PNG pictures in screenshots/ from the real binary: tdb runs in a private
# tmux server, keys are sent to it, the screen is captured with its colours
# (`capture-pane -e`) and rendered to PNG by render.py.
#
#   screenshots/make.sh
#   TDB=target/debug/tdb screenshots/make.sh   # a binary already built, not a release build
#
# Needs: tmux, python3 with Pillow (`pip install pillow`), fonts-dejavu-core, and
# fonts-wqy-zenhei for the CJK names in the demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "make.sh: needs tmux" >&2; exit 1; }
python3 -c 'import PIL' 2>/dev/null || { echo "make.sh: needs Pillow: pip install pillow" >&2; exit 1; }
if [ -n "${TDB:-}" ]; then
  tdb=$(realpath "$TDB")
else
  cargo build --release --quiet
  tdb=$PWD/target/release/tdb
fi
out=$PWD/screenshots
sock="tdbshots$$"
cols=120 rows=34
work=$(mktemp -d)
cleanup() { tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

screen() { tmux -L "$sock" capture-pane -p -t 0; }
# wait_for TEXT: until the screen shows TEXT (10 s at most).
wait_for() {
  for _ in $(seq 100); do screen | grep -qF -- "$1" && return 0; sleep 0.1; done
  echo "make.sh: the screen never showed '$1':" >&2; screen >&2; exit 1
}
keys() { tmux -L "$sock" send-keys -t 0 "$@"; sleep 0.3; }
# shot NAME: captures the screen with colours and renders screenshots/NAME.png.
shot() {
  tmux -L "$sock" capture-pane -e -p -t 0 > "$work/$1.ansi"
  python3 "$out/render.py" "$work/$1.ansi" "$out/$1.png" "$cols"
  echo "screenshots/$1.png"
}

tmux -L "$sock" -f /dev/null new-session -d -x "$cols" -y "$rows" \
  "env -u DISPLAY -u WAYLAND_DISPLAY LANG=C.UTF-8 TERM=xterm-256color NO_COLOR= $tdb demo"
wait_for "Sources (3)"
shot demo

# The orders source, run: a grid with the truncation indicator.
keys Tab; keys Tab; keys Down          # editor -> results -> sources, then orders
wait_for "SQL · orders"
keys F5
wait_for "more exist"
shot results

# The filter: `/` in the results keeps the rows holding what is typed.
keys BTab                               # sources -> results
keys /; keys -l pending
wait_for "/pending"
shot filter
keys Escape

# Tabs: pin this result, then run a second statement into a tab of its own.
keys p
keys BTab                               # results -> editor
keys C-l; keys -l 'SELECT status, count(*) AS n, sum(total) AS total FROM data GROUP BY status ORDER BY n DESC'
keys F5
wait_for "2 SELECT status"
shot tabs

# The plan of the statement under the cursor (F6): DuckDB's EXPLAIN for a CSV.
keys F6
wait_for "Plan · EXPLAIN"
wait_for "HASH_GROUP_BY"
shot plan
keys Escape

# The schema browser, focused, finding names as typed (`/`).
keys BTab                               # editor -> schema
keys /; keys -l _at
wait_for "/_at"
shot schema
keys Escape

keys F1
wait_for "Help · keys"
shot help
keys Escape

# The form that adds a source (sources pane, `a`): fields checked as they are typed, the
# password masked.
keys BTab                               # schema -> sources
keys a
wait_for "Add a source"
keys -l warehouse; keys Tab Tab Tab     # name; type stays postgres; url empty -> host
keys -l db.internal; keys Tab
keys -l 65536; keys Tab                 # a port out of range: the message shows beside it
keys -l analytics; keys Tab
keys -l reader; keys Tab
keys -l 'not shown'
wait_for "•••"
shot form
keys Escape
