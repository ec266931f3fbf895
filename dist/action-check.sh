#!/usr/bin/env bash
# Runs the GitHub Action's own shell steps (action.yml: "Fetch what the range
# needs", "Run the gate") as the runner would (bash -eo pipefail), against a
# real remote and real clones made the way actions/checkout makes them, with
# the event payloads GitHub sends. Checks that:
#   1. pull_request_target from a fork, default (shallow, base-branch)
#      checkout: the head is fetched and scanned; the fork's allow comment
#      does not let its key through;
#   2. pull_request from a fork, its head checked out: neither its
#      .secretgateignore entry nor its allow comment lets the key through;
#      the same pull request from a branch of the repository honours them;
#   3. the first push of a new branch scans only what the default branch does
#      not reach (main's old, unaccepted key is not reported);
#   4. a force-push whose old tip is gone does not fail: the new commits are
#      scanned;
#   5. a push deleting a branch scans nothing.
# Needs: bash, git, python3 with PyYAML, a secretgate binary.
#   bash dist/action-check.sh [SECRETGATE_BINARY] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
binary="${1:-$root/target/debug/secretgate}"
work="${2:-$(mktemp -d)}"
mkdir -p "$work" && work="$(cd "$work" && pwd)"
[ -x "$binary" ] || { echo "FAIL: no secretgate binary at $binary" >&2; exit 1; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
zero=0000000000000000000000000000000000000000

# The two steps' scripts, verbatim from action.yml.
python3 - "$root/action.yml" "$work" <<'PY'
import sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
want = {"Fetch what the range needs": "fetch.sh", "Run the gate": "gate.sh"}
for step in action["runs"]["steps"]:
    if step.get("name") in want:
        open(f"{sys.argv[2]}/{want.pop(step['name'])}", "w").write(step["run"])
if want:
    sys.exit(f"action.yml has no step {sorted(want)}")
PY
mkdir -p "$work/bin" && cp "$binary" "$work/bin/secretgate"

g() { git -c user.name=dev -c user.email=dev@secretgate.invalid -c init.defaultBranch=main "$@"; }
key() { python3 -c 'import secrets,string; a=string.ascii_letters+string.digits+"_-"; print("sk-ant-api03-"+"".join(secrets.choice(a) for _ in range(93))+"AA")'; }

# "GitHub": a bare repository that, like GitHub, serves any commit it still
# reaches by SHA.
rm -rf "$work/origin.git" "$work/dev"
g init -q --bare "$work/origin.git"
g -C "$work/origin.git" config uploadpack.allowReachableSHA1InWant true
g init -q "$work/dev"
dev() { g -C "$work/dev" "$@"; }
dev remote add origin "$work/origin.git"
old_key=$(key)
printf 'OLD = "%s"\n' "$old_key" > "$work/dev/old.py"
dev add -A && dev commit -qm "an old key, never accepted"
for i in 1 2 3 4 5; do echo "$i" > "$work/dev/n.txt"; dev add -A; dev commit -qm "work $i"; done
dev push -q origin main
base=$(dev rev-parse HEAD)

# A fork's pull request #1: a key with an allow comment, and an ignore entry for it.
dev checkout -q -b fork-feature
pr_key=$(key)
printf 'KEY = "%s"  # secretgate:allow\n' "$pr_key" > "$work/dev/config.py"
dev add -A && dev commit -qm "add config"
fingerprint=$({ "$binary" scan "$work/dev/config.py" --no-inline-allow --format json || true; } | python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"][0]["fingerprint"])')
printf '%s # trust me\n' "$fingerprint" > "$work/dev/.secretgateignore"
dev add -A && dev commit -qm "accept it"
pr_head=$(dev rev-parse HEAD)
dev push -q origin "fork-feature:refs/pull/1/head"
dev checkout -q main

# Runs the action's two steps in clone $1 for event $2 with payload $3 and
# extra environment (NAME=VALUE...); prints the gate's exit code.
run_action() {
  local clone=$1 event=$2 payload=$3; shift 3
  printf '%s' "$payload" > "$work/event.json"
  : > "$work/output"
  (
    cd "$clone"
    export PATH="$work/bin:$PATH" CI=true GITHUB_EVENT_NAME="$event" GITHUB_EVENT_PATH="$work/event.json" \
      GITHUB_OUTPUT="$work/output" GITHUB_REPOSITORY=me/app EVENT="$event" THIS_REPO=me/app \
      ARGS="" REPO_CONFIG=auto INLINE_ALLOW=auto SARIF=secretgate.sarif "$@"
    bash --noprofile --norc -eo pipefail "$work/fetch.sh" > "$work/fetch.log" 2>&1 \
      || { cat "$work/fetch.log" >&2; exit 1; }
    bash --noprofile --norc -eo pipefail "$work/gate.sh" > "$work/gate.log" 2>&1 \
      || { cat "$work/gate.log" >&2; exit 1; }
  ) || fail "the action's steps failed"
  sed -n 's/^exit-code=//p' "$work/output"
}
in_sarif() { grep -q "$1" "$2/secretgate.sarif"; }
pr_payload() {
  printf '{"number":1,"pull_request":{"number":1,"base":{"ref":"main","sha":"%s"},"head":{"ref":"feature","sha":"%s","repo":{"full_name":"%s"}}},"repository":{"default_branch":"main"}}' "$base" "$pr_head" "$1"
}

step "1. pull_request_target from a fork, default checkout (depth 1, the base branch)"
rm -rf "$work/ci1" && g clone -q --depth 1 -b main "file://$work/origin.git" "$work/ci1"
code=$(run_action "$work/ci1" pull_request_target "$(pr_payload fork/app)" \
  PR_NUMBER=1 PR_BASE="$base" PR_HEAD="$pr_head" BEFORE="" DEFAULT_BRANCH=main HEAD_REPO=fork/app)
sed -n '1,12p' "$work/gate.log"
[ "$code" = 1 ] || fail "fork pull request: exit-code $code, want 1"
grep -q 'pull request #1' "$work/gate.log" || fail "the gate did not scan the pull request's range"
in_sarif anthropic-api-key "$work/ci1" || fail "the SARIF lacks the pull request's key"
echo "exit-code=1: the fork's key is reported despite its allow comment"

step "2. pull_request from a fork, checkout of its head (its .secretgateignore in the work tree)"
rm -rf "$work/ci2" && g clone -q -b main "file://$work/origin.git" "$work/ci2"
g -C "$work/ci2" fetch -q origin refs/pull/1/head && g -C "$work/ci2" checkout -q FETCH_HEAD
[ -f "$work/ci2/.secretgateignore" ] || fail "the checkout lacks the fork's ignore file"
code=$(run_action "$work/ci2" pull_request "$(pr_payload fork/app)" \
  PR_NUMBER=1 PR_BASE="$base" PR_HEAD="$pr_head" BEFORE="" DEFAULT_BRANCH=main HEAD_REPO=fork/app)
[ "$code" = 1 ] || fail "fork pull request: exit-code $code, want 1: $(cat "$work/gate.log")"
echo "exit-code=1: neither the fork's ignore entry nor its allow comment is honoured"

step "2b. the same pull request from a branch of the repository itself (trusted)"
code=$(run_action "$work/ci2" pull_request "$(pr_payload me/app)" \
  PR_NUMBER=1 PR_BASE="$base" PR_HEAD="$pr_head" BEFORE="" DEFAULT_BRANCH=main HEAD_REPO=me/app)
[ "$code" = 0 ] || fail "trusted pull request: exit-code $code, want 0: $(cat "$work/gate.log")"
echo "exit-code=0: its allow comment and ignore entry are honoured; main's old key is outside the range"

step "3. first push of a new branch (before = 0000...)"
dev checkout -q -b topic
echo "clean" > "$work/dev/topic.txt" && dev add -A && dev commit -qm "topic work"
topic=$(dev rev-parse HEAD)
dev push -q origin topic
rm -rf "$work/ci3" && g clone -q -b topic "file://$work/origin.git" "$work/ci3"
payload=$(printf '{"ref":"refs/heads/topic","before":"%s","after":"%s","deleted":false,"created":true,"repository":{"default_branch":"main"}}' "$zero" "$topic")
code=$(run_action "$work/ci3" push "$payload" BEFORE="$zero" DEFAULT_BRANCH=main PR_HEAD="" PR_BASE="" HEAD_REPO="")
grep 'push event' "$work/gate.log" || true
[ "$code" = 0 ] || fail "new branch: exit-code $code, want 0 (main's old key reported?): $(cat "$work/gate.log")"
echo "exit-code=0: only the branch's own commit was scanned, not main's history"

step "4. force-push whose old tip is gone, default checkout (depth 1)"
leak=$(key)
printf 'LEAK = "%s"\n' "$leak" > "$work/dev/leak.py" && dev add -A && dev commit -qm "leak"
old_tip=$(dev rev-parse HEAD)
dev push -q origin topic
dev reset -q --hard "$topic"
printf 'LEAK = "%s"\n' "$leak" > "$work/dev/leak2.py" && dev add -A && dev commit -qm "leak again, rewritten"
new_tip=$(dev rev-parse HEAD)
dev push -q --force origin topic
g -C "$work/origin.git" reflog expire --expire=now --all && g -C "$work/origin.git" gc -q --prune=now
rm -rf "$work/ci4" && g clone -q --depth 1 -b topic "file://$work/origin.git" "$work/ci4"
payload=$(printf '{"ref":"refs/heads/topic","before":"%s","after":"%s","deleted":false,"forced":true,"repository":{"default_branch":"main"}}' "$old_tip" "$new_tip")
code=$(run_action "$work/ci4" push "$payload" BEFORE="$old_tip" DEFAULT_BRANCH=main PR_HEAD="" PR_BASE="" HEAD_REPO="")
grep 'push event' "$work/gate.log" || true
[ "$code" = 1 ] || fail "force-push: exit-code $code, want 1: $(cat "$work/gate.log")"
in_sarif leak2.py "$work/ci4" || fail "the SARIF lacks the rewritten commit's key"
in_sarif old.py "$work/ci4" && fail "main's old key was scanned"
echo "exit-code=1: the rewritten commit's key, and nothing of main's history"

step "5. push deleting a branch"
payload=$(printf '{"ref":"refs/heads/topic","before":"%s","after":"%s","deleted":true,"repository":{"default_branch":"main"}}' "$new_tip" "$zero")
code=$(run_action "$work/ci4" push "$payload" BEFORE="$new_tip" DEFAULT_BRANCH=main PR_HEAD="" PR_BASE="" HEAD_REPO="")
[ "$code" = 0 ] || fail "deletion: exit-code $code, want 0"
grep 'deleted' "$work/gate.log"
echo "exit-code=0: nothing to scan"

step "the action's steps pass"
