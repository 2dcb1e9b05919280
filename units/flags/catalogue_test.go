package flags

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/configs"
)

func TestDefaultCatalogueLoads(t *testing.T) {
	c := Default()
	for _, name := range configs.Components {
		comp := c.Component(name)
		if comp == nil {
			t.Fatalf("component %s missing", name)
		}
		// containerd's daemon has seven flags (config.toml holds the rest).
		if len(comp.Flags) < 10 && name != "containerd" {
			t.Errorf("%s: only %d flags", name, len(comp.Flags))
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// The classic flags of the 2018 hard-way units must be known with the right lifecycle.
func TestClassicLifecycle(t *testing.T) {
	c := Default()
	api := c.Component("kube-apiserver")
	v := MustVersion
	tests := []struct {
		flag   string
		at     string
		want   State
		rename string
	}{
		{"insecure-port", "1.19", Deprecated, ""},
		{"insecure-port", "1.20", NoOp, ""},
		{"insecure-port", "1.24", Removed, ""},
		{"insecure-bind-address", "1.24", Removed, ""},
		{"kubelet-https", "1.21", Deprecated, ""},
		{"kubelet-https", "1.22", Removed, ""},
		{"experimental-encryption-provider-config", "1.23", Deprecated, "encryption-provider-config"},
		{"experimental-encryption-provider-config", "1.24", Removed, "encryption-provider-config"},
		{"enable-swagger-ui", "1.20", NoOp, ""},
		{"enable-swagger-ui", "1.24", Removed, ""},
		{"admission-control", "1.37", Deprecated, "enable-admission-plugins"},
		{"apiserver-count", "1.23", Current, ""},
		{"apiserver-count", "1.24", Deprecated, ""},
		{"authentication-config", "1.28", NotYetAdded, ""},
		{"authentication-config", "1.29", Current, ""},
		{"log-dir", "1.26", Removed, ""},
		{"secure-port", "1.37", Current, ""},
	}
	for _, tt := range tests {
		f := api.Flag(tt.flag)
		if f == nil {
			t.Errorf("--%s missing", tt.flag)
			continue
		}
		if got := f.StateAt(v(tt.at)); got != tt.want {
			t.Errorf("--%s at %s: %s, want %s", tt.flag, tt.at, got, tt.want)
		}
		if f.ReplacedBy != tt.rename {
			t.Errorf("--%s replacedBy %q, want %q", tt.flag, f.ReplacedBy, tt.rename)
		}
	}
	init := c.Plugin("Initializers")
	if init == nil || init.StateAt(v("1.14")) != Removed || init.StateAt(v("1.13")) != Current {
		t.Errorf("Initializers lifecycle wrong: %+v", init)
	}
	etcd := c.Component("etcd")
	if etcd.Library != GoFlag || etcd.Flag("enable-v2").StateAt(v("3.6")) != Removed {
		t.Errorf("etcd: library %s, enable-v2 at 3.6 %s", etcd.Library, etcd.Flag("enable-v2").StateAt(v("3.6")))
	}
	if c.ForBinary("kube-apiserver") != api || c.ForBinary("etcd") != etcd {
		t.Error("ForBinary does not map binaries to components")
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{"1.20": "1.20", "v1.30.2": "1.30", "3.5": "3.5", " 1.31 ": "1.31", "v1.31.0-rc.1": "1.31"} {
		got, err := ParseVersion(in)
		if err != nil || got.String() != want || got.Compare(MustVersion(want)) != 0 {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1", "1.x", "1.2.3.4", "01.2", "1.02", "0.0", "-1.2", "1.30abc", "1.30.x"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	v := MustVersion
	for _, tt := range []struct {
		a, b Version
		want int
	}{
		{v("1.20"), v("1.20"), 0}, {v("1.9"), v("1.20"), -1}, {v("1.37"), v("1.4"), 1}, {v("2.0"), v("1.99"), 1},
		{v("1.30.5"), v("1.30"), 0}, {Version{}, v("1.0"), -1}, {v("0.1"), Version{}, 1}, {Version{}, Version{}, 0},
	} {
		if got := tt.a.Compare(tt.b); got != tt.want {
			t.Errorf("%q.Compare(%q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := tt.a.AtLeast(tt.b); got != (tt.want >= 0 && !tt.a.IsZero()) {
			t.Errorf("%q.AtLeast(%q) = %v", tt.a, tt.b, got)
		}
	}
}

// Each invariant Validate enforces, shown failing on a minimal bad catalogue.
func TestValidateRejects(t *testing.T) {
	head := "name: x\nbinaries: [x]\nlibrary: pflag\noldest: \"1.20\"\nnewest: \"1.37\"\nflags:\n"
	tests := []struct{ name, flags, want string }{
		{"duplicate", "- {name: a, type: bool, meaning: m}\n- {name: a, type: bool, meaning: m}\n", "listed twice"},
		{"unquoted version", "- {name: a, type: bool, meaning: m, added: 1.20}\n", "quoted"},
		{"malformed version", "- {name: a, type: bool, meaning: m, added: \"1.x\"}\n", "not a number"},
		{"removed before deprecated", "- {name: a, type: bool, meaning: m, deprecated: \"1.24\", removed: \"1.22\", advice: d, source: s}\n", "no later than deprecated"},
		{"dangling replacement", "- {name: a, type: bool, meaning: m, deprecated: \"1.24\", replacedBy: b, source: s}\n", "not in the catalogue"},
		{"no advice", "- {name: a, type: bool, meaning: m, removed: \"1.24\", source: s}\n", "without a replacement or advice"},
		{"no source", "- {name: a, type: bool, meaning: m, removed: \"1.24\", advice: d}\n", "without a source"},
		{"unknown type", "- {name: a, type: frob, meaning: m}\n", "unknown type"},
		{"no meaning", "- {name: a, type: bool}\n", "no meaning"},
		{"wrong major", "- {name: a, type: bool, meaning: m, added: \"3.5\"}\n", "does not belong"},
		{"unknown field", "- {name: a, type: bool, meaning: m, removd: \"1.2\"}\n", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"data/x.yaml": {Data: []byte(head + tt.flags)}}
			_, err := Load(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// The history of the components read from each release's sources (1.8 on): every flag's
// lifecycle is in order (added <= deprecated <= noop < removed; an undeprecation after its
// deprecation) and every version fact has a source that names it.
func TestHistoryConsistent(t *testing.T) {
	c := Default()
	for _, name := range []string{"kube-apiserver", "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy"} {
		comp := c.Component(name)
		if comp.Oldest.Compare(MustVersion("1.8")) != 0 {
			t.Errorf("%s: oldest %s, want 1.8", name, comp.Oldest)
		}
		for i := range comp.Flags {
			f := &comp.Flags[i]
			order := []Version{f.Added, f.Deprecated, f.NoOp, f.Removed}
			for a := range order {
				for b := a + 1; b < len(order); b++ {
					if !order[a].IsZero() && !order[b].IsZero() && order[a].Compare(order[b]) > 0 {
						t.Errorf("%s --%s: lifecycle out of order: added %s, deprecated %s, noop %s, removed %s", name, f.Name, f.Added, f.Deprecated, f.NoOp, f.Removed)
					}
				}
			}
			for fact, v := range map[string]Version{"added": f.Added, "deprecated": f.Deprecated, "noop": f.NoOp, "removed": f.Removed, "undeprecated": f.Undeprecated} {
				if v.IsZero() {
					continue
				}
				if v.Compare(comp.Oldest) < 0 && fact != "deprecated" && fact != "removed" {
					t.Errorf("%s --%s: %s %s before the covered range", name, f.Name, fact, v)
				}
				// The component's own flags, generated from the sources, name each fact; the shared
				// logging flags (kubernetes-common.yaml) cite one source for their lifecycle.
				generated := strings.HasPrefix(f.Source, "k8s.io/kubernetes sources")
				if (generated && !strings.Contains(f.Source, fact+":")) || (fact != "added" && f.Source == "") {
					t.Errorf("%s --%s: %s %s has no source (source: %q)", name, f.Name, fact, v, f.Source)
				}
			}
		}
	}
	kubelet := c.Component("kubelet")
	// The flags the KubeletConfiguration file took over were deprecated in 1.10.
	for _, n := range []string{"read-only-port", "anonymous-auth", "authorization-mode", "client-ca-file", "tls-cert-file", "pod-manifest-path", "cluster-dns"} {
		if got := kubelet.Flag(n).StateAt(MustVersion("1.9")); got != Current {
			t.Errorf("kubelet --%s at 1.9: %s, want current", n, got)
		}
		if got := kubelet.Flag(n).StateAt(MustVersion("1.10")); got != Deprecated {
			t.Errorf("kubelet --%s at 1.10: %s, want deprecated", n, got)
		}
	}
}

// The --runtime-config history read from the sources (api-versions.yaml). Each expectation names
// the upstream fact it rests on.
func TestRuntimeConfigHistory(t *testing.T) {
	c := Default()
	v := MustVersion
	tests := []struct {
		key, at string
		want    State
		why     string
	}{
		// pkg/apis/admissionregistration/install/install.go registers v1alpha1 (Initializers'
		// InitializerConfiguration) up to v1.13.12, not at v1.14.10, and again from v1.26.15
		// (ValidatingAdmissionPolicy).
		{"admissionregistration.k8s.io/v1alpha1", "1.13", Current, "registered at v1.13.12"},
		{"admissionregistration.k8s.io/v1alpha1", "1.14", Removed, "absent at v1.14.10"},
		{"admissionregistration.k8s.io/v1alpha1", "1.18", Removed, "absent at v1.18.20"},
		{"admissionregistration.k8s.io/v1alpha1", "1.26", Current, "registered again at v1.26.15"},
		{"admissionregistration.k8s.io/v1alpha1", "1.30", Current, "registered at v1.30.14"},
		// pkg/apis/batch/install/install.go: v2alpha1 up to v1.20.15.
		{"batch/v2alpha1", "1.20", Current, "registered at v1.20.15"},
		{"batch/v2alpha1", "1.21", Removed, "absent at v1.21.14"},
		// pkg/apis/settings (PodPreset) is gone at v1.20.15.
		{"settings.k8s.io/v1alpha1", "1.19", Current, "registered at v1.19.16"},
		{"settings.k8s.io/v1alpha1", "1.20", Removed, "no pkg/apis/settings at v1.20.15"},
		// pkg/apis/extensions/install still registers v1beta1 at v1.37.2, though nothing serves it:
		// the 1.37.2 binary starts with extensions/v1beta1=true.
		{"extensions/v1beta1", "1.22", Current, "registered at v1.22.17"},
		{"extensions/v1beta1", "1.37", Current, "registered at v1.37.2"},
		// 1.8/1.9 check only the legacy registry (kubernetes/kubernetes#57189); 1.10 consults the
		// apiextensions-apiserver's too (#57228).
		{"apiextensions.k8s.io/v1beta1", "1.9", NotYetAdded, "not in legacyscheme.Registry at v1.9.11"},
		{"apiextensions.k8s.io/v1beta1", "1.10", Current, "APIEnablementOptions.Validate at v1.10.13"},
		// k8s.io/apiserver v0.17.17 added the api/ga, api/beta, api/alpha matchers.
		{"api/beta", "1.16", NotYetAdded, "absent at v0.16.15"},
		{"api/beta", "1.17", Current, "APIBeta matcher at v0.17.17"},
		{"api/legacy", "1.8", NoOp, "read and ignored at v1.8.15"},
		{"api/legacy", "1.37", NoOp, "deleted by Complete at v1.37.2"},
		// A one-token key is skipped at v1.9.11; Complete rewrites v1 to /v1 from v1.10.13.
		{"v1", "1.9", NoOp, "skipped at v1.9.11"},
		{"v1", "1.10", Current, "rewritten to /v1 at v1.10.13"},
		{"api/v1", "1.8", Current, "mapped to v1 at v1.8.15"},
		// pkg/apis/autoscaling/install: v2beta1 and v2beta2 up to v1.35.4.
		{"autoscaling/v2beta1", "1.35", Current, "registered at v1.35.4"},
		{"autoscaling/v2beta1", "1.36", Removed, "absent at v1.36.3"},
	}
	for _, tt := range tests {
		k := c.RuntimeConfigKey(tt.key)
		if k == nil {
			t.Errorf("%s missing", tt.key)
			continue
		}
		if got, _ := k.At(v(tt.at)); got != tt.want {
			t.Errorf("%s at %s: %s, want %s (%s)", tt.key, tt.at, got, tt.want, tt.why)
		}
	}
	// The span that decides: the version it went away, and when it returns.
	av := c.RuntimeConfigKey("admissionregistration.k8s.io/v1alpha1")
	if _, s := av.At(v("1.18")); s == nil || s.Removed.String() != "1.14" {
		t.Errorf("admissionregistration.k8s.io/v1alpha1 at 1.18: span %+v, want the one removed in 1.14", s)
	}
	if r := av.Returns(v("1.18")); r == nil || r.Added.String() != "1.26" {
		t.Errorf("admissionregistration.k8s.io/v1alpha1 returns %+v, want 1.26", r)
	}
	if got := len(c.GroupVersionsAt("batch", v("1.37"))); got != 2 {
		t.Errorf("batch at 1.37: %d versions, want 2 (v1, v1beta1)", got)
	}
	if c.RuntimeConfigKey("no.such.group/v1") != nil {
		t.Error("an unknown group/version is in the catalogue")
	}
}

// Every --runtime-config span read from the sources names each of its facts: "added:" when it
// starts inside the covered range, "removed:" when it ends there.
func TestRuntimeConfigSources(t *testing.T) {
	c := Default()
	if len(c.RuntimeConfig) < 80 {
		t.Fatalf("only %d --runtime-config keys", len(c.RuntimeConfig))
	}
	for _, k := range c.RuntimeConfig {
		for i, s := range k.Accepted {
			if !s.Added.IsZero() && !strings.Contains(s.Source, "added:") {
				t.Errorf("%s span %d: added %s without an \"added:\" source: %q", k.Name, i+1, s.Added, s.Source)
			}
			generated := strings.HasPrefix(s.Source, "k8s.io/kubernetes sources")
			if generated && !s.Removed.IsZero() && !strings.Contains(s.Source, "removed:") {
				t.Errorf("%s span %d: removed %s without a \"removed:\" source: %q", k.Name, i+1, s.Removed, s.Source)
			}
		}
	}
}

// Each --runtime-config invariant Validate enforces, shown failing on a minimal bad catalogue.
func TestValidateRejectsRuntimeConfig(t *testing.T) {
	head := "name: x\nshared: true\nflags: []\nruntimeConfig:\n"
	tests := []struct{ name, keys, want string }{
		{"duplicate", "- {name: a/v1, accepted: [{source: s}]}\n- {name: a/v1, accepted: [{source: s}]}\n", "listed twice"},
		{"no span", "- {name: a/v1, accepted: []}\n", "no accepted span"},
		{"no source", "- {name: a/v1, accepted: [{added: \"1.20\"}]}\n", "no source"},
		{"removed before added", "- {name: a/v1, accepted: [{added: \"1.20\", removed: \"1.18\", source: s}]}\n", "no later than added"},
		{"overlap", "- {name: a/v1, accepted: [{removed: \"1.20\", source: s}, {added: \"1.19\", source: s}]}\n", "before the previous span ends"},
		{"open middle", "- {name: a/v1, accepted: [{source: s}, {added: \"1.19\", source: s}]}\n", "only the last span"},
		{"bad version", "- {name: a/v1gamma1, accepted: [{source: s}]}\n", "neither a group/version"},
		{"special without meaning", "- {name: api/foo, accepted: [{source: s}]}\n", "needs a meaning"},
		{"unquoted", "- {name: a/v1, accepted: [{added: 1.20, source: s}]}\n", "quoted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{"data/x.yaml": {Data: []byte(head + tt.keys)}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// The admission plugins' history read from each minor's RegisterAllAdmissionPlugins (1.8 on):
// every fact is named in the source, and the expectations below cite the upstream facts.
func TestAdmissionPluginHistory(t *testing.T) {
	c := Default()
	for _, p := range c.Plugins {
		for fact, v := range map[string]Version{"added": p.Added, "deprecated": p.Deprecated, "removed": p.Removed, "defaultOn": p.DefaultOn, "defaultOff": p.DefaultOff} {
			if !v.IsZero() && !strings.Contains(p.Source, fact+":") && !(fact == "added" && strings.Contains(p.Source, "registered at v1.8.15")) {
				t.Errorf("admission plugin %s: %s %s without a %q fact in its source: %q", p.Name, fact, v, fact+":", p.Source)
			}
		}
	}
	v := MustVersion
	tests := []struct {
		plugin, at string
		want       State
		why        string
	}{
		{"Initializers", "1.13", Current, "k8s.io/apiserver registers it at v1.13.12"},
		{"Initializers", "1.14", Removed, "kubernetes/kubernetes#72972; absent at v1.14.10"},
		{"GenericAdmissionWebhook", "1.8", Current, "plugin/pkg/admission/webhook at v1.8.15"},
		{"GenericAdmissionWebhook", "1.9", Removed, "split into Mutating/ValidatingAdmissionWebhook at v1.9.11"},
		{"ValidatingAdmissionWebhook", "1.8", NotYetAdded, "absent at v1.8.15"},
		{"DenyEscalatingExec", "1.13", Current, "no deprecation warning at v1.13.12"},
		{"DenyEscalatingExec", "1.14", Deprecated, "kubernetes/kubernetes#72737"},
		{"DenyEscalatingExec", "1.21", Removed, "absent at v1.21.14"},
		{"PersistentVolumeLabel", "1.30", Deprecated, "warning since v1.8.15"},
		{"PersistentVolumeLabel", "1.31", Removed, "kubernetes/kubernetes#124505"},
		{"PodSecurityPolicy", "1.24", Deprecated, "CHANGELOG-1.21.md"},
		{"PodSecurityPolicy", "1.25", Removed, "absent at v1.25.16"},
		{"PodPreset", "1.20", Removed, "absent at v1.20.15"},
		{"InitialResources", "1.11", Removed, "absent at v1.11.10"},
		{"PodTopologyLabels", "1.33", Current, "registered from v1.33.13"},
	}
	for _, tt := range tests {
		p := c.Plugin(tt.plugin)
		if p == nil {
			t.Errorf("admission plugin %s missing", tt.plugin)
			continue
		}
		if got := p.StateAt(v(tt.at)); got != tt.want {
			t.Errorf("admission plugin %s at %s: %s, want %s (%s)", tt.plugin, tt.at, got, tt.want, tt.why)
		}
	}
	// The --admission-control default of 1.8-1.9 is AlwaysAdmit; from 1.10 DefaultOffAdmissionPlugins
	// decides (PersistentVolumeLabel on by default in 1.10 only; StorageObjectInUseProtection from 1.15).
	for _, tt := range []struct {
		plugin, at string
		want       bool
	}{
		{"AlwaysAdmit", "1.9", true}, {"AlwaysAdmit", "1.10", false}, {"PersistentVolumeLabel", "1.10", true},
		{"PersistentVolumeLabel", "1.11", false}, {"StorageObjectInUseProtection", "1.14", false},
		{"StorageObjectInUseProtection", "1.15", true}, {"NamespaceLifecycle", "1.9", false}, {"NamespaceLifecycle", "1.10", true},
	} {
		if got := c.Plugin(tt.plugin).DefaultAt(v(tt.at)); got != tt.want {
			t.Errorf("admission plugin %s on by default at %s: %v, want %v", tt.plugin, tt.at, got, tt.want)
		}
	}
}
