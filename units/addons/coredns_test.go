package addons

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/coredns.yaml from the current rendering")

// The parameters of the golden file: the defaults, for the cluster file's default service CIDR.
var (
	goldenCIDR   = netip.MustParsePrefix("10.96.0.0/12")
	goldenParams = CoreDNSParams{DNSDomain: "cluster.local", ClusterDNS: netip.MustParseAddr("10.96.0.10")}
)

func TestCoreDNSGolden(t *testing.T) {
	got, err := CoreDNS(goldenParams)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join("testdata", "coredns.yaml")
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./units/addons -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the CoreDNS manifest differs from %s (run with -update and review the diff):\n%s", p, got)
	}
}

// documents splits a YAML stream into its documents.
func documents(t *testing.T, data []byte) [][]byte {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
}

// coreDNS is the decoded manifest, one typed object per kind.
type coreDNS struct {
	sa      corev1.ServiceAccount
	role    rbacv1.ClusterRole
	binding rbacv1.ClusterRoleBinding
	cm      corev1.ConfigMap
	deploy  appsv1.Deployment
	svc     corev1.Service
}

// decode reads every document strictly (an unknown or misspelt field fails) into its typed
// struct, and checks the names and labels as the API server's validation would.
func decode(t *testing.T, data []byte) coreDNS {
	t.Helper()
	var c coreDNS
	targets := map[string]any{
		"ServiceAccount": &c.sa, "ClusterRole": &c.role, "ClusterRoleBinding": &c.binding,
		"ConfigMap": &c.cm, "Deployment": &c.deploy, "Service": &c.svc,
	}
	var order []string
	for _, doc := range documents(t, data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatal(err)
		}
		target, ok := targets[tm.Kind]
		if !ok {
			t.Fatalf("unexpected or repeated kind %q", tm.Kind)
		}
		delete(targets, tm.Kind)
		order = append(order, tm.Kind)
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			t.Errorf("%s: %v", tm.Kind, err)
		}
		var om struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &om); err != nil {
			t.Fatal(err)
		}
		m := om.Metadata
		var errs field.ErrorList
		errs = append(errs, metav1validation.ValidateLabels(m.Labels, field.NewPath("metadata", "labels"))...)
		switch tm.Kind {
		case "ClusterRole", "ClusterRoleBinding": // path-segment names, cluster-scoped
			if m.Namespace != "" || m.Name == "" || strings.ContainsAny(m.Name, "/%") {
				t.Errorf("%s: name %q namespace %q", tm.Kind, m.Name, m.Namespace)
			}
		case "Service":
			errs = append(errs, nameErrs(validation.IsDNS1035Label(m.Name))...)
		default:
			errs = append(errs, nameErrs(validation.IsDNS1123Subdomain(m.Name))...)
		}
		if tm.Kind != "ClusterRole" && tm.Kind != "ClusterRoleBinding" && m.Namespace != metav1.NamespaceSystem {
			t.Errorf("%s %s: namespace %q, want kube-system", tm.Kind, m.Name, m.Namespace)
		}
		for _, e := range errs {
			t.Errorf("%s %s: %v", tm.Kind, m.Name, e)
		}
	}
	if len(targets) > 0 {
		t.Fatalf("kinds missing from the manifest: %v", targets)
	}
	if want := "ServiceAccount ClusterRole ClusterRoleBinding ConfigMap Deployment Service"; strings.Join(order, " ") != want {
		t.Errorf("order %v, want %s (what an object uses comes before it)", order, want)
	}
	return c
}

func nameErrs(msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), nil, m))
	}
	return errs
}

// The rendered objects are what the API server would accept and fit together: each decodes
// strictly, the Service's cluster IP is the kubelets' cluster DNS address inside the service
// CIDR, every reference (selector, service account, role, ConfigMap key, probe and target
// ports) resolves.
func TestCoreDNSObjects(t *testing.T) {
	data, err := CoreDNS(goldenParams)
	if err != nil {
		t.Fatal(err)
	}
	c := decode(t, data)

	ip, err := netip.ParseAddr(c.svc.Spec.ClusterIP)
	if err != nil || ip != goldenParams.ClusterDNS || !goldenCIDR.Contains(ip) {
		t.Errorf("Service clusterIP %q: want %s inside %s", c.svc.Spec.ClusterIP, goldenParams.ClusterDNS, goldenCIDR)
	}

	d := c.deploy.Spec
	sel, err := metav1.LabelSelectorAsSelector(d.Selector)
	if err != nil {
		t.Fatal(err)
	}
	errs := metav1validation.ValidateLabelSelector(d.Selector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector"))
	for _, e := range errs {
		t.Error(e)
	}
	podLabels := labels.Set(d.Template.Labels)
	if !sel.Matches(podLabels) {
		t.Errorf("the Deployment's selector %v does not match its pod template's labels %v", sel, podLabels)
	}
	if !labels.SelectorFromSet(c.svc.Spec.Selector).Matches(podLabels) {
		t.Errorf("the Service's selector %v does not match the pods' labels %v", c.svc.Spec.Selector, podLabels)
	}
	if *d.Replicas != DefaultCoreDNSReplicas {
		t.Errorf("replicas %d", *d.Replicas)
	}

	pod := d.Template.Spec
	if pod.ServiceAccountName != c.sa.Name {
		t.Errorf("the pods run as %q, the ServiceAccount is %q", pod.ServiceAccountName, c.sa.Name)
	}
	if s := c.binding.Subjects; len(s) != 1 || s[0].Kind != rbacv1.ServiceAccountKind || s[0].Name != c.sa.Name || s[0].Namespace != c.sa.Namespace {
		t.Errorf("the binding's subjects %+v are not the ServiceAccount", s)
	}
	if r := c.binding.RoleRef; r.Kind != "ClusterRole" || r.Name != c.role.Name {
		t.Errorf("the binding's roleRef %+v is not the ClusterRole", r)
	}
	if pod.DNSPolicy != corev1.DNSDefault {
		t.Errorf("dnsPolicy %q: CoreDNS must resolve through the node, not itself", pod.DNSPolicy)
	}
	if len(pod.Containers) != 1 || len(pod.Volumes) != 1 {
		t.Fatalf("containers %d volumes %d", len(pod.Containers), len(pod.Volumes))
	}
	ctr, vol := pod.Containers[0], pod.Volumes[0]
	if ctr.Image != DefaultCoreDNSImage || ctr.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("image %q pull policy %q", ctr.Image, ctr.ImagePullPolicy)
	}
	if cm := vol.ConfigMap; cm == nil || cm.Name != c.cm.Name || len(cm.Items) != 1 || c.cm.Data[cm.Items[0].Key] == "" {
		t.Errorf("volume %+v does not name the ConfigMap's Corefile", vol)
	}
	if len(ctr.VolumeMounts) != 1 || ctr.VolumeMounts[0].Name != vol.Name || ctr.Args[1] != ctr.VolumeMounts[0].MountPath+"/"+vol.ConfigMap.Items[0].Path {
		t.Errorf("the container reads %v with mounts %+v", ctr.Args, ctr.VolumeMounts)
	}
	if !strings.Contains(c.cm.Data["Corefile"], "kubernetes cluster.local in-addr.arpa ip6.arpa {") {
		t.Errorf("the Corefile does not serve cluster.local:\n%s", c.cm.Data["Corefile"])
	}
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		for _, m := range validation.IsValidPortName(p.Name) {
			t.Errorf("container port %s: %s", p.Name, m)
		}
		ports[p.Name] = p.ContainerPort
	}
	for _, probe := range []*corev1.Probe{ctr.LivenessProbe, ctr.ReadinessProbe} {
		if _, ok := ports[probe.HTTPGet.Port.StrVal]; !ok {
			t.Errorf("probe %s on port %q, which the container does not name", probe.HTTPGet.Path, probe.HTTPGet.Port.StrVal)
		}
	}
	for _, sp := range c.svc.Spec.Ports {
		for _, m := range validation.IsValidPortName(sp.Name) {
			t.Errorf("service port %s: %s", sp.Name, m)
		}
		if ports[sp.Name] != sp.TargetPort.IntVal || sp.Port != sp.TargetPort.IntVal {
			t.Errorf("service port %s: %d -> %v, the container's is %d", sp.Name, sp.Port, sp.TargetPort, ports[sp.Name])
		}
	}
}

func TestCoreDNSParams(t *testing.T) {
	good := goldenParams
	tests := []struct {
		name    string
		change  func(*CoreDNSParams)
		wantErr string
		check   func(t *testing.T, c coreDNS)
	}{
		{name: "image, replicas and pull policy", change: func(p *CoreDNSParams) {
			p.Image, p.Replicas, p.PullPolicy = "localhost/coredns:test", 1, corev1.PullNever
		}, check: func(t *testing.T, c coreDNS) {
			ctr := c.deploy.Spec.Template.Spec.Containers[0]
			if ctr.Image != "localhost/coredns:test" || ctr.ImagePullPolicy != corev1.PullNever || *c.deploy.Spec.Replicas != 1 {
				t.Errorf("image %q policy %q replicas %d", ctr.Image, ctr.ImagePullPolicy, *c.deploy.Spec.Replicas)
			}
		}},
		{name: "IPv6 cluster DNS and another domain", change: func(p *CoreDNSParams) {
			p.ClusterDNS, p.DNSDomain = netip.MustParseAddr("fd00:10:96::a"), "example.internal"
		}, check: func(t *testing.T, c coreDNS) {
			if c.svc.Spec.ClusterIP != "fd00:10:96::a" || !strings.Contains(c.cm.Data["Corefile"], "kubernetes example.internal in-addr.arpa") {
				t.Errorf("clusterIP %q Corefile\n%s", c.svc.Spec.ClusterIP, c.cm.Data["Corefile"])
			}
		}},
		{name: "no domain", change: func(p *CoreDNSParams) { p.DNSDomain = "" }, wantErr: "dnsDomain"},
		{name: "bad domain", change: func(p *CoreDNSParams) { p.DNSDomain = "Cluster_Local" }, wantErr: `dnsDomain "Cluster_Local"`},
		{name: "no address", change: func(p *CoreDNSParams) { p.ClusterDNS = netip.Addr{} }, wantErr: "no cluster DNS address"},
		{name: "negative replicas", change: func(p *CoreDNSParams) { p.Replicas = -1 }, wantErr: "replicas -1"},
		{name: "bad pull policy", change: func(p *CoreDNSParams) { p.PullPolicy = "Sometimes" }, wantErr: `pull policy "Sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.change(&p)
			data, err := CoreDNS(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, decode(t, data))
		})
	}
}
