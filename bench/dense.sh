#!/usr/bin/env bash
# Keyword-density benchmark (issue 13): the engine must stay linear in its
# input whatever the keyword density. Times an old and a new secretgate binary
# in the same hyperfine run on
#   - 24 MiB of `secret secret ...` (one line) against 24 MiB of random text,
#   - the largest `docs/build/html/genindex.html` in twilio-python's history
#     (3.9 MB of long lines full of "twilio"), extracted at run time,
#   - `history` of twilio-python (all refs),
# and checks that both binaries report the same history findings.
#
# Usage: bench/dense.sh [RESULTS_DIR] [TWILIO_REPO]
#   RESULTS_DIR  default: bench/results/<YYYY-MM-DD>-dense
#   TWILIO_REPO  a bare clone of twilio/twilio-python (default
#                /tmp/twilio-python.git, cloned from
#                /work/.mirror/twilio+twilio-python/repo when missing);
#                "none" skips the genindex file and the history rows
# Env:
#   OLD  old binary (default /work/bin/secretgate-main)
#   NEW  new binary (default target/release/secretgate of this checkout)
#   RUNS (3)          hyperfine runs for the file scans
#   HISTORY_RUNS (1)  hyperfine runs for the history audits (the old binary
#                     took 489-653 s per run)
#   SIZE_MIB (24)     size of the dense and random files
#
# Outputs in RESULTS_DIR: files.json / files.md and history.json / history.md
# (hyperfine), dense-env.txt (date, machine, load averages, binaries, exact
# commands, whether the history findings are identical).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
RESULTS="${1:-$here/results/$(date +%Y-%m-%d)-dense}"
REPO="${2:-${TWILIO_REPO:-/tmp/twilio-python.git}}"
OLD="${OLD:-/work/bin/secretgate-main}"
NEW="${NEW:-$here/../target/release/secretgate}"
RUNS="${RUNS:-3}"; HISTORY_RUNS="${HISTORY_RUNS:-1}"; SIZE_MIB="${SIZE_MIB:-24}"

for bin in "$OLD" "$NEW"; do
  [ -x "$bin" ] || { echo "error: no executable at $bin (set OLD / NEW)" >&2; exit 2; }
done
command -v hyperfine >/dev/null || { echo "error: hyperfine missing (bench/setup-peers.sh installs it)" >&2; exit 2; }
OLD="$(cd "$(dirname "$OLD")" && pwd)/$(basename "$OLD")"
NEW="$(cd "$(dirname "$NEW")" && pwd)/$(basename "$NEW")"
if [ "$REPO" != none ] && [ ! -d "$REPO" ]; then
  git clone -q --bare /work/.mirror/twilio+twilio-python/repo "$REPO"
fi

mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"
TMPD="$(mktemp -d)"; trap 'rm -rf "$TMPD"' EXIT
q() { printf '%q' "$1"; }

# Inputs, generated here (nothing from a repository is kept).
python3 - "$TMPD" "$SIZE_MIB" <<'PY'
import random, string, sys
out, size = sys.argv[1], int(sys.argv[2]) << 20
with open(f"{out}/dense.txt", "w") as f:
    f.write(("secret " * (size // 7 + 1))[:size])
rng = random.Random(13)
alphabet = string.ascii_letters + string.digits + "    \n"
with open(f"{out}/random.txt", "w") as f:
    f.write("".join(rng.choice(alphabet) for _ in range(size)))
PY
inputs=(dense.txt random.txt)
if [ "$REPO" != none ]; then
  blob="$(git -C "$REPO" rev-list --all --objects --missing=allow-any \
    | awk '$2 == "docs/build/html/genindex.html" {print $1}' \
    | while read -r id; do echo "$(git -C "$REPO" cat-file -s "$id" 2>/dev/null || echo 0) $id"; done \
    | sort -n | tail -1 | cut -d' ' -f2)"
  if [ -n "$blob" ]; then
    git -C "$REPO" cat-file blob "$blob" > "$TMPD/genindex.html"
    inputs+=(genindex.html)
  fi
fi

cmds=()
for input in "${inputs[@]}"; do
  for side in old new; do
    bin="$OLD"; [ "$side" = new ] && bin="$NEW"
    cmds+=(-n "$side $input" "$(q "$bin") scan $(q "$TMPD/$input") --format json -o $(q "$TMPD/$side-$input.json")")
  done
done

ENV="$RESULTS/dense-env.txt"
{
  echo "date: $(date -Is)"
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
  echo "hyperfine: $(hyperfine --version)"
  echo "old: $OLD ($(sha256sum "$OLD" | cut -c1-16))"
  echo "new: $NEW ($(sha256sum "$NEW" | cut -c1-16)), checkout $(git -C "$here/.." rev-parse --short HEAD)"
  for input in "${inputs[@]}"; do echo "input $input: $(wc -c < "$TMPD/$input") bytes"; done
  [ "$REPO" != none ] && echo "repo: $REPO ($(git -C "$REPO" rev-list --all --count) commits on all refs)"
  echo "load before files: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$ENV"

hyperfine --runs "$RUNS" -i --export-json "$RESULTS/files.json" --export-markdown "$RESULTS/files.md" "${cmds[@]}"
echo "load after files: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$ENV"

if [ "$REPO" != none ]; then
  echo "load before history: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$ENV"
  hyperfine --runs "$HISTORY_RUNS" -i --export-json "$RESULTS/history.json" --export-markdown "$RESULTS/history.md" \
    -n "old history" "$(q "$OLD") history $(q "$REPO") --quiet --no-redact --format json -o $(q "$TMPD/old-history.json")" \
    -n "new history" "$(q "$NEW") history $(q "$REPO") --quiet --no-redact --format json -o $(q "$TMPD/new-history.json")"
  echo "load after history: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$ENV"
  # The same findings, timings aside.
  same="$(python3 - "$TMPD/old-history.json" "$TMPD/new-history.json" <<'PY'
import json, sys
def load(path):
    report = json.load(open(path))
    report["summary"].pop("elapsed_ms", None)
    # Skipped items are listed in the order worker threads met them.
    report["summary"]["skipped"]["items"].sort(key=lambda i: json.dumps(i, sort_keys=True))
    return report
print("yes" if load(sys.argv[1]) == load(sys.argv[2]) else "NO")
PY
)"
  echo "history reports identical (minus elapsed_ms, skipped items sorted): $same" | tee -a "$ENV"
fi
echo "results in $RESULTS"
