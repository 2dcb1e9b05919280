package units

import (
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/units/bundle"
)

// Component is one of the programs hardway runs under systemd; its value is the upstream
// binary's name and the base name of its unit.
type Component string

// The components, in the order a node starts them.
const (
	Etcd              Component = "etcd"
	APIServer         Component = "kube-apiserver"
	ControllerManager Component = "kube-controller-manager"
	Scheduler         Component = "kube-scheduler"
	Containerd        Component = "containerd"
	Kubelet           Component = "kubelet"
	KubeProxy         Component = "kube-proxy"
	// PodRoutes is hardway's own oneshot unit that routes the other nodes' pod ranges to them
	// ("hardway routes"): not an upstream program, so not in configs.Components.
	PodRoutes Component = "pod-routes"
)

// UnitName is the systemd unit of the component, e.g. "kube-apiserver.service".
func (c Component) UnitName() string { return string(c) + ".service" }

// hardwayCommand is the hardway subcommand that implements the component with the upstream
// binary's flags, or "" when hardway has none.
func (c Component) hardwayCommand() string {
	switch c {
	case Etcd:
		return "etcd"
	case PodRoutes:
		return "routes"
	}
	return ""
}

// Implementation says which program a unit runs.
type Implementation string

const (
	// Upstream runs the upstream binary, BinDir/<component> (the default).
	Upstream Implementation = "upstream"
	// Hardway runs "BinDir/hardway <subcommand>" with the upstream binary's flags, for machines
	// without the upstream binary: "hardway etcd" (an embedded etcd member) for etcd. Other
	// components have no hardway implementation.
	Hardway Implementation = "hardway"
)

// HardwayBinary is where the hardway binary lives on a node.
const HardwayBinary = BinDir + "/hardway"

// Options change how units are rendered. The zero value renders every component with its
// upstream binary.
type Options struct {
	// Implementation chooses the program per component; a component not in the map uses
	// Upstream.
	Implementation map[Component]Implementation
	// Sources are the cluster-directory files the cluster's extra files copy, by the name
	// extraFiles[].source gives (see ExtraSources); the caller reads them.
	Sources map[string][]byte
}

// OptionsFor returns the options the cluster model asks for: its implementations per component.
func OptionsFor(c *configs.Cluster) Options {
	opt := Options{Implementation: map[Component]Implementation{}}
	for comp, impl := range c.Implementations {
		opt.Implementation[Component(comp)] = Implementation(impl)
	}
	return opt
}

func (o Options) implementation(c Component) Implementation {
	if impl, ok := o.Implementation[c]; ok && impl != "" {
		return impl
	}
	return Upstream
}

func (o Options) validate() error {
	var errs []string
	for _, c := range sortedKeys(o.Implementation) {
		impl := o.Implementation[c]
		switch {
		case !slices.Contains(Components, c):
			errs = append(errs, fmt.Sprintf("unknown component %q (one of %s)", c, joinComponents()))
		case impl == "" || impl == Upstream:
		case impl == Hardway:
			if c.hardwayCommand() == "" {
				errs = append(errs, fmt.Sprintf("%s: hardway has no implementation of %s; use %q", c, c, Upstream))
			}
		default:
			errs = append(errs, fmt.Sprintf("%s: unknown implementation %q (%q or %q)", c, impl, Upstream, Hardway))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("units options: %s", strings.Join(errs, "; "))
	}
	return nil
}

// File modes of what this package renders. Nothing it writes is secret, but only root reads
// any of it, and the CIS Kubernetes Benchmark's automated checks want the units of the
// control-plane components and the kubelet (1.1.1, 1.1.3, 1.1.5, 1.1.7, 4.1.1) and the
// kubelet's --config file (4.1.9) at 0600 or stricter: every unit and configuration file is
// 0600, the ones CIS does not list (containerd's, the CNI network, the pod routes, kube-proxy's
// and the scheduler's configuration, the CoreDNS manifest, the audit policy) too, so that no
// file's mode needs a reason of its own.
const (
	UnitMode   fs.FileMode = 0o600
	ConfigMode fs.FileMode = 0o600
)

// Flag is one command-line flag of a unit's ExecStart, written as --Name=Value.
type Flag struct {
	Name  string
	Value string
}

// Unit is one systemd service with what a launcher needs to install and start it.
type Unit struct {
	// Name is the systemd unit name, e.g. "etcd.service".
	Name      string
	Component Component
	// Path is the unit file on the node.
	Path string
	// Command is ExecStart's program and leading arguments, before the flags:
	// [/usr/local/bin/etcd] or [/usr/local/bin/hardway etcd].
	Command []string
	// Flags are the flags in ExecStart, in order, without the leading "--".
	Flags []Flag
	// Inputs are the node paths whose change requires a restart: the unit file itself, the
	// program, and every certificate, key, kubeconfig and config file the service reads.
	Inputs []string
	// After lists units of the same node that must be running before this one starts
	// (the API server after the local etcd member). A launcher starts units in this order.
	After []string
	// Health is how to check that the service serves; nil when there is no probe.
	Health *bundle.Health
	// Version is the minor version of the program the unit is written for: the cluster's
	// etcdVersion for etcd, its kubernetesVersion for the others.
	Version string
	// Options are the unit file's systemd options, as serialized into it.
	Options []*unit.UnitOption
}

// Rendered is everything rendered for one node.
type Rendered struct {
	// Node is the node's name.
	Node string
	// Units are the node's services in start order.
	Units []Unit
	// Files are the unit files, configuration files and directories, sorted by path.
	Files []bundle.File
	// Warnings are about the cluster file's extras (extraArgs that replace a hardened default,
	// flags the catalogue does not know): rendered as asked, but worth a look.
	Warnings problem.List
}

// Render returns the unit and configuration files for node, sorted by path. It is pure: no
// disk, no systemd. Certificates, keys, kubeconfigs and the encryption configuration are not
// among them; the units only name their paths (see paths.go).
func Render(c *configs.Cluster, node configs.Node, opt Options) ([]bundle.File, error) {
	r, err := RenderNode(c, node, opt)
	if err != nil {
		return nil, err
	}
	return r.Files, nil
}

// RenderNode returns the units of node with their metadata and files. c must have its defaults
// set (configs.Cluster.SetDefaults) and be valid.
func RenderNode(c *configs.Cluster, node configs.Node, opt Options) (*Rendered, error) {
	r, ps, err := renderWithProblems(c, node, opt)
	if err != nil {
		return nil, err
	}
	r.Warnings = ps.Warnings()
	return r, nil
}

// renderWithProblems is RenderNode, with every problem the cluster file's extras have; an error among
// them fails the rendering.
func renderWithProblems(c *configs.Cluster, node configs.Node, opt Options) (*Rendered, problem.List, error) {
	if err := opt.validate(); err != nil {
		return nil, nil, err
	}
	ctx, err := newRenderContext(c, node)
	if err != nil {
		return nil, nil, err
	}
	r := &Rendered{Node: node.Name}
	var ps problem.List
	add := func(s *service, err error) error {
		if err != nil {
			return err
		}
		ps = append(ps, ctx.applyExtras(s, opt.Sources)...)
		u, f, err := s.build(opt)
		if err != nil {
			return err
		}
		u.Version = ctx.targetVersion(u.Component)
		r.Units = append(r.Units, u)
		r.Files = append(r.Files, f)
		r.Files = append(r.Files, s.files...)
		return nil
	}
	var steps []func() (*service, error)
	if node.Has(configs.RoleEtcd) {
		steps = append(steps, ctx.etcd)
	}
	if node.Has(configs.RoleControlPlane) {
		steps = append(steps, ctx.apiServer, ctx.controllerManager, ctx.scheduler)
	}
	if node.Has(configs.RoleWorker) {
		steps = append(steps, ctx.containerd, ctx.kubelet, ctx.kubeProxy)
	}
	if node.Has(configs.RoleWorker) || node.Has(configs.RoleControlPlane) {
		if routes := podRoutes(c, node); len(routes) > 0 {
			steps = append(steps, ctx.podRoutes)
		}
	}
	if len(steps) == 0 {
		return nil, nil, fmt.Errorf("node %s: no role with services (roles %v; want %s, %s or %s)",
			node.Name, node.Roles, configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker)
	}
	for _, step := range steps {
		if err := add(step()); err != nil {
			return nil, ps, fmt.Errorf("node %s: %w", node.Name, err)
		}
	}
	if err := ps.Err(); err != nil {
		return nil, ps, fmt.Errorf("node %s: the cluster file's extras: %w", node.Name, err)
	}
	if cps := c.NodesWith(configs.RoleControlPlane); len(cps) > 0 && cps[0].Name == node.Name {
		// The add-ons go with the super-admin credentials that apply them: the first
		// control-plane node's bundle.
		f, err := coreDNSAddon(c)
		if err != nil {
			return nil, ps, fmt.Errorf("node %s: %w", node.Name, err)
		}
		r.Files = append(r.Files, f)
	}
	slices.SortFunc(r.Files, func(a, b bundle.File) int { return strings.Compare(a.Path, b.Path) })
	for i := 1; i < len(r.Files); i++ {
		if r.Files[i].Path == r.Files[i-1].Path {
			return nil, ps, fmt.Errorf("node %s: %s rendered twice", node.Name, r.Files[i].Path)
		}
	}
	return r, ps, nil
}

// RenderAll renders every node of the cluster, in file order.
func RenderAll(c *configs.Cluster, opt Options) ([]*Rendered, error) {
	out := make([]*Rendered, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		r, err := RenderNode(c, n, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// renderContext holds what every component of one node derives from the cluster.
type renderContext struct {
	c          *configs.Cluster
	node       configs.Node
	ip         string // the node's advertise address
	apiPort    int
	etcdPeers  []configs.Node
	clusterDNS string
}

func newRenderContext(c *configs.Cluster, node configs.Node) (*renderContext, error) {
	if err := CheckVersions(c.KubernetesVersion, c.EtcdVersion); err != nil {
		return nil, err
	}
	ip := node.InternalIP()
	if _, err := netip.ParseAddr(ip); err != nil {
		return nil, fmt.Errorf("node %s: first address %q is not an IP address: the services advertise it", node.Name, ip)
	}
	ctx := &renderContext{c: c, node: node, ip: ip, apiPort: c.APIEndpoint.Port, etcdPeers: c.NodesWith(configs.RoleEtcd)}
	if ctx.apiPort == 0 {
		ctx.apiPort = configs.DefaultAPIPort
	}
	if node.Has(configs.RoleControlPlane) && len(ctx.etcdPeers) == 0 {
		return nil, fmt.Errorf("node %s: control-plane node but the cluster has no etcd node", node.Name)
	}
	if node.Has(configs.RoleWorker) {
		dns, err := nthAddr(c.ServiceCIDR, 10)
		if err != nil {
			return nil, fmt.Errorf("serviceCIDR %q: cluster DNS address: %w", c.ServiceCIDR, err)
		}
		ctx.clusterDNS = dns.String()
	}
	return ctx, nil
}

// targetVersion is the minor version of comp the units are rendered for: etcdVersion for
// etcd, the component's own in versions (else kubernetesVersion) for Kubernetes', none for
// containerd (the distribution's) and hardway's own units.
func (x *renderContext) targetVersion(comp Component) string {
	switch comp {
	case Etcd:
		return x.c.EtcdVersion
	case Containerd, PodRoutes:
		return ""
	}
	return x.c.Version(string(comp))
}

// nthAddr is the n-th address of the prefix (the network address is the 0th): 10 gives the
// cluster DNS address, by the convention kubeadm and KTHW follow (10.96.0.10 for 10.96.0.0/12).
func nthAddr(cidr string, n int) (netip.Addr, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Addr{}, err
	}
	a := p.Masked().Addr()
	for range n {
		a = a.Next()
		if !p.Contains(a) {
			return netip.Addr{}, fmt.Errorf("range too small for address number %d", n)
		}
	}
	return a, nil
}

// hostPortURL is scheme://host:port with IPv6 hosts bracketed.
func hostPortURL(scheme, host string, port int) string {
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinComponents() string {
	s := make([]string, len(Components))
	for i, c := range Components {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
