#!/usr/bin/env bash
# Synthetic history benchmark corpus: builds a bare git repository with tens of
# thousands of commits (edits, adds, renames, deletes, feature branches and
# merges, tags, two large-ish files) and secrets planted at known commits, with
# no network. The history is written by bench/synth-gen.py (python3 stdlib) as
# one `git fast-import` stream, then repacked so blobs are stored as deltas.
#
# Usage: bench/synth-repo.sh [-c COMMITS] [-f FILES] [-s SEED] [-m MANIFEST] [--force] OUT.git
# Env (flags win): COMMITS (20000, at least 300), FILES (2000: paths the tree
#   grows to), SEED (1), MANIFEST (OUT.git/planted.tsv), FORCE=1 (replace OUT).
# Same COMMITS/FILES/SEED (and git version) => same commit ids and secrets.
#
# The manifest (mode 0600: it holds the secrets) has one row per planted secret:
#   secret <TAB> path <TAB> commit <TAB> kind <TAB> scenario
# `secret` has \n, \t and \\ escaped (the PEM block is multi-line); `kind` is the
# secretgate rule id expected to report it; a `-` secret is a sensitive-file
# finding (kind = file rule id). bench/synth-check.sh checks a scan against it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
COMMITS="${COMMITS:-20000}"; FILES="${FILES:-2000}"; SEED="${SEED:-1}"
MANIFEST="${MANIFEST:-}"; FORCE="${FORCE:-0}"; OUT=""
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--commits) COMMITS="$2"; shift 2 ;;
    -f|--files) FILES="$2"; shift 2 ;;
    -s|--seed) SEED="$2"; shift 2 ;;
    -m|--manifest) MANIFEST="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage ;;
    -*) echo "synth-repo: unknown option $1" >&2; usage ;;
    *) [ -z "$OUT" ] || usage; OUT="$1"; shift ;;
  esac
done
[ -n "$OUT" ] || usage
for v in COMMITS FILES SEED; do
  case "${!v}" in ''|*[!0-9]*) echo "synth-repo: $v must be a non-negative integer, got '${!v}'" >&2; exit 2 ;; esac
done
if [ "$COMMITS" -lt 300 ]; then echo "synth-repo: COMMITS must be at least 300 (the planted scenarios need room)" >&2; exit 2; fi
if [ -e "$OUT" ]; then
  if [ "$FORCE" = 1 ]; then rm -rf -- "$OUT"; else
    echo "synth-repo: $OUT exists (use --force or FORCE=1 to replace it)" >&2; exit 2
  fi
fi
MANIFEST="${MANIFEST:-$OUT/planted.tsv}"

tmp="$(mktemp -d)"; built=0
# A failed run leaves nothing half-built behind.
trap 'rm -rf "$tmp"; [ "$built" = 1 ] || rm -rf -- "$OUT"' EXIT
umask 077   # the repository and manifest hold (fake but valid-looking) secrets

start=$(date +%s)
git init -q --bare -b main "$OUT"
git -C "$OUT" config gc.auto 0
echo "synth-repo: fast-import of $COMMITS commits (FILES=$FILES SEED=$SEED) into $OUT" >&2
python3 "$here/synth-gen.py" stream "$COMMITS" "$FILES" "$SEED" "$tmp/raw.tsv" |
  git -C "$OUT" fast-import --quiet --done --active-branches=16 --depth=50 \
      --export-marks="$tmp/marks"
imported=$(date +%s)
python3 "$here/synth-gen.py" manifest "$tmp/raw.tsv" "$tmp/marks" "$MANIFEST"
chmod 600 "$MANIFEST"
git -C "$OUT" symbolic-ref HEAD refs/heads/main
echo "synth-repo: repack -adf --depth=50 --window=10" >&2
git -C "$OUT" repack -q -adf --depth=50 --window=10
git -C "$OUT" prune-packed
end=$(date +%s); built=1

blobs=$(git -C "$OUT" cat-file --batch-all-objects --batch-check='%(objecttype)' | grep -c '^blob$' || true)
commits=$(git -C "$OUT" rev-list --all --count)
size=$(git -C "$OUT" count-objects -v | sed -n 's/^size-pack: //p')
printf 'synth-repo: %s: %s commits, %s blobs, %s refs, pack %s KiB, %s planted rows; fast-import %ss, repack %ss, total %ss\n' \
  "$OUT" "$commits" "$blobs" "$(git -C "$OUT" for-each-ref | wc -l)" "$size" \
  "$(grep -vc '^#' "$MANIFEST")" "$((imported - start))" "$((end - imported))" "$((end - start))"
