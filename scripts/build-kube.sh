#!/usr/bin/env bash
# build-kube.sh OUTDIR [VERSION] [COMPONENT...]
#
# Builds real upstream Kubernetes components (default: kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet and kube-proxy), statically (CGO_ENABLED=0), into OUTDIR/<component>, from the
# k8s.io/kubernetes Go module at VERSION (default v1.37.2, the release matching the k8s.io/api
# v0.37.2 this repository uses). Nothing is written inside the repository: the build happens in a
# throwaway wrapper module in a temporary directory, which is removed afterwards.
#
# Why a wrapper module: k8s.io/kubernetes requires its staging modules (k8s.io/api,
# k8s.io/apiserver, ...) at the placeholder version v0.0.0 and points them at ./staging/src with
# `replace` lines that only apply inside its own repository. A module that imports it must
# replace every staging module itself; the published tags of the staging modules are
# v0.<minor>.<patch> for kubernetes v1.<minor>.<patch>. The list of staging modules is read from
# kubernetes' own go.mod (only that file is fetched for it), so the script follows new releases.
#
# Used by the end-to-end tests that run the real control plane from rendered units, and by the
# flag catalogue's checks against the real binaries (.ci/run does this):
#   scripts/build-kube.sh /tmp/kube
#   export HARDWAY_KUBE_APISERVER=/tmp/kube/kube-apiserver
#   export HARDWAY_KUBE_CONTROLLER_MANAGER=/tmp/kube/kube-controller-manager
#   export HARDWAY_KUBE_SCHEDULER=/tmp/kube/kube-scheduler
#   export HARDWAY_KUBELET=/tmp/kube/kubelet HARDWAY_KUBE_PROXY=/tmp/kube/kube-proxy
#   go test ./units/systemd ./units/flags
#
# Needs only Go and the Go module proxy. Respects GOMODCACHE/GOCACHE/GOFLAGS like any go build.
#
# Older releases (docs/flags.md records what was built with which Go): with Go 1.26, 1.24 and later
# build whole; 1.20 to 1.23 build without kube-apiserver (see the go build below); 1.19 and older
# do not build: their module graph needs vbom.ml/util, which the module proxy no longer serves,
# and before 1.15 kubernetes was not a module. A patch whose staging modules were never tagged
# (v1.18.20: no k8s.io/api v0.18.20) does not resolve; take the patch before it.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 OUTDIR [VERSION] [COMPONENT...]   (VERSION defaults to v1.37.2; components to kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)" >&2
  exit 2
fi
out=$1
version=${2:-v1.37.2}
shift $(($# < 2 ? $# : 2))
components=("$@")
[ ${#components[@]} -gt 0 ] || components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
for c in "${components[@]}"; do
  case $c in
    kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy | kubelet) ;;
    *) echo "$0: unknown component $c" >&2; exit 2 ;;
  esac
done
case $version in
  v1.*.*) ;;
  *) echo "$0: VERSION must look like v1.MINOR.PATCH, got $version" >&2; exit 2 ;;
esac
staging=v0.${version#v1.}

case $out in
  /*) ;;
  *) out=$PWD/$out ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0
# k8s.io/legacy-cloud-providers, the in-tree cloud providers' staging module (1.16-1.30): the
# module proxy serves all its tags, but the checksum database answers 404 for a few of them
# (v0.18.20, v0.27.16), so `go build` could not verify them and stopped. Its sums are taken from
# the proxy instead (GONOSUMDB); every other module is still verified.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}k8s.io/legacy-cloud-providers"

go mod init hardway.invalid/kube-apiserver-build >/dev/null 2>&1

# kubernetes' own go.mod (the module is downloaded into the module cache, as the build needs it):
# its `k8s.io/X => ./staging/src/k8s.io/X` lines name every staging module.
gomod=$(go mod download -json "k8s.io/kubernetes@$version" 2>/dev/null | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
if [ -z "$gomod" ] || [ ! -f "$gomod" ]; then
  echo "$0: could not fetch the go.mod of k8s.io/kubernetes@$version" >&2
  exit 1
fi
mapfile -t mods < <(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$gomod" | sort -u)
if [ ${#mods[@]} -eq 0 ]; then
  echo "$0: no staging modules found in $gomod" >&2
  exit 1
fi

{
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  for m in "${mods[@]}"; do
    echo "	$m => $m $staging"
  done
  echo ")"
} >>go.mod

# -mod=mod lets go build complete go.mod/go.sum from kubernetes' own requirements (no `go mod
# tidy`, which would also fetch every test dependency). The version is stamped the way
# kubernetes' hack/lib/version.sh does, so `kube-apiserver --version` and /version say it.
minor=${version#v1.}
minor=${minor%%.*}
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
mkdir -p "$out"
pkgs=()
for c in "${components[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
# One go build for all of them: shared packages compile once. A component that does not compile
# does not stop the others: go build still writes every binary that links, and the script names
# the missing ones and fails. (Before 1.24 kube-apiserver does not build from the module: it needs
# pkg/generated/openapi/zz_generated.openapi.go, which kubernetes' Makefile generated and the
# module did not hold until 1.24; the other four components build from 1.20 on.)
status=0
go build -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}" || status=$?
for c in "${components[@]}"; do
  if [ -x "$out/$c" ]; then
    "$out/$c" --version
  else
    echo "$0: $c $version did not build (see the go build errors above)" >&2
    status=1
  fi
done
exit $status
