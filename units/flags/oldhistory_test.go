package flags

import "testing"

// Facts of the 1.8-1.20 history that an audit of what each binary registered at run time corrected
// (the command construction followed from main, option structs left nil skipped, the global flag
// sets counted only where the binary parses them). Each case names the source read, at the latest
// patch of the minor.
func TestOldHistoryFacts(t *testing.T) {
	c := Default()
	tests := []struct {
		comp, flag, at string
		want           State
	}{
		// cmd/kube-scheduler/app/options/options.go v1.12.10: SecureServing, Authentication and
		// Authorization nil ("TODO: enable"), their AddFlags return on nil; set at v1.13.12.
		{"kube-scheduler", "tls-cert-file", "1.12", NotYetAdded},
		{"kube-scheduler", "tls-cert-file", "1.13", Current},
		{"kube-scheduler", "authentication-kubeconfig", "1.12", NotYetAdded},
		{"kube-scheduler", "authorization-always-allow-paths", "1.12", NotYetAdded},
		{"kube-scheduler", "client-ca-file", "1.13", Current},
		// cmd/kube-controller-manager/app/options/options.go v1.9.11: only --address/--port;
		// cmd/controller-manager/app/options/options.go v1.10.13 adds SecureServing.
		{"kube-controller-manager", "secure-port", "1.9", NotYetAdded},
		{"kube-controller-manager", "secure-port", "1.10", Current},
		// cmd/kube-controller-manager/app/options/options.go v1.11.10: Authentication nil; set at v1.12.10.
		{"kube-controller-manager", "authentication-kubeconfig", "1.11", NotYetAdded},
		{"kube-controller-manager", "requestheader-client-ca-file", "1.12", Current},
		// kube-controller-manager v1.8.15: gce_loadbalancer.go's init() registers it on Go's
		// flag.CommandLine, merged by flag.InitFlags(); MarkDeprecated in controllermanager.go v1.14.10.
		{"kube-controller-manager", "cloud-provider-gce-lb-src-cidrs", "1.8", Current},
		{"kube-controller-manager", "cloud-provider-gce-lb-src-cidrs", "1.14", Deprecated},
		// cmd/kubelet/kubelet.go v1.9.11: flag.InitFlags() merges cadvisor v0.28.5's global flags.
		{"kubelet", "docker-root", "1.8", Current},
		{"kubelet", "housekeeping-interval", "1.9", Current},
		{"kubelet", "azure-container-registry-config", "1.8", Current},
		// Godeps.json v1.8.15: cadvisor v0.27.4 has no container/containerd package.
		{"kubelet", "containerd", "1.8", NotYetAdded},
		{"kubelet", "cloud-provider-gce-lb-src-cidrs", "1.9", Current},
		{"kubelet", "cloud-provider-gce-lb-src-cidrs", "1.10", Removed},
		// cmd/kubelet/app/options/options.go v1.10.13: AddKubeletConfigFlags deprecates all its flags.
		{"kubelet", "feature-gates", "1.9", Current},
		{"kubelet", "feature-gates", "1.10", Deprecated},
		{"kube-scheduler", "feature-gates", "1.10", Current},
		// plugin/pkg/admission/initialresources v1.10.13: package-level pflag registrations; gone at v1.11.10.
		{"kube-apiserver", "ir-data-source", "1.10", Current},
		{"kube-apiserver", "ir-data-source", "1.11", Removed},
		// klog v0.1.0 (vendored at v1.13.12) brought --log-file; glog had none.
		{"kube-apiserver", "log-file", "1.12", NotYetAdded},
		{"kube-proxy", "log-file", "1.13", Current},
		// cmd/kubelet/app/options/globalflags.go v1.14.10 registers klog flags by a list without skip_headers.
		{"kubelet", "skip-headers", "1.14", NotYetAdded},
		{"kube-scheduler", "skip-headers", "1.14", Current},
		// k8s.io/component-base v0.19.16 logs/options.go.
		{"kube-proxy", "logging-format", "1.18", NotYetAdded},
		// component-base metrics Options.AddFlags: kube-apiserver v1.17.17, kube-scheduler v1.18.20.
		{"kube-apiserver", "show-hidden-metrics-for-version", "1.17", Current},
		{"kube-scheduler", "show-hidden-metrics-for-version", "1.17", NotYetAdded},
		{"kube-controller-manager", "disabled-metrics", "1.20", NotYetAdded},
	}
	for _, tt := range tests {
		f := c.Component(tt.comp).Flag(tt.flag)
		if f == nil {
			t.Errorf("%s --%s: not in the catalogue", tt.comp, tt.flag)
			continue
		}
		if got := f.StateAt(MustVersion(tt.at)); got != tt.want {
			t.Errorf("%s --%s at %s: %s, want %s (source: %s)", tt.comp, tt.flag, tt.at, got, tt.want, f.Source)
		}
	}
	// Flags the binaries never had: the scheduler and controller-manager never call
	// SecureServingOptions.AddDeprecatedFlags; kube-apiserver never imports the Azure credential
	// provider (import graph of cmd/kube-apiserver, v1.8.15-v1.28.15).
	for _, n := range []struct{ comp, flag string }{
		{"kube-scheduler", "public-address-override"},
		{"kube-controller-manager", "public-address-override"},
		{"kube-scheduler", "tls-ca-file"},
		{"kube-apiserver", "azure-container-registry-config"},
	} {
		if c.Component(n.comp).Flag(n.flag) != nil {
			t.Errorf("%s --%s: in the catalogue, but no release registered it", n.comp, n.flag)
		}
	}
}
