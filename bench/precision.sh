#!/usr/bin/env bash
# Precision trial on real repositories: `secretgate history --format json` on
# the whole history of each repository given, then the distinct findings (by
# fingerprint) per rule and confidence, so a person can judge them one by one.
#
# Usage: bench/precision.sh [-o OUTDIR] REPO...
#   REPO     a local copy of a repository (bare or not; a bare mirror such as
#            /work/.mirror/psf+requests/repo). Each is cloned `--bare
#            --no-local` into a temp directory first (a plain local clone when
#            that fails on a snapshot missing objects), so nothing is written
#            to the copy given.
#   -o DIR   also keep, per repository, the JSON report (DIR/NAME.json, mode
#            0600: it holds the secrets) and the distinct findings as TSV
#            (DIR/NAME.tsv: fingerprint, rule, confidence, severity, path,
#            line, secret) for review.
# Env:
#   SECRETGATE     the binary (default: target/release/secretgate, else
#                  secretgate on PATH)
#   SG_ARGS        extra arguments for `secretgate history` (e.g.
#                  `--max-file-size 1000000 --min-confidence low`); the script
#                  always adds `--min-confidence low` first so low findings are
#                  counted too (an older binary without the flag is run without it)
#
# Output on stdout: per repository, then for all of them together, a table
# `rule  confidence  distinct` and the totals per confidence. Findings are
# distinct by fingerprint (rule + secret), across all the repositories in the
# total; a secret found at several confidences (a test file and a compose
# file) counts once, at the highest. Needs python3 (stdlib only) and git.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
OUT=""
while getopts "o:" opt; do
  case "$opt" in
    o) OUT="$OPTARG" ;;
    *) echo "usage: $0 [-o OUTDIR] REPO..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ "$#" -eq 0 ]; then
  echo "usage: $0 [-o OUTDIR] REPO...  (local copies: bare mirrors or clones)" >&2
  exit 2
fi
SECRETGATE="${SECRETGATE:-$here/../target/release/secretgate}"
if [ ! -x "$SECRETGATE" ]; then
  SECRETGATE="$(command -v secretgate || true)"
fi
if [ -z "$SECRETGATE" ] || [ ! -x "$SECRETGATE" ]; then
  echo "error: no secretgate binary (set SECRETGATE or build with cargo build --release)" >&2
  exit 2
fi
if [ -n "$OUT" ]; then
  mkdir -p "$OUT"
  OUT="$(cd "$OUT" && pwd)"
fi
TMPD="$(mktemp -d)"; trap 'rm -rf "$TMPD"' EXIT
umask 077

# Older binaries have no --min-confidence: run them without it.
conf_flag=(--min-confidence low)
if ! "$SECRETGATE" history --help 2>/dev/null | grep -q -- '--min-confidence'; then
  conf_flag=()
fi

reports=()
for repo in "$@"; do
  if [ ! -d "$repo" ]; then
    echo "error: $repo is not a directory" >&2
    exit 2
  fi
  # A readable name: the mirror's directory (owner+name), else the basename.
  abs="$(cd "$repo" && pwd)"
  name="$(basename "$abs")"
  [ "$name" = repo ] && name="$(basename "$(dirname "$abs")")"
  name="${name%.git}"
  clone="$TMPD/$name.git"
  # --no-local repacks what the refs reach; a snapshot missing some objects
  # cannot be repacked, so fall back to a plain local clone (hard links; the
  # audit only reads it) and let secretgate count what it cannot read.
  if ! git clone --quiet --bare --no-local "$abs" "$clone" 2>"$TMPD/clone.err"; then
    echo "note: $name: --no-local clone failed ($(tail -1 "$TMPD/clone.err")); using a local clone" >&2
    rm -rf "$clone"
    git clone --quiet --bare "$abs" "$clone"
  fi
  report="$TMPD/$name.json"
  started=$(date +%s.%N)
  # Exit 1 means findings: not an error here.
  set +e
  # shellcheck disable=SC2086
  "$SECRETGATE" history "$clone" --quiet --no-redact --no-repo-config --format json \
      "${conf_flag[@]}" ${SG_ARGS:-} -o "$report"
  rc=$?
  set -e
  ended=$(date +%s.%N)
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "error: secretgate history failed on $name (exit $rc)" >&2
    exit 2
  fi
  printf '%s: history scanned in %.1f s (exit %s)\n' "$name" "$(echo "$ended - $started" | bc)" "$rc" >&2
  rm -rf "$clone"
  reports+=("$name=$report")
  if [ -n "$OUT" ]; then
    cp "$report" "$OUT/$name.json"
  fi
done

python3 - "$OUT" "${reports[@]}" <<'PY'
import json, sys
from collections import Counter

out = sys.argv[1]
order = {"high": 0, "medium": 1, "low": 2, "-": 3}

def rank(f):
    # Reports of binaries before confidence existed carry no field: "-".
    return order.get(f.get("confidence", "-"), 9)

def keep(seen, f):
    # One secret found in several files is one finding, counted at its
    # highest confidence: that is the one that fails the gate.
    old = seen.get(f["fingerprint"])
    if old is None or rank(f) < rank(old):
        seen[f["fingerprint"]] = f

def distinct(path):
    with open(path) as f:
        findings = json.load(f)["findings"]
    seen = {}
    for f in findings:
        keep(seen, f)
    return seen

def table(title, found):
    print(f"== {title}: {len(found)} distinct findings")
    counts = Counter((f["rule"], f.get("confidence", "-")) for f in found.values())
    for (rule, conf), n in sorted(counts.items(), key=lambda kv: (order.get(kv[0][1], 9), -kv[1], kv[0][0])):
        print(f"  {rule:<42} {conf:<7} {n:>5}")
    by_conf = Counter(f.get("confidence", "-") for f in found.values())
    print("  total by confidence: " + ", ".join(f"{c} {by_conf[c]}" for c in sorted(by_conf, key=lambda c: order.get(c, 9))))
    print()

everything = {}
for item in sys.argv[2:]:
    name, path = item.split("=", 1)
    found = distinct(path)
    table(name, found)
    for f in found.values():
        keep(everything, f)
    if out:
        with open(f"{out}/{name}.tsv", "w") as tsv:
            for fp, f in sorted(found.items(), key=lambda kv: (kv[1]["rule"], kv[1]["path"])):
                secret = (f.get("secret") or "").replace("\t", " ").replace("\n", " ")
                tsv.write("\t".join([fp, f["rule"], f.get("confidence", "-"), f["severity"],
                                     f["path"], str(f.get("line")), secret[:200]]) + "\n")
if len(sys.argv) > 3:
    table("all repositories", everything)
PY
