#!/usr/bin/env bash
# Pre-commit benchmark: a one-file staged change in a checkout of git/git,
# secretgate staged vs the peers' staged modes, in the same hyperfine run.
#
# Usage: bench/staged.sh [RESULTS_DIR] [CHECKOUT]
#   CHECKOUT default: a fresh clone of /work/corpus/git.git in a temp dir, with
#   two lines appended to git.c and staged.
# Env: SECRETGATE (default /work/main/target/release/secretgate), RUNS (20), WARMUP (3)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
RESULTS="${1:-$here/results/$(date +%Y-%m-%d)-staged}"
RUNS="${RUNS:-20}"; WARMUP="${WARMUP:-3}"
TMPD="$(mktemp -d)"; trap 'rm -rf "$TMPD"' EXIT

if [ -n "${2:-}" ]; then
  REPO="$(cd "$2" && pwd)"
else
  REPO="$TMPD/git"
  git clone -q /work/corpus/git.git "$REPO"
  printf '\nstatic const char *note = "staged change";\n' >> "$REPO/git.c"
  git -C "$REPO" add git.c
fi

# shellcheck source=peers.sh
. "$here/peers.sh"
q() { printf '%q' "$1"; }

mkdir -p "$RESULTS"
# Reports go to temp files: never to /dev/null, which some tools replace.
names=(secretgate betterleaks gitleaks kingfisher)
cmds=(
  "cd $(q "$REPO") && $(q "$SECRETGATE") staged"
  "cd $(q "$REPO") && $(q "$BETTERLEAKS") git --staged --no-banner -l error -o $(q "$TMPD/bl.json") ."
  "cd $(q "$REPO") && $(q "$GITLEAKS") git --staged --no-banner -l error -f json -r $(q "$TMPD/gl.json") ."
  "cd $(q "$REPO") && $(q "$KINGFISHER") scan . --staged --no-validate --no-update-check -q -f json -o $(q "$TMPD/kf.json")"
)
{
  echo "date: $(date -Is)"; echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "repo: $REPO ($(git -C "$REPO" ls-files | wc -l) tracked files; staged: $(git -C "$REPO" diff --cached --stat | tail -1))"
  echo "secretgate: $("$SECRETGATE" --version)"; echo "kingfisher: $("$KINGFISHER" --version)"
  echo "gitleaks: $("$GITLEAKS" version)"; echo "betterleaks: $("$BETTERLEAKS" version)"
  for i in "${!names[@]}"; do echo "cmd ${names[$i]}: ${cmds[$i]}"; done
  echo "loadavg before: $(cat /proc/loadavg)"
} > "$RESULTS/staged-env.txt"
hf=(hyperfine --warmup "$WARMUP" --runs "$RUNS" -i --export-json "$RESULTS/staged.json" --export-markdown "$RESULTS/staged.md")
for i in "${!names[@]}"; do hf+=(-n "${names[$i]}" "${cmds[$i]}"); done
"${hf[@]}"
echo "loadavg after: $(cat /proc/loadavg)" >> "$RESULTS/staged-env.txt"
echo "results in $RESULTS"
