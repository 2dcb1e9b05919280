package pki

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// The kubeconfig (clientcmd v1) schema, written by hand: client-go is a test-only dependency
// here, and these few fields are all hardway writes. Tests load the result with client-go and
// with the real kubectl.
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
	Preferences    struct{}       `json:"preferences"`
	Users          []namedUser    `json:"users"`
}

type namedCluster struct {
	Name    string `json:"name"`
	Cluster struct {
		CertificateAuthorityData []byte `json:"certificate-authority-data"`
		Server                   string `json:"server"`
	} `json:"cluster"`
}

type namedContext struct {
	Name    string `json:"name"`
	Context struct {
		Cluster string `json:"cluster"`
		User    string `json:"user"`
	} `json:"context"`
}

type namedUser struct {
	Name string `json:"name"`
	User struct {
		ClientCertificateData []byte `json:"client-certificate-data"`
		ClientKeyData         []byte `json:"client-key-data"`
	} `json:"user"`
}

// Kubeconfig is what a kubeconfig file holds: one cluster, one user and the context that joins
// them, which is the current context.
type Kubeconfig struct {
	ClusterName string
	Server      string
	// User names the user entry; Context names the context, User when empty. hardway names both
	// KubeconfigUser(CN, cluster), so kubeconfigs of two clusters merged into one stay apart.
	User    string
	Context string
	CAPEM   []byte
	CertPEM []byte
	KeyPEM  []byte
}

// Render returns the kubeconfig's YAML, with the certificates and key embedded. It is a pure
// function of its fields, so the same inputs give the same bytes.
func (k Kubeconfig) Render() ([]byte, error) {
	ctx := k.Context
	if ctx == "" {
		ctx = k.User
	}
	var kc kubeconfig
	kc.APIVersion, kc.Kind, kc.CurrentContext = "v1", "Config", ctx
	var cl namedCluster
	cl.Name = k.ClusterName
	cl.Cluster.Server = k.Server
	cl.Cluster.CertificateAuthorityData = k.CAPEM
	var u namedUser
	u.Name = k.User
	u.User.ClientCertificateData = k.CertPEM
	u.User.ClientKeyData = k.KeyPEM
	var c namedContext
	c.Name = ctx
	c.Context.Cluster, c.Context.User = k.ClusterName, k.User
	kc.Clusters, kc.Users, kc.Contexts = []namedCluster{cl}, []namedUser{u}, []namedContext{c}
	return yaml.Marshal(kc)
}

// ParseKubeconfig reads the current context's cluster and user of a kubeconfig hardway wrote
// (embedded data only).
func ParseKubeconfig(data []byte) (Kubeconfig, error) {
	var kc kubeconfig
	if err := yaml.UnmarshalStrict(data, &kc); err != nil {
		return Kubeconfig{}, fmt.Errorf("not a kubeconfig: %w", err)
	}
	var out Kubeconfig
	var ctx *namedContext
	for i := range kc.Contexts {
		if kc.Contexts[i].Name == kc.CurrentContext {
			ctx = &kc.Contexts[i]
		}
	}
	if ctx == nil {
		return out, fmt.Errorf("current-context %q is not among the contexts", kc.CurrentContext)
	}
	out.Context = ctx.Name
	for _, c := range kc.Clusters {
		if c.Name == ctx.Context.Cluster {
			out.ClusterName, out.Server, out.CAPEM = c.Name, c.Cluster.Server, c.Cluster.CertificateAuthorityData
		}
	}
	for _, u := range kc.Users {
		if u.Name == ctx.Context.User {
			out.User, out.CertPEM, out.KeyPEM = u.Name, u.User.ClientCertificateData, u.User.ClientKeyData
		}
	}
	if out.CertPEM == nil {
		return out, fmt.Errorf("user %q has no embedded client certificate", ctx.Context.User)
	}
	return out, nil
}

// KubeconfigUser is the name of the user and of the context in the kubeconfig of the
// certificate with common name cn in cluster: "admin@prod", "system:node:worker-1@prod", as
// kubeadm's "kubernetes-admin@kubernetes". With the cluster entry named for the cluster, every
// name a kubeconfig holds carries the cluster's, so merging two clusters' kubeconfigs
// (KUBECONFIG=a:b) cannot pair one cluster's server with another's certificate.
func KubeconfigUser(cn, cluster string) string { return cn + "@" + cluster }

// kubeconfigDrift says how a kubeconfig on disk (have) differs from the one to write (want), for
// the reason of its update: its names first, then what it embeds.
func kubeconfigDrift(have, want Kubeconfig) string {
	var out []string
	if have.ClusterName != want.ClusterName || have.User != want.User || have.Context != want.Context {
		out = append(out, fmt.Sprintf("names cluster %q, user %q, context %q; now %q, %q, %q (every name carries the cluster's, so merged kubeconfigs stay apart)",
			have.ClusterName, have.User, have.Context, want.ClusterName, want.User, want.Context))
	}
	if have.Server != want.Server {
		out = append(out, fmt.Sprintf("server %s, now %s", have.Server, want.Server))
	}
	if !bytes.Equal(have.CAPEM, want.CAPEM) {
		out = append(out, "its CA changed")
	}
	if !bytes.Equal(have.CertPEM, want.CertPEM) || !bytes.Equal(have.KeyPEM, want.KeyPEM) {
		out = append(out, "its certificate or key changed")
	}
	if len(out) == 0 {
		return "its layout changed"
	}
	return strings.Join(out, "; ")
}
