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
