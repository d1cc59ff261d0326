#!/usr/bin/env bash
# Builds the real control plane the `SEXTANT_TEST_CLUSTER=real` profile
# runs against: kube-apiserver and kube-controller-manager from the
# Kubernetes release pinned by tools/kube/go.mod, etcd from the release
# pinned by tools/etcd/go.mod. Static (CGO_ENABLED=0), -trimpath, with the
# versions stamped so `/version` and `etcd --version` tell the truth.
#
# The binaries go to a cache folder outside the source tree, keyed by the
# versions and the modules' go.sum:
#   ${SEXTANT_CONTROL_PLANE_CACHE:-$HOME/.cache/sextant/control-plane}/<key>/
# and are reused when present (the build is skipped). The folder's path is
# the last line printed on stdout; everything else goes to stderr.
# Needs Go (the version in tools/kube/go.mod or newer) and the module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  echo "$0: Go is needed to build kube-apiserver, kube-controller-manager and etcd; install Go 1.26 and retry" >&2
  exit 2
fi

mod_version() { # module-path go.mod -> the version it requires
  sed -n -E "s#^[[:space:]]*(require[[:space:]]+)?$1 (v[^ ]+).*#\\2#p" "$2" | head -n1
}
kube_version="$(mod_version k8s.io/kubernetes tools/kube/go.mod)"
etcd_version="$(mod_version go.etcd.io/etcd/server/v3 tools/etcd/go.mod)"
if [[ -z "$kube_version" || -z "$etcd_version" ]]; then
  echo "$0: tools/kube/go.mod or tools/etcd/go.mod names no release; rerun scripts/gen-control-plane-modules.sh" >&2
  exit 2
fi
# Bump recipe when the way of building changes (flags, stamps).
recipe=1
sum="$(cat tools/kube/go.mod tools/kube/go.sum tools/etcd/go.mod tools/etcd/go.sum | sha256sum | cut -c1-12)"
cache_root="${SEXTANT_CONTROL_PLANE_CACHE:-$HOME/.cache/sextant/control-plane}"
out="$cache_root/kube-$kube_version-etcd-$etcd_version-r$recipe-$sum"

if [[ -x "$out/kube-apiserver" && -x "$out/kube-controller-manager" && -x "$out/etcd" ]]; then
  echo "== control plane $kube_version / etcd $etcd_version: cached in $out" >&2
  echo "$out"
  exit 0
fi

mkdir -p "$cache_root"
tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
# Go's build cache for these two builds is about 3 GB and useless once the
# binaries are cached above: unless the caller set GOCACHE, it is thrown away.
if [[ -z "${GOCACHE:-}" ]]; then
  export GOCACHE="$tmp.gocache"
fi
trap 'rm -rf "$tmp" "$tmp.gocache"' EXIT

export CGO_ENABLED=0 GOFLAGS=-mod=readonly
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
minor="${kube_version#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  ldflags+=" -X $pkg.gitCommit=module-k8s.io/kubernetes@$kube_version"
done

start=$SECONDS
echo "== building kube-apiserver and kube-controller-manager $kube_version (a cold build takes minutes)" >&2
(cd tools/kube && go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager) >&2
echo "== building etcd $etcd_version" >&2
(cd tools/etcd && go build -trimpath \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-go.etcd.io/etcd/server/v3@$etcd_version" \
  -o "$tmp/etcd" go.etcd.io/etcd/server/v3) >&2
echo "== control plane built in $((SECONDS - start)) s" >&2

rm -rf "$out"
mv "$tmp" "$out"
trap 'rm -rf "$tmp.gocache"' EXIT
echo "$out"
