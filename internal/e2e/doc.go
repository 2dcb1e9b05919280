// Package e2e is the end-to-end harness the tests of every package share, so that each piece
// exists once:
//
//   - skipping: Skip, RequireBinary and SkipIfShort skip a test that cannot run here, and fail
//     it instead under HARDWAY_E2E=1 (CI), so CI never passes by skipping. End-to-end tests
//     skip through these helpers only.
//   - binaries: Find locates the real programs the tests drive: the Kubernetes components that
//     scripts/build-kube.sh builds, from HARDWAY_KUBE_APISERVER and its siblings, and CoreDNS,
//     which scripts/build-coredns.sh builds, from HARDWAY_COREDNS (set by .ci/run), and etcd,
//     etcdctl, kubectl, openssl, systemd-analyze, containerd, ctr or runc on PATH. BuildHardway
//     builds the hardway binary itself, GoBuild any main package of the module.
//   - the machine lock: LockMachine, held by every test that starts a cluster (a real
//     kube-apiserver, an etcd cluster, a sandboxed systemd), so two packages' clusters never
//     share this machine's cores, even when `go test ./...` runs packages in parallel.
//   - small pieces: FreePort (a loopback port) and Spread (evenly spread sample points, which
//     keep crash-at-every-write tests linear).
//
// The sandboxed systemd lives in units/systemd/sandboxtest (it needs package systemd's D-Bus
// client) and takes the machine lock. Test networks of network namespaces (one per node, on a
// bridge) are in the subpackage netns; the container images of the node tests, built here since
// no registry is reachable, in internal/e2e/images, and the one program they run in
// internal/e2e/podprogram.
package e2e
