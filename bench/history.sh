#!/usr/bin/env bash
# Git-history benchmark: `secretgate history` vs kingfisher, gitleaks and
# betterleaks on one repository, all refs, plus a `git cat-file` floor (one
# full decompression pass over every object).
#
# Usage: bench/history.sh [RESULTS_DIR] [REPO]
#   RESULTS_DIR  default: bench/results/<YYYY-MM-DD>-history
#   REPO         default: /work/corpus/git.git (bare clone of git/git)
# Env:
#   SECRETGATE   secretgate binary (default /work/main/target/release/secretgate;
#                skipped with a note if missing)
#   KINGFISHER GITLEAKS BETTERLEAKS   override peer binary paths
#   RUNS (3) WARMUP (0)   hyperfine settings
#   RSS=0        skip the single /usr/bin/time -v pass (max RSS, user, sys)
#   FULL_RESCAN=0  skip the `secretgate history --full-rescan` row
#
# Outputs in RESULTS_DIR: history.json / history.md (hyperfine),
# history-rss.tsv (/usr/bin/time -v pass), history-findings.tsv (findings per
# tool, counted from each tool's JSON report), history-summary.tsv (median
# wall, mean user/sys, max RSS, findings), history-env.txt (machine, versions,
# exact commands, load average, secretgate's summary numbers).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
RESULTS="${1:-$here/results/$(date +%Y-%m-%d)-history}"
REPO="$(cd "${2:-${REPO:-/work/corpus/git.git}}" && pwd)"
RUNS="${RUNS:-3}"; WARMUP="${WARMUP:-0}"
# shellcheck source=peers.sh
. "$here/peers.sh"

mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"
TMPD="$(mktemp -d)"; trap 'rm -rf "$TMPD"' EXIT
q() { printf '%q' "$1"; }

# Every report goes to a temp file: some tools replace their report path, and a
# report path of /dev/null would replace the device with a regular file. The
# cat-file floor only uses a shell redirect to /dev/null, which is harmless.
names=(); cmds=(); reports=()
add() { names+=("$1"); cmds+=("$2"); reports+=("${3:-}"); }
add cat-file-floor "git -C $(q "$REPO") cat-file --batch-all-objects --batch --unordered >/dev/null"
if [ -x "$SECRETGATE" ]; then
  # history = every blob reachable from any ref (+ commit/tag messages), each once.
  add secretgate "$(q "$SECRETGATE") history $(q "$REPO") --quiet --format json -o $(q "$TMPD/secretgate.json")" \
      "$TMPD/secretgate.json"
  # The same audit scanning every version of every file in full (no reuse of
  # a delta base's matches): what the delta reuse saves, in the same run.
  if [ "${FULL_RESCAN:-1}" != 0 ]; then
    add secretgate-full-rescan "$(q "$SECRETGATE") history $(q "$REPO") --quiet --full-rescan --format json -o $(q "$TMPD/secretgate-full.json")" \
        "$TMPD/secretgate-full.json"
  fi
else
  echo "NOTE: secretgate binary not found at $SECRETGATE - skipping it" >&2
fi
# kingfisher: full history (its scope is all git objects in the repository; on a
# bare repo it also scans the repo's own files, but the pack is over its 256 MB
# file limit), no validation, no update check.
add kingfisher  "$(q "$KINGFISHER") scan $(q "$REPO") --git-history full --no-validate --no-update-check -q -f json -o $(q "$TMPD/kingfisher.json")" \
    "$TMPD/kingfisher.json"
# gitleaks: `git log -p -U0 --all` (every ref).
add gitleaks    "$(q "$GITLEAKS") git $(q "$REPO") --log-opts=--all --no-banner -l error -f json -r $(q "$TMPD/gitleaks.json")" \
    "$TMPD/gitleaks.json"
# betterleaks: its default git mode already walks every ref (checked: it finds
# commits reachable only from tags and refs/pull/*) and splits the commits
# across parallel `git log -p --no-walk --stdin` workers; `--log-opts=--all`
# would force one serial history stream. -o must end in .json.
add betterleaks "$(q "$BETTERLEAKS") git $(q "$REPO") --no-banner -l error -o $(q "$TMPD/betterleaks.json")" \
    "$TMPD/betterleaks.json"

ENV="$RESULTS/history-env.txt"
{
  echo "date: $(date -Is)"
  echo "repo: $REPO ($(git -C "$REPO" rev-list --all --count) commits on all refs, $(git -C "$REPO" for-each-ref | wc -l) refs, $(git -C "$REPO" count-objects -v | awk '/^in-pack/{print $2}') packed objects, $(du -sh "$REPO" | cut -f1))"
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
  echo "git: $(git --version)"; echo "hyperfine: $(hyperfine --version)"
  [ -x "$SECRETGATE" ] && echo "secretgate: $SECRETGATE ($("$SECRETGATE" --version 2>/dev/null || echo '?'))"
  echo "kingfisher: $KINGFISHER ($("$KINGFISHER" --version))"
  echo "gitleaks: $GITLEAKS ($("$GITLEAKS" version))"
  echo "betterleaks: $BETTERLEAKS ($("$BETTERLEAKS" version))"
  echo "hyperfine: --runs $RUNS --warmup $WARMUP -i"
  for i in "${!names[@]}"; do echo "cmd ${names[$i]}: ${cmds[$i]}"; done
} > "$ENV"

hf=(hyperfine --warmup "$WARMUP" --runs "$RUNS" -i
    --export-json "$RESULTS/history.json" --export-markdown "$RESULTS/history.md")
for i in "${!names[@]}"; do hf+=(-n "${names[$i]}" "${cmds[$i]}"); done
echo "loadavg before: $(cat /proc/loadavg)" >> "$ENV"
"${hf[@]}"
echo "loadavg after hyperfine: $(cat /proc/loadavg)" >> "$ENV"

if [ "${RSS:-1}" != 0 ]; then
  printf 'tool\twall\tuser_s\tsys_s\tmax_rss_kb\texit\n' > "$RESULTS/history-rss.tsv"
  for i in "${!names[@]}"; do
    set +e
    /usr/bin/time -v -o "$TMPD/time.txt" bash -c "${cmds[$i]}" >/dev/null 2>&1
    rc=$?; set -e
    f() { awk -F': ' -v k="$1" 'index($0, k) {print $2}' "$TMPD/time.txt"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${names[$i]}" "$(f 'Elapsed (wall clock)')" \
      "$(f 'User time (seconds)')" "$(f 'System time (seconds)')" \
      "$(f 'Maximum resident set size')" "$rc" >> "$RESULTS/history-rss.tsv"
  done
  echo "loadavg after rss pass: $(cat /proc/loadavg)" >> "$ENV"
  column -t "$RESULTS/history-rss.tsv"
fi

# Findings per tool, counted from the last run's JSON report (reports are not
# kept: they hold the secrets found). Plus secretgate's own summary numbers.
python3 - "$RESULTS" "$ENV" "${names[@]}" -- "${reports[@]}" <<'EOF'
import json, os, statistics, sys
res, env = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]; k = rest.index("--")
names, reports = rest[:k], rest[k + 1:]

def count(name, path):
    if not path or not os.path.exists(path):
        return ""
    with open(path) as fh:
        d = json.load(fh)
    if isinstance(d, list):            # gitleaks: a bare array
        return len(d)
    return len(d.get("findings", []))  # secretgate, kingfisher, betterleaks

found = {}
with open(os.path.join(res, "history-findings.tsv"), "w") as out:
    out.write("tool\tfindings\n")
    for n, p in zip(names, reports):
        if p:
            found[n] = count(n, p)
            out.write(f"{n}\t{found[n]}\n")
    sg = dict(zip(names, reports)).get("secretgate")
    if sg and os.path.exists(sg):
        s = json.load(open(sg))["summary"]
        keys = ["findings", "files_scanned", "bytes_scanned", "blobs", "commits",
                "refs", "tags", "elapsed_ms", "rules_loaded"]
        line = "secretgate summary: " + ", ".join(f"{k}={s.get(k)}" for k in keys)
        line += f", skipped={s.get('skipped', {}).get('total')}"
        with open(env, "a") as e:
            e.write(line + "\n")
        print(line)
    k = [r for r in reports if r.endswith("kingfisher.json")]
    if k and os.path.exists(k[0]):
        s = json.load(open(k[0])).get("metadata", {}).get("summary", {})
        with open(env, "a") as e:
            e.write(f"kingfisher summary: blobs_scanned={s.get('blobs_scanned')}, bytes_scanned={s.get('bytes_scanned')}\n")

# Summary table: hyperfine median/mean wall + mean user/sys, max RSS from time -v.
hf = {r["command"]: r for r in json.load(open(os.path.join(res, "history.json")))["results"]}
rss = {}
p = os.path.join(res, "history-rss.tsv")
if os.path.exists(p):
    for ln in open(p).read().splitlines()[1:]:
        c = ln.split("\t")
        rss[c[0]] = c[4]
with open(os.path.join(res, "history-summary.tsv"), "w") as out:
    out.write("tool\tmedian_s\tmean_s\tstddev_s\tuser_s\tsys_s\tmax_rss_mb\tfindings\n")
    for n in names:
        r = hf[n]
        mb = f"{int(rss[n]) / 1024:.0f}" if rss.get(n, "").isdigit() else ""
        out.write(f"{n}\t{r['median']:.2f}\t{r['mean']:.2f}\t{(r.get('stddev') or 0):.2f}\t"
                  f"{r['user']:.2f}\t{r['system']:.2f}\t{mb}\t{found.get(n, '')}\n")
EOF
column -t "$RESULTS/history-summary.tsv"
echo "results in $RESULTS"
