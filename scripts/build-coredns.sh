#!/usr/bin/env bash
# build-coredns.sh OUTDIR [VERSION]
#
# Builds the real upstream CoreDNS server, statically (CGO_ENABLED=0), into OUTDIR/coredns, from
# the github.com/coredns/coredns Go module at VERSION (default v1.15.0; internal/e2e/images.CoreDNSRef
# names the image built from it, registry.k8s.io/coredns/coredns:VERSION). Nothing is written
# inside the repository and none of CoreDNS's dependencies enter hardway's go.mod: the build
# happens in a throwaway wrapper module in a temporary directory, which is removed afterwards
# (the way scripts/build-kube.sh builds Kubernetes).
#
# CoreDNS's go.mod has no replace lines, so the wrapper only requires it; the main package is the
# module's root. The default plugin set (core/plugin/zplugin.go, generated from plugin.cfg
# upstream) is what the release images carry, kubernetes, forward and cache included.
#
# Used by the node end-to-end tests, which pack it into a container image for the cluster DNS
# addon (.ci/run does this):
#   scripts/build-coredns.sh /tmp/bin
#   export HARDWAY_COREDNS=/tmp/bin/coredns
#
# Needs only Go and the Go module proxy. Respects GOMODCACHE/GOCACHE/GOFLAGS like any go build.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 OUTDIR [VERSION]   (VERSION defaults to v1.15.0)" >&2
  exit 2
fi
out=$1
version=${2:-v1.15.0}
case $version in
  v1.*.*) ;;
  *) echo "$0: VERSION must look like v1.MINOR.PATCH, got $version" >&2; exit 2 ;;
esac

case $out in
  /*) ;;
  *) out=$PWD/$out ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0

go mod init hardway.invalid/coredns-build >/dev/null 2>&1
printf '\nrequire github.com/coredns/coredns %s\n' "$version" >>go.mod

# -mod=mod lets go build complete go.mod/go.sum from CoreDNS's own requirements (no `go mod
# tidy`, which would also fetch every test dependency). The commit is not known from the module
# alone; CoreDNS's version is a constant of its coremain package, so `coredns -version` says it.
mkdir -p "$out"
go build -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$version" -o "$out/coredns" github.com/coredns/coredns
"$out/coredns" -version
