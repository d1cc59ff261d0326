#!/usr/bin/env bash
# The whole product on localkube in one command: installs helm into
# .tools/bin (for the demo's Helm app) and builds the web UI when they are
# missing, then runs `sextant demo` (localkube, a sample GitOps
# repository, the controller, the API server and the UI). Arguments are
# passed to `sextant demo` (see `sextant demo --help`). Needs git, npm,
# Node.js 20+ and cargo; Ctrl-C stops it and removes what it made.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-tools.sh helm
./scripts/build-ui.sh
export PATH="$PWD/.tools/bin:$PATH"
exec cargo run -p sextant-cli -- demo "$@"
