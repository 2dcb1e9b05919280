package configs

import (
	"fmt"
	"net"
	"net/netip"
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
)

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
	// Nodes of the cluster.
	Nodes []Node `mapstructure:"nodes" json:"nodes"`
}

// Components are the programs hardway runs on a node, by their upstream binaries' names, in the
// order a node starts them. It is the one list: the units (units.Components), the flag
// catalogue's components (units/flags) and the implementations setting's keys derive from it.
var Components = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"}

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
}
