package pki

import (
	"io/fs"
	"strings"

	"github.com/hardway-dev/hardway/configs"
)

// NodeFileKind says what a node file holds.
type NodeFileKind string

const (
	NodeCertificate NodeFileKind = "certificate" // a certificate or a public key
	NodeKey         NodeFileKind = "key"
	NodeKubeconfig  NodeFileKind = "kubeconfig"
	NodeConfig      NodeFileKind = "config"
)

// NodeFile is where a file lives on a node, with its mode, and the cluster-directory file it is
// a copy of ("" for a file rendered per node).
type NodeFile struct {
	Name     string // the catalogue name, or the config's
	NodePath string
	Source   string // relative to the cluster directory
	Kind     NodeFileKind
	Mode     fs.FileMode
}

// NodeConfigs are the node files that are neither certificates nor kubeconfigs: the one table
// beside the catalogue, which places those. Source "" means a file rendered per node.
var NodeConfigs = []NodeFile{
	{Name: "encryption-config", NodePath: "/etc/kubernetes/encryption-config.yaml", Source: EncryptionConfigPath, Kind: NodeConfig, Mode: ModeSecret},
	// The audit policy holds nothing secret; 0600 as every configuration file hardway renders
	// for a node (units.ConfigMode), since only the API server, as root, reads it.
	{Name: "audit-policy", NodePath: "/etc/kubernetes/audit-policy.yaml", Kind: NodeConfig, Mode: ModeSecret},
}

// Node paths of a spec's files; "" when no node holds them.
func (s *Spec) NodeCert() string { return s.nodePath(".crt") }
func (s *Spec) NodeKey() string  { return s.nodePath(".key") }
func (s *Spec) NodePub() string  { return s.nodePath(".pub") }

func (s *Spec) nodePath(ext string) string {
	if s.NodeBase == "" {
		return ""
	}
	return s.NodeBase + ext
}

// NodeKubeconfig is the node path of the spec's kubeconfig; "" when no node holds it.
func (s *Spec) NodeKubeconfig() string {
	if s.Kubeconfig == nil {
		return ""
	}
	return s.Kubeconfig.NodePath
}

// MustNodeConfig returns the NodeConfigs entry called name; it panics when there is none.
func MustNodeConfig(name string) NodeFile {
	for _, f := range NodeConfigs {
		if f.Name == name {
			return f
		}
	}
	panic("pki: no node config " + name)
}

// MustSpec returns the catalogue entry called name; it panics when there is none, so a
// misspelt name fails at start-up, in every test.
func MustSpec(name string) *Spec {
	for i := range Catalogue {
		if Catalogue[i].Name == name {
			return &Catalogue[i]
		}
	}
	panic("pki: no catalogue entry " + name)
}

// NodeFiles lists every file that node of cluster c may hold, from the catalogue and
// NodeConfigs: the cluster-wide artifacts and the node's own instances (its etcd member's and
// kubelet's certificates under their node-independent names). Which of them a node gets is
// what its units read.
func NodeFiles(c *configs.Cluster, node string) []NodeFile {
	var n *configs.Node
	for i := range c.Nodes {
		if c.Nodes[i].Name == node {
			n = &c.Nodes[i]
		}
	}
	var out []NodeFile
	for k := range Catalogue {
		s := &Catalogue[k]
		switch s.Scope {
		case ScopeEtcd:
			if n == nil || !n.Has(configs.RoleEtcd) {
				continue
			}
		case ScopeKubelet:
			if n == nil || !n.Has(configs.RoleWorker) {
				continue
			}
		}
		id := strings.ReplaceAll(s.BaseName, "{node}", node)
		in := Instance{ID: id}
		if s.NodeBase != "" {
			if s.Kind == KindKeyPair {
				out = append(out, NodeFile{s.Name, s.NodePub(), in.PubPath(), NodeCertificate, ModePublic})
			} else {
				out = append(out, NodeFile{s.Name, s.NodeCert(), in.CertPath(), NodeCertificate, ModePublic})
			}
			out = append(out, NodeFile{s.Name, s.NodeKey(), in.KeyPath(), NodeKey, ModeSecret})
		}
		if p := s.NodeKubeconfig(); p != "" {
			in.Kubeconfig = strings.ReplaceAll(s.Kubeconfig.Name, "{node}", node)
			out = append(out, NodeFile{s.Name, p, in.KubeconfigPath(), NodeKubeconfig, ModeSecret})
		}
	}
	for _, f := range NodeConfigs {
		if f.Source != "" {
			out = append(out, f)
		}
	}
	return out
}
