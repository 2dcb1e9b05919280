package configs

import (
	"fmt"
	"maps"
	"net/netip"
	"path"
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
	ipv4Only := func(field, example string, p netip.Prefix, ok bool) bool {
		if ok && p.Addr().Is6() {
			add(problem.Error, field, "use an IPv4 range such as "+example, "%s is an IPv6 range: %s", p, ipv6Unsupported)
			return false
		}
		return ok
	}
	svcOK = ipv4Only("serviceCIDR", DefaultServiceCIDR, svc, svcOK)
	podOK = ipv4Only("podCIDR", DefaultPodCIDR, pod, podOK)
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
	c.validateNodeHalf(&ps, pod, podOK, svc, svcOK)
	c.validateExtras(&ps)
	return ps
}

// Version-skew policy (https://kubernetes.io/releases/version-skew-policy/): how many minor
// versions older than kube-apiserver each component may be. None may be newer.
var maxSkew = map[string]uint{
	"kube-controller-manager": 1,
	"kube-scheduler":          1,
	"kubelet":                 3,
	"kube-proxy":              3,
}

// validateNodeHalf checks what the runtime layer renders from: pod ranges per node, versions
// per component, the runtime settings and the binaries' paths.
func (c *Cluster) validateNodeHalf(ps *problem.List, pod netip.Prefix, podOK bool, svc netip.Prefix, svcOK bool) {
	add := func(field, fix, format string, a ...any) {
		*ps = append(*ps, problem.Errorf(field, fix, format, a...))
	}
	if podOK && (c.NodePodCIDRSize < pod.Bits() || c.NodePodCIDRSize > 30) {
		add("nodePodCIDRSize", fmt.Sprintf("use a prefix length from %d (all of podCIDR) to 30; 24 is usual", pod.Bits()),
			"%d does not fit podCIDR %s", c.NodePodCIDRSize, c.PodCIDR)
		podOK = false
	}
	owners := map[netip.Prefix]string{}
	for i, n := range c.Nodes {
		f := fmt.Sprintf("nodes[%d]", i)
		for j, a := range n.Addresses {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				continue
			}
			if podOK && pod.Contains(ip) {
				add(fmt.Sprintf("%s.addresses[%d]", f, j), "choose a podCIDR outside the nodes' network",
					"%s is inside podCIDR %s: pod addresses and node addresses would collide", a, c.PodCIDR)
			}
			if svcOK && svc.Contains(ip) {
				add(fmt.Sprintf("%s.addresses[%d]", f, j), "choose a serviceCIDR outside the nodes' network",
					"%s is inside serviceCIDR %s: Service addresses and node addresses would collide", a, c.ServiceCIDR)
			}
		}
		if n.PodCIDR == "" {
			if n.Has(RoleWorker) && podOK {
				add(f+".podCIDR", fmt.Sprintf("widen podCIDR, shrink nodePodCIDRSize (/%d), or set this node's podCIDR", c.NodePodCIDRSize),
					"no free /%d is left in podCIDR %s for %s", c.NodePodCIDRSize, c.PodCIDR, nodeLabel(n, i))
			}
			continue
		}
		p, ok := parseCIDR(ps, f+".podCIDR", n.PodCIDR)
		if !ok {
			continue
		}
		switch {
		case !n.Has(RoleWorker):
			add(f+".podCIDR", "remove it, or give the node the worker role", "%s runs no pods (no worker role), so it has no pod range", nodeLabel(n, i))
		case !p.Addr().Is4():
			add(f+".podCIDR", "use an IPv4 range inside podCIDR", "%s is an IPv6 range: %s", p, ipv6Unsupported)
		case podOK && (!pod.Contains(p.Addr()) || p.Bits() < pod.Bits()):
			add(f+".podCIDR", fmt.Sprintf("use a range inside podCIDR %s, or remove it to get one assigned", c.PodCIDR), "%s is not inside podCIDR %s", p, c.PodCIDR)
		case p.Bits() > 30:
			add(f+".podCIDR", "use a /30 or larger range (/24 is usual)", "%s is too small for pods", p)
		default:
			for q, other := range owners {
				if q.Overlaps(p) {
					add(f+".podCIDR", "give each node its own pod range, or remove it to get one assigned", "%s overlaps %s, the pod range of %s", p, q, other)
				}
			}
			owners[p] = nodeLabel(n, i)
		}
	}

	api, apiErr := version.ParseGeneric(c.KubernetesVersion)
	for _, comp := range slices.Sorted(maps.Keys(c.Versions)) {
		f, v := "versions."+comp, c.Versions[comp]
		skew, ok := maxSkew[comp]
		switch {
		case comp == "kube-apiserver":
			add(f, "set kubernetesVersion instead: it is the API server's version and the others are held to it", "the API server's version is kubernetesVersion")
		case comp == "etcd":
			add(f, "set etcdVersion instead", "etcd's version is etcdVersion")
		case !ok:
			add(f, "use one of "+strings.Join(slices.Sorted(maps.Keys(maxSkew)), ", "), "%q is not a component with a version of its own", comp)
		case !SupportedKubernetesVersion(v):
			add(f, fmt.Sprintf("use a minor version from 1.%d to 1.%d, quoted, such as %q", MinKubernetesMinor, MaxKubernetesMinor, DefaultKubernetesVersion), "%q is not a supported Kubernetes version", v)
		case apiErr == nil:
			got := version.MustParseGeneric(v)
			if got.Minor() > api.Minor() || got.Minor()+skew < api.Minor() {
				add(f, fmt.Sprintf("use a version from 1.%d to %s", max(int(api.Minor())-int(skew), 0), c.KubernetesVersion),
					"%s %s breaks the version-skew policy: %s may be at most %d minor versions older than kube-apiserver (%s) and never newer "+
						"(https://kubernetes.io/releases/version-skew-policy/)", comp, v, comp, skew, c.KubernetesVersion)
			}
		}
	}

	switch c.Runtime.CgroupDriver {
	case CgroupDriverSystemd, CgroupDriverCgroupfs:
	default:
		add("runtime.cgroupDriver", `use "systemd" (systemd is PID 1) or "cgroupfs" (it is not)`, "%q is not a cgroup driver", c.Runtime.CgroupDriver)
	}
	if strings.TrimSpace(c.Runtime.SandboxImage) == "" || strings.ContainsAny(c.Runtime.SandboxImage, " \t\n\"'") {
		add("runtime.sandboxImage", "name an image such as "+DefaultSandboxImage, "%q is not an image reference", c.Runtime.SandboxImage)
	}
	if strings.TrimSpace(c.DNS.Image) == "" || strings.ContainsAny(c.DNS.Image, " \t\n\"'") {
		add("dns.image", "name an image such as "+DefaultCoreDNSImage, "%q is not an image reference", c.DNS.Image)
	}
	if c.DNS.Replicas < 1 {
		add("dns.replicas", "use 1 or more (2 is usual)", "%d is not a number of replicas", c.DNS.Replicas)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Binaries)) {
		f, p := "binaries."+k, c.Binaries[k]
		if _, ok := DefaultBinaries[k]; !ok {
			add(f, "use one of "+strings.Join(slices.Sorted(maps.Keys(DefaultBinaries)), ", "), "%q is not a runtime binary hardway configures", k)
			continue
		}
		if !path.IsAbs(p) || path.Clean(p) != p || p == "/" || strings.ContainsAny(p, " \t\n\"'\\$%;") {
			add(f, "use a clean absolute path such as "+DefaultBinaries[k], "%q is not a clean absolute path", p)
		}
	}
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
		case len(n.Name) > MaxNodeNameLength:
			add(problem.Error, f+".name", fmt.Sprintf("use a name of at most %d bytes", MaxNodeNameLength),
				"%q... is %d bytes: the longest file named after a node (.kubelet-<node>.kubeconfig.tmp-<10 digits>, the temporary file init writes "+
					"next to kubeconfigs/kubelet-<node>.kubeconfig) must fit the file system's %d-byte limit on a name", n.Name[:32], len(n.Name), nameMax)
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
			if why := notANodeAddress(ip); why != "" {
				add(problem.Error, af, "use the node's own unicast address", "%s", why)
				continue
			}
			if j == 0 && ip.Is6() && !ip.Is4In6() && (n.Has(RoleControlPlane) || n.Has(RoleWorker)) {
				add(problem.Error, af, "list the node's IPv4 address first",
					"%s is IPv6, and a node's first address is the one kube-apiserver advertises and the kubelet and kube-proxy take for the node's IP, "+
						"so it must be in the family of serviceCIDR and podCIDR (kube-apiserver exits on a mismatch, kube-proxy serves the wrong family): "+
						"IPv6 and dual-stack clusters are not supported yet", a)
			}
			if j == 0 && ip.IsLoopback() && n.Has(RoleWorker) {
				add(problem.Error, af, "use the node's own address on its network (ip -4 addr)",
					"%s is a loopback address: the kubelet refuses a loopback node IP, and the API server could not reach the kubelet on it", a)
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

// nameMax is the longest file name (one path component) Linux file systems take: NAME_MAX.
const nameMax = 255

// MaxNodeNameLength is the longest node name, in bytes, so that every file named after a node
// fits nameMax. The longest such name is the temporary file internal/atomicfile creates next
// to kubeconfigs/kubelet-<node>.kubeconfig: ".kubelet-<node>.kubeconfig.tmp-" and up to ten
// random digits (os.CreateTemp's), 35 bytes around the name. The others are shorter:
// pki/etcd/server-<node>.key and kubelet/client-<node>.crt add 11 bytes, nodes/<node>.tar.gz 7,
// and their temporary files 27 and 23. cmd/hardway's tests run init with a name this long.
const MaxNodeNameLength = nameMax - len(".kubelet-.kubeconfig.tmp-") - 10

// ipv6Unsupported says why IPv6 ranges and addresses are refused where they matter.
const ipv6Unsupported = "IPv6 and dual-stack clusters are not supported yet: kube-apiserver needs the service range in the family of the address " +
	"it advertises (each control-plane node's first address), pods and nodes must share that family, and hardway renders, checks and tests IPv4 clusters only"

// broadcast is the limited broadcast address.
var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// notANodeAddress says why ip cannot be a node's address, or "" when it can be. Only what holds
// on every network is checked: the network and broadcast addresses of the node's own subnet
// (10.0.1.0, 10.0.1.255 on a /24) are ordinary host addresses on a wider one, and the cluster
// file does not say the subnet.
func notANodeAddress(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return fmt.Sprintf("%s is the unspecified address: it means \"any address\" to a listener and no host owns it, so it cannot be a node address", ip)
	case ip.IsMulticast():
		return fmt.Sprintf("%s is a multicast address: it names a group of listeners, not one host, so it cannot be a node address", ip)
	case ip == broadcast:
		return fmt.Sprintf("%s is the broadcast address: a packet sent to it reaches every host on the link, so no node owns it", ip)
	case ip.Is4() && ip.As4()[0] == 0:
		return fmt.Sprintf("%s is in 0.0.0.0/8, \"this network\": it is never a host's address", ip)
	case ip.IsLinkLocalUnicast():
		return fmt.Sprintf("%s is a link-local address: it is not routed beyond one link, and an IPv6 one needs a zone that certificates and URLs cannot carry, "+
			"so other nodes and clients cannot count on reaching it", ip)
	}
	return ""
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
