// Package release fetches the upstream Kubernetes binaries a cluster runs (kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl) from the official
// release location or a mirror with the same layout, and keeps them by version:
//
//	BASE/v1.37.2/bin/linux/amd64/kubelet          the program
//	BASE/v1.37.2/bin/linux/amd64/kubelet.sha512   its SHA-512, lowercase hex (nothing else)
//
// BASE is https://dl.k8s.io/release (DefaultBaseURL); the checksum files are the ones
// Kubernetes' release tooling (kubernetes/release, WriteChecksums) publishes beside every
// file. A binary is kept as DEST/v1.37.2/linux-amd64/kubelet, mode 0755, with the checksum it
// was verified against beside it (kubelet.sha512).
//
// Each binary is streamed to a temporary file in its final directory while its SHA-512 is
// computed, fsynced, and renamed into place only when the digest equals the published one and
// the whole body arrived (internal/atomicfile.WriteStream): a mismatch, a truncated download or
// a missing checksum file leaves nothing behind. A binary already kept whose content matches
// the checksum kept beside it is not fetched again. The checksum proves integrity, not origin:
// it comes from the same place as the binary.
package release
