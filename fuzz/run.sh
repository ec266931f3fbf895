#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a fixed time each and prints,
# per target, executions, executions per second, coverage and crashes.
#
#   fuzz/run.sh                       # all targets, 120 s each
#   FUZZ_SECONDS=180 fuzz/run.sh engine_bytes staged_lines
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# Generated corpora, crash artifacts and logs stay in fuzz/{corpus,artifacts,logs}
# (git-ignored); the committed seeds are fuzz/seeds/<target>. The built-in rules'
# examples and rule files are added as seeds at run time, so that no fake secret
# is committed outside patterns/.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-120}"
# `none`: the library is safe Rust, so the invariants, not memory errors, are
# what is checked, and uninstrumented memory runs 2-3x faster on a shared
# machine. FUZZ_SANITIZER=address for a memory-checked run.
SANITIZER="${FUZZ_SANITIZER:-none}"
NICE="${FUZZ_NICE:-10}"
ALL_TARGETS=(engine_bytes rules_load config_load staged_lines)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")

max_len() {
    case "$1" in
        engine_bytes) echo 4096 ;;  # several rule windows (512 B) and a manifest
        rules_load) echo 8192 ;;    # a few rules; one rule is at most ~2 KiB
        config_load) echo 1024 ;;
        staged_lines) echo 2048 ;;
        *) echo 4096 ;;
    esac
}

# Seeds derived from patterns/ at run time, into the git-ignored corpus.
seed_from_patterns() {
    local target="$1" dir="corpus/$1"
    mkdir -p "$dir"
    case "$target" in
        engine_bytes)
            # Every secret rule's examples and negative examples, one per file.
            python3 - "$dir" <<'PY'
import hashlib, pathlib, sys, tomllib
out = pathlib.Path(sys.argv[1])
for path in sorted(pathlib.Path("../patterns").glob("*.toml")):
    for rule in tomllib.loads(path.read_text()).get("rule", []):
        for example in rule.get("examples", []) + rule.get("negative_examples", []):
            data = example.encode()
            (out / ("pattern-" + hashlib.sha1(data).hexdigest())).write_bytes(data)
PY
            # A dictionary of every rule keyword: the keyword automaton gives
            # libFuzzer no comparisons to learn them from.
            python3 - corpus/engine_bytes.dict <<'PY'
import pathlib, sys, tomllib
words = set()
for path in sorted(pathlib.Path("../patterns").glob("*.toml")):
    for rule in tomllib.loads(path.read_text()).get("rule", []):
        words.update(rule.get("keywords", []))
words.update(["secretgate:allow", "kind: Secret", "data:"])
def quote(word):  # libFuzzer's dictionary escapes: \\, \" and \xHH
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'\\"' else f"\\x{b:02x}"
                         for b in word.encode()) + '"'
lines = [quote(w) for w in sorted(words)]
pathlib.Path(sys.argv[1]).write_text("\n".join(lines) + "\n")
PY
            ;;
        rules_load)
            # Each built-in rule as a file of its own (split at its header).
            python3 - "$dir" <<'PY'
import hashlib, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
for path in sorted(pathlib.Path("../patterns").glob("*.toml")):
    for chunk in re.split(r"(?m)^(?=\[\[(?:rule|file)\]\])", path.read_text()):
        data = chunk.encode()
        (out / ("pattern-" + hashlib.sha1(data).hexdigest())).write_bytes(data)
PY
            ;;
    esac
}

dict_flag() {
    if [ -f "corpus/$1.dict" ]; then echo "-dict=corpus/$1.dict"; fi
}

mkdir -p logs
echo "== build (sanitizer: $SANITIZER)"
nice -n "$NICE" cargo +nightly fuzz build -s "$SANITIZER" --debug-assertions >/dev/null

summary=()
failed=0
for target in "${TARGETS[@]}"; do
    seed_from_patterns "$target"
    log="logs/$target.log"
    echo "== $target: ${SECONDS_PER_TARGET}s, -max_len=$(max_len "$target"), log $log"
    status=0
    # -jobs=1: one worker process (its output goes to fuzz-0.log, moved to $log).
    nice -n "$NICE" cargo +nightly fuzz run -s "$SANITIZER" --debug-assertions "$target" \
        "corpus/$target" "seeds/$target" -- \
        -jobs=1 -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$target")" \
        -timeout=20 -print_final_stats=1 $(dict_flag "$target") >"logs/$target.driver.log" 2>&1 || status=$?
    if [ -f fuzz-0.log ]; then mv fuzz-0.log "$log"; else cp "logs/$target.driver.log" "$log"; fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1)
    crashes=$(find "artifacts/$target" -type f 2>/dev/null | wc -l)
    [ "$status" -ne 0 ] && failed=1
    summary+=("$(printf '%-13s execs=%-10s exec/s=%-7s %-22s artifacts=%s exit=%s' \
        "$target" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$crashes" "$status")")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] || echo "a target stopped early: see logs/ and artifacts/ (README.md: reproducing a crash)"
exit "$failed"
