#!/usr/bin/env bash
# Many findings on one long line (review of issue 13): N AWS access-key-id
# shaped values (`AKIA` + 16 base32 characters, generated here at random,
# never real keys) separated by spaces on a single line, for N in $SIZES. The
# time must grow linearly with N: each finding's UTF-16 column and
# documentation-comment check used to measure its line from the start.
# A second set of files starts the line with a non-ASCII character, so no
# column can take the ASCII shortcut.
#
# Usage: bench/long-line.sh [RESULTS_DIR]
#   RESULTS_DIR  default: bench/results/<YYYY-MM-DD>-long-line
# Env:
#   OLD   old binary (default /work/bin/secretgate-main)
#   NEW   new binary (default target/release/secretgate of this checkout)
#   RUNS  hyperfine runs per command (3)
#   SIZES keys per line (default "1000 2000 4000 8000 16000 30000")
#   FORMAT report format (json)
#
# Outputs in RESULTS_DIR: long-line.json / long-line.md (hyperfine) and
# long-line-env.txt (date, machine, load averages, binaries, commands).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
RESULTS="${1:-$here/results/$(date +%Y-%m-%d)-long-line}"
OLD="${OLD:-/work/bin/secretgate-main}"
NEW="${NEW:-$here/../target/release/secretgate}"
RUNS="${RUNS:-3}"; SIZES="${SIZES:-1000 2000 4000 8000 16000 30000}"; FORMAT="${FORMAT:-json}"

for bin in "$OLD" "$NEW"; do
  [ -x "$bin" ] || { echo "error: no executable at $bin (set OLD / NEW)" >&2; exit 2; }
done
command -v hyperfine >/dev/null || { echo "error: hyperfine missing (bench/setup-peers.sh installs it)" >&2; exit 2; }
OLD="$(cd "$(dirname "$OLD")" && pwd)/$(basename "$OLD")"
NEW="$(cd "$(dirname "$NEW")" && pwd)/$(basename "$NEW")"
mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"
TMPD="$(mktemp -d)"; trap 'rm -rf "$TMPD"' EXIT
q() { printf '%q' "$1"; }

python3 - "$TMPD" $SIZES <<'PY'
import random, sys
out, sizes = sys.argv[1], [int(n) for n in sys.argv[2:]]
rng = random.Random(13)
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
keys = ["AKIA" + "".join(rng.choice(alphabet) for _ in range(16)) for _ in range(max(sizes))]
for n in sizes:
    line = " ".join(keys[:n])
    with open(f"{out}/ascii-{n}.txt", "w") as f:
        f.write(f"keys = {line}\n")
    with open(f"{out}/utf8-{n}.txt", "w", encoding="utf-8") as f:
        f.write(f"clés = {line}\n")
PY

cmds=()
for kind in ascii utf8; do
  for n in $SIZES; do
    for side in old new; do
      bin="$OLD"; [ "$side" = new ] && bin="$NEW"
      cmds+=(-n "$side $kind $n" "$(q "$bin") scan $(q "$TMPD/$kind-$n.txt") --format $FORMAT -o $(q "$TMPD/$side-$kind-$n.out")")
    done
  done
done

ENV="$RESULTS/long-line-env.txt"
{
  echo "date: $(date -Is)"
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
  echo "hyperfine: $(hyperfine --version)"
  echo "old: $OLD ($(sha256sum "$OLD" | cut -c1-16))"
  echo "new: $NEW ($(sha256sum "$NEW" | cut -c1-16)), checkout $(git -C "$here/.." rev-parse --short HEAD)"
  echo "command: <bin> scan FILE --format $FORMAT -o OUT, FILE one line of N keys"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$ENV"
hyperfine --runs "$RUNS" -i --export-json "$RESULTS/long-line.json" --export-markdown "$RESULTS/long-line.md" "${cmds[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$ENV"
# Both binaries must find every key.
for kind in ascii utf8; do
  for n in $SIZES; do
    for side in old new; do
      [ "$FORMAT" = json ] || continue
      found="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["findings"])' "$TMPD/$side-$kind-$n.out")"
      echo "$side $kind $n: $found findings" >> "$ENV"
    done
  done
done
echo "results in $RESULTS"
