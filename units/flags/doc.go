// Package flags is the catalogue of command-line flags of the control-plane and node components
// hardway installs — kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kubelet,
// kube-proxy and containerd, and hardway's own `hardway routes` (a Component with a Subcommand
// and no versions) — as data: per flag its name, type, default, a one-line meaning and its lifecycle
// (added, deprecated, no-op and removed in which version, and what replaces it), plus the
// kube-apiserver admission plugins and the Kubernetes feature gates with their lifecycle (and,
// for the few gates only some components register, which ones do not: Gate.NotIn).
//
// The data lives in data/*.yaml, embedded and parsed once at init; catalogue_test.go checks its
// invariants (unique names, well-formed versions, removed after deprecated, replacements that
// exist). docs/flags.md says where each fact came from.
//
// Beside the flags the data holds kube-apiserver's admission plugins (admission-plugins.yaml,
// Plugin) and the keys of its --runtime-config (api-versions.yaml, RuntimeConfigKey: each API
// group/version with the spans of minors in which kube-apiserver accepts it), and the feature
// gates every Kubernetes component shares (feature-gates.yaml, Gate).
//
// Versions are minor versions ("1.24", "3.5"). kube-apiserver and its admission plugins,
// --runtime-config keys and feature gates, the kubelet, kube-controller-manager, kube-scheduler
// and kube-proxy are covered from 1.8 to 1.37, etcd from 3.4 to 3.6, containerd from 1.6 to 2.2.
// A flag removed before the covered range is still listed, so that a unit written for an older
// release is recognised and explained rather than reported as unknown.
//
// realbinary_test.go checks the catalogue against the real binaries (v1.37 in CI);
// oldreleases_test.go (build tag oldreleases) runs the same checks against older releases built
// with scripts/build-kube.sh.
package flags
