#!/usr/bin/env bash
# Browser tests of the web UI (ui/e2e/): playwright-core drives Debian's
# Chromium against the real stack (`sextant demo`: localkube, a sample Git
# repository, the controller, the API server with the UI), all on loopback
# in a temporary folder. Screenshots of every page end up in
# ui/e2e/artifacts/ (ignored by Git), with the demo's log (demo.log).
#
#   ./scripts/build-ui.sh && cargo build -p sextant-cli   # the binary must embed the UI
#   ./scripts/ui-e2e.sh
#   ./scripts/ui-e2e.sh --bench   # the UI at scale instead (ui/e2e/bench.mjs)
#
# It installs what is missing: Chromium (apt-get install chromium, as root,
# when /usr/bin/chromium is absent) and ui/node_modules (npm ci); it never
# downloads a browser through Playwright.
#
#   SEXTANT_BIN        the binary under test (default target/debug/sextant)
#   SEXTANT_CHROMIUM   the browser (default /usr/bin/chromium)
#   SEXTANT_E2E_TIMEOUT  seconds for the whole run (default 900)
#   SEXTANT_E2E_KEEP   set to keep the demo's temporary folder
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bench=""
case "${1:-}" in
  -h | --help)
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  --bench) bench=1 ;;
  "") ;;
  *)
    echo "ui-e2e.sh: unknown argument $1 (try --help)" >&2
    exit 2
    ;;
esac

export SEXTANT_BIN="${SEXTANT_BIN:-target/debug/sextant}"
if [ ! -x "$SEXTANT_BIN" ]; then
  echo "ui-e2e.sh: no sextant binary at $SEXTANT_BIN; run ./scripts/build-ui.sh && cargo build -p sextant-cli (or set SEXTANT_BIN)" >&2
  exit 1
fi
if [ ! -d ui/dist ]; then
  echo "ui-e2e.sh: warning: ui/dist is missing, so $SEXTANT_BIN probably has no UI; run ./scripts/build-ui.sh, then cargo build -p sextant-cli" >&2
fi

for tool in node npm git kubectl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "ui-e2e.sh: $tool is not installed; the browser tests need Node.js 20+ (with npm), git and kubectl" >&2
    exit 1
  fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "ui-e2e.sh: Node.js $(node --version) is too old; the browser tests need Node.js 20 or newer" >&2
  exit 1
fi

# Debian's Chromium, never a browser downloaded by Playwright.
if [ -z "${SEXTANT_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ui-e2e.sh: /usr/bin/chromium is missing; install Debian's chromium package (apt-get install chromium) as root, or set SEXTANT_CHROMIUM" >&2
    exit 1
  fi
  echo "ui-e2e.sh: installing chromium (apt-get)" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

# The UI's dependencies (playwright-core among them), as build-ui.sh
# installs them: npm ci when node_modules is missing or from another lock.
stamp="ui/node_modules/.sextant-lock-sha256"
want="$(cat ui/package.json ui/package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -d ui/node_modules/playwright-core ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "ui-e2e.sh: installing the UI's dependencies (npm ci)" >&2
  npm ci --prefix ui --no-audit --no-fund
  echo "$want" >"$stamp"
fi

# Fresh artifacts for this run.
rm -rf ui/e2e/artifacts
mkdir -p ui/e2e/artifacts

if [ -n "$bench" ]; then
  echo "ui-e2e.sh: running the browser benchmark against $SEXTANT_BIN" >&2
  exec node ui/e2e/bench.mjs
fi

limit="${SEXTANT_E2E_TIMEOUT:-900}"
echo "ui-e2e.sh: running the browser tests against $SEXTANT_BIN (at most $limit s)" >&2
status=0
timeout --kill-after=30 "$limit" node --test ui/e2e/*.test.mjs || status=$?
if [ "$status" = 124 ]; then
  echo "ui-e2e.sh: the browser tests took longer than $limit s" >&2
fi
echo "ui-e2e.sh: screenshots and the demo's log are in ui/e2e/artifacts/" >&2
exit "$status"
