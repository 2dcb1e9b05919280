package preflight

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/flags"
)

// Component is what preflight knows of the program one unit runs. Adding a unit to the
// renderer is adding a row here.
type Component struct {
	// Unit is the unit's name, "kubelet.service".
	Unit string
	// Program is the base name of the program the row's Version rule is about; a unit running
	// another program ("hardway etcd") has no version compared.
	Program string
	// Version reads and judges the program's version; nil for none.
	Version *VersionRule
	// Listens are where the unit listens, read off its flags and config files.
	Listens []Listener
	// PodNetwork marks the unit that runs pods (the kubelet): its node needs IP forwarding,
	// bridge netfilter and, with failSwapOn, no swap.
	PodNetwork bool
}

// Components are the units hardway renders. The version skew follows
// https://kubernetes.io/releases/version-skew-policy/ with the bundle's version as the API
// server's: kube-apiserver matches it; kube-controller-manager and kube-scheduler may be one
// minor older, kubelet and kube-proxy three, none newer. etcd may be one minor older (its
// upgrades go one minor at a time, so a 3.5 member serves beside 3.6 ones).
var Components = []Component{
	{Unit: units.Etcd.UnitName(), Program: string(units.Etcd), Version: &VersionRule{Args: []string{"--version"}, Format: EtcdFormat, Older: 1},
		Listens: []Listener{flagURLs(units.Etcd, "listen-client-urls"), flagURLs(units.Etcd, "listen-peer-urls")}},
	kubeRow(units.APIServer, 0),
	kubeRow(units.ControllerManager, 1),
	kubeRow(units.Scheduler, 1),
	// containerd is the distribution's: its version is not the cluster's, and it listens on a
	// socket only.
	{Unit: units.Containerd.UnitName(), Program: string(units.Containerd)},
	{Unit: units.Kubelet.UnitName(), Program: string(units.Kubelet), Version: kubeVersion(3), PodNetwork: true,
		Listens: []Listener{
			configHostPort("address", flagDefault(units.Kubelet, "address"), "port", flagDefault(units.Kubelet, "port")),
			// The catalogue has no --healthz-port (deprecated long ago); the kubelet's default
			// is the renderer's probe address.
			configHostPort("healthzBindAddress", "127.0.0.1", "healthzPort", strconv.Itoa(units.KubeletHealthzPort)),
		}},
	{Unit: units.KubeProxy.UnitName(), Program: string(units.KubeProxy), Version: kubeVersion(3),
		Listens: []Listener{
			configBindAddress("healthzBindAddress", flagDefault(units.KubeProxy, "healthz-bind-address")),
			configBindAddress("metricsBindAddress", flagDefault(units.KubeProxy, "metrics-bind-address")),
		}},
	// hardway's own: `hardway routes`, which only changes routes.
	{Unit: units.PodRoutes.UnitName(), Program: "hardway"},
}

// kubeRow is a control-plane component with --bind-address and --secure-port.
func kubeRow(c units.Component, older int) Component {
	return Component{Unit: c.UnitName(), Program: string(c), Version: kubeVersion(older),
		Listens: []Listener{flagHostPort(c, "bind-address", "secure-port")}}
}

func kubeVersion(older int) *VersionRule {
	return &VersionRule{Args: []string{"--version"}, Format: KubernetesFormat, Older: older}
}

// Format is how a program states its version: the first submatch of Pattern is
// MAJOR.MINOR.PATCH, with whatever suffix follows.
type Format struct {
	Name    string
	Pattern *regexp.Regexp
}

// The formats of the programs hardway runs or needs, from their --version output.
var (
	// "Kubernetes v1.37.2"
	KubernetesFormat = Format{"Kubernetes", regexp.MustCompile(`(?m)^Kubernetes v([0-9]+\.[0-9]+\.[0-9]+\S*)`)}
	// "etcd Version: 3.5.16" (then Git SHA, Go Version ...)
	EtcdFormat = Format{"etcd", regexp.MustCompile(`(?m)^etcd Version: ([0-9]+\.[0-9]+\.[0-9]+\S*)`)}
	// "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3" or
	// "containerd github.com/containerd/containerd/v2 v2.0.0 <commit>"
	ContainerdFormat = Format{"containerd", regexp.MustCompile(`(?m)^containerd \S+ v?([0-9]+\.[0-9]+\.[0-9]+\S*)`)}
	// "runc version 1.1.5+ds1"
	RuncFormat = Format{"runc", regexp.MustCompile(`(?m)^runc version ([0-9]+\.[0-9]+\.[0-9]+\S*)`)}
)

var semver = regexp.MustCompile(`^([0-9]+)\.([0-9]+)\.([0-9]+)`)

// Version is a program's version as it states it.
type Version struct {
	Major, Minor, Patch int
	Text                string // as written: "1.6.20~ds1"
}

func (v Version) String() string { return v.Text }

// Parse finds the version in a program's output.
func (f Format) Parse(out []byte) (Version, error) {
	m := f.Pattern.FindSubmatch(out)
	if m == nil {
		return Version{}, fmt.Errorf("no %s version in the output", f.Name)
	}
	n := semver.FindStringSubmatch(string(m[1]))
	v := Version{Text: string(m[1])}
	for i, p := range []*int{&v.Major, &v.Minor, &v.Patch} {
		x, err := strconv.Atoi(n[i+1])
		if err != nil {
			return Version{}, fmt.Errorf("%s version %q: %w", f.Name, m[1], err)
		}
		*p = x
	}
	return v, nil
}

// VersionRule is how to read a program's version and how far from the bundle's it may be.
type VersionRule struct {
	// Args make the program print its version.
	Args   []string
	Format Format
	// Older is how many minors it may be behind the bundle's version; never newer.
	Older int
}

// judge compares got with the unit's target minor: the same minor is fine (any patch), up to
// Older minors behind is allowed but worth a warning, anything else is an error.
func (r *VersionRule) judge(check string, u *Unit, got Version, target flags.Version) Finding {
	tMajor, tMinor := target.Major(), minorOf(target)
	fix := fmt.Sprintf("install %s %d.%d.x at %s", r.Format.Name, tMajor, tMinor, u.Program)
	behind := tMinor - got.Minor
	allowed := fmt.Sprintf("the same minor as %d.%d", tMajor, tMinor)
	if r.Older > 0 {
		allowed = fmt.Sprintf("%d.%d or up to %d minor(s) older", tMajor, tMinor, r.Older)
	}
	switch {
	case got.Major != tMajor || behind < 0:
		return fail(check, u.Program, fix, "%s is %s; the bundle's %s is written for %d.%d and it may be %s, never newer", u.Program, got, u.Name, tMajor, tMinor, allowed)
	case behind > r.Older:
		return fail(check, u.Program, fix, "%s is %s, %d minor(s) older than the %d.%d the bundle's %s is written for; it may be %s", u.Program, got, behind, tMajor, tMinor, u.Name, allowed)
	case behind > 0:
		return Finding{Check: check, Problem: problem.Warningf(u.Program, fix+" when you can",
			"%s is %s, older than the %d.%d the bundle is written for (within the version-skew policy)", u.Program, got, tMajor, tMinor)}
	}
	return ok(check, u.Program, "%s %s matches %d.%d", r.Format.Name, got, tMajor, tMinor)
}

func minorOf(v flags.Version) int {
	s := v.String()
	for i := range s {
		if s[i] == '.' {
			m, _ := strconv.Atoi(s[i+1:])
			return m
		}
	}
	return 0
}

// Endpoint is one address a unit listens on.
type Endpoint struct {
	Addr   string // host:port to listen on
	Port   int
	Source string // the flag or config field it comes from: "--secure-port"
}

// Listener reads where a unit listens off its flags and the bundle's config files.
type Listener func(u *Unit, n *Node) ([]Endpoint, error)

// flagDefault is the upstream default of a component's flag, from the units/flags catalogue.
func flagDefault(c units.Component, flag string) string {
	comp := flags.Default().Component(string(c))
	if comp == nil {
		panic("preflight: the flag catalogue has no " + string(c))
	}
	f := comp.Flag(flag)
	if f == nil || f.Default == "" {
		panic("preflight: the flag catalogue has no default for " + string(c) + " --" + flag)
	}
	return f.Default
}

func endpoint(host, port, source string) (Endpoint, error) {
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return Endpoint{}, fmt.Errorf("%s: port %q is not a port number", source, port)
	}
	return Endpoint{Addr: net.JoinHostPort(host, port), Port: p, Source: source}, nil
}

// flagHostPort: --addrFlag (IP) and --portFlag, each the catalogue's default when not given; a
// port of 0 listens nowhere.
func flagHostPort(c units.Component, addrFlag, portFlag string) Listener {
	return func(u *Unit, _ *Node) ([]Endpoint, error) {
		host, ok := u.Flag(addrFlag)
		if !ok {
			host = flagDefault(c, addrFlag)
		}
		port, ok := u.Flag(portFlag)
		if !ok {
			port = flagDefault(c, portFlag)
		}
		ep, err := endpoint(host, port, "--"+portFlag)
		if err != nil || ep.Port == 0 {
			return nil, err
		}
		return []Endpoint{ep}, nil
	}
}

// flagURLs: every URL of a comma-separated --flag (etcd's listen URLs).
func flagURLs(c units.Component, flag string) Listener {
	return func(u *Unit, _ *Node) ([]Endpoint, error) {
		v, ok := u.Flag(flag)
		if !ok {
			v = flagDefault(c, flag)
		}
		var out []Endpoint
		for _, s := range splitComma(v) {
			pu, err := url.Parse(s)
			if err != nil || pu.Port() == "" {
				return nil, fmt.Errorf("--%s: %q is not a URL with a port", flag, s)
			}
			ep, err := endpoint(pu.Hostname(), pu.Port(), "--"+flag)
			if err != nil {
				return nil, err
			}
			out = append(out, ep)
		}
		return out, nil
	}
}

// config reads the unit's --config file from the bundle as a map; nil when there is none.
func config(u *Unit, n *Node) (map[string]any, string, error) {
	p, ok := u.Flag("config")
	if !ok {
		return nil, "", nil
	}
	data, ok := n.File(p)
	if !ok {
		return nil, p, nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, p, fmt.Errorf("%s: %w", p, err)
	}
	return m, p, nil
}

// configHostPort: an address field and a port field of the --config file (the kubelet's
// address/port, healthzBindAddress/healthzPort), each defaulted.
func configHostPort(addrField, addrDefault, portField, portDefault string) Listener {
	return func(u *Unit, n *Node) ([]Endpoint, error) {
		m, p, err := config(u, n)
		if err != nil {
			return nil, err
		}
		host, port := addrDefault, portDefault
		if v, ok := m[addrField].(string); ok && v != "" {
			host = v
		}
		if v, ok := m[portField].(float64); ok {
			port = strconv.Itoa(int(v))
		}
		ep, err := endpoint(host, port, fieldSource(p, portField))
		if err != nil || ep.Port == 0 {
			return nil, err
		}
		return []Endpoint{ep}, nil
	}
}

// configBindAddress: a host:port field of the --config file (kube-proxy's healthzBindAddress,
// metricsBindAddress); a bare host takes the default's port.
func configBindAddress(field, def string) Listener {
	return func(u *Unit, n *Node) ([]Endpoint, error) {
		m, p, err := config(u, n)
		if err != nil {
			return nil, err
		}
		dhost, dport, err := net.SplitHostPort(def)
		if err != nil {
			return nil, fmt.Errorf("default %s %q: %w", field, def, err)
		}
		host, port := dhost, dport
		if v, ok := m[field].(string); ok && v != "" {
			if h, pt, err := net.SplitHostPort(v); err == nil {
				host, port = h, pt
			} else {
				host = v
			}
		}
		ep, err := endpoint(host, port, fieldSource(p, field))
		if err != nil || ep.Port == 0 {
			return nil, err
		}
		return []Endpoint{ep}, nil
	}
}

func fieldSource(file, field string) string {
	if file == "" {
		return field + " (default)"
	}
	return file + " " + field
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
