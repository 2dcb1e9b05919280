package units

import (
	"github.com/hardway-dev/hardway/units/bundle"
	"io/fs"

	"crypto/tls"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeschedulerconfigv1 "k8s.io/kube-scheduler/config/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/configs"
)

func unitNames(r *Rendered) []string {
	var out []string
	for _, u := range r.Units {
		out = append(out, u.Name)
	}
	return out
}

// TestRolesGetTheirUnits: a worker runs only containerd, the kubelet and kube-proxy, a
// control-plane node the control plane, an etcd node etcd; in start order; nodes with other
// nodes' pods to reach route to them.
func TestRolesGetTheirUnits(t *testing.T) {
	ha := loadExample(t, "ha")
	single := loadExample(t, "single")
	tests := []struct {
		c    *configs.Cluster
		node string
		want []string
	}{
		{ha, "cp-1", []string{"etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service", "pod-routes.service"}},
		{ha, "worker-2", []string{"containerd.service", "kubelet.service", "kube-proxy.service", "pod-routes.service"}},
		// One node: no other node's pods to route to.
		{single, "node1", []string{"etcd.service", "kube-apiserver.service", "kube-controller-manager.service", "kube-scheduler.service", "containerd.service", "kubelet.service", "kube-proxy.service"}},
	}
	for _, tt := range tests {
		r := renderNode(t, tt.c, tt.node, Options{})
		if got := unitNames(r); !slices.Equal(got, tt.want) {
			t.Errorf("%s: units %v, want %v", tt.node, got, tt.want)
		}
		for _, f := range r.Files {
			want := fs.FileMode(0o600)          // CIS 1.1.1-1.1.7, 4.1.1, 4.1.9; the rest as well
			if f.Kind == bundle.KindDirectory { // etcd's data directory, CIS 1.1.11
				want = 0o700
			}
			if f.Mode != want {
				t.Errorf("%s: %s mode %v, want %v", tt.node, f.Path, f.Mode, want)
			}
		}
	}
	r := renderNode(t, ha, "worker-1", Options{})
	for _, f := range r.Files {
		if strings.HasPrefix(f.Path, KubernetesDir) {
			t.Errorf("worker-1 gets control-plane file %s", f.Path)
		}
	}
	// An etcd-only node and a control-plane node without etcd.
	c := *ha
	c.Nodes = append(slices.Clone(ha.Nodes), configs.Node{Name: "etcd-4", Addresses: []string{"10.0.0.14"}, Roles: []string{configs.RoleEtcd}},
		configs.Node{Name: "cp-5", Addresses: []string{"10.0.0.15"}, Roles: []string{configs.RoleControlPlane}})
	if got := unitNames(renderNode(t, &c, "etcd-4", Options{})); !slices.Equal(got, []string{"etcd.service"}) {
		t.Errorf("etcd-4: %v", got)
	}
	cp5 := renderNode(t, &c, "cp-5", Options{})
	if a := cp5.unit("kube-apiserver.service").After; len(a) != 0 {
		t.Errorf("cp-5 has no etcd member, but its apiserver is after %v", a)
	}
	if v, _ := cp5.unit("kube-apiserver.service").flag("etcd-servers"); strings.Count(v, "https://") != 4 {
		t.Errorf("cp-5 --etcd-servers=%s, want all 4 members", v)
	}
}

// TestNodeValues checks what differs per node and what the launcher reads.
func TestNodeValues(t *testing.T) {
	c := loadExample(t, "ha")
	r := renderNode(t, c, "cp-2", Options{})
	etcd := r.unit("etcd.service")
	want := map[string]string{
		"name":                        "cp-2",
		"listen-client-urls":          "https://10.0.0.12:2379",
		"advertise-client-urls":       "https://10.0.0.12:2379",
		"listen-peer-urls":            "https://10.0.0.12:2380",
		"initial-advertise-peer-urls": "https://10.0.0.12:2380",
		"initial-cluster":             "cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380",
		"client-cert-auth":            "true",
		"peer-client-cert-auth":       "true",
	}
	for k, v := range want {
		if got, _ := etcd.flag(k); got != v {
			t.Errorf("etcd --%s=%q, want %q", k, got, v)
		}
	}
	for _, f := range etcd.Flags {
		if strings.Contains(f.Value, "http://") {
			t.Errorf("etcd --%s=%s: plain http", f.Name, f.Value)
		}
	}
	if etcd.Health == nil || etcd.Health.URL != "https://10.0.0.12:2379/health" || etcd.Health.Cert != EtcdHealthcheckCert {
		t.Errorf("etcd health %+v", etcd.Health)
	}
	api := r.unit("kube-apiserver.service")
	if v, _ := api.flag("advertise-address"); v != "10.0.0.12" {
		t.Errorf("--advertise-address=%s", v)
	}
	if v, _ := api.flag("etcd-servers"); v != "https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379" {
		t.Errorf("--etcd-servers=%s", v)
	}
	if !slices.Equal(api.After, []string{"etcd.service"}) {
		t.Errorf("apiserver After=%v", api.After)
	}
	if api.Health == nil || api.Health.Kind != bundle.HealthAPIServer || api.Health.URL != "https://10.0.0.12:6443/readyz" {
		t.Errorf("apiserver health %+v", api.Health)
	}
	for _, in := range []string{api.Path, "/usr/local/bin/kube-apiserver", APIServerCert, APIServerKey, APIServerEtcdClientKey, EncryptionConfig, AuditPolicy, ServiceAccountKey, FrontProxyClientCert} {
		if !slices.Contains(api.Inputs, in) {
			t.Errorf("apiserver inputs lack %s: %v", in, api.Inputs)
		}
	}
	if slices.Contains(api.Inputs, AuditLog) {
		t.Errorf("the audit log is output, not an input")
	}
	for _, name := range []string{"kube-controller-manager.service", "kube-scheduler.service"} {
		if a := r.unit(name).After; !slices.Equal(a, []string{"kube-apiserver.service"}) {
			t.Errorf("%s After=%v", name, a)
		}
	}
	if !slices.Contains(r.unit("kube-scheduler.service").Inputs, SchedulerConfig) {
		t.Errorf("scheduler inputs lack its config")
	}

	w := renderNode(t, c, "worker-3", Options{})
	kl := w.unit("kubelet.service")
	if v, _ := kl.flag("hostname-override"); v != "worker-3" {
		t.Errorf("kubelet --hostname-override=%s", v)
	}
	for _, in := range []string{KubeletConfig, KubeletKubeconfig, KubeletServingCert, KubeletServingKey, CACert} {
		if !slices.Contains(kl.Inputs, in) {
			t.Errorf("kubelet inputs lack %s", in)
		}
	}
	if kl.Health == nil || kl.Health.Kind != bundle.HealthKubelet {
		t.Errorf("kubelet health %+v", kl.Health)
	}
	if !slices.Contains(w.unit("kube-proxy.service").Inputs, KubeProxyKubeconfig) {
		t.Errorf("kube-proxy inputs lack its kubeconfig")
	}
}

// TestUnitsParseBack: every rendered unit file parses (go-systemd) to exactly its options.
func TestUnitsParseBack(t *testing.T) {
	for _, ex := range examples {
		c := loadExample(t, ex)
		rs, err := RenderAll(c, Options{Implementation: map[Component]Implementation{Etcd: Hardway}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			for _, u := range r.Units {
				got, err := ParseUnit(r.file(u.Path).Data)
				if err != nil {
					t.Fatalf("%s %s: %v", r.Node, u.Name, err)
				}
				if !unit.AllMatch(got, u.Options) {
					t.Errorf("%s %s: parsed options differ:\ngot  %v\nwant %v", r.Node, u.Name, got, u.Options)
				}
				var exec string
				for _, o := range got {
					if o.Name == "ExecStart" {
						exec = o.Value
					}
				}
				// What systemd runs: the command then --name=value per flag, in order.
				args := strings.Fields(strings.ReplaceAll(exec, "\\\n", " "))
				want := slices.Clone(u.Command)
				for _, f := range u.Flags {
					want = append(want, "--"+f.Name+"="+f.Value)
				}
				if !slices.Equal(args, want) {
					t.Errorf("%s %s: ExecStart args %v, want %v", r.Node, u.Name, args, want)
				}
			}
		}
	}
}

// TestConfigsDecodeStrictly: each rendered config file decodes strictly (no unknown field)
// into its upstream type and equals the typed value it was rendered from.
func TestConfigsDecodeStrictly(t *testing.T) {
	c := loadExample(t, "single")
	r := renderNode(t, c, "node1", Options{})
	check := func(path string, into, want any) {
		t.Helper()
		f := r.file(path)
		if f == nil {
			t.Fatalf("%s not rendered", path)
		}
		if err := yaml.UnmarshalStrict(f.Data, into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !reflect.DeepEqual(into, want) {
			t.Errorf("%s decodes to\n%+v\nwant\n%+v", path, into, want)
		}
	}
	check(KubeletConfig, &kubeletconfigv1beta1.KubeletConfiguration{}, KubeletConfiguration(c, "10.96.0.10"))
	check(KubeProxyConfig, &kubeproxyconfigv1alpha1.KubeProxyConfiguration{}, KubeProxyConfiguration(c, "node1"))
	check(SchedulerConfig, &kubeschedulerconfigv1.KubeSchedulerConfiguration{}, KubeSchedulerConfiguration())
	check(AuditPolicy, &auditv1.Policy{}, AuditPolicyConfig())

	kc := KubeletConfiguration(c, "10.96.0.10")
	if *kc.Authentication.Anonymous.Enabled || !*kc.Authentication.Webhook.Enabled || kc.Authorization.Mode != "Webhook" ||
		kc.CgroupDriver != "systemd" || kc.ReadOnlyPort != 0 || kc.RotateCertificates || kc.TLSCertFile != KubeletServingCert {
		t.Errorf("kubelet configuration %+v", kc)
	}
	for _, line := range []string{"readOnlyPort: 0", "rotateCertificates: false", "apiVersion: kubelet.config.k8s.io/v1beta1", "kind: KubeletConfiguration"} {
		if !strings.Contains(string(r.file(KubeletConfig).Data), line+"\n") {
			t.Errorf("kubelet config lacks %q", line)
		}
	}
}

func TestClusterDNS(t *testing.T) {
	for cidr, want := range map[string]string{"10.96.0.0/12": "10.96.0.10", "10.32.0.0/24": "10.32.0.10", "fd00:10:96::/112": "fd00:10:96::a"} {
		got, err := nthAddr(cidr, 10)
		if err != nil || got.String() != want {
			t.Errorf("nthAddr(%s, 10) = %v, %v; want %s", cidr, got, err, want)
		}
	}
	if _, err := nthAddr("10.0.0.0/29", 10); err == nil {
		t.Error("a /29 has no 10th address")
	}
}

// TestCipherSuitesAEAD: only ECDHE with AEAD, all secure by Go's list, names as Go spells them.
func TestCipherSuitesAEAD(t *testing.T) {
	secure := map[uint16]*tls.CipherSuite{}
	for _, s := range tls.CipherSuites() {
		secure[s.ID] = s
	}
	for _, id := range CipherSuites {
		s, ok := secure[id]
		if !ok {
			t.Errorf("%s is not in Go's secure list", tls.CipherSuiteName(id))
			continue
		}
		if !strings.Contains(s.Name, "ECDHE") || !(strings.Contains(s.Name, "GCM") || strings.Contains(s.Name, "CHACHA20_POLY1305")) {
			t.Errorf("%s is not ECDHE+AEAD", s.Name)
		}
		if !slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
			t.Errorf("%s is not a TLS 1.2 suite", s.Name)
		}
	}
}

func TestImplementation(t *testing.T) {
	c := loadExample(t, "single")
	r := renderNode(t, c, "node1", Options{Implementation: map[Component]Implementation{Etcd: Hardway}})
	etcd := r.unit("etcd.service")
	if !slices.Equal(etcd.Command, []string{"/usr/local/bin/hardway", "etcd"}) {
		t.Errorf("etcd command %v", etcd.Command)
	}
	up := renderNode(t, c, "node1", Options{}).unit("etcd.service")
	if !reflect.DeepEqual(etcd.Flags, up.Flags) {
		t.Error("hardway etcd must get the same flags as the upstream binary")
	}
	if !slices.Contains(etcd.Inputs, HardwayBinary) {
		t.Errorf("inputs %v lack the hardway binary", etcd.Inputs)
	}
	if !strings.Contains(string(r.file(etcd.Path).Data), "ExecStart=/usr/local/bin/hardway etcd \\\n\t--name=node1 \\\n") {
		t.Errorf("ExecStart:\n%s", r.file(etcd.Path).Data)
	}
	for _, bad := range []Options{
		{Implementation: map[Component]Implementation{Kubelet: Hardway}},
		{Implementation: map[Component]Implementation{Etcd: "docker"}},
		{Implementation: map[Component]Implementation{"coredns": Upstream}},
	} {
		n, _ := c.Node("node1")
		if _, err := RenderNode(c, n, bad); err == nil {
			t.Errorf("%v: no error", bad.Implementation)
		}
	}
}

// TestValuesChecked: a value that would break the unit file or ExecStart is an error naming
// the unit and the option or flag.
func TestValuesChecked(t *testing.T) {
	err := CheckOptions("x.service", []*unit.UnitOption{unit.NewUnitOption("Unit", "Description", "two\nlines")})
	if err == nil || !strings.Contains(err.Error(), "x.service") || !strings.Contains(err.Error(), "Description") {
		t.Errorf("newline: %v", err)
	}
	for _, opts := range [][]*unit.UnitOption{
		{unit.NewUnitOption("Service", "ExecStart", "/bin/true\n[Service]")},
		{unit.NewUnitOption("Service", "Environment", "A=1\rB=2")},
		{unit.NewUnitOption("Service", "Type", "")},
		{unit.NewUnitOption("Service", "Type", "exec\\")},
		{unit.NewUnitOption("", "Type", "exec")},
	} {
		if err := CheckOptions("x.service", opts); err == nil {
			t.Errorf("%v: no error", opts[0])
		}
	}
	for _, v := range []string{"a b", "a\nb", "$HOME", "100%", `"q"`, `a\b`, ""} {
		_, err := execStart(Unit{Name: "y.service", Command: []string{"/bin/y"}, Flags: []Flag{{"opt", v}}})
		if err == nil || !strings.Contains(err.Error(), "y.service") || !strings.Contains(err.Error(), "--opt") {
			t.Errorf("value %q: %v", v, err)
		}
	}
	_, err = execStart(Unit{Name: "y.service", Command: []string{"/bin/y"}, Flags: []Flag{{"a", "1"}, {"a", "2"}}})
	if err == nil {
		t.Error("a flag given twice is an error")
	}
	// A node name that would break ExecStart is refused while rendering.
	c := loadExample(t, "single")
	n := c.Nodes[0]
	n.Name = "node 1"
	if _, err := RenderNode(c, n, Options{}); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("node name with a space: %v", err)
	}
}

func TestVersions(t *testing.T) {
	c := loadExample(t, "single")
	for _, v := range []string{"1.32", "1.33", "1.34", "1.35", "1.36", "1.37"} {
		c.KubernetesVersion = v
		if _, err := Render(c, c.Nodes[0], Options{}); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, kv := range [][2]string{{"1.31", "3.6"}, {"1.38", "3.6"}, {"v1.37", "3.6"}, {"1.37", "3.4"}, {"1.37", "3.7"}} {
		c.KubernetesVersion, c.EtcdVersion = kv[0], kv[1]
		if _, err := Render(c, c.Nodes[0], Options{}); err == nil {
			t.Errorf("%v: no error", kv)
		}
	}
}

// TestComponentsAreRendered: the one component list and what the renderer writes agree, in
// order: every unit of the HA example (which has every role) is for a listed component, and
// every listed component gets a unit on some node.
func TestComponentsAreRendered(t *testing.T) {
	rs, err := RenderAll(loadExample(t, "ha"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rendered := map[Component]bool{}
	for _, r := range rs {
		last := -1
		for _, u := range r.Units {
			i := slices.Index(Components, u.Component)
			if i < 0 {
				t.Errorf("%s: unit %s is for %q, which is not in Components", r.Node, u.Name, u.Component)
			}
			if i < last {
				t.Errorf("%s: %s comes after a component Components starts later", r.Node, u.Name)
			}
			last = i
			rendered[u.Component] = true
		}
	}
	for _, c := range Components {
		if !rendered[c] {
			t.Errorf("%s is in Components but no node of the HA example gets a unit for it", c)
		}
	}
}

// TestRenderIsDeterministic: two renderings are byte-identical (golden files and
// write-on-change depend on it).
func TestRenderIsDeterministic(t *testing.T) {
	c := loadExample(t, "ha")
	a, err := RenderAll(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RenderAll(c, Options{})
	if !reflect.DeepEqual(a, b) {
		t.Error("rendering twice differs")
	}
}
