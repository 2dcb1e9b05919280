package pki

import (
	"path"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs"
)

func TestCatalogueInvariants(t *testing.T) {
	seen := map[string]int{}
	bases := map[string]bool{}
	for i, s := range Catalogue {
		if _, dup := seen[s.Name]; dup {
			t.Errorf("%s: name used twice", s.Name)
		}
		seen[s.Name] = i
		if bases[s.BaseName] {
			t.Errorf("%s: base name %s used twice", s.Name, s.BaseName)
		}
		bases[s.BaseName] = true
		if s.Help == "" {
			t.Errorf("%s: no help text", s.Name)
		}
		switch s.Kind {
		case KindCA:
			if s.CA != "" || s.Usage != "" || s.Scope != ScopeCluster {
				t.Errorf("%s: a CA has no signer, usage or per-node scope", s.Name)
			}
		case KindLeaf:
			j, ok := seen[s.CA]
			if !ok {
				t.Errorf("%s: signing CA %q does not precede it in the catalogue", s.Name, s.CA)
			} else if Catalogue[j].Kind != KindCA {
				t.Errorf("%s: signer %q is not a CA", s.Name, s.CA)
			}
			if s.Usage == "" {
				t.Errorf("%s: a leaf without a usage", s.Name)
			}
			if s.CN == "" {
				t.Errorf("%s: no CN", s.Name)
			}
			if s.Scope != ScopeCluster && !strings.Contains(s.BaseName, "{node}") {
				t.Errorf("%s: per-node spec whose base name has no {node}", s.Name)
			}
			if s.Usage != UsageClient && s.SANs == nil {
				t.Errorf("%s: a serving certificate without SANs", s.Name)
			}
			if s.Usage == UsageClient && s.SANs != nil {
				t.Errorf("%s: a client certificate with SANs", s.Name)
			}
		case KindKeyPair:
		default:
			t.Errorf("%s: unknown kind %q", s.Name, s.Kind)
		}
		if s.Kubeconfig != nil && s.Usage != UsageClient {
			t.Errorf("%s: a kubeconfig needs a client certificate", s.Name)
		}
	}
}

// The identities Kubernetes expects, exactly.
func TestCatalogueIdentities(t *testing.T) {
	c := haCluster(t)
	want := map[string]struct {
		cn, orgs string
		usage    Usage
	}{
		"apiserver":                {"kube-apiserver", "", UsageServer},
		"apiserver-kubelet-client": {"kube-apiserver-kubelet-client", "", UsageClient},
		"apiserver-etcd-client":    {"kube-apiserver-etcd-client", "", UsageClient},
		"front-proxy-client":       {"front-proxy-client", "", UsageClient},
		"etcd/server-cp-2":         {"cp-2", "", UsagePeer},
		"etcd/peer-cp-2":           {"cp-2", "", UsagePeer},
		"etcd/healthcheck-client":  {"kube-etcd-healthcheck-client", "", UsageClient},
		"kube-controller-manager":  {"system:kube-controller-manager", "", UsageClient},
		"kube-scheduler":           {"system:kube-scheduler", "", UsageClient},
		"kube-proxy":               {"system:kube-proxy", "system:node-proxier", UsageClient},
		"kubelet/client-worker-3":  {"system:node:worker-3", "system:nodes", UsageClient},
		"kubelet/server-worker-3":  {"system:node:worker-3", "system:nodes", UsageServer},
		"admin":                    {"admin", "hardway:cluster-admins", UsageClient},
		"super-admin":              {"super-admin", "system:masters", UsageClient},
	}
	got := map[string]Instance{}
	for _, in := range Instances(c) {
		if _, dup := got[in.ID]; dup {
			t.Errorf("instance ID %s twice", in.ID)
		}
		got[in.ID] = in
	}
	for id, w := range want {
		in, ok := got[id]
		if !ok {
			t.Errorf("%s: not in the catalogue", id)
			continue
		}
		if in.CN != w.cn || strings.Join(in.Orgs, ",") != w.orgs || in.Spec.Usage != w.usage {
			t.Errorf("%s: CN=%q O=%v usage=%s, want CN=%q O=%q usage=%s", id, in.CN, in.Orgs, in.Spec.Usage, w.cn, w.orgs, w.usage)
		}
	}
	// Only super-admin may be in system:masters.
	for _, in := range Instances(c) {
		for _, o := range in.Orgs {
			if o == "system:masters" && in.ID != "super-admin" {
				t.Errorf("%s is in system:masters", in.ID)
			}
		}
	}
	// Per-node instances: etcd members only for etcd nodes, kubelets only for workers (the nodes
	// that run one).
	count := map[string]int{}
	for _, in := range Instances(c) {
		count[in.Spec.Name]++
	}
	if count["etcd-server"] != 3 || count["etcd-peer"] != 3 || count["kubelet-client"] != 3 || count["kubelet-server"] != 3 {
		t.Errorf("per-node counts: %v", count)
	}
}

func TestAPIServerSANs(t *testing.T) {
	c := haCluster(t)
	in, err := Find(Instances(c), "apiserver")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cp-1", "cp-1.example.internal", "cp-2", "cp-2.example.internal", "cp-3", "cp-3.example.internal",
		"k8s-api.example.internal", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", "localhost",
		"10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.100", "10.96.0.1", "127.0.0.1"}
	if got := strings.Join(in[0].SANs, " "); got != strings.Join(want, " ") {
		t.Errorf("apiserver SANs\n got %s\nwant %s", got, strings.Join(want, " "))
	}
	for _, w := range []string{"worker-1", "10.0.0.21"} {
		for _, s := range in[0].SANs {
			if s == w {
				t.Errorf("worker SAN %s in the apiserver certificate", w)
			}
		}
	}
}

func TestKubeconfigServers(t *testing.T) {
	c := haCluster(t)
	for _, in := range Instances(c) {
		if in.Kubeconfig == "" {
			continue
		}
		want := "https://k8s-api.example.internal:6443"
		if in.Kubeconfig == "controller-manager" || in.Kubeconfig == "scheduler" {
			want = "https://127.0.0.1:6443"
		}
		if in.Server != want {
			t.Errorf("%s: server %s, want %s", in.Kubeconfig, in.Server, want)
		}
	}
}

// Node paths are data: absolute, clean, unique across the catalogue and NodeConfigs, secrets
// 0600; and every node's files map back to distinct cluster-directory files.
func TestNodePathInvariants(t *testing.T) {
	c := haCluster(t)
	for _, n := range c.Nodes {
		paths := map[string]string{}
		for _, f := range NodeFiles(c, n.Name) {
			if !path.IsAbs(f.NodePath) || path.Clean(f.NodePath) != f.NodePath {
				t.Errorf("%s: node path %q is not clean and absolute", f.Name, f.NodePath)
			}
			if prev, dup := paths[f.NodePath]; dup {
				t.Errorf("%s: node path %s is also %s's", f.Name, f.NodePath, prev)
			}
			paths[f.NodePath] = f.Source
			if (f.Kind == NodeKey || f.Kind == NodeKubeconfig) && f.Mode != ModeSecret {
				t.Errorf("%s: %s mode %o; keys and kubeconfigs are 0600", f.Name, f.NodePath, f.Mode)
			}
			if strings.Contains(f.Source, "{node}") || strings.Contains(f.NodePath, "{node}") {
				t.Errorf("%s: unresolved {node} in %s -> %s", f.Name, f.Source, f.NodePath)
			}
		}
		if src := paths["/etc/kubernetes/pki/ca.crt"]; src != "pki/ca.crt" {
			t.Errorf("%s: ca.crt comes from %q", n.Name, src)
		}
		if n.Has(configs.RoleEtcd) {
			if src := paths["/etc/kubernetes/pki/etcd/server.key"]; src != "pki/etcd/server-"+n.Name+".key" {
				t.Errorf("%s: the etcd server key comes from %q", n.Name, src)
			}
		} else if _, ok := paths["/etc/kubernetes/pki/etcd/server.key"]; ok {
			t.Errorf("%s: no etcd role, yet an etcd server key", n.Name)
		}
	}
}

// Remaining times as kubeadm prints them: years from two on, then days, hours, minutes.
func TestHumanDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		d    time.Duration
		want string
	}{
		{3650 * day, "10y"}, {3649 * day, "9y"}, {730 * day, "2y"}, {729 * day, "729d"}, {364 * day, "364d"},
		{2 * day, "2d"}, {47 * time.Hour, "47h"}, {time.Hour, "1h"}, {59 * time.Minute, "59m"}, {0, "expired"}, {-day, "expired"},
	}
	for _, tt := range tests {
		if got := HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
