package configs

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/hardway-dev/hardway/internal/duration"
)

// Roles a node can have.
const (
	RoleControlPlane = "control-plane"
	RoleEtcd         = "etcd"
	RoleWorker       = "worker"
)

// Key algorithms.
const (
	KeyECDSAP256 = "ecdsa-p256"
	KeyECDSAP384 = "ecdsa-p384"
	KeyRSA2048   = "rsa-2048"
	KeyRSA3072   = "rsa-3072"
	KeyRSA4096   = "rsa-4096"
)

// KeyAlgorithms lists the supported key algorithms, the default first.
var KeyAlgorithms = []string{KeyECDSAP256, KeyECDSAP384, KeyRSA2048, KeyRSA3072, KeyRSA4096}

// Encryption providers for secrets at rest.
const (
	ProviderSecretbox = "secretbox"
	ProviderAESCBC    = "aescbc"
	ProviderAESGCM    = "aesgcm"
)

// EncryptionProviders lists the supported providers, the default first.
var EncryptionProviders = []string{ProviderSecretbox, ProviderAESCBC, ProviderAESGCM}

// Defaults, documented in the example files and the README.
const (
	DefaultClusterName       = "kubernetes"
	DefaultDNSDomain         = "cluster.local"
	DefaultServiceCIDR       = "10.96.0.0/12"
	DefaultPodCIDR           = "10.244.0.0/16"
	DefaultAPIPort           = 6443
	DefaultKubernetesVersion = "1.37"
	DefaultEtcdVersion       = "3.6"
	DefaultCAValidity        = 10 * 365 * 24 * time.Hour // 87600h, as kubeadm
	DefaultLeafValidity      = 365 * 24 * time.Hour      // 8760h, as kubeadm
	DefaultRenewBefore       = 30 * 24 * time.Hour
	// DefaultNodePodCIDRSize is the prefix length of each node's pod range, as
	// kube-controller-manager's --node-cidr-mask-size for IPv4: 254 pods a node.
	DefaultNodePodCIDRSize = 24
	// DefaultSandboxImage is the pod sandbox (pause) image containerd starts every pod with.
	DefaultSandboxImage = "registry.k8s.io/pause:3.10"
	// DefaultCoreDNSImage is the cluster DNS addon's image.
	DefaultCoreDNSImage = "registry.k8s.io/coredns/coredns:v1.12.0"
	// DefaultCoreDNSReplicas is how many CoreDNS pods run, as kubeadm's.
	DefaultCoreDNSReplicas = 2
)

// Cgroup drivers the kubelet and containerd can share.
const (
	CgroupDriverSystemd  = "systemd"
	CgroupDriverCgroupfs = "cgroupfs"
)

// Binaries the runtime layer runs, by their keys in Cluster.Binaries, with the Debian packages'
// paths as defaults (containerd, runc, containernetworking-plugins).
const (
	BinaryContainerd = "containerd"
	BinaryRunc       = "runc"
	BinaryCNIDir     = "cni"
)

// DefaultBinaries are the runtime layer's programs where Debian's packages install them.
var DefaultBinaries = map[string]string{
	BinaryContainerd: "/usr/bin/containerd",
	BinaryRunc:       "/usr/sbin/runc",
	BinaryCNIDir:     "/usr/lib/cni",
}

// Cluster is the whole cluster model.
type Cluster struct {
	// Name of the cluster, used in kubeconfigs.
	Name string `mapstructure:"name" json:"name"`
	// KubernetesVersion is the minor version of the upstream binaries the units target ("1.37").
	KubernetesVersion string `mapstructure:"kubernetesVersion" json:"kubernetesVersion"`
	// EtcdVersion is the minor version of etcd the units target ("3.6").
	EtcdVersion string `mapstructure:"etcdVersion" json:"etcdVersion"`
	// DNSDomain is the cluster DNS domain.
	DNSDomain string `mapstructure:"dnsDomain" json:"dnsDomain"`
	// ServiceCIDR is the range of Service cluster IPs; its first address is the
	// "kubernetes" Service and goes into the apiserver certificate.
	ServiceCIDR string `mapstructure:"serviceCIDR" json:"serviceCIDR"`
	// PodCIDR is the range pods get their addresses from.
	PodCIDR string `mapstructure:"podCIDR" json:"podCIDR"`
	// APIEndpoint is where clients outside the control plane reach the API server: a load
	// balancer, or the single control-plane node.
	APIEndpoint Endpoint `mapstructure:"apiEndpoint" json:"apiEndpoint"`
	// APIServerExtraSANs are more names or addresses for the apiserver certificate.
	APIServerExtraSANs []string `mapstructure:"apiServerExtraSANs" json:"apiServerExtraSANs,omitempty"`
	// KeyAlgorithm for every key hardway generates.
	KeyAlgorithm string `mapstructure:"keyAlgorithm" json:"keyAlgorithm"`
	// Validity of certificates.
	Validity Validity `mapstructure:"validity" json:"validity"`
	// Encryption of secrets at rest.
	Encryption Encryption `mapstructure:"encryption" json:"encryption"`
	// Implementations chooses, per component, the upstream binary ("upstream", the default) or
	// hardway's own implementation with the same flags ("hardway": etcd only, an embedded member), for machines
	// without the upstream binaries: {etcd: hardway}.
	Implementations map[string]string `mapstructure:"implementations" json:"implementations,omitempty"`
	// NodePodCIDRSize is the prefix length of each node's pod range, carved out of PodCIDR.
	NodePodCIDRSize int `mapstructure:"nodePodCIDRSize" json:"nodePodCIDRSize"`
	// Versions overrides KubernetesVersion per component ("kubelet": "1.35"), within the
	// Kubernetes version-skew policy: see SkewProblems.
	Versions map[string]string `mapstructure:"versions" json:"versions,omitempty"`
	// Runtime is the node half's container runtime and host settings.
	Runtime Runtime `mapstructure:"runtime" json:"runtime"`
	// Binaries are the runtime layer's programs on the nodes: containerd, runc and the
	// directory of the CNI plugins ("cni"); see DefaultBinaries.
	Binaries map[string]string `mapstructure:"binaries" json:"binaries,omitempty"`
	// DNS is the cluster DNS addon.
	DNS DNS `mapstructure:"dns" json:"dns"`
	// ExtraArgs are more flags per component, kubeadm's extraArgs, by component and flag name
	// (without "--"): {kube-apiserver: {oidc-issuer-url: "https://issuer.example"}}. Each is
	// checked against the flag catalogue; see units.CheckExtras for the flags hardway sets itself.
	ExtraArgs map[string]map[string]string `mapstructure:"extraArgs" json:"extraArgs,omitempty"`
	// ExtraFiles are files the extra flags read (an OIDC CA, an admission configuration),
	// kubeadm's extraVolumes: installed on every node that runs their component, under
	// ExtraDir/<component>/.
	ExtraFiles []ExtraFile `mapstructure:"extraFiles" json:"extraFiles,omitempty"`
	// FeatureGates are set on every Kubernetes component (not etcd or containerd): --feature-gates,
	// or featureGates in the kubelet's and kube-proxy's configuration files.
	FeatureGates map[string]bool `mapstructure:"featureGates" json:"featureGates,omitempty"`
	// ComponentFeatureGates are feature gates of one component, over FeatureGates:
	// {kubelet: {KubeletInUserNamespace: true}}.
	ComponentFeatureGates map[string]map[string]bool `mapstructure:"componentFeatureGates" json:"componentFeatureGates,omitempty"`
	// Nodes of the cluster.
	Nodes []Node `mapstructure:"nodes" json:"nodes"`
}

// ExtraDir is where extra files live on a node: ExtraDir/<component>/<name>.
const ExtraDir = "/etc/kubernetes/extra"

// ExtraFile is one file a component's extra flags read. Its content is inline (Content) or a
// file of the cluster directory (Source, a relative path such as "extra/oidc-ca.crt").
type ExtraFile struct {
	// Component is the component that reads the file; it goes to every node that runs it.
	Component string `mapstructure:"component" json:"component"`
	// Path is the file on the node: ExtraDir/<component>/<name>.
	Path string `mapstructure:"path" json:"path"`
	// Source is a file of the cluster directory whose bytes are installed; "" with Content.
	Source string `mapstructure:"source" json:"source,omitempty"`
	// Content is the file's text; "" with Source.
	Content string `mapstructure:"content" json:"content,omitempty"`
	// Mode is "0600" (the default and only mode: rendered files are 0600, CIS 1.1.x; the
	// components that read them run as root), quoted.
	Mode string `mapstructure:"mode" json:"mode,omitempty"`
}

// ExtraFileModes are the modes an extra file may have.
var ExtraFileModes = []string{"0600"}

// DefaultExtraFileMode is an extra file's mode unless it says otherwise.
const DefaultExtraFileMode = "0600"

// Taint is one taint a kubelet registers its node with (registerWithTaints).
type Taint struct {
	Key    string `mapstructure:"key" json:"key"`
	Value  string `mapstructure:"value" json:"value,omitempty"`
	Effect string `mapstructure:"effect" json:"effect"`
}

// TaintEffects are the effects a taint may have.
var TaintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

// FeatureGatesOf is the feature gates of component: FeatureGates, overridden by its entry of
// ComponentFeatureGates. It is nil when there are none.
func (c *Cluster) FeatureGatesOf(component string) map[string]bool {
	var out map[string]bool
	for _, m := range []map[string]bool{c.FeatureGates, c.ComponentFeatureGates[component]} {
		for k, v := range m {
			if out == nil {
				out = map[string]bool{}
			}
			out[k] = v
		}
	}
	return out
}

// ExtraFilesOf returns the extra files of component, in file order.
func (c *Cluster) ExtraFilesOf(component string) []ExtraFile {
	var out []ExtraFile
	for _, f := range c.ExtraFiles {
		if f.Component == component {
			out = append(out, f)
		}
	}
	return out
}

// Runtime configures containerd and the kubelet's host settings. The defaults fit a host whose
// PID 1 is systemd with cgroup v2; the other values are for hosts that are not, each chosen
// explicitly in the cluster file and explained by hardway inspect.
type Runtime struct {
	// SandboxImage is the pod sandbox (pause) image, containerd's sandbox_image.
	SandboxImage string `mapstructure:"sandboxImage" json:"sandboxImage"`
	// CgroupDriver is the kubelet's cgroupDriver and containerd's SystemdCgroup: "systemd"
	// (the default: systemd is PID 1 and owns the cgroup tree) or "cgroupfs" (no systemd as
	// PID 1, as in a container).
	CgroupDriver string `mapstructure:"cgroupDriver" json:"cgroupDriver"`
	// AllowCgroupV1 lets the kubelet start on a host whose controllers are cgroup v1
	// (failCgroupV1: false). Kubernetes has deprecated cgroup v1; say yes only for such hosts.
	AllowCgroupV1 bool `mapstructure:"allowCgroupV1" json:"allowCgroupV1,omitempty"`
	// RestrictOOMScoreAdj is for hosts without CAP_SYS_RESOURCE (containers): containerd
	// never lowers a container's OOM score below its own (restrict_oom_score_adj) and its unit
	// sets no negative OOMScoreAdjust=, which such a host refuses. Critical pods then lose their
	// protection from the OOM killer.
	RestrictOOMScoreAdj bool `mapstructure:"restrictOOMScoreAdj" json:"restrictOOMScoreAdj,omitempty"`
}

// DNS configures the CoreDNS addon that serves the kubelets' clusterDNS address.
type DNS struct {
	Image    string `mapstructure:"image" json:"image"`
	Replicas int    `mapstructure:"replicas" json:"replicas"`
}

// Components are the programs hardway runs on a node, by their upstream binaries' names, in the
// order a node starts them. It is the one list: the units (units.Components), the flag
// catalogue's components (units/flags) and the implementations setting's keys derive from it.
var Components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet", "kube-proxy"}

// Implementations a component can have.
const (
	ImplUpstream = "upstream"
	ImplHardway  = "hardway"
)

// Endpoint is a host (IP address or DNS name) and a port.
type Endpoint struct {
	Host string `mapstructure:"host" json:"host"`
	Port int    `mapstructure:"port" json:"port"`
}

// URL is the https URL of the endpoint.
func (e Endpoint) URL() string {
	return "https://" + net.JoinHostPort(e.Host, fmt.Sprint(e.Port))
}

// Validity of the certificates hardway issues: "3650d", "8760h", "1d12h" (internal/duration).
type Validity struct {
	CA          duration.Duration `mapstructure:"ca" json:"ca"`
	Leaf        duration.Duration `mapstructure:"leaf" json:"leaf"`
	RenewBefore duration.Duration `mapstructure:"renewBefore" json:"renewBefore"`
}

// Encryption configures encryption of secrets at rest.
type Encryption struct {
	Provider string `mapstructure:"provider" json:"provider"`
}

// Node is one machine.
type Node struct {
	Name      string   `mapstructure:"name" json:"name"`
	Addresses []string `mapstructure:"addresses" json:"addresses"`
	Hostnames []string `mapstructure:"hostnames" json:"hostnames,omitempty"`
	Roles     []string `mapstructure:"roles" json:"roles"`
	// PodCIDR is the node's own pod range: its CNI configuration hands out its addresses, the
	// other nodes route it to this node, and its Node object's spec.podCIDR says it. Nodes that
	// run pods (the worker role) get the next free range of NodePodCIDRSize in file order
	// unless it is set here.
	PodCIDR string `mapstructure:"podCIDR" json:"podCIDR,omitempty"`
	// Labels are the labels the node's kubelet registers it with (--node-labels). NodeRestriction
	// lets a kubelet set only some labels under kubernetes.io and k8s.io: see ValidateNodeLabel.
	Labels map[string]string `mapstructure:"labels" json:"labels,omitempty"`
	// Taints are the taints the node's kubelet registers it with (registerWithTaints).
	Taints []Taint `mapstructure:"taints" json:"taints,omitempty"`
}

// Has reports whether the node has role.
func (n Node) Has(role string) bool {
	for _, r := range n.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// InternalIP is the node's first address, the one its services advertise.
func (n Node) InternalIP() string {
	if len(n.Addresses) == 0 {
		return ""
	}
	return n.Addresses[0]
}

// NodesWith returns the nodes that have role, in file order.
func (c *Cluster) NodesWith(role string) []Node {
	var out []Node
	for _, n := range c.Nodes {
		if n.Has(role) {
			out = append(out, n)
		}
	}
	return out
}

// Node returns the node called name.
func (c *Cluster) Node(name string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// KubernetesServiceIP is the first address of the service range: the "kubernetes" Service.
func (c *Cluster) KubernetesServiceIP() (netip.Addr, error) {
	p, err := netip.ParsePrefix(c.ServiceCIDR)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("serviceCIDR: %w", err)
	}
	return p.Masked().Addr().Next(), nil
}

// SetDefaults fills every unset field with its documented default.
func (c *Cluster) SetDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Name, DefaultClusterName)
	def(&c.KubernetesVersion, DefaultKubernetesVersion)
	def(&c.EtcdVersion, DefaultEtcdVersion)
	def(&c.DNSDomain, DefaultDNSDomain)
	def(&c.ServiceCIDR, DefaultServiceCIDR)
	def(&c.PodCIDR, DefaultPodCIDR)
	def(&c.KeyAlgorithm, KeyECDSAP256)
	def(&c.Encryption.Provider, ProviderSecretbox)
	if c.APIEndpoint.Port == 0 {
		c.APIEndpoint.Port = DefaultAPIPort
	}
	if c.APIEndpoint.Host == "" {
		// One control-plane node and no load balancer: its first address is the endpoint.
		if cps := c.NodesWith(RoleControlPlane); len(cps) > 0 {
			c.APIEndpoint.Host = cps[0].InternalIP()
		}
	}
	if c.Validity.CA == 0 {
		c.Validity.CA = duration.Duration(DefaultCAValidity)
	}
	if c.Validity.Leaf == 0 {
		c.Validity.Leaf = duration.Duration(DefaultLeafValidity)
	}
	if c.Validity.RenewBefore == 0 {
		c.Validity.RenewBefore = duration.Duration(DefaultRenewBefore)
	}
	if c.NodePodCIDRSize == 0 {
		c.NodePodCIDRSize = DefaultNodePodCIDRSize
	}
	def(&c.Runtime.SandboxImage, DefaultSandboxImage)
	def(&c.Runtime.CgroupDriver, CgroupDriverSystemd)
	def(&c.DNS.Image, DefaultCoreDNSImage)
	if c.DNS.Replicas == 0 {
		c.DNS.Replicas = DefaultCoreDNSReplicas
	}
	for i := range c.ExtraFiles {
		def(&c.ExtraFiles[i].Mode, DefaultExtraFileMode)
	}
	c.assignPodCIDRs()
}

// Binary is the node path of a runtime-layer program (BinaryContainerd, BinaryRunc,
// BinaryCNIDir): the cluster file's, else Debian's.
func (c *Cluster) Binary(name string) string {
	if p := c.Binaries[name]; p != "" {
		return p
	}
	return DefaultBinaries[name]
}

// Version is the minor version a component's units target: its entry in Versions, else
// KubernetesVersion.
func (c *Cluster) Version(component string) string {
	if v := c.Versions[component]; v != "" {
		return v
	}
	return c.KubernetesVersion
}

// assignPodCIDRs gives every worker node without a pod range the first free one of
// NodePodCIDRSize in PodCIDR, in file order, skipping ranges set in the file. Nothing is
// assigned when the ranges do not parse or PodCIDR is exhausted; Validate reports it.
func (c *Cluster) assignPodCIDRs() {
	pod, err := netip.ParsePrefix(c.PodCIDR)
	if err != nil || !pod.Addr().Is4() || c.NodePodCIDRSize < pod.Bits() || c.NodePodCIDRSize > 30 {
		return
	}
	var taken []netip.Prefix
	for _, n := range c.Nodes {
		if p, err := netip.ParsePrefix(n.PodCIDR); err == nil {
			taken = append(taken, p)
		}
	}
	next := netip.PrefixFrom(pod.Masked().Addr(), c.NodePodCIDRSize)
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.PodCIDR != "" || !n.Has(RoleWorker) {
			continue
		}
		for next.IsValid() && slices.ContainsFunc(taken, next.Overlaps) {
			next = nextPrefix(pod, next)
		}
		if !next.IsValid() {
			return
		}
		n.PodCIDR = next.String()
		taken = append(taken, next)
	}
}

// nextPrefix is the prefix of the same size after p, or an invalid prefix past the end of
// within.
func nextPrefix(within, p netip.Prefix) netip.Prefix {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += 1 << (32 - p.Bits())
	if v == 0 {
		return netip.Prefix{}
	}
	n := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), p.Bits())
	if !within.Contains(n.Addr()) {
		return netip.Prefix{}
	}
	return n
}
