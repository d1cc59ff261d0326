#!/usr/bin/env bash
# Build the web UI (ui/) into ui/dist, which `cargo build` then compiles
# into `sextant server` (crates/sextant-server/src/api/ui.rs). Needs Node.js
# 20 or newer and npm with access to the npm registry.
#
#   ./scripts/build-ui.sh           # install (npm ci) when needed, then build
#   ./scripts/build-ui.sh --test    # also run the UI's unit tests first
#
# Dependencies are installed with `npm ci` from ui/package-lock.json when
# ui/node_modules is missing or was installed from another lock file.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ui="$root/ui"

run_tests=0
for arg in "$@"; do
  case "$arg" in
    --test) run_tests=1 ;;
    -h | --help)
      sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build-ui.sh: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-ui.sh: $tool is not installed; install Node.js 20 or newer (with npm) and run this again" >&2
    exit 1
  fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "build-ui.sh: Node.js $(node --version) is too old; the UI's tools need Node.js 20 or newer" >&2
  exit 1
fi

# The lock file's hash, recorded in node_modules after a successful
# install, tells whether node_modules is current.
stamp="$ui/node_modules/.sextant-lock-sha256"
want="$(cat "$ui/package.json" "$ui/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ ! -d "$ui/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "build-ui.sh: installing the UI's dependencies (npm ci)" >&2
  npm ci --prefix "$ui" --no-audit --no-fund
  echo "$want" >"$stamp"
fi

if [ "$run_tests" = 1 ]; then
  npm --prefix "$ui" test
fi
npm --prefix "$ui" run build
echo "build-ui.sh: built $ui/dist; now build the server (cargo build -p sextant-cli) to include it" >&2
