#!/usr/bin/env bash
# Checks secretgate's history scan of a bench/synth-repo.sh repository against
# its manifest: every planted secret must be found, attributed to the planted
# commit and path, and `--full-rescan` must give identical findings.
#
# Usage: bench/synth-check.sh REPO [MANIFEST]
#   MANIFEST    default REPO/planted.tsv
# Env: SECRETGATE  binary (default /work/main/target/release/secretgate)
#      KEEP=DIR    keep both JSON reports in DIR (they hold the secrets unredacted)
# Prints one summary line; exit 0 all found and identical, 1 a miss or a
# difference (each listed on stderr), 2 a scan error.
set -euo pipefail

REPO="${1:?usage: synth-check.sh REPO [MANIFEST]}"
MANIFEST="${2:-$REPO/planted.tsv}"
SECRETGATE="${SECRETGATE:-/work/main/target/release/secretgate}"
[ -x "$SECRETGATE" ] || { echo "synth-check: no secretgate binary at $SECRETGATE" >&2; exit 2; }
[ -r "$MANIFEST" ] || { echo "synth-check: no manifest at $MANIFEST" >&2; exit 2; }

umask 077
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
scan() {  # scan NAME [ARGS...]: exit 1 (findings) is expected, 0 or 2 are not
  local name="$1"; shift
  local t0 t1 rc=0
  t0=$(date +%s%N)
  "$SECRETGATE" history "$REPO" --format json --no-redact --no-repo-config --quiet \
      -o "$tmp/$name.json" "$@" || rc=$?
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) > "$tmp/$name.ms"
  if [ "$rc" -ne 1 ]; then
    echo "synth-check: '$SECRETGATE history $REPO $*' exited $rc (expected 1: findings)" >&2
    [ "$rc" -eq 0 ] || exit 2
  fi
}
scan delta
scan full --full-rescan
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp "$tmp/delta.json" "$tmp/full.json" "$KEEP/"; fi

python3 - "$MANIFEST" "$tmp/delta.json" "$tmp/full.json" "$(cat "$tmp/delta.ms")" "$(cat "$tmp/full.ms")" <<'PY'
import json, sys
from collections import Counter

manifest, delta_path, full_path, delta_ms, full_ms = sys.argv[1:6]

def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(s[i + 1], s[i + 1])); i += 2
        else:
            out.append(c); i += 1
    return "".join(out)

rows = []
with open(manifest, encoding="utf-8") as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        secret, path, commit, kind, scenario = line.rstrip("\n").split("\t")
        rows.append((unescape(secret), path, commit, kind, scenario))

delta = json.load(open(delta_path, encoding="utf-8"))
full = json.load(open(full_path, encoding="utf-8"))
findings = delta["findings"]

def short(s):
    s = s.replace("\n", "\\n")
    return s if len(s) <= 24 else s[:14] + "..." + s[-6:]

misses = []
for secret, path, commit, kind, scenario in rows:
    if secret == "-":  # sensitive-file finding
        cands = [f for f in findings if f["kind"] == "file" and f["rule"] == kind and f["path"] == path]
    else:
        cands = [f for f in findings if f.get("secret") == secret]
    exact = [f for f in cands if f.get("commit") == commit and f["path"] == path]
    what = f"{kind} {short(secret)} ({scenario}) at {path} @ {commit[:12]}"
    if not cands:
        misses.append(f"MISS {what}: not found at all")
    elif not exact:
        seen = sorted({(f['path'], (f.get('commit') or '-')[:12], f['rule']) for f in cands})
        misses.append(f"MISATTRIBUTED {what}: found only at {seen[:5]}{' ...' if len(seen) > 5 else ''}")
    elif not any(f["rule"] == kind for f in exact):
        misses.append(f"RULE {what}: reported by {sorted({f['rule'] for f in exact})}, expected {kind}")

def canon(doc):
    return Counter(json.dumps(f, sort_keys=True) for f in doc["findings"])

a, b = canon(delta), canon(full)
diffs = []
if a != b:
    for k, n in (a - b).items():
        diffs.append(f"ONLY-DELTA x{n} {k[:300]}")
    for k, n in (b - a).items():
        diffs.append(f"ONLY-FULL x{n} {k[:300]}")
for line in misses + diffs:
    print(line, file=sys.stderr)

planted_values = {r[0] for r in rows}
other = sum(1 for f in findings if f.get("secret") not in planted_values and not (f["kind"] == "file" and any(f["path"] == r[1] and r[0] == "-" for r in rows)))
s = delta["summary"]
ok = not misses and not diffs
print(
    f"synth-check: {'OK' if ok else 'FAIL'}: {len(rows) - len(misses)}/{len(rows)} planted found at their commit+path; "
    f"{len(findings)} findings ({other} not planted), --full-rescan {'identical' if not diffs else f'DIFFERS ({len(diffs)} lines)'}; "
    f"commits {s.get('commits')}, blobs {s.get('blobs')}, bytes {s.get('bytes_scanned')}, skipped {s.get('skipped', {}).get('total')}; "
    f"scan {int(delta_ms) / 1000:.1f}s, full-rescan {int(full_ms) / 1000:.1f}s"
)
sys.exit(0 if ok else 1)
PY
