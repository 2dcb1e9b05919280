package supervise

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/hardway-dev/hardway/configs"
)

// NodeOptions are what `hardway up` decides about its one node.
type NodeOptions struct {
	// Name of the node (default: from the host name).
	Name string
	// Address is the node's address: where every component listens and the API endpoint.
	Address netip.Addr
	// ControlPlaneOnly leaves out the node half (containerd, the kubelet, kube-proxy).
	ControlPlaneOnly bool
	// Host picks the runtime settings.
	Host Host
}

// SingleNode makes c (a cluster file's content, "" fields not defaulted yet; or a cluster
// directory's resolved cluster.yaml on a later run) the one-node cluster `hardway up` runs:
// one node with the roles, the address and the name of o (an existing node keeps its name),
// the API endpoint at that address, etcd as `hardway etcd` unless the file chose, and the
// runtime settings for the host. It returns a line per decision to print.
func SingleNode(c *configs.Cluster, o NodeOptions) ([]string, error) {
	if len(c.Nodes) > 1 {
		return nil, fmt.Errorf("nodes: %d nodes; `hardway up` runs a single-node cluster (use `hardway init` and `hardway launch` for more)", len(c.Nodes))
	}
	if !o.Address.IsValid() {
		return nil, fmt.Errorf("no node address; give one with --node-ip")
	}
	if o.Address.IsLoopback() && !o.ControlPlaneOnly {
		return nil, fmt.Errorf("--node-ip %s is a loopback address: the kubelet refuses it and the API server could then not reach the kubelet; give an address of an interface (ip -4 addr), or --control-plane-only", o.Address)
	}
	var notes []string
	roles := []string{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker}
	if o.ControlPlaneOnly {
		roles = roles[:2]
		notes = append(notes, "control plane only: no containerd, kubelet or kube-proxy")
	}
	addr := o.Address.String()
	if len(c.Nodes) == 0 {
		c.Nodes = []configs.Node{{Name: o.Name}}
	}
	n := &c.Nodes[0]
	if n.Name == "" {
		n.Name = o.Name
	}
	if len(n.Addresses) > 0 && n.Addresses[0] != addr {
		notes = append(notes, fmt.Sprintf("the node's address changed from %s to %s: the certificates and units that name it are reissued", n.Addresses[0], addr))
	}
	n.Addresses, n.Roles = []string{addr}, roles
	if o.ControlPlaneOnly {
		n.PodCIDR = "" // a node without the worker role runs no pods
	}
	c.APIEndpoint.Host = addr
	if c.Implementations == nil {
		c.Implementations = map[string]string{}
	}
	if c.Implementations["etcd"] == "" {
		c.Implementations["etcd"] = "hardway"
		notes = append(notes, "etcd: `hardway etcd` (the embedded member, with etcd's flags)")
	}
	var why []string
	c.Runtime, why = o.Host.Runtime(c.Runtime)
	if !o.ControlPlaneOnly {
		notes = append(notes, why...)
	}
	return notes, nil
}

var notNodeName = regexp.MustCompile(`[^a-z0-9.-]+`)

// NodeName makes a node name of a host name: lower case, other characters as "-".
func NodeName(hostname string) string {
	n := strings.Trim(notNodeName.ReplaceAllString(strings.ToLower(hostname), "-"), "-.")
	if n == "" {
		return "node1"
	}
	return n
}
