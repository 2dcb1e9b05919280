package preflight

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/units"

	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/flags"
)

// Kernel files the node checks read.
const (
	IPForwardFile       = "/proc/sys/net/ipv4/ip_forward"
	BridgeNFIptablesKey = "/proc/sys/net/bridge/bridge-nf-call-iptables"
	SwapsFile           = "/proc/swaps"
)

// sysctl checks that a kernel setting is 1 on a node that runs pods.
func sysctl(check, file, missing, fix string) Check {
	return func(_ context.Context, n *Node, env Env) []Finding {
		k := n.PodNetwork()
		if k == nil {
			return nil
		}
		key := strings.ReplaceAll(strings.TrimPrefix(file, "/proc/sys/"), "/", ".")
		data, err := env.ReadKernelFile(file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return []Finding{fail(check, file, fix, "%s does not exist: %s; %s needs it", file, missing, k.Name)}
		case err != nil:
			return []Finding{fail(check, file, fix, "reading %s: %v", file, err)}
		case strings.TrimSpace(string(data)) != "1":
			return []Finding{fail(check, file, fix, "%s is %s, not 1: %s needs it to route pod traffic", key, strings.TrimSpace(string(data)), k.Name)}
		}
		return []Finding{ok(check, file, "%s = 1", key)}
	}
}

// IPForward: the kernel forwards IPv4 packets, which pod traffic needs, on a node with a
// kubelet.
var IPForward = sysctl("IPForward", IPForwardFile, "no IPv4 networking",
	"run `sysctl -w net.ipv4.ip_forward=1` and keep it with `echo net.ipv4.ip_forward=1 > /etc/sysctl.d/99-kubernetes.conf`")

// BridgeNetfilter: bridged pod traffic passes iptables (kube-proxy's service rules), which
// needs the br_netfilter module, on a node with a kubelet.
var BridgeNetfilter = sysctl("BridgeNetfilter", BridgeNFIptablesKey, "the br_netfilter module is not loaded",
	"run `modprobe br_netfilter && sysctl -w net.bridge.bridge-nf-call-iptables=1`, and keep both with `echo br_netfilter > /etc/modules-load.d/k8s.conf` and `echo net.bridge.bridge-nf-call-iptables=1 > /etc/sysctl.d/99-kubernetes.conf`")

// Swap: no swap is active when the node's kubelet has failSwapOn (its default), as the kubelet
// refuses to start otherwise.
func Swap(_ context.Context, n *Node, env Env) []Finding {
	const check = "Swap"
	k := n.PodNetwork()
	if k == nil {
		return nil
	}
	failSwapOn, where := true, k.Name
	if cfg, ok := k.Flag("config"); ok {
		where = cfg
		if data, ok := n.File(cfg); ok {
			var c struct {
				FailSwapOn *bool `json:"failSwapOn"`
			}
			if err := yaml.Unmarshal(data, &c); err != nil {
				return []Finding{fail(check, cfg, "render the bundle again with `hardway init`", "%s's config is not YAML: %v", k.Name, err)}
			}
			if c.FailSwapOn != nil {
				failSwapOn = *c.FailSwapOn
			}
		}
	}
	data, err := env.ReadKernelFile(SwapsFile)
	if err != nil {
		return []Finding{warn(check, SwapsFile, "", "cannot tell whether swap is on: %v", err)}
	}
	var active []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] { // a header, then one line a device
		if f := strings.Fields(line); len(f) > 0 {
			active = append(active, f[0])
		}
	}
	switch {
	case len(active) == 0:
		return []Finding{ok(check, SwapsFile, "no active swap")}
	case !failSwapOn:
		return []Finding{ok(check, where, "swap is on (%s) and %s has failSwapOn: false", strings.Join(active, ", "), k.Name)}
	}
	return []Finding{fail(check, SwapsFile,
		"run `swapoff -a` and remove the swap entries from /etc/fstab (and any swap unit), or set failSwapOn: false in "+where,
		"swap is on (%s) and %s has failSwapOn (the default), so it refuses to start", strings.Join(active, ", "), k.Name)}
}

// Ports: each address a unit will listen on is free, unless the unit already runs (then it
// holds its own ports, and a relaunch restarts it).
func Ports(ctx context.Context, n *Node, env Env) []Finding {
	var out []Finding
	for i := range n.Units {
		u := &n.Units[i]
		if u.Component == nil {
			continue
		}
		var eps []Endpoint
		for _, l := range u.Component.Listens {
			got, err := l(u, n)
			if err != nil {
				out = append(out, fail("Listen-"+name(u.Name), u.Name, "render the bundle again with `hardway init`", "cannot tell where it listens: %v", err))
			}
			eps = append(eps, got...)
		}
		if len(eps) == 0 {
			continue
		}
		running, rerr := env.Running(ctx, u.Name)
		for _, ep := range eps {
			check := "Port-" + strconv.Itoa(ep.Port)
			where := fmt.Sprintf("%s (%s %s)", ep.Addr, u.Name, ep.Source)
			if running && rerr == nil {
				out = append(out, ok(check, where, "%s runs and holds it", u.Name))
				continue
			}
			err := env.Listen(ep.Addr)
			switch {
			case err == nil:
				out = append(out, ok(check, where, "free"))
			case errors.Is(err, syscall.EADDRINUSE) && rerr != nil:
				out = append(out, warn(check, where, "", "taken (%v), and whether %s holds it is unknown: %v", err, u.Name, rerr))
			case errors.Is(err, syscall.EADDRINUSE):
				out = append(out, fail(check, where,
					"stop what holds it (`ss -ltnp 'sport = :"+strconv.Itoa(ep.Port)+"'` names it), or change the port in the cluster file and render again",
					"in use, and %s is not running: %v", u.Name, err))
			case errors.Is(err, syscall.EADDRNOTAVAIL):
				out = append(out, fail(check, where, "check the node's addresses in the cluster file: the first is the one its services listen on",
					"this machine has no such address, so %s cannot listen there: %v", u.Name, err))
			default:
				out = append(out, fail(check, where, "", "cannot listen there: %v", err))
			}
		}
	}
	return out
}

// versionTimeout bounds one `<program> --version`.
const versionTimeout = 10 * time.Second

// Programs: each unit's program exists and is executable, and for a row with a version rule
// its --version is one the unit was rendered for.
func Programs(ctx context.Context, n *Node, env Env) []Finding {
	var out []Finding
	for i := range n.Units {
		u := &n.Units[i]
		check := "Program-" + name(u.Name)
		if u.Program == "" {
			out = append(out, fail(check, u.UnitPath(), "render the bundle again with `hardway init`", "%s has no ExecStart program", u.Name))
			continue
		}
		if f, found := n.Bundle.File(u.Program); found && f.Kind == bundle.KindBinary {
			out = append(out, ok(check, u.Program, "installed by this bundle"))
			continue
		}
		fi, err := env.StatProgram(u.Program)
		fix := "install " + u.Program + " (the " + progName(u) + " release the cluster file names) on this node"
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, fail(check, u.Program, fix, "does not exist, and %s runs it", u.Name))
			continue
		case err != nil:
			out = append(out, fail(check, u.Program, fix, "%s runs it: %v", u.Name, err))
			continue
		case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
			out = append(out, fail(check, u.Program, "`chmod 0755 "+u.Program+"`, or "+fix, "not an executable file (%v), and %s runs it", fi.Mode(), u.Name))
			continue
		}
		out = append(out, ok(check, u.Program, "executable"))
		if f := versionCheck(ctx, u, env); f != nil {
			out = append(out, *f)
		}
	}
	return out
}

func progName(u *Unit) string {
	if u.Component != nil {
		return u.Component.Program
	}
	return name(u.Name)
}

// versionCheck runs the unit's program with its row's version arguments and judges the
// version by the row's skew; nil when the row has no version rule.
func versionCheck(ctx context.Context, u *Unit, env Env) *Finding {
	c := u.Component
	if c == nil || c.Version == nil {
		return nil
	}
	check := "Version-" + name(u.Name)
	if base := baseName(u.Program); base != c.Program {
		f := ok(check, u.Program, "runs %s, not %s: no version to compare", base, c.Program)
		return &f
	}
	r := c.Version
	cmdline := strings.Join(append([]string{u.Program}, r.Args...), " ")
	vctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := env.RunProgram(vctx, u.Program, r.Args...)
	got, perr := r.Format.Parse(out)
	if perr != nil {
		if err == nil {
			err = perr
		}
		f := warn(check, u.Program, "check that "+u.Program+" is "+c.Program, "`%s` did not say its version (%v): %q", cmdline, err, firstLine(out))
		return &f
	}
	if u.Version == "" {
		f := ok(check, u.Program, "%s %s (the bundle names no version to compare)", c.Program, got)
		return &f
	}
	target, err := flags.ParseVersion(u.Version)
	if err != nil { // bundle.Validate refuses it first
		f := fail(check, u.Name, "render the bundle again with `hardway init`", "the bundle's version %q: %v", u.Version, err)
		return &f
	}
	f := r.judge(check, u, got, target)
	return &f
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// cniPlugins are the CNI plugins the rendered network configuration runs.
var cniPlugins = []string{"bridge", "host-local", "loopback", "portmap"}

// Runtime: on a node with containerd, the runc and the CNI plugins its config.toml (from the
// bundle) names are executable files where the manager's containerd will look for them.
func Runtime(_ context.Context, n *Node, env Env) []Finding {
	var out []Finding
	for i := range n.Units {
		u := &n.Units[i]
		if u.Name != units.Containerd.UnitName() {
			continue
		}
		p, _ := u.Flag("config")
		data, found := n.Bundle.File(p)
		if !found {
			continue // the bundle's own Validate names a unit input that is missing
		}
		var cfg units.ContainerdConfiguration
		if err := toml.Unmarshal(data.Data, &cfg); err != nil {
			out = append(out, fail("Runtime", p, "render the bundle again with `hardway init`", "%s: %v", p, err))
			continue
		}
		cri := cfg.Plugins.CRI
		want := map[string]string{}
		for name, rt := range cri.Containerd.Runtimes {
			want[rt.Options.BinaryName] = "the " + name + " runtime; install Debian's runc (`apt-get install runc`) or set binaries.runc in the cluster file"
		}
		for _, plugin := range cniPlugins {
			want[path.Join(cri.CNI.BinDir, plugin)] = "the CNI " + plugin + " plugin; install Debian's containernetworking-plugins (`apt-get install containernetworking-plugins`) or set binaries.cni to the directory that holds it"
		}
		for _, prog := range slices.Sorted(maps.Keys(want)) {
			check := "Runtime-" + baseName(prog)
			fi, err := env.StatProgram(prog)
			what, fix, _ := strings.Cut(want[prog], "; ")
			switch {
			case err != nil:
				out = append(out, fail(check, prog, fix, "%s (%s, named in %s): %v", prog, what, p, err))
			case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
				out = append(out, fail(check, prog, fix, "%s (%s, named in %s) is not an executable file", prog, what, p))
			default:
				out = append(out, ok(check, prog, "%s: executable", what))
			}
		}
	}
	return out
}
