package units

import (
	"fmt"

	"github.com/hardway-dev/hardway/configs"
)

// Flags by version.
//
// Every flag and config field rendered here exists, and is not deprecated, in each supported
// Kubernetes minor (1.32 to 1.37) and etcd minor (3.5, 3.6), so no flag depends on the version
// yet; CheckVersions refuses any other version rather than guess. Sources, per component:
//   - kube-apiserver: kubernetes/kubernetes pkg/controlplane/apiserver/options and
//     staging/src/k8s.io/apiserver/pkg/server/options (secure serving, authentication, audit,
//     etcd, encryption); the flags removed before 1.32 (--insecure-port, --kubelet-https,
//     --experimental-encryption-provider-config, --enable-swagger-ui) and the deprecated
//     --apiserver-count are not used (shared/notes/upstream-facts.md section 4).
//   - kube-scheduler: cmd/kube-scheduler/app/options/deprecated.go marks --profiling and
//     --kubeconfig "DEPRECATED ... ignored if a config file is specified in --config", so both
//     go into the KubeSchedulerConfiguration (enableProfiling, clientConnection.kubeconfig).
//   - kubelet: every setting but --config, --kubeconfig, --hostname-override and --node-ip is a
//     KubeletConfiguration field (the flags are deprecated in favour of the file; e.g.
//     --container-runtime-endpoint became containerRuntimeEndpoint in 1.27).
//   - kube-proxy: --config and the KubeProxyConfiguration (v1alpha1, the only version).
//   - etcd: server/etcdmain/config.go; all flags used exist in 3.5 and 3.6 (none are
//     --experimental-*, which 3.6 renamed).

// CheckVersions returns an error unless kubernetes ("1.37") and etcd ("3.6") are minor
// versions the units are written for, as configs decides them.
func CheckVersions(kubernetes, etcd string) error {
	if !configs.SupportedKubernetesVersion(kubernetes) {
		return fmt.Errorf("kubernetesVersion %q: units are written for 1.%d to 1.%d",
			kubernetes, configs.MinKubernetesMinor, configs.MaxKubernetesMinor)
	}
	if !configs.SupportedEtcdVersion(etcd) {
		return fmt.Errorf("etcdVersion %q: units are written for 3.%d to 3.%d",
			etcd, configs.MinEtcdMinor, configs.MaxEtcdMinor)
	}
	return nil
}
