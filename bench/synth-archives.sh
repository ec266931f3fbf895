#!/usr/bin/env bash
# Archive-heavy synthetic history (issue 16): most commits add a new version
# of an archive or compressed file (zip backups, jar-like zips of 100-400
# entries, .tar.gz bundles, .sql.gz dumps, a .docx, .log.bz2, .json.xz, a zip
# inside a zip), with Anthropic-shaped keys planted inside one commit in 23.
# Built by bench/synth-archives.py (python3 stdlib) as one `git fast-import`
# stream; no network. Then, unless CHECK=0, runs `secretgate history` on it
# (with archives, and with --max-archive-depth 0 for the cost of opening
# them), checks that every planted key is found at its path, inner path and
# commit, and prints the times.
#
# Usage: bench/synth-archives.sh [-c COMMITS] [-s SEED] [--force] OUT.git
# Env: COMMITS (1000), SEED (1), FORCE=1 (replace OUT), CHECK=0 (build only),
#   SECRETGATE (binary, default target/release/secretgate of this checkout).
# OUT.git/planted.tsv (mode 0600: it holds the keys): secret, path, inner
# path (`!`-joined; empty for a plain file), commit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
COMMITS="${COMMITS:-1000}"; SEED="${SEED:-1}"; FORCE="${FORCE:-0}"; OUT=""
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--commits) COMMITS="$2"; shift 2 ;;
    -s|--seed) SEED="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage ;;
    -*) echo "synth-archives: unknown option $1" >&2; usage ;;
    *) [ -z "$OUT" ] || usage; OUT="$1"; shift ;;
  esac
done
[ -n "$OUT" ] || usage
if [ -e "$OUT" ]; then
  [ "$FORCE" = 1 ] || { echo "synth-archives: $OUT exists (--force replaces it)" >&2; exit 2; }
  rm -rf "$OUT"
fi
git init -q --bare "$OUT"
git -C "$OUT" symbolic-ref HEAD refs/heads/main
OUT="$(cd "$OUT" && pwd)"
TMPD="$(mktemp -d)"; trap 'rm -rf "$TMPD"' EXIT
(umask 077; : > "$TMPD/raw.tsv")
start=$(date +%s)
python3 "$here/synth-archives.py" "$COMMITS" "$SEED" "$TMPD/raw.tsv" |
  git -C "$OUT" fast-import --quiet --export-marks="$TMPD/marks"
git -C "$OUT" gc -q --prune=now
(umask 077; python3 - "$TMPD/raw.tsv" "$TMPD/marks" > "$OUT/planted.tsv" <<'PY'
import sys
marks = dict(line.split() for line in open(sys.argv[2]))
for row in open(sys.argv[1]):
    secret, path, inner, mark = row.rstrip("\n").split("\t")
    print("\t".join([secret, path, inner, marks[mark]]))
PY
)
echo "built $OUT in $(( $(date +%s) - start )) s: $(git -C "$OUT" rev-list --count HEAD) commits, $(wc -l < "$OUT/planted.tsv") planted keys, pack $(git -C "$OUT" count-objects -vH | sed -n 's/^size-pack: //p')"
[ "${CHECK:-1}" = 0 ] && exit 0

SECRETGATE="${SECRETGATE:-$here/../target/release/secretgate}"
[ -x "$SECRETGATE" ] || { echo "synth-archives: no binary at $SECRETGATE (cargo build --release)" >&2; exit 2; }
timed() { # label, args...
  local label="$1"; shift
  /usr/bin/time -q -f "$label: %e s wall, %U s user, %M KiB max RSS" \
    "$SECRETGATE" history "$OUT" --quiet --format json --no-redact "$@" || [ $? = 1 ]
}
timed "with archives" -o "$TMPD/with.json"
timed "--max-archive-depth 0" --max-archive-depth 0 -o "$TMPD/without.json"
python3 - "$OUT/planted.tsv" "$TMPD/with.json" "$TMPD/without.json" <<'PY'
import json, sys
planted = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
def found(report):
    return {(f["secret"], f["path"], "!".join(f.get("inner_path", [])), f.get("commit"))
            for f in json.load(open(report))["findings"] if f["kind"] == "secret"}
with_, without = found(sys.argv[2]), found(sys.argv[3])
missed = [p for p in planted if tuple(p) not in with_]
plain = [p for p in planted if not p[2]]
summary = json.load(open(sys.argv[2]))["summary"]
print(f"planted {len(planted)}: found {len(planted) - len(missed)} with archives, "
      f"{sum(tuple(p) in without for p in planted)} without (plain files: {len(plain)}); "
      f"skipped by reason: {summary['skipped']['by_reason']}")
for p in missed:
    print("missed:", p[1], p[2], p[3], file=sys.stderr)
sys.exit(1 if missed else 0)
PY
