#!/usr/bin/env bash
# Builds every local artifact from ONE release binary and proves each works
# with nothing compiled at install time:
#   1. cargo build --profile dist --target x86_64-unknown-linux-musl (the only
#      compile): the static binary the release ships for Linux;
#   2. the wheel (maturin, same profile, target and target dir: it packs that
#      binary; tagged manylinux_2_17 and musllinux_1_2), the npm launcher and
#      linux-x64 platform package (npm pack);
#   3. each artifact carries the same binary (SHA-256 and --version equal);
#   4. pip install of the wheel into a fresh venv: --version and a scan;
#   5. npm i -D of the two tarballs into a fresh project with husky: a real
#      `git commit` adding a key is blocked by .husky/pre-commit, a clean one passes;
#   6. the pre-commit framework (repo: local, language: python,
#      additional_dependencies: [secretgate-bin==VERSION]) and prek with the same
#      config: a commit adding a key is blocked. cargo and rustc are not on PATH
#      for steps 4-7, so nothing can be compiled there;
#   7. `npx secretgate install` in a fresh npm project: git's own hook finds
#      the binary from node_modules with no secretgate on PATH;
#   8. the GitHub Action's shell steps against real clones (dist/action-check.sh).
# Needs: cargo (rustup adds the musl target when missing), python3 with PyYAML,
# node/npm, network access to PyPI and npm for
# maturin, pre-commit, prek and husky. Not part of the default test run.
#   bash dist/check.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
git_user=(-c user.name=check -c user.email=check@secretgate.invalid)

target=x86_64-unknown-linux-musl
step "1. one release binary (cargo build --locked --profile dist --target $target)"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
cargo build --locked --profile dist --target "$target"
binary="$root/target/$target/dist/secretgate"
file "$binary" | grep -q 'static' || fail "$binary is not static: $(file "$binary")"
sha() { sha256sum "$1" | cut -d' ' -f1; }
want_sha="$(sha "$binary")"
want_version="$("$binary" --version)"
echo "binary: $binary ($want_sha), $want_version"

step "2a. wheel (maturin, bindings = bin)"
python3 -m venv "$work/build-venv"
"$work/build-venv/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9,<2"
rm -rf "$work/wheels"
"$work/build-venv/bin/maturin" build --locked --profile dist --target "$target" \
  --compatibility manylinux_2_17 musllinux_1_2 --out "$work/wheels" 2>&1 | tail -n 3
wheel="$(ls "$work"/wheels/secretgate_bin-"$version"-*.whl)"
echo "wheel: $wheel"
case "$wheel" in
  *manylinux_2_17_x86_64*musllinux_1_2_x86_64*|*musllinux_1_2_x86_64*manylinux_2_17_x86_64*) ;;
  *) fail "the wheel is not tagged manylinux_2_17 and musllinux_1_2: $wheel" ;;
esac
[ "$want_sha" = "$(sha "$binary")" ] || fail "maturin rebuilt target/dist/secretgate"
mkdir -p "$work/unzipped" && (cd "$work/unzipped" && python3 -m zipfile -e "$wheel" .)
[ "$(sha "$work"/unzipped/secretgate_bin-"$version".data/scripts/secretgate)" = "$want_sha" ] \
  || fail "the wheel's binary differs from target/dist/secretgate"
echo "the wheel carries the same binary"

step "2b. npm packages (launcher + linux-x64)"
rm -rf "$work/npm" "$work/tarballs" && mkdir -p "$work/tarballs"
node npm/build.mjs --out "$work/npm" --platform "$target=$binary"
for dir in "$work/npm/secretgate" "$work/npm/linux-x64"; do
  (cd "$work/tarballs" && npm pack --silent "$dir" >/dev/null)
done
ls -l "$work/tarballs"
tar -xzf "$work/tarballs/secretgate-linux-x64-$version.tgz" -C "$work/tarballs" package/bin/secretgate
[ "$(sha "$work/tarballs/package/bin/secretgate")" = "$want_sha" ] \
  || fail "the npm platform package's binary differs"
[ -x "$work/tarballs/package/bin/secretgate" ] || fail "npm pack lost the binary's exec bit"
grep -q '"preinstall"\|"install"\|"postinstall"' "$work"/npm/*/package.json \
  && fail "an npm package has an install script"
echo "the npm package carries the same binary, executable, and no package has an install script"

# From here on nothing may compile: no cargo or rustc on PATH.
nocompile_path="/usr/local/bin:/usr/bin:/bin"
for tool in cargo rustc; do
  if PATH="$nocompile_path" command -v "$tool" >/dev/null; then
    fail "$tool is on $nocompile_path; cannot prove a compiler-free install"
  fi
done
python="$(command -v python3)"
pythondir="$(dirname "$python")"

# A fresh key of Anthropic's shape, made now (the rule's example values live in patterns/).
key="$("$python" -c 'import secrets,string; a=string.ascii_letters+string.digits+"_-"; print("sk-ant-api03-"+"".join(secrets.choice(a) for _ in range(93))+"AA")')"

step "4. pip install into a fresh venv"
"$python" -m venv "$work/venv"
env PATH="$work/venv/bin:$nocompile_path" "$work/venv/bin/pip" install --quiet --disable-pip-version-check \
  --no-index --find-links "$work/wheels" "secretgate-bin==$version"
got="$(env PATH="$work/venv/bin:$nocompile_path" secretgate --version)"
[ "$got" = "$want_version" ] || fail "pip's secretgate --version: $got"
mkdir -p "$work/scan" && printf 'ANTHROPIC_API_KEY=%s\n' "$key" > "$work/scan/.env"
set +e; env PATH="$work/venv/bin:$nocompile_path" secretgate scan "$work/scan" --redact >/dev/null; code=$?; set -e
[ "$code" = 1 ] || fail "scan through the wheel exited $code, want 1"
echo "pip: $got; scan of a planted key exits 1"

# A repository whose next commit adds the key.
new_repo() {
  rm -rf "$1" && mkdir -p "$1"
  git -C "$1" init -q -b main
  printf 'hello\n' > "$1/README.md"
}
commit_key() { # repo -> exit status of a commit adding the key
  printf 'const key = "%s";\n' "$key" > "$1/config.js"
  git -C "$1" add config.js
  set +e; env PATH="$2" git "${git_user[@]}" -C "$1" commit -q -m "add config" > "$1.commit.log" 2>&1; local code=$?; set -e
  return $code
}

step "5. npm i -D + husky: a real commit is blocked"
new_repo "$work/husky"
(cd "$work/husky" && npm init -y >/dev/null \
  && npm i -D --silent --no-audit --no-fund "$work/tarballs/secretgate-$version.tgz" \
       "$work/tarballs/secretgate-linux-x64-$version.tgz" husky >/dev/null \
  && npx husky init >/dev/null && printf 'npx secretgate staged\n' > .husky/pre-commit)
got="$(cd "$work/husky" && env PATH="$pythondir:$nocompile_path" npx secretgate --version)"
[ "$got" = "$want_version" ] || fail "npx secretgate --version: $got"
git -C "$work/husky" add -A && env PATH="$nocompile_path" git "${git_user[@]}" -C "$work/husky" commit -q -m "tooling"
if commit_key "$work/husky" "$nocompile_path"; then fail "husky let a key through"; fi
grep -q 'anthropic-api-key' "$work/husky.commit.log" || fail "husky's block message lacks the rule: $(cat "$work/husky.commit.log")"
sed -n '1,12p' "$work/husky.commit.log"
echo "npm: $got; husky blocked the commit"

step "6. pre-commit and prek, language: python with the wheel: a real commit is blocked"
"$python" -m venv "$work/hooks-venv"
"$work/hooks-venv/bin/pip" install --quiet --disable-pip-version-check pre-commit prek
for manager in pre-commit prek; do
  repo="$work/$manager"
  new_repo "$repo"
  cat > "$repo/.pre-commit-config.yaml" <<YAML
repos:
  - repo: local
    hooks:
      - id: secretgate
        name: secretgate
        entry: secretgate staged
        language: python
        additional_dependencies: ["secretgate-bin==$version"]
        pass_filenames: false
YAML
  git -C "$repo" add -A && git "${git_user[@]}" -C "$repo" commit -q -m "config" --no-verify
  hookpath="$work/hooks-venv/bin:$nocompile_path"
  # The hook environment installs secretgate-bin from the local wheel
  # directory (it is not published yet), as a wheel only: never built from source.
  export PIP_FIND_LINKS="$work/wheels" PIP_ONLY_BINARY="secretgate-bin" \
    UV_FIND_LINKS="$work/wheels" UV_NO_BUILD_PACKAGE="secretgate-bin" \
    PRE_COMMIT_HOME="$work/$manager-home" PREK_HOME="$work/$manager-home"
  (cd "$repo" && env PATH="$hookpath" "$manager" install >/dev/null)
  [ -x "$repo/.git/hooks/pre-commit" ] || fail "$manager install wrote no hook into $repo"
  if commit_key "$repo" "$hookpath"; then fail "$manager let a key through: $(cat "$repo.commit.log")"; fi
  grep -q 'anthropic-api-key' "$repo.commit.log" || fail "$manager's output lacks the rule: $(cat "$repo.commit.log")"
  tail -n 8 "$repo.commit.log"
  echo "$manager blocked the commit"
done

step "7. npx secretgate install: git's own hook, secretgate not on PATH"
new_repo "$work/npx-install"
(cd "$work/npx-install" && printf 'node_modules/\n' > .gitignore && npm init -y >/dev/null \
  && npm i -D --silent --no-audit --no-fund "$work/tarballs/secretgate-$version.tgz" \
       "$work/tarballs/secretgate-linux-x64-$version.tgz" >/dev/null \
  && env PATH="$pythondir:$nocompile_path" npx secretgate install)
git -C "$work/npx-install" add -A && env PATH="$nocompile_path" git "${git_user[@]}" -C "$work/npx-install" commit -q -m "clean" \
  || fail "the installed hook blocked a clean commit"
if commit_key "$work/npx-install" "$nocompile_path"; then fail "the installed hook let a key through"; fi
grep -q 'anthropic-api-key' "$work/npx-install.commit.log" || fail "the hook's output lacks the rule: $(cat "$work/npx-install.commit.log")"
grep -o "^installed=.*" "$work/npx-install/.git/hooks/pre-commit"
echo "the hook runs node_modules' binary: a clean commit passes, a key is blocked"

step "8. the GitHub Action's shell steps (dist/action-check.sh)"
bash "$root/dist/action-check.sh" "$binary" "$work/action" | grep -E '^(==|exit-code)'

step "all artifacts carry $want_version (sha256 $want_sha)"
