package configs

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"

	"github.com/hardway-dev/hardway/internal/problem"
)

var (
	dnsLabel   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	nodeNameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
)

// IsDNSName reports whether s is an RFC 1123 subdomain (lower case), optionally with a leading
// "*." wildcard label.
func IsDNSName(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !dnsLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// Supported version ranges.
const (
	MinKubernetesMinor = 32
	MaxKubernetesMinor = 37
	MinEtcdMinor       = 5
	MaxEtcdMinor       = 6
)

// SupportedKubernetesVersion reports whether s is a Kubernetes minor version the units are
// written for: 1.MinKubernetesMinor to 1.MaxKubernetesMinor, such as "1.37".
func SupportedKubernetesVersion(s string) bool {
	return supportedMinor(s, 1, MinKubernetesMinor, MaxKubernetesMinor)
}

// SupportedEtcdVersion reports whether s is an etcd minor version the units are written for:
// 3.MinEtcdMinor to 3.MaxEtcdMinor, such as "3.6".
func SupportedEtcdVersion(s string) bool { return supportedMinor(s, 3, MinEtcdMinor, MaxEtcdMinor) }

// supportedMinor parses s with apimachinery's util/version and reports whether it is a minor
// version from major.lo to major.hi. Only that form is taken ("1.37": not "v1.37", "1.37.2" or
// "1.037"), since the units are written per minor version and the file should say which.
func supportedMinor(s string, major, lo, hi uint) bool {
	v, err := version.ParseGeneric(s)
	return err == nil && v.String() == s && len(v.Components()) == 2 &&
		v.Major() == major && v.Minor() >= lo && v.Minor() <= hi
}

// Validate checks a defaulted Cluster and returns every problem at once, each with its field
// path.
func (c *Cluster) Validate() problem.List {
	var ps problem.List
	add := func(sev problem.Severity, field, fix, format string, a ...any) {
		ps = append(ps, problem.Problem{Severity: sev, Where: field, Message: fmt.Sprintf(format, a...), Fix: fix})
	}

	if !dnsLabel.MatchString(c.Name) {
		add(problem.Error, "name", "use lower-case letters, digits and '-', up to 63 characters", "%q is not a valid cluster name", c.Name)
	}
	if !SupportedKubernetesVersion(c.KubernetesVersion) {
		add(problem.Error, "kubernetesVersion", fmt.Sprintf("use a minor version from 1.%d to 1.%d, such as %q", MinKubernetesMinor, MaxKubernetesMinor, DefaultKubernetesVersion),
			"%q is not a supported Kubernetes version", c.KubernetesVersion)
	}
	if !SupportedEtcdVersion(c.EtcdVersion) {
		add(problem.Error, "etcdVersion", fmt.Sprintf("use 3.%d to 3.%d, such as %q", MinEtcdMinor, MaxEtcdMinor, DefaultEtcdVersion),
			"%q is not a supported etcd version", c.EtcdVersion)
	}
	if !IsDNSName(c.DNSDomain) || strings.HasPrefix(c.DNSDomain, "*.") {
		add(problem.Error, "dnsDomain", `use a DNS name such as "cluster.local"`, "%q is not a valid DNS domain", c.DNSDomain)
	}

	svc, svcOK := parseCIDR(&ps, "serviceCIDR", c.ServiceCIDR)
	pod, podOK := parseCIDR(&ps, "podCIDR", c.PodCIDR)
	if svcOK && podOK && svc.Overlaps(pod) {
		add(problem.Error, "podCIDR", "choose pod and service ranges that do not overlap", "%s overlaps serviceCIDR %s", c.PodCIDR, c.ServiceCIDR)
	}
	if svcOK && svc.Addr().Is4() && svc.Bits() < 12 {
		add(problem.Error, "serviceCIDR", "use a /12 or smaller range (kube-apiserver refuses larger ones)", "%s is too large", c.ServiceCIDR)
	}

	if h := c.APIEndpoint.Host; h == "" {
		add(problem.Error, "apiEndpoint.host", "set apiEndpoint.host to the load balancer's address or name, or give a node the control-plane role", "is empty")
	} else if !isIPOrDNS(h) {
		add(problem.Error, "apiEndpoint.host", "use an IP address or a DNS name", "%q is neither an IP address nor a DNS name", h)
	}
	if p := c.APIEndpoint.Port; p < 1 || p > 65535 {
		add(problem.Error, "apiEndpoint.port", "use a port from 1 to 65535 (6443 is usual)", "%d is not a valid port", p)
	}
	for i, s := range c.APIServerExtraSANs {
		if !isIPOrDNS(s) {
			add(problem.Error, fmt.Sprintf("apiServerExtraSANs[%d]", i), "use an IP address or a DNS name (a leading \"*.\" is allowed)", "%q is neither an IP address nor a DNS name", s)
		}
	}

	if !slices.Contains(KeyAlgorithms, c.KeyAlgorithm) {
		add(problem.Error, "keyAlgorithm", "use one of "+strings.Join(KeyAlgorithms, ", "), "%q is not a supported key algorithm", c.KeyAlgorithm)
	}
	if !slices.Contains(EncryptionProviders, c.Encryption.Provider) {
		add(problem.Error, "encryption.provider", "use one of "+strings.Join(EncryptionProviders, ", "), "%q is not a supported encryption provider", c.Encryption.Provider)
	}
	if c.Validity.CA <= 0 {
		add(problem.Error, "validity.ca", "use a positive duration such as 3650d", "%s is not positive", c.Validity.CA)
	}
	if c.Validity.Leaf <= 0 {
		add(problem.Error, "validity.leaf", "use a positive duration such as 365d", "%s is not positive", c.Validity.Leaf)
	}
	if c.Validity.Leaf > 0 && c.Validity.CA > 0 && c.Validity.Leaf >= c.Validity.CA {
		add(problem.Error, "validity.leaf", "make leaf certificates expire before their CA", "%s is not shorter than validity.ca %s", c.Validity.Leaf, c.Validity.CA)
	}
	if c.Validity.RenewBefore < 0 || (c.Validity.Leaf > 0 && c.Validity.RenewBefore >= c.Validity.Leaf) {
		add(problem.Error, "validity.renewBefore", "use a duration shorter than validity.leaf, such as 30d", "%s is not a usable renewal window", c.Validity.RenewBefore)
	}

	for _, comp := range slices.Sorted(maps.Keys(c.Implementations)) {
		f := "implementations." + comp
		switch impl := c.Implementations[comp]; {
		case !slices.Contains(Components, comp):
			add(problem.Error, f, "use one of "+strings.Join(Components, ", "), "%q is not a component", comp)
		case impl != ImplUpstream && impl != ImplHardway:
			add(problem.Error, f, `use "upstream" or "hardway"`, "%q is not an implementation", impl)
		case impl == ImplHardway && comp != "etcd":
			add(problem.Error, f, `use "upstream": hardway implements only etcd (hardway etcd)`, "hardway has no implementation of %s", comp)
		}
	}

	c.validateNodes(&ps)
	return ps
}

func (c *Cluster) validateNodes(ps *problem.List) {
	add := func(sev problem.Severity, field, fix, format string, a ...any) {
		*ps = append(*ps, problem.Problem{Severity: sev, Where: field, Message: fmt.Sprintf(format, a...), Fix: fix})
	}
	if len(c.Nodes) == 0 {
		add(problem.Error, "nodes", "list at least one node, with the control-plane role", "is empty")
		return
	}
	names := map[string]int{}
	addrs := map[netip.Addr]string{}
	hostnames := map[string]string{}
	for i, n := range c.Nodes {
		f := fmt.Sprintf("nodes[%d]", i)
		switch {
		case n.Name == "":
			add(problem.Error, f+".name", "give every node a name (its hostname, as the kubelet registers it)", "is empty")
		case !nodeNameRe.MatchString(n.Name) || !IsDNSName(n.Name):
			add(problem.Error, f+".name", "use lower-case letters, digits, '-' and '.' (an RFC 1123 name)", "%q is not a valid node name", n.Name)
		default:
			if j, dup := names[n.Name]; dup {
				add(problem.Error, f+".name", "give each node its own name", "%q is already the name of nodes[%d]", n.Name, j)
			} else {
				names[n.Name] = i
			}
		}
		if len(n.Addresses) == 0 {
			add(problem.Error, f+".addresses", "list the node's IP addresses, the one its services use first", "is empty")
		}
		for j, a := range n.Addresses {
			af := fmt.Sprintf("%s.addresses[%d]", f, j)
			ip, err := netip.ParseAddr(a)
			if err != nil || ip.Zone() != "" {
				add(problem.Error, af, "use an IPv4 or IPv6 address such as 10.0.0.10", "%q is not an IP address", a)
				continue
			}
			if ip.IsUnspecified() || ip.IsMulticast() {
				add(problem.Error, af, "use the node's own unicast address", "%s cannot be a node address", a)
				continue
			}
			if other, dup := addrs[ip]; dup && !ip.IsLoopback() {
				add(problem.Error, af, "give each node its own addresses", "%s is already an address of %s", a, other)
			} else if dup && ip.IsLoopback() && other != n.Name {
				add(problem.Error, af, "give each node its own addresses (127.0.0.2, 127.0.0.3 ... for several nodes on one machine)", "%s is already an address of %s", a, other)
			}
			addrs[ip] = nodeLabel(n, i)
		}
		for j, h := range n.Hostnames {
			hf := fmt.Sprintf("%s.hostnames[%d]", f, j)
			if !IsDNSName(h) || strings.HasPrefix(h, "*.") {
				add(problem.Error, hf, "use a DNS name such as node1.example.com", "%q is not a valid host name", h)
				continue
			}
			if other, dup := hostnames[h]; dup {
				add(problem.Error, hf, "give each node its own host names", "%q is already a host name of %s", h, other)
			}
			hostnames[h] = nodeLabel(n, i)
		}
		if len(n.Roles) == 0 {
			add(problem.Error, f+".roles", `give the node one or more of "control-plane", "etcd", "worker"`, "is empty")
		}
		seen := map[string]bool{}
		for j, r := range n.Roles {
			rf := fmt.Sprintf("%s.roles[%d]", f, j)
			switch r {
			case RoleControlPlane, RoleEtcd, RoleWorker:
				if seen[r] {
					add(problem.Warning, rf, "list each role once", "%q is listed twice", r)
				}
				seen[r] = true
			default:
				add(problem.Error, rf, `use "control-plane", "etcd" or "worker"`, "%q is not a known role", r)
			}
		}
	}
	if len(c.NodesWith(RoleControlPlane)) == 0 {
		add(problem.Error, "nodes", `give at least one node the "control-plane" role`, "no node has the control-plane role")
	}
	etcd := len(c.NodesWith(RoleEtcd))
	switch {
	case etcd == 0:
		add(problem.Error, "nodes", `give one or three nodes the "etcd" role (usually the control-plane nodes)`, "no node has the etcd role")
	case etcd%2 == 0:
		add(problem.Warning, "nodes", "use an odd number of etcd members (3 or 5): an even count adds no fault tolerance",
			"%d nodes have the etcd role", etcd)
	}
}

func parseCIDR(ps *problem.List, field, s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		*ps = append(*ps, problem.Errorf(field, "use a range such as 10.96.0.0/12", "%q is not a CIDR range", s))
		return p, false
	}
	if p.Masked() != p {
		*ps = append(*ps, problem.Errorf(field, fmt.Sprintf("use %s", p.Masked()), "%s has host bits set", s))
		return p, false
	}
	return p, true
}

func isIPOrDNS(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	return IsDNSName(s)
}

func nodeLabel(n Node, i int) string {
	if n.Name != "" {
		return n.Name
	}
	return fmt.Sprintf("nodes[%d]", i)
}
