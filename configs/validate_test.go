package configs

import (
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/problem"
)

func valid() *Cluster {
	c := &Cluster{
		Nodes: []Node{
			{Name: "cp-1", Addresses: []string{"10.0.0.11"}, Roles: []string{RoleControlPlane, RoleEtcd}},
			{Name: "worker-1", Addresses: []string{"10.0.0.21"}, Hostnames: []string{"worker-1.example.com"}, Roles: []string{RoleWorker}},
		},
	}
	c.SetDefaults()
	return c
}

func TestValidClusterHasNoProblems(t *testing.T) {
	if ps := valid().Validate(); len(ps) != 0 {
		t.Fatalf("problems in a valid cluster: %v", ps)
	}
}

func TestDefaults(t *testing.T) {
	c := valid()
	checks := map[string][2]string{
		"name":              {c.Name, DefaultClusterName},
		"dnsDomain":         {c.DNSDomain, "cluster.local"},
		"keyAlgorithm":      {c.KeyAlgorithm, "ecdsa-p256"},
		"encryption":        {c.Encryption.Provider, "secretbox"},
		"apiEndpoint.host":  {c.APIEndpoint.Host, "10.0.0.11"},
		"kubernetesVersion": {c.KubernetesVersion, "1.37"},
		"validity.ca":       {c.Validity.CA.String(), "3650d"},
		"validity.leaf":     {c.Validity.Leaf.String(), "365d"},
	}
	for field, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s defaults to %q, want %q", field, v[0], v[1])
		}
	}
	if c.APIEndpoint.Port != 6443 {
		t.Errorf("port defaults to %d", c.APIEndpoint.Port)
	}
}

// Each worker gets the next free pod range of nodePodCIDRSize in file order; ranges set in the
// file are kept and skipped; nodes without pods get none.
func TestPodCIDRAssignment(t *testing.T) {
	c := &Cluster{NodePodCIDRSize: 24, Nodes: []Node{
		{Name: "cp", Addresses: []string{"10.0.0.1"}, Roles: []string{RoleControlPlane, RoleEtcd}},
		{Name: "w1", Addresses: []string{"10.0.0.2"}, Roles: []string{RoleWorker}},
		{Name: "w2", Addresses: []string{"10.0.0.3"}, Roles: []string{RoleWorker}, PodCIDR: "10.244.1.0/24"},
		{Name: "w3", Addresses: []string{"10.0.0.4"}, Roles: []string{RoleWorker}},
	}}
	c.SetDefaults()
	got := []string{c.Nodes[0].PodCIDR, c.Nodes[1].PodCIDR, c.Nodes[2].PodCIDR, c.Nodes[3].PodCIDR}
	if want := []string{"", "10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pod ranges %q, want %q", got, want)
	}
	if ps := c.Validate(); len(ps) != 0 {
		t.Errorf("problems: %v", ps)
	}
	// A /30 pod network holds one /30: the second worker gets none, and is told why.
	c = &Cluster{PodCIDR: "10.244.0.0/30", NodePodCIDRSize: 30, Nodes: c.Nodes[:2]}
	c.Nodes = append(c.Nodes, Node{Name: "w9", Addresses: []string{"10.0.0.9"}, Roles: []string{RoleWorker}})
	c.Nodes[1].PodCIDR = ""
	c.SetDefaults()
	ps := c.Validate()
	if len(ps) != 1 || ps[0].Where != "nodes[2].podCIDR" || !strings.Contains(ps[0].Message, "no free /30 is left") {
		t.Errorf("exhausted pod network: %v", ps)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(c *Cluster)
		field    string
		severity problem.Severity
		contains string
	}{
		{"bad IP", func(c *Cluster) { c.Nodes[1].Addresses = []string{"10.0.0.300"} }, "nodes[1].addresses[0]", problem.Error, `"10.0.0.300" is not an IP address`},
		{"unspecified IP", func(c *Cluster) { c.Nodes[1].Addresses = []string{"0.0.0.0"} }, "nodes[1].addresses[0]", problem.Error, "cannot be a node address"},
		{"bad service CIDR", func(c *Cluster) { c.ServiceCIDR = "10.96.0.0/33" }, "serviceCIDR", problem.Error, "not a CIDR"},
		{"host bits", func(c *Cluster) { c.ServiceCIDR = "10.96.0.1/12" }, "serviceCIDR", problem.Error, "host bits"},
		{"service range too big", func(c *Cluster) { c.ServiceCIDR = "10.0.0.0/8"; c.PodCIDR = "192.168.0.0/16" }, "serviceCIDR", problem.Error, "too large"},
		{"overlap", func(c *Cluster) { c.PodCIDR = "10.96.0.0/16" }, "podCIDR", problem.Error, "overlaps serviceCIDR"},
		{"duplicate name", func(c *Cluster) { c.Nodes[1].Name = "cp-1" }, "nodes[1].name", problem.Error, "already the name of nodes[0]"},
		{"duplicate address", func(c *Cluster) { c.Nodes[1].Addresses = []string{"10.0.0.11"} }, "nodes[1].addresses[0]", problem.Error, "already an address of cp-1"},
		{"duplicate hostname", func(c *Cluster) { c.Nodes[0].Hostnames = []string{"worker-1.example.com"} }, "nodes[1].hostnames[0]", problem.Error, "already a host name of cp-1"},
		{"invalid node name", func(c *Cluster) { c.Nodes[1].Name = "Worker_1" }, "nodes[1].name", problem.Error, "not a valid node name"},
		{"invalid hostname", func(c *Cluster) { c.Nodes[1].Hostnames = []string{"bad..name"} }, "nodes[1].hostnames[0]", problem.Error, "not a valid host name"},
		{"invalid DNS domain", func(c *Cluster) { c.DNSDomain = "-cluster.local" }, "dnsDomain", problem.Error, "not a valid DNS domain"},
		{"no control plane", func(c *Cluster) { c.Nodes[0].Roles = []string{RoleEtcd} }, "nodes", problem.Error, "no node has the control-plane role"},
		{"no etcd", func(c *Cluster) { c.Nodes[0].Roles = []string{RoleControlPlane} }, "nodes", problem.Error, "no node has the etcd role"},
		{"even etcd", func(c *Cluster) { c.Nodes[1].Roles = []string{RoleEtcd} }, "nodes", problem.Warning, "2 nodes have the etcd role"},
		{"unknown role", func(c *Cluster) { c.Nodes[1].Roles = []string{"master"} }, "nodes[1].roles[0]", problem.Error, `"master" is not a known role`},
		{"no roles", func(c *Cluster) { c.Nodes[1].Roles = nil }, "nodes[1].roles", problem.Error, "is empty"},
		{"no addresses", func(c *Cluster) { c.Nodes[1].Addresses = nil }, "nodes[1].addresses", problem.Error, "is empty"},
		{"unknown key algorithm", func(c *Cluster) { c.KeyAlgorithm = "dsa-1024" }, "keyAlgorithm", problem.Error, `"dsa-1024" is not a supported key algorithm`},
		{"unknown provider", func(c *Cluster) { c.Encryption.Provider = "rot13" }, "encryption.provider", problem.Error, "not a supported encryption provider"},
		{"bad endpoint", func(c *Cluster) { c.APIEndpoint.Host = "not a host" }, "apiEndpoint.host", problem.Error, "neither an IP address nor a DNS name"},
		{"bad port", func(c *Cluster) { c.APIEndpoint.Port = 70000 }, "apiEndpoint.port", problem.Error, "not a valid port"},
		{"bad extra SAN", func(c *Cluster) { c.APIServerExtraSANs = []string{"a b"} }, "apiServerExtraSANs[0]", problem.Error, "neither"},
		{"old kubernetes", func(c *Cluster) { c.KubernetesVersion = "1.24" }, "kubernetesVersion", problem.Error, "not a supported Kubernetes version"},
		// The node half: pod ranges per node, version skew, runtime settings, binaries.
		{"node pod range outside podCIDR", func(c *Cluster) { c.Nodes[1].PodCIDR = "10.245.0.0/24" }, "nodes[1].podCIDR", problem.Error, "not inside podCIDR 10.244.0.0/16"},
		{"two nodes with one pod range", func(c *Cluster) {
			c.Nodes = append(c.Nodes, Node{Name: "worker-2", Addresses: []string{"10.0.0.22"}, Roles: []string{RoleWorker}, PodCIDR: c.Nodes[1].PodCIDR})
		}, "nodes[2].podCIDR", problem.Error, "overlaps 10.244.0.0/24, the pod range of worker-1"},
		{"pod range on a node without pods", func(c *Cluster) { c.Nodes[0].PodCIDR = "10.244.9.0/24" }, "nodes[0].podCIDR", problem.Error, "runs no pods"},
		{"pod range with host bits", func(c *Cluster) { c.Nodes[1].PodCIDR = "10.244.0.1/24" }, "nodes[1].podCIDR", problem.Error, "host bits"},
		{"pod range too small", func(c *Cluster) { c.Nodes[1].PodCIDR = "10.244.0.0/31" }, "nodes[1].podCIDR", problem.Error, "too small"},
		{"node inside the pod network", func(c *Cluster) { c.PodCIDR = "10.0.0.0/16" }, "nodes[0].addresses[0]", problem.Error, "inside podCIDR 10.0.0.0/16"},
		{"node inside the service network", func(c *Cluster) { c.ServiceCIDR = "10.0.0.0/16" }, "nodes[0].addresses[0]", problem.Error, "inside serviceCIDR 10.0.0.0/16"},
		{"node pod ranges larger than podCIDR", func(c *Cluster) { c.NodePodCIDRSize = 8 }, "nodePodCIDRSize", problem.Error, "does not fit podCIDR"},
		{"kubelet newer than the API server", func(c *Cluster) { c.KubernetesVersion = "1.36"; c.Versions = map[string]string{"kubelet": "1.37"} },
			"versions.kubelet", problem.Error, "at most 3 minor versions older than kube-apiserver (1.36) and never newer"},
		{"kubelet four minors older", func(c *Cluster) { c.Versions = map[string]string{"kubelet": "1.33"} },
			"versions.kubelet", problem.Error, "breaks the version-skew policy"},
		{"scheduler two minors older", func(c *Cluster) { c.Versions = map[string]string{"kube-scheduler": "1.35"} },
			"versions.kube-scheduler", problem.Error, "at most 1 minor versions older"},
		{"a version for the API server", func(c *Cluster) { c.Versions = map[string]string{"kube-apiserver": "1.36"} }, "versions.kube-apiserver", problem.Error, "kubernetesVersion"},
		{"a version for a stranger", func(c *Cluster) { c.Versions = map[string]string{"kubectl": "1.36"} }, "versions.kubectl", problem.Error, "not a component with a version of its own"},
		{"unknown cgroup driver", func(c *Cluster) { c.Runtime.CgroupDriver = "cgroupv1" }, "runtime.cgroupDriver", problem.Error, `"cgroupv1" is not a cgroup driver`},
		{"no sandbox image", func(c *Cluster) { c.Runtime.SandboxImage = " " }, "runtime.sandboxImage", problem.Error, "not an image reference"},
		{"no DNS replicas", func(c *Cluster) { c.DNS.Replicas = -1 }, "dns.replicas", problem.Error, "not a number of replicas"},
		{"unknown binary", func(c *Cluster) { c.Binaries = map[string]string{"crio": "/usr/bin/crio"} }, "binaries.crio", problem.Error, "not a runtime binary"},
		{"relative binary", func(c *Cluster) { c.Binaries = map[string]string{"runc": "bin/runc"} }, "binaries.runc", problem.Error, "not a clean absolute path"},
		{"bad etcd version", func(c *Cluster) { c.EtcdVersion = "3.3" }, "etcdVersion", problem.Error, "not a supported etcd version"},
		{"kubernetes patch version", func(c *Cluster) { c.KubernetesVersion = "1.37.2" }, "kubernetesVersion", problem.Error, "not a supported Kubernetes version"},
		{"kubernetes v prefix", func(c *Cluster) { c.KubernetesVersion = "v1.37" }, "kubernetesVersion", problem.Error, "not a supported Kubernetes version"},
		{"kubernetes zero-padded minor", func(c *Cluster) { c.KubernetesVersion = "1.037" }, "kubernetesVersion", problem.Error, "not a supported Kubernetes version"},
		{"kubernetes trailing text", func(c *Cluster) { c.KubernetesVersion = "1.37-rc.0" }, "kubernetesVersion", problem.Error, "not a supported Kubernetes version"},
		{"etcd as kubernetes", func(c *Cluster) { c.KubernetesVersion = "3.6" }, "kubernetesVersion", problem.Error, "not a supported Kubernetes version"},
		{"newest etcd too new", func(c *Cluster) { c.EtcdVersion = "3.7" }, "etcdVersion", problem.Error, "not a supported etcd version"},
		{"leaf outlives CA", func(c *Cluster) { c.Validity.Leaf = c.Validity.CA }, "validity.leaf", problem.Error, "not shorter than validity.ca"},
		{"unknown component", func(c *Cluster) { c.Implementations = map[string]string{"kubeapiserver": "hardway"} }, "implementations.kubeapiserver", problem.Error, "not a component"},
		{"unknown implementation", func(c *Cluster) { c.Implementations = map[string]string{"etcd": "mine"} }, "implementations.etcd", problem.Error, "not an implementation"},
		{"no nodes", func(c *Cluster) { c.Nodes = nil }, "nodes", problem.Error, "is empty"},
		{"node name too long for its files", func(c *Cluster) { c.Nodes[1].Name = longName(MaxNodeNameLength + 1) }, "nodes[1].name", problem.Error,
			"221 bytes: the longest file named after a node"},
		{"limited broadcast address", func(c *Cluster) { c.Nodes[1].Addresses = []string{"255.255.255.255"} }, "nodes[1].addresses[0]", problem.Error,
			"255.255.255.255 is the broadcast address"},
		{"this-network address", func(c *Cluster) { c.Nodes[1].Addresses = []string{"0.1.2.3"} }, "nodes[1].addresses[0]", problem.Error,
			"0.1.2.3 is in 0.0.0.0/8"},
		{"IPv4 link-local", func(c *Cluster) { c.Nodes[1].Addresses = []string{"169.254.10.1"} }, "nodes[1].addresses[0]", problem.Error,
			"169.254.10.1 is a link-local address"},
		{"IPv6 link-local", func(c *Cluster) { c.Nodes[1].Addresses = []string{"10.0.0.21", "fe80::1"} }, "nodes[1].addresses[1]", problem.Error,
			"fe80::1 is a link-local address"},
		{"IPv6 multicast", func(c *Cluster) { c.Nodes[1].Addresses = []string{"ff02::1"} }, "nodes[1].addresses[0]", problem.Error,
			"cannot be a node address"},
		{"IPv6 service range", func(c *Cluster) { c.ServiceCIDR = "fd00:10:96::/108" }, "serviceCIDR", problem.Error,
			"fd00:10:96::/108 is an IPv6 range: IPv6 and dual-stack clusters are not supported yet"},
		{"IPv6 pod range", func(c *Cluster) { c.PodCIDR = "fd00:10:244::/56" }, "podCIDR", problem.Error,
			"fd00:10:244::/56 is an IPv6 range: IPv6 and dual-stack clusters are not supported yet"},
		{"IPv6 advertise address", func(c *Cluster) { c.Nodes[0].Addresses = []string{"fd00::11", "10.0.0.11"} }, "nodes[0].addresses[0]", problem.Error,
			"fd00::11 is IPv6, and a node's first address is the one kube-apiserver advertises"},
		{"IPv6 worker address", func(c *Cluster) { c.Nodes[1].Addresses = []string{"fd00::21"} }, "nodes[1].addresses[0]", problem.Error,
			"must be in the family of serviceCIDR and podCIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(c)
			var got []string
			for _, p := range c.Validate() {
				got = append(got, p.Severity.String()+" "+p.String())
				if p.Where == tt.field && p.Severity == tt.severity && strings.Contains(p.Message, tt.contains) {
					if p.Fix == "" {
						t.Errorf("%s: no fix given", p.Where)
					}
					return
				}
			}
			t.Errorf("want %s at %s containing %q; got:\n%s", tt.severity, tt.field, tt.contains, strings.Join(got, "\n"))
		})
	}
}

// longName is a valid node name (labels of at most 63 characters) of n bytes.
func longName(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.Repeat("a", min(63, n-b.Len())))
	}
	s := b.String()
	if strings.HasSuffix(s, ".") { // n-1 landed on a dot
		s = s[:len(s)-2] + "bb"
	}
	return s
}

// Accepted near the limits: the longest node name, extra addresses of another family, the
// highest and lowest ordinary addresses.
func TestValidationAccepts(t *testing.T) {
	for name, mutate := range map[string]func(c *Cluster){
		"the longest node name":              func(c *Cluster) { c.Nodes[1].Name = longName(MaxNodeNameLength) },
		"an IPv6 address after the IPv4 one": func(c *Cluster) { c.Nodes[0].Addresses = []string{"10.0.0.11", "fd00::11"} },
		"an IPv6 etcd member": func(c *Cluster) {
			c.Nodes = append(c.Nodes, Node{Name: "etcd-2", Addresses: []string{"fd00::31"}, Roles: []string{RoleEtcd}}, Node{Name: "etcd-3", Addresses: []string{"fd00::32"}, Roles: []string{RoleEtcd}})
		},
		"an address ending in .255 or .0":      func(c *Cluster) { c.Nodes[1].Addresses = []string{"10.0.1.255", "10.0.2.0"} },
		"loopback for a machine-local cluster": func(c *Cluster) { c.Nodes[0].Addresses = []string{"127.0.0.1"} },
	} {
		c := valid()
		mutate(c)
		if ps := c.Validate(); len(ps) != 0 {
			t.Errorf("%s: %v", name, ps)
		}
	}
	if n := len(longName(MaxNodeNameLength)); n != MaxNodeNameLength {
		t.Fatalf("longName made %d bytes", n)
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := valid()
	c.Nodes[1].Addresses = []string{"10.0.0.300"}
	c.KeyAlgorithm = "nope"
	c.PodCIDR = "garbage"
	err := c.Validate().Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"nodes[1].addresses[0]", "keyAlgorithm", "podCIDR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestKubernetesServiceIP(t *testing.T) {
	for cidr, want := range map[string]string{"10.96.0.0/12": "10.96.0.1", "10.32.0.0/24": "10.32.0.1", "fd00:10:96::/112": "fd00:10:96::1"} {
		c := &Cluster{ServiceCIDR: cidr}
		ip, err := c.KubernetesServiceIP()
		if err != nil || ip.String() != want {
			t.Errorf("%s: got %v %v, want %s", cidr, ip, err, want)
		}
	}
}
