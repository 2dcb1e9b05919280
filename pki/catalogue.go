package pki

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hardway-dev/hardway/configs"
)

// Usage is what a leaf certificate may be used for. Each leaf gets only what it needs.
type Usage string

const (
	UsageServer Usage = "server" // TLS server (serverAuth)
	UsageClient Usage = "client" // TLS client (clientAuth)
	UsagePeer   Usage = "peer"   // both: etcd members dial each other, and etcd requires it of its server cert
)

// Kind of artifact a Spec describes.
type Kind string

const (
	KindCA      Kind = "ca"
	KindLeaf    Kind = "leaf"
	KindKeyPair Kind = "keypair" // a key pair without a certificate (service-account signing)
)

// Scope says how many instances of a Spec a cluster has.
type Scope string

const (
	ScopeCluster Scope = ""        // one per cluster
	ScopeEtcd    Scope = "etcd"    // one per node with the etcd role
	ScopeKubelet Scope = "kubelet" // one per node that runs a kubelet: the nodes with the worker role
)

// ServerKind says which API address a kubeconfig points at.
type ServerKind string

const (
	ServerEndpoint ServerKind = "endpoint" // the cluster's API endpoint (load balancer)
	ServerLocal    ServerKind = "local"    // https://127.0.0.1:<port>, for components beside the apiserver
)

// KubeconfigSpec describes the kubeconfig that embeds a client certificate.
type KubeconfigSpec struct {
	Name   string // file base name, "{node}" replaced per node
	Server ServerKind
	// NodePath is where a node that runs its user keeps it; "" when no node does (admin).
	NodePath string
}

// Spec is one artifact of the catalogue. "{node}" in BaseName, CN and Kubeconfig.Name is
// replaced by the node name for per-node specs.
type Spec struct {
	Name     string // catalogue name, used on the command line
	Kind     Kind
	BaseName string // path under pki/ without extension: "etcd/ca", "apiserver", "etcd/server-{node}"
	// NodeBase is the path on a node without extension, as kubeadm lays it out
	// ("/etc/kubernetes/pki/etcd/server": a node holds only its own instance); "" when no node
	// holds the certificate itself (the administrators'). See NodeFiles.
	NodeBase   string
	CA         string // Name of the signing CA; "" for a CA or a key pair
	CN         string
	Orgs       []string
	Usage      Usage
	Scope      Scope
	SANs       func(c *configs.Cluster, n *configs.Node) []string
	Kubeconfig *KubeconfigSpec
	Help       string
}

// Catalogue is every artifact hardway issues, CAs first. It is data: change it here and the
// CLI, the reconciler and the tests follow.
var Catalogue = []Spec{
	{Name: "ca", Kind: KindCA, BaseName: "ca", NodeBase: "/etc/kubernetes/pki/ca", CN: "kubernetes",
		Help: "Kubernetes CA: signs the apiserver, the kubelets and every client of the API"},
	{Name: "etcd-ca", Kind: KindCA, BaseName: "etcd/ca", NodeBase: "/etc/kubernetes/pki/etcd/ca", CN: "etcd-ca",
		Help: "etcd CA: signs etcd's server and peer certificates and etcd's clients"},
	{Name: "front-proxy-ca", Kind: KindCA, BaseName: "front-proxy-ca", NodeBase: "/etc/kubernetes/pki/front-proxy-ca", CN: "front-proxy-ca",
		Help: "front-proxy CA: signs the client the apiserver uses for aggregated APIs"},

	{Name: "apiserver", Kind: KindLeaf, BaseName: "apiserver", NodeBase: "/etc/kubernetes/pki/apiserver", CA: "ca", CN: "kube-apiserver", Usage: UsageServer,
		SANs: apiserverSANs,
		Help: "kube-apiserver serving certificate (--tls-cert-file)"},
	{Name: "apiserver-kubelet-client", Kind: KindLeaf, BaseName: "apiserver-kubelet-client", NodeBase: "/etc/kubernetes/pki/apiserver-kubelet-client", CA: "ca",
		CN: "kube-apiserver-kubelet-client", Usage: UsageClient,
		Help: "the apiserver's client certificate for kubelets (--kubelet-client-certificate); bound to system:kubelet-api-admin"},
	{Name: "apiserver-etcd-client", Kind: KindLeaf, BaseName: "apiserver-etcd-client", NodeBase: "/etc/kubernetes/pki/apiserver-etcd-client", CA: "etcd-ca",
		CN: "kube-apiserver-etcd-client", Usage: UsageClient,
		Help: "the apiserver's client certificate for etcd (--etcd-certfile)"},
	{Name: "front-proxy-client", Kind: KindLeaf, BaseName: "front-proxy-client", NodeBase: "/etc/kubernetes/pki/front-proxy-client", CA: "front-proxy-ca",
		CN: "front-proxy-client", Usage: UsageClient,
		Help: "the apiserver's client certificate for aggregated API servers (--proxy-client-cert-file)"},
	{Name: "controller-manager-server", Kind: KindLeaf, BaseName: "controller-manager-server", NodeBase: "/etc/kubernetes/pki/controller-manager-server", CA: "ca",
		CN: "kube-controller-manager", Usage: UsageServer, SANs: localSANs,
		Help: "kube-controller-manager's serving certificate on 127.0.0.1:10257 (--tls-cert-file), so its /healthz is probed with verification"},
	{Name: "scheduler-server", Kind: KindLeaf, BaseName: "scheduler-server", NodeBase: "/etc/kubernetes/pki/scheduler-server", CA: "ca",
		CN: "kube-scheduler", Usage: UsageServer, SANs: localSANs,
		Help: "kube-scheduler's serving certificate on 127.0.0.1:10259 (--tls-cert-file), so its /healthz is probed with verification"},
	{Name: "etcd-server", Kind: KindLeaf, BaseName: "etcd/server-{node}", NodeBase: "/etc/kubernetes/pki/etcd/server", CA: "etcd-ca", CN: "{node}", Usage: UsagePeer,
		Scope: ScopeEtcd, SANs: etcdSANs,
		Help: "etcd member's serving certificate (--cert-file); etcd also dials with it, so it is server and client"},
	{Name: "etcd-peer", Kind: KindLeaf, BaseName: "etcd/peer-{node}", NodeBase: "/etc/kubernetes/pki/etcd/peer", CA: "etcd-ca", CN: "{node}", Usage: UsagePeer,
		Scope: ScopeEtcd, SANs: etcdSANs,
		Help: "etcd member's peer certificate (--peer-cert-file)"},
	{Name: "etcd-healthcheck-client", Kind: KindLeaf, BaseName: "etcd/healthcheck-client", NodeBase: "/etc/kubernetes/pki/etcd/healthcheck-client", CA: "etcd-ca",
		CN: "kube-etcd-healthcheck-client", Usage: UsageClient,
		Help: "client certificate for etcd health checks and etcdctl"},
	{Name: "sa", Kind: KindKeyPair, BaseName: "sa", NodeBase: "/etc/kubernetes/pki/sa",
		Help: "service-account token signing key pair (sa.key for the apiserver and controller-manager, sa.pub to verify)"},

	{Name: "admin", Kind: KindLeaf, BaseName: "admin", CA: "ca", CN: "admin", Orgs: []string{"hardway:cluster-admins"},
		Usage: UsageClient, Kubeconfig: &KubeconfigSpec{Name: "admin", Server: ServerEndpoint},
		Help: "everyday administrator; its group is bound to cluster-admin, so RBAC can revoke it"},
	{Name: "super-admin", Kind: KindLeaf, BaseName: "super-admin", CA: "ca", CN: "super-admin", Orgs: []string{"system:masters"},
		Usage: UsageClient, Kubeconfig: &KubeconfigSpec{Name: "super-admin", Server: ServerEndpoint, NodePath: "/etc/kubernetes/super-admin.kubeconfig"},
		Help: "break-glass administrator in system:masters, which bypasses RBAC; keep it offline"},
	{Name: "kube-controller-manager", Kind: KindLeaf, BaseName: "kube-controller-manager", CA: "ca",
		CN: "system:kube-controller-manager", Usage: UsageClient,
		Kubeconfig: &KubeconfigSpec{Name: "controller-manager", Server: ServerLocal, NodePath: "/etc/kubernetes/controller-manager.kubeconfig"},
		Help:       "kube-controller-manager's client certificate"},
	{Name: "kube-scheduler", Kind: KindLeaf, BaseName: "kube-scheduler", CA: "ca",
		CN: "system:kube-scheduler", Usage: UsageClient,
		Kubeconfig: &KubeconfigSpec{Name: "scheduler", Server: ServerLocal, NodePath: "/etc/kubernetes/scheduler.kubeconfig"},
		Help:       "kube-scheduler's client certificate"},
	{Name: "kube-proxy", Kind: KindLeaf, BaseName: "kube-proxy", CA: "ca",
		CN: "system:kube-proxy", Orgs: []string{"system:node-proxier"}, Usage: UsageClient,
		Kubeconfig: &KubeconfigSpec{Name: "kube-proxy", Server: ServerEndpoint, NodePath: "/etc/kubernetes/kube-proxy.kubeconfig"},
		Help:       "kube-proxy's client certificate (system:node-proxier)"},
	{Name: "kubelet-client", Kind: KindLeaf, BaseName: "kubelet/client-{node}", CA: "ca",
		CN: "system:node:{node}", Orgs: []string{"system:nodes"}, Usage: UsageClient, Scope: ScopeKubelet,
		Kubeconfig: &KubeconfigSpec{Name: "kubelet-{node}", Server: ServerEndpoint, NodePath: "/etc/kubernetes/kubelet.kubeconfig"},
		Help:       "a kubelet's client certificate: the Node authorizer knows it by system:node:<node>"},
	{Name: "kubelet-server", Kind: KindLeaf, BaseName: "kubelet/server-{node}", NodeBase: "/var/lib/kubelet/pki/kubelet", CA: "ca",
		CN: "system:node:{node}", Orgs: []string{"system:nodes"}, Usage: UsageServer, Scope: ScopeKubelet, SANs: nodeSANs,
		Help: "a kubelet's serving certificate, signed by the cluster CA so --kubelet-certificate-authority works"},
}

// Instance is a Spec resolved for a cluster (and a node, for per-node specs).
type Instance struct {
	Spec *Spec
	Node string // "" for cluster-wide
	ID   string // unique: the path under pki/ without extension, e.g. "etcd/server-cp-1"
	CN   string
	Orgs []string
	SANs []string // DNS names and IP addresses, sorted, unique
	// Kubeconfig is the kubeconfig file base name, "" when none.
	Kubeconfig string
	Server     string
}

// CertPath is the certificate's path relative to the cluster directory.
func (i Instance) CertPath() string { return "pki/" + i.ID + ".crt" }

// KeyPath is the private key's path relative to the cluster directory.
func (i Instance) KeyPath() string { return "pki/" + i.ID + ".key" }

// PubPath is the public key's path (key pairs only).
func (i Instance) PubPath() string { return "pki/" + i.ID + ".pub" }

// KubeconfigPath is the kubeconfig's path relative to the cluster directory.
func (i Instance) KubeconfigPath() string { return "kubeconfigs/" + i.Kubeconfig + ".kubeconfig" }

// Instances resolves the catalogue for cluster c, CAs first, in catalogue then node order.
func Instances(c *configs.Cluster) []Instance {
	var out []Instance
	for k := range Catalogue {
		s := &Catalogue[k]
		var nodes []*configs.Node
		switch s.Scope {
		case ScopeCluster:
			nodes = []*configs.Node{nil}
		case ScopeEtcd:
			for j := range c.Nodes {
				if c.Nodes[j].Has(configs.RoleEtcd) {
					nodes = append(nodes, &c.Nodes[j])
				}
			}
		case ScopeKubelet:
			for j := range c.Nodes {
				if c.Nodes[j].Has(configs.RoleWorker) {
					nodes = append(nodes, &c.Nodes[j])
				}
			}
		}
		for _, n := range nodes {
			out = append(out, resolve(c, s, n))
		}
	}
	return out
}

func resolve(c *configs.Cluster, s *Spec, n *configs.Node) Instance {
	node := ""
	if n != nil {
		node = n.Name
	}
	sub := func(t string) string { return strings.ReplaceAll(t, "{node}", node) }
	in := Instance{Spec: s, Node: node, ID: sub(s.BaseName), CN: sub(s.CN), Orgs: s.Orgs}
	if s.SANs != nil {
		in.SANs = normalizeSANs(s.SANs(c, n))
	}
	if s.Kubeconfig != nil {
		in.Kubeconfig = sub(s.Kubeconfig.Name)
		switch s.Kubeconfig.Server {
		case ServerLocal:
			in.Server = configs.Endpoint{Host: "127.0.0.1", Port: c.APIEndpoint.Port}.URL()
		default:
			in.Server = c.APIEndpoint.URL()
		}
	}
	return in
}

// apiserverSANs: the names in-cluster clients use, the Service IP, loopback, every
// control-plane node's addresses and names, the API endpoint and the extra SANs.
func apiserverSANs(c *configs.Cluster, _ *configs.Node) []string {
	sans := []string{
		"kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + c.DNSDomain, "localhost", "127.0.0.1",
	}
	if ip, err := c.KubernetesServiceIP(); err == nil {
		sans = append(sans, ip.String())
	}
	for _, n := range c.NodesWith(configs.RoleControlPlane) {
		sans = append(sans, n.Name)
		sans = append(sans, n.Addresses...)
		sans = append(sans, n.Hostnames...)
	}
	sans = append(sans, c.APIEndpoint.Host)
	return append(sans, c.APIServerExtraSANs...)
}

// etcdSANs: the member's name, addresses and host names, and loopback for local clients.
func etcdSANs(c *configs.Cluster, n *configs.Node) []string {
	return append(nodeSANs(c, n), "localhost", "127.0.0.1", "::1")
}

// localSANs name a server that listens on the node's loopback address only.
func localSANs(*configs.Cluster, *configs.Node) []string { return []string{"localhost", "127.0.0.1"} }

func nodeSANs(_ *configs.Cluster, n *configs.Node) []string {
	sans := []string{n.Name}
	sans = append(sans, n.Addresses...)
	return append(sans, n.Hostnames...)
}

// normalizeSANs returns the SANs unique and sorted: DNS names first, then IP addresses in
// canonical form.
func normalizeSANs(in []string) []string {
	var dns []string
	var ips []netip.Addr
	for _, s := range in {
		if s == "" {
			continue
		}
		if ip, err := netip.ParseAddr(s); err == nil {
			ips = append(ips, ip.Unmap())
		} else {
			dns = append(dns, strings.ToLower(s))
		}
	}
	slices.Sort(dns)
	dns = slices.Compact(dns)
	slices.SortFunc(ips, func(a, b netip.Addr) int { return a.Compare(b) })
	ips = slices.Compact(ips)
	out := dns
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

// Find returns the instance whose ID or catalogue name is name; a catalogue name of a per-node
// spec matches all its instances.
func Find(all []Instance, name string) ([]Instance, error) {
	var out []Instance
	for _, in := range all {
		if in.ID == name || in.Spec.Name == name || (in.Kubeconfig != "" && in.Kubeconfig == name) {
			out = append(out, in)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no certificate called %q; 'hardway certs list' shows the names", name)
	}
	return out, nil
}
