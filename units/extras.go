package units

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/flags"
)

// What the cluster file changes of the rendering (configs.Cluster's ExtraArgs, ExtraFiles,
// FeatureGates, ComponentFeatureGates, and each node's Labels and Taints): the supported way to
// change what people would otherwise edit by hand in the rendered files.

// ExtraDir is where extra files live on a node: ExtraDir/<component>/<name>.
const ExtraDir = configs.ExtraDir

// override says what an extra flag may do to a flag hardway sets itself.
type override int

const (
	// fixed flags are derived from the cluster file, the certificates or the node's layout
	// (addresses, paths, ports): an extra flag may not replace them.
	fixed override = iota
	// tunable flags are a choice of hardway's without security weight: the extra flag's value
	// replaces hardway's.
	tunable
	// hardened flags are hardway's hardened defaults: the extra flag's value replaces hardway's,
	// with a warning that says so (and what it opens, when it weakens the default).
	hardened
	// appended flags are lists: the extra flag's entries are added after hardway's.
	appended
)

// overrides are the flags hardway sets that an extra flag may change, per component; every
// other flag hardway sets is fixed.
var overrides = map[Component]map[string]override{
	Etcd: {"client-cert-auth": hardened, "peer-client-cert-auth": hardened},
	APIServer: {
		"audit-log-maxage": tunable, "audit-log-maxbackup": tunable, "audit-log-maxsize": tunable,
		"kubelet-preferred-address-types": tunable, "allow-privileged": tunable,
		"anonymous-auth": hardened, "authorization-mode": hardened, "profiling": hardened,
		"tls-min-version": hardened, "tls-cipher-suites": hardened,
		"enable-admission-plugins": appended,
	},
	ControllerManager: {
		"profiling": hardened, "use-service-account-credentials": hardened,
		"tls-min-version": hardened, "tls-cipher-suites": hardened,
	},
	Scheduler: {"tls-min-version": hardened, "tls-cipher-suites": hardened},
}

// weakens says how a flag's value weakens a hardened default of the component (with the CIS
// Kubernetes Benchmark check it fails), or "" when it does not. hardway inspect reports the same
// on the rendered unit.
func weakens(comp Component, name, value string) string {
	isTrue := func() bool { b, err := strconv.ParseBool(value); return err == nil && b }
	isFalse := func() bool { b, err := strconv.ParseBool(value); return err == nil && !b }
	switch {
	case name == "anonymous-auth" && isTrue() && (comp == APIServer || comp == Kubelet):
		return "anonymous requests are accepted (CIS 1.2.1, 4.2.1)"
	case name == "authorization-mode" && slices.Contains(strings.Split(value, ","), "AlwaysAllow"):
		return "AlwaysAllow authorization lets every authenticated request through (CIS 1.2.6-1.2.8, 4.2.2)"
	case name == "profiling" && isTrue():
		return "profiling endpoints (/debug/pprof) are served (CIS 1.2.16, 1.3.2, 1.4.1)"
	case (name == "client-cert-auth" || name == "peer-client-cert-auth") && isFalse():
		return "etcd accepts clients without a certificate (CIS 2.2, 2.5)"
	case name == "use-service-account-credentials" && isFalse():
		return "every controller runs with the controller-manager's own credentials (CIS 1.3.3)"
	case name == "tls-min-version" && (value == "VersionTLS10" || value == "VersionTLS11"):
		return "TLS versions before 1.2 are accepted"
	case name == "read-only-port" && value != "0" && comp == Kubelet:
		return "the kubelet serves its read-only port without authentication (CIS 4.2.4)"
	}
	return ""
}

// applyExtras adds what the cluster file says for s's component and node: feature gates on the
// command line (the kubelet and kube-proxy take theirs in their configuration files), node
// labels, the extra flags and the extra files with their data. It returns what it refuses and
// what it warns about, each naming the cluster file's field.
func (x *renderContext) applyExtras(s *service, sources map[string][]byte) problem.List {
	comp := s.component
	switch comp {
	case APIServer, ControllerManager, Scheduler:
		if v := featureGatesFlag(x.c.FeatureGatesOf(string(comp))); v != "" {
			s.flag("feature-gates", v)
		}
	case Kubelet:
		if v := nodeLabelsFlag(x.node.Labels); v != "" {
			s.flag("node-labels", v)
		}
	}
	var ps problem.List
	for i, f := range x.c.ExtraFiles {
		if f.Component != string(comp) {
			continue
		}
		data := []byte(f.Content)
		if f.Source != "" {
			b, ok := sources[f.Source]
			if !ok {
				ps = append(ps, problem.Errorf(fmt.Sprintf("extraFiles[%d].source", i), "put the file in the cluster directory",
					"%s was not read: hardway renders an extra file from the cluster directory's copy", f.Source))
				continue
			}
			data = b
		}
		mode, _ := strconv.ParseUint(f.Mode, 8, 32)
		s.files = append(s.files, bundle.File{Path: f.Path, Kind: bundle.KindConfig, Mode: fs.FileMode(mode), Data: data})
	}
	return append(ps, x.extraArgs(s)...)
}

// extraArgs merges the cluster file's extra flags for s's component into s's flags.
func (x *renderContext) extraArgs(s *service) problem.List {
	comp := s.component
	args := x.c.ExtraArgs[string(comp)]
	if len(args) == 0 {
		return nil
	}
	var ps problem.List
	cat := flags.Default().Component(string(comp))
	var version flags.Version
	if v := x.targetVersion(comp); v != "" {
		version, _ = flags.ParseVersion(v)
	}
	extraFiles := map[string]bool{}
	for _, f := range x.c.ExtraFilesOf(string(comp)) {
		extraFiles[f.Path] = true
	}
	for _, name := range slices.Sorted(maps.Keys(args)) {
		value, where := args[name], "extraArgs."+string(comp)+"."+name
		idx := slices.IndexFunc(s.flags, func(f Flag) bool { return f.Name == name })
		if idx >= 0 {
			old := s.flags[idx].Value
			switch overrides[comp][name] {
			case fixed:
				ps = append(ps, problem.Errorf(where, "remove it: hardway renders --"+name+" from the cluster file (or the certificates' layout), so change that instead",
					"%s: hardway sets --%s=%s itself", comp, name, old))
				continue
			case tunable:
				s.flags[idx].Value = value
			case hardened:
				s.flags[idx].Value = value
				why := weakens(comp, name, value)
				if why == "" {
					why = "hardway's value is " + old
				}
				ps = append(ps, problem.Warningf(where, "remove it to keep hardway's hardened default",
					"%s: --%s=%s replaces hardway's hardened --%s=%s: %s", comp, name, value, name, old, why))
			case appended:
				s.flags[idx].Value = old + "," + value
			}
			continue
		}
		// A flag hardway does not set: the catalogue says whether the binary knows it.
		var f *flags.Flag
		if cat != nil {
			f = cat.Flag(name)
		}
		switch {
		case f == nil && cat != nil && cat.Complete:
			ps = append(ps, problem.Errorf(where, "check the name against "+string(comp)+" --help",
				"%s has no flag --%s (hardway's catalogue lists every flag of %s %s to %s)", comp, name, comp, cat.Oldest, cat.Newest))
			continue
		case f == nil:
			ps = append(ps, problem.Warningf(where, "check the name against "+string(comp)+" --help",
				"hardway's catalogue of %s flags is not complete and does not know --%s: it is passed as written, unchecked", comp, name))
		case !version.IsZero():
			switch st := f.StateAt(version); st {
			case flags.Removed, flags.NotYetAdded:
				ps = append(ps, problem.Errorf(where, lifecycleFix(f), "%s %s does not take --%s (%s): it would exit at start", comp, version, name, st))
				continue
			case flags.Deprecated, flags.NoOp:
				ps = append(ps, problem.Warningf(where, lifecycleFix(f), "%s %s: --%s is %s", comp, version, name, st))
			}
		}
		if f != nil && f.File != flags.NoFile && strings.HasPrefix(value, ExtraDir+"/") && !extraFiles[value] {
			ps = append(ps, problem.Errorf(where, fmt.Sprintf("add an extraFiles entry with component %s and path %s", comp, value),
				"%s is not an extra file of %s, so no node would have it", value, comp))
		}
		if why := weakens(comp, name, value); why != "" {
			ps = append(ps, problem.Warningf(where, "remove it to keep hardway's hardened default", "%s: --%s=%s: %s", comp, name, value, why))
		}
		s.flag(name, value)
	}
	return ps
}

func lifecycleFix(f *flags.Flag) string {
	switch {
	case f.ReplacedBy != "":
		return "use --" + f.ReplacedBy
	case f.Advice != "":
		return f.Advice
	}
	return "remove it"
}

// featureGatesFlag is --feature-gates's value: Name=true|false, sorted by name.
func featureGatesFlag(gates map[string]bool) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(gates)) {
		out = append(out, k+"="+strconv.FormatBool(gates[k]))
	}
	return strings.Join(out, ",")
}

// nodeLabelsFlag is --node-labels's value: key=value, sorted by key.
func nodeLabelsFlag(labels map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		out = append(out, k+"="+labels[k])
	}
	return strings.Join(out, ",")
}

// registerWithTaints are the node's taints as the KubeletConfiguration takes them.
func registerWithTaints(ts []configs.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range ts {
		out = append(out, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
	}
	return out
}

// ExtraSources are the cluster-directory files the cluster's extra files copy
// (extraFiles[].source), which Options.Sources must hold for RenderNode.
func ExtraSources(c *configs.Cluster) []string {
	var out []string
	for _, f := range c.ExtraFiles {
		if f.Source != "" && !slices.Contains(out, f.Source) {
			out = append(out, f.Source)
		}
	}
	return out
}

// CheckExtras renders a node of each kind of c (set of roles, loopback address or not) and returns what its extra flags and files would be
// refused or warned about (see applyExtras), each once: a flag hardway sets itself, a flag the
// catalogue does not know or that the target version does not take, a value that weakens a
// hardened default. c must be defaulted and valid (configs.Cluster.Validate).
func CheckExtras(c *configs.Cluster) problem.List {
	if len(c.ExtraArgs) == 0 {
		return nil // nothing else has a problem only the renderer sees
	}
	opt := OptionsFor(c)
	opt.Sources = map[string][]byte{}
	for _, s := range ExtraSources(c) {
		opt.Sources[s] = nil // only the flags matter here
	}
	var out problem.List
	seen := map[string]bool{}
	kinds := map[string]bool{} // one node of each set of roles, on a loopback address or not
	for _, n := range c.Nodes {
		roles := slices.Sorted(slices.Values(n.Roles))
		kind := strings.Join(roles, ",") + strconv.FormatBool(strings.HasPrefix(n.InternalIP(), "127."))
		if kinds[kind] {
			continue
		}
		kinds[kind] = true
		_, ps, err := renderWithProblems(c, n, opt)
		if err != nil && len(ps) == 0 {
			out = append(out, problem.Errorf("nodes", "", "node %s: %v", n.Name, err))
		}
		for _, p := range ps {
			if k := p.String(); !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	return out
}
