#!/usr/bin/env bash
# Directory-scan benchmark: secretgate vs kingfisher, gitleaks, betterleaks,
# ripsecrets on a working tree (its .git directory excluded).
#
# Usage: bench/dir-scan.sh [RESULTS_DIR] [SCAN_DIR]
#   RESULTS_DIR  default: bench/results/<YYYY-MM-DD>
#   SCAN_DIR     default: /work/corpus/git-checkout
# Env:
#   SECRETGATE   secretgate binary (default /work/main/target/release/secretgate;
#                skipped with a note if missing)
#   KINGFISHER GITLEAKS BETTERLEAKS RIPSECRETS   override peer binary paths
#   RUNS (5) WARMUP (1)   hyperfine settings
#   RSS=0        skip the single /usr/bin/time -v max-RSS pass
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
RESULTS="${1:-$here/results/$(date +%Y-%m-%d)}"
DIR="$(cd "${2:-${SCAN_DIR:-/work/corpus/git-checkout}}" && pwd)"
RUNS="${RUNS:-5}"; WARMUP="${WARMUP:-1}"
# shellcheck source=peers.sh
. "$here/peers.sh"

mkdir -p "$RESULTS"
TMPD="$(mktemp -d)"; trap 'rm -rf "$TMPD"' EXIT
q() { printf '%q' "$1"; }

# betterleaks has no path-exclude flag and walks .git, so pass it every
# top-level entry of DIR except .git (run from inside DIR).
bl_targets=""
while IFS= read -r e; do bl_targets+=" $(q "$e")"; done \
  < <(cd "$DIR" && ls -A | grep -vx '.git')

# Every report goes to a temp file: some tools replace their report path, and a
# report path of /dev/null would replace the device with a regular file.
names=(); cmds=()
add() { names+=("$1"); cmds+=("$2"); }
if [ -x "$SECRETGATE" ]; then
  add secretgate "$(q "$SECRETGATE") scan $(q "$DIR") --format json --output $(q "$TMPD/secretgate.json")"
else
  echo "NOTE: secretgate binary not found at $SECRETGATE - skipping it" >&2
fi
# kingfisher: no validation, no git history, skip the .git dir, no update check.
add kingfisher  "$(q "$KINGFISHER") scan $(q "$DIR") --no-validate --git-history none --exclude .git --no-update-check -q -f json -o $(q "$TMPD/kingfisher.json")"
# gitleaks dir skips .git itself.
add gitleaks    "$(q "$GITLEAKS") dir $(q "$DIR") --no-banner -l error -f json -r $(q "$TMPD/gitleaks.json")"
# betterleaks: -o must end in .json, so write to a temp file.
add betterleaks "cd $(q "$DIR") && $(q "$BETTERLEAKS") fs$bl_targets --no-banner -l error -o $(q "$TMPD/betterleaks.json")"
# ripsecrets skips .git (and hidden files, .gitignore'd files) on its own; no options.
add ripsecrets  "$(q "$RIPSECRETS") $(q "$DIR")"

{
  echo "date: $(date -Is)"; echo "dir: $DIR ($(find "$DIR" -path "$DIR/.git" -prune -o -type f -print | wc -l) files, $(du -sh --exclude=.git "$DIR" | cut -f1))"; echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
  [ -x "$SECRETGATE" ] && echo "secretgate: $SECRETGATE ($("$SECRETGATE" --version 2>/dev/null || echo '?'))"
  echo "kingfisher: $("$KINGFISHER" --version)"; echo "gitleaks: $("$GITLEAKS" version)"
  echo "betterleaks: $("$BETTERLEAKS" version)"; echo "ripsecrets: $("$RIPSECRETS" --version)"
  for i in "${!names[@]}"; do echo "cmd ${names[$i]}: ${cmds[$i]}"; done
} > "$RESULTS/dir-scan-env.txt"

hf=(hyperfine --warmup "$WARMUP" --runs "$RUNS" -i
    --export-json "$RESULTS/dir-scan.json" --export-markdown "$RESULTS/dir-scan.md")
for i in "${!names[@]}"; do hf+=(-n "${names[$i]}" "${cmds[$i]}"); done
echo "loadavg before: $(cat /proc/loadavg)" >> "$RESULTS/dir-scan-env.txt"
"${hf[@]}"
echo "loadavg after:  $(cat /proc/loadavg)" >> "$RESULTS/dir-scan-env.txt"

if [ "${RSS:-1}" != 0 ]; then
  printf 'tool\tmax_rss_kb\twall\texit\n' > "$RESULTS/dir-scan-rss.tsv"
  for i in "${!names[@]}"; do
    set +e
    /usr/bin/time -v -o "$TMPD/time.txt" bash -c "${cmds[$i]}" >/dev/null 2>&1
    rc=$?; set -e
    rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$TMPD/time.txt")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$TMPD/time.txt")
    printf '%s\t%s\t%s\t%s\n' "${names[$i]}" "$rss" "$wall" "$rc" >> "$RESULTS/dir-scan-rss.tsv"
  done
  column -t "$RESULTS/dir-scan-rss.tsv"
fi
echo "results in $RESULTS"
