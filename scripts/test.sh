#!/usr/bin/env bash
# The one entry point for every check: formatting, lints, and the whole test
# suite. README.md documents it and .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null 2>&1; then
  echo "scripts/test.sh: kubectl is required by the conformance suite; install it and retry" >&2
  exit 2
fi

# No incremental compilation: it doubles the target directory of a clean
# build (CI starts from nothing and some machines are short of disk) and buys
# nothing on a one-shot run. Export CARGO_INCREMENTAL=1 to keep it locally.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# helm (pinned by tools/package-lock.json) for the rendering tests.
./scripts/install-tools.sh
export PATH="$PWD/.tools/bin:$PATH"

# The web UI: its unit tests (Vitest), then the build that cargo embeds
# into `sextant server` below.
echo "== web UI: unit tests and build"
./scripts/build-ui.sh --test

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# --no-fail-fast: one run shows every failing test binary, not the first.
echo "== cargo test"
cargo test --workspace --no-fail-fast

# The UI in a real browser (playwright-core driving Debian's chromium,
# installed when missing) against `sextant demo`, with the binary cargo
# test just built (it embeds ui/dist, built above).
echo "== web UI in a browser"
SEXTANT_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/sextant" ./scripts/ui-e2e.sh

# The real profile: the same suites against a real control plane (etcd,
# kube-apiserver, kube-controller-manager built from tools/kube and
# tools/etcd, cached outside the tree) with localkube's kubelet stand-in.
echo "== building the real control plane (cached after the first time)"
SEXTANT_CONTROL_PLANE_BIN="$(./scripts/build-control-plane.sh | tail -n1)"
export SEXTANT_CONTROL_PLANE_BIN
echo "== cargo test, real control plane profile"
# One integration binary per crate (tests/integration/main.rs): the suites
# that mean something against a real API server are picked by module.
status=0
real_profile() { SEXTANT_TEST_CLUSTER=real cargo test --no-fail-fast "$@" || status=1; }
real_profile -p sextant-testkit --test control_plane \
  -p sextant-controller --test integration \
  -p sextant-server --test integration
real_profile -p localkube --test integration -- \
  kubectl_conformance:: stand_in:: differential:: kube_client::
real_profile -p sextant-cli --test integration -- demo_cli:: cluster_cli::
exit "$status"
