#!/usr/bin/env bash
# Two secretgate builds on one history, runs interleaved (before, after,
# before, after...) so a load that changes during the session weighs on both
# alike: what a 5% regression budget needs on a shared, noisy machine.
# Prints the median wall, user and system time of each build, their ratio,
# and whether both reports hold the same findings.
#
# Usage: bench/before-after.sh BEFORE_BIN AFTER_BIN REPO [RUNS] [-- EXTRA ARGS]
#   RUNS default 3; EXTRA ARGS go to both `secretgate history` commands.
# Env: RESULTS (directory for the raw times and reports; default a temp dir,
#   removed at the end).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BEFORE="$1"; AFTER="$2"; REPO="$3"; shift 3
RUNS=3
if [ $# -gt 0 ] && [ "$1" != -- ]; then RUNS="$1"; shift; fi
[ "${1:-}" = -- ] && shift
EXTRA=("$@")
if [ -n "${RESULTS:-}" ]; then mkdir -p "$RESULTS"; OUT="$RESULTS"; else OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT; fi
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/times.tsv"
echo -e "build\trun\twall_s\tuser_s\tsys_s\tmax_rss_kib" | tee -a "$OUT/times.tsv"
for run in $(seq 1 "$RUNS"); do
  for build in before after; do
    bin="$BEFORE"; [ "$build" = after ] && bin="$AFTER"
    /usr/bin/time -q -o "$OUT/time" -f "%e\t%U\t%S\t%M" \
      "$bin" history "$REPO" --quiet --format json -o "$OUT/$build.json" "${EXTRA[@]}" || [ $? = 1 ]
    echo -e "$build\t$run\t$(cat "$OUT/time")" | tee -a "$OUT/times.tsv"
  done
done
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/times.tsv"
python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(f"{out}/times.tsv") if not l.startswith(("#", "build"))]
med = {}
for build in ("before", "after"):
    cols = list(zip(*[[float(x) for x in r[2:5]] for r in rows if r[0] == build]))
    med[build] = [statistics.median(c) for c in cols]
    print(f"{build}: median wall {med[build][0]:.2f} s, user {med[build][1]:.2f} s, sys {med[build][2]:.2f} s")
for i, name in enumerate(("wall", "user", "sys")):
    print(f"after/before {name}: {med['after'][i] / med['before'][i]:.3f}")
def keys(build):
    r = json.load(open(f"{out}/{build}.json"))
    return {(f["rule"], f["path"], f.get("secret"), f.get("commit")) for f in r["findings"]}, r["summary"]["skipped"]["by_reason"]
(b, bs), (a, as_) = keys("before"), keys("after")
print(f"findings: before {len(b)}, after {len(a)}, only before {len(b - a)}, only after {len(a - b)}")
print(f"skipped by reason: before {bs}, after {as_}")
PY
