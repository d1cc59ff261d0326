#!/usr/bin/env bash
# A real Kubernetes control plane to try Sextant, kubectl or your own
# manifests against by hand: the one the SEXTANT_TEST_CLUSTER=real test
# profile uses (etcd, kube-apiserver, kube-controller-manager built by
# scripts/build-control-plane.sh, plus localkube's kubelet stand-in, so
# Pods get scheduled and become Ready), in the background.
#
#   scripts/control-plane.sh up --kubeconfig FILE   start; FILE is the admin kubeconfig
#   scripts/control-plane.sh down                    stop it and remove its data
#
# Its data, logs and pids live in ${SEXTANT_CONTROL_PLANE_STATE:-$HOME/.cache/sextant/control-plane-run}.
set -euo pipefail
cd "$(dirname "$0")/.."
state="${SEXTANT_CONTROL_PLANE_STATE:-$HOME/.cache/sextant/control-plane-run}"

stop_pid() { # pidfile
  [[ -f "$1" ]] || return 0
  local pid; pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$1"
}

case "${1:-}" in
  up)
    kubeconfig=""
    shift
    while [[ $# -gt 0 ]]; do
      case "$1" in
        --kubeconfig) kubeconfig="${2:?--kubeconfig needs a file}"; shift 2 ;;
        *) echo "$0: unknown argument $1" >&2; exit 2 ;;
      esac
    done
    [[ -n "$kubeconfig" ]] || { echo "usage: $0 up --kubeconfig FILE" >&2; exit 2; }
    if [[ -f "$state/control-plane.pid" ]] && kill -0 "$(cat "$state/control-plane.pid")" 2>/dev/null; then
      echo "$0: a control plane already runs (data in $state); run '$0 down' first" >&2
      exit 1
    fi
    SEXTANT_CONTROL_PLANE_BIN="$(./scripts/build-control-plane.sh | tail -n1)"
    export SEXTANT_CONTROL_PLANE_BIN
    echo "== building sextant and sextant-control-plane" >&2
    cargo build -q -p sextant-cli -p sextant-testkit --bin sextant --bin sextant-control-plane
    target="${CARGO_TARGET_DIR:-$PWD/target}/debug"
    rm -rf "$state"; mkdir -p "$state"
    nohup "$target/sextant-control-plane" "$state/data" >"$state/control-plane.out" 2>&1 &
    echo $! >"$state/control-plane.pid"
    for _ in $(seq 1 600); do
      [[ -s "$state/control-plane.out" ]] && grep -q "kubeconfig$" "$state/control-plane.out" && break
      kill -0 "$(cat "$state/control-plane.pid")" 2>/dev/null || { cat "$state/control-plane.out" >&2; exit 1; }
      sleep 0.2
    done
    [[ -f "$state/data/kubeconfig" ]] || { echo "$0: the control plane did not start; see $state" >&2; exit 1; }
    cp "$state/data/kubeconfig" "$kubeconfig"
    nohup "$target/sextant" localkube simulate --kubeconfig "$state/data/kubeconfig" >"$state/stand-in.log" 2>&1 &
    echo $! >"$state/stand-in.pid"
    echo "control plane up: kubectl --kubeconfig $kubeconfig get nodes  (logs in $state/data)"
    ;;
  down)
    stop_pid "$state/stand-in.pid"
    stop_pid "$state/control-plane.pid"
    rm -rf "$state"
    echo "control plane down"
    ;;
  *)
    echo "usage: $0 up --kubeconfig FILE | down" >&2
    exit 2
    ;;
esac
