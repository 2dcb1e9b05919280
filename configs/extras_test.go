package configs

import (
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/problem"
)

// withExtras is valid() with one of each extra the cluster file may give.
func withExtras() *Cluster {
	c := valid()
	c.ExtraArgs = map[string]map[string]string{"kube-apiserver": {"oidc-issuer-url": "https://issuer.example.com", "oidc-ca-file": "/etc/kubernetes/extra/kube-apiserver/oidc-ca.crt"}}
	c.ExtraFiles = []ExtraFile{
		{Component: "kube-apiserver", Path: "/etc/kubernetes/extra/kube-apiserver/oidc-ca.crt", Source: "extra/oidc-ca.crt"},
		{Component: "kube-apiserver", Path: "/etc/kubernetes/extra/kube-apiserver/admission.yaml", Content: "apiVersion: x\n", Mode: "0600"},
	}
	c.FeatureGates = map[string]bool{"InPlacePodVerticalScaling": true}
	c.ComponentFeatureGates = map[string]map[string]bool{"kubelet": {"KubeletInUserNamespace": true}}
	c.Nodes[1].Labels = map[string]string{"example.com/rack": "r1", "node.kubernetes.io/pool": "gpu", "topology.kubernetes.io/zone": "a"}
	c.Nodes[1].Taints = []Taint{{Key: "example.com/dedicated", Value: "gpu", Effect: "NoSchedule"}}
	c.SetDefaults()
	return c
}

func TestValidExtrasHaveNoProblems(t *testing.T) {
	c := withExtras()
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	if c.ExtraFiles[0].Mode != DefaultExtraFileMode {
		t.Errorf("an extra file's mode defaults to %q", c.ExtraFiles[0].Mode)
	}
	got := c.FeatureGatesOf("kubelet")
	if len(got) != 2 || !got["InPlacePodVerticalScaling"] || !got["KubeletInUserNamespace"] {
		t.Errorf("kubelet's feature gates: %v", got)
	}
	if g := c.FeatureGatesOf("etcd"); len(g) != 1 {
		t.Errorf("etcd's feature gates (cluster-wide only): %v", g)
	}
}

func TestExtrasValidation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mutate   func(c *Cluster)
		field    string
		contains string
	}{
		{"unknown component", func(c *Cluster) { c.ExtraArgs["kubectl"] = map[string]string{"v": "2"} }, "extraArgs.kubectl", `"kubectl" is not a component`},
		{"dashes", func(c *Cluster) { c.ExtraArgs["kube-apiserver"]["--v"] = "2" }, "extraArgs.kube-apiserver.--v", "write the flag without dashes: v"},
		{"upper case flag", func(c *Cluster) { c.ExtraArgs["kube-apiserver"]["OIDC-Issuer"] = "x" }, "extraArgs.kube-apiserver.OIDC-Issuer", "not a flag name"},
		{"a space in a value", func(c *Cluster) { c.ExtraArgs["kube-apiserver"]["oidc-username-prefix"] = "a b" }, "extraArgs.kube-apiserver.oidc-username-prefix", "not a value hardway can put on a command line"},
		{"a dollar in a value", func(c *Cluster) { c.ExtraArgs["kube-apiserver"]["oidc-username-prefix"] = "$HOME" }, "extraArgs.kube-apiserver.oidc-username-prefix", "not a value"},
		{"an empty value", func(c *Cluster) { c.ExtraArgs["kube-apiserver"]["oidc-username-prefix"] = "" }, "extraArgs.kube-apiserver.oidc-username-prefix", "not a value"},
		{"feature gates as a flag", func(c *Cluster) { c.ExtraArgs["kube-apiserver"]["feature-gates"] = "A=true" }, "extraArgs.kube-apiserver.feature-gates", "set featureGates"},
		{"node labels as a flag", func(c *Cluster) { c.ExtraArgs["kubelet"] = map[string]string{"node-labels": "a=b"} }, "extraArgs.kubelet.node-labels", "set nodes[].labels"},
		{"flags for hardway etcd", func(c *Cluster) {
			c.Implementations = map[string]string{"etcd": ImplHardway}
			c.ExtraArgs["etcd"] = map[string]string{"quota-backend-bytes": "1"}
		}, "extraArgs.etcd", "hardway etcd takes only the flags hardway renders"},
		{"extra file elsewhere", func(c *Cluster) { c.ExtraFiles[0].Path = "/etc/kubernetes/pki/ca.crt" }, "extraFiles[0].path", "not a file directly under /etc/kubernetes/extra/kube-apiserver/"},
		{"extra file of another component", func(c *Cluster) { c.ExtraFiles[0].Path = "/etc/kubernetes/extra/kubelet/oidc-ca.crt" }, "extraFiles[0].path", "not a file directly under"},
		{"extra file in a subfolder", func(c *Cluster) { c.ExtraFiles[0].Path = "/etc/kubernetes/extra/kube-apiserver/a/b" }, "extraFiles[0].path", "not a file directly under"},
		{"extra file climbing out", func(c *Cluster) { c.ExtraFiles[0].Path = "/etc/kubernetes/extra/kube-apiserver/../../sudoers" }, "extraFiles[0].path", "not a file directly under"},
		{"extra file twice", func(c *Cluster) { c.ExtraFiles[1].Path = c.ExtraFiles[0].Path }, "extraFiles[1].path", "already the path of extraFiles[0]"},
		{"extra file of no component", func(c *Cluster) { c.ExtraFiles[0].Component = "sshd" }, "extraFiles[0].component", `"sshd" is not a component`},
		{"extra file without content", func(c *Cluster) { c.ExtraFiles[0].Source = "" }, "extraFiles[0]", "neither source nor content"},
		{"extra file with both", func(c *Cluster) { c.ExtraFiles[0].Content = "x" }, "extraFiles[0]", "both source and content"},
		{"extra file from the PKI", func(c *Cluster) { c.ExtraFiles[0].Source = "pki/ca.key" }, "extraFiles[0].source", `"pki/ca.key" is not a file under extra/`},
		{"extra file climbing out of extra/", func(c *Cluster) { c.ExtraFiles[0].Source = "extra/../pki/ca.key" }, "extraFiles[0].source", "not a file under extra/"},
		{"extra file executable", func(c *Cluster) { c.ExtraFiles[0].Mode = "0755" }, "extraFiles[0].mode", `"0755" is not a mode`},
		{"extra file mode unquoted", func(c *Cluster) { c.ExtraFiles[0].Mode = "420" }, "extraFiles[0].mode", "(quoted)"},
		{"feature gate in lower case", func(c *Cluster) { c.FeatureGates["inPlace"] = true }, "featureGates.inPlace", "not a feature gate name"},
		{"feature gates of etcd", func(c *Cluster) { c.ComponentFeatureGates["etcd"] = map[string]bool{"X": true} }, "componentFeatureGates.etcd", "not a Kubernetes component with feature gates"},
		{"labels without a kubelet", func(c *Cluster) { c.Nodes[0].Labels = map[string]string{"a": "b"} }, "nodes[0]", "runs no kubelet"},
		{"bad label key", func(c *Cluster) { c.Nodes[1].Labels["a b"] = "c" }, "nodes[1].labels.a b", "not a label key"},
		{"bad label value", func(c *Cluster) { c.Nodes[1].Labels["a"] = "b c" }, "nodes[1].labels.a", "not a label value"},
		{"node-restriction label", func(c *Cluster) { c.Nodes[1].Labels["node-restriction.kubernetes.io/pool"] = "x" }, "nodes[1].labels.node-restriction.kubernetes.io/pool", "reserved for administrators"},
		{"node-role label", func(c *Cluster) { c.Nodes[1].Labels["node-role.kubernetes.io/worker"] = "" }, "nodes[1].labels.node-role.kubernetes.io/worker", "refuses to start"},
		{"other kubernetes.io label", func(c *Cluster) { c.Nodes[1].Labels["kubernetes.io/role"] = "x" }, "nodes[1].labels.kubernetes.io/role", "NodeRestriction"},
		{"k8s.io label", func(c *Cluster) { c.Nodes[1].Labels["example.k8s.io/x"] = "y" }, "nodes[1].labels.example.k8s.io/x", "NodeRestriction"},
		{"bad taint effect", func(c *Cluster) { c.Nodes[1].Taints[0].Effect = "NoWay" }, "nodes[1].taints[0].effect", `"NoWay" is not a taint effect`},
		{"bad taint key", func(c *Cluster) { c.Nodes[1].Taints[0].Key = "" }, "nodes[1].taints[0].key", "not a taint key"},
		{"taint twice", func(c *Cluster) { c.Nodes[1].Taints = append(c.Nodes[1].Taints, c.Nodes[1].Taints[0]) }, "nodes[1].taints[1]", "already taints[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := withExtras()
			tc.mutate(c)
			var found bool
			for _, p := range c.Validate() {
				if p.Where == tc.field && p.Severity == problem.Error && strings.Contains(p.Message+" "+p.Fix, tc.contains) {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error at %s containing %q; got %v", tc.field, tc.contains, c.Validate())
			}
		})
	}
}
