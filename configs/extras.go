package configs

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	kubeletapis "k8s.io/kubelet/pkg/apis"

	"github.com/hardway-dev/hardway/internal/problem"
)

// What the cluster file may change of what hardway renders, kubeadm-style: extra flags and the
// files they read, feature gates, node labels and taints. Validate checks their form here; the
// flags themselves are checked against the flag catalogue and against what hardway sets by
// units.CheckExtras, which knows the renderer.

var (
	// flagName is a flag as the catalogue names it, without dashes.
	flagName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)
	// plainValue is what a flag value may hold: nothing systemd would expand, quote, escape or
	// split on (units/bundle's plainArg, which launch holds unit files to).
	plainValue = regexp.MustCompile(`^[A-Za-z0-9_./,:=@+*\[\]-]+$`)
	// featureGate is a feature gate's name: upper camel case.
	featureGate = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	// extraName is an extra file's name under ExtraDir/<component>/.
	extraName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// ExtraSourceDir is the folder of the cluster directory that extraFiles[].source files are
// read from: never the PKI, the kubeconfigs or the signing key, which would leak into bundles.
const ExtraSourceDir = "extra"

// flagsSetElsewhere are extra flags the cluster file has a setting of its own for.
var flagsSetElsewhere = map[string]string{
	"feature-gates":        "featureGates (every component) or componentFeatureGates.<component>",
	"node-labels":          "nodes[].labels",
	"register-with-taints": "nodes[].taints",
}

// kubernetesComponents are the components that take feature gates.
var kubernetesComponents = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"}

func (c *Cluster) validateExtras(ps *problem.List) {
	add := func(field, fix, format string, a ...any) {
		*ps = append(*ps, problem.Errorf(field, fix, format, a...))
	}
	components := "use one of " + strings.Join(Components, ", ")
	for _, comp := range slices.Sorted(maps.Keys(c.ExtraArgs)) {
		f := "extraArgs." + comp
		if !slices.Contains(Components, comp) {
			add(f, components, "%q is not a component", comp)
			continue
		}
		if comp == "etcd" && c.Implementations["etcd"] == ImplHardway {
			add(f, "remove them, or run the upstream etcd (implementations.etcd: upstream)", "hardway etcd takes only the flags hardway renders")
		}
		for _, name := range slices.Sorted(maps.Keys(c.ExtraArgs[comp])) {
			ff, v := f+"."+name, c.ExtraArgs[comp][name]
			switch {
			case strings.HasPrefix(name, "-"):
				add(ff, fmt.Sprintf("write the flag without dashes: %s", strings.TrimLeft(name, "-")), "%q starts with a dash", name)
			case !flagName.MatchString(name):
				add(ff, "write the flag's name as its --help does, lower case, without dashes or a value", "%q is not a flag name", name)
			case flagsSetElsewhere[name] != "":
				add(ff, "set "+flagsSetElsewhere[name]+" instead", "--%s is rendered from the cluster file's own setting", name)
			case !plainValue.MatchString(v):
				add(ff, "use letters, digits and _ . / , : = @ + * [ ] - only (a space, quote, $, %, ; or backslash would be read by systemd)",
					"%q is not a value hardway can put on a command line", v)
			}
		}
	}

	seen := map[string]int{}
	for i, x := range c.ExtraFiles {
		f := fmt.Sprintf("extraFiles[%d]", i)
		if !slices.Contains(Components, x.Component) {
			add(f+".component", components, "%q is not a component", x.Component)
		} else {
			dir := ExtraDir + "/" + x.Component + "/"
			name, under := strings.CutPrefix(x.Path, dir)
			if !under || !extraName.MatchString(name) {
				add(f+".path", fmt.Sprintf("use %s<name>, the name of letters, digits, '.', '_' and '-'", dir),
					"%q is not a file directly under %s", x.Path, dir)
			} else if j, dup := seen[x.Path]; dup {
				add(f+".path", "give each extra file its own path", "%s is already the path of extraFiles[%d]", x.Path, j)
			} else {
				seen[x.Path] = i
			}
		}
		switch {
		case x.Source == "" && x.Content == "":
			add(f, "set source (a file of the cluster directory's "+ExtraSourceDir+"/ folder) or content", "has neither source nor content")
		case x.Source != "" && x.Content != "":
			add(f, "keep one of source and content", "has both source and content")
		case x.Source != "":
			if rest, ok := strings.CutPrefix(x.Source, ExtraSourceDir+"/"); !ok || path.Clean(x.Source) != x.Source || rest == "" || strings.Contains(rest, "..") {
				add(f+".source", fmt.Sprintf("put the file in the cluster directory's %s/ folder and name it %s/<file>", ExtraSourceDir, ExtraSourceDir),
					"%q is not a file under %s/ of the cluster directory", x.Source, ExtraSourceDir)
			}
		}
		if !slices.Contains(ExtraFileModes, x.Mode) {
			add(f+".mode", `use "0600" (quoted), or leave it out: every file hardway renders is 0600 (CIS 1.1.x) and the components run as root`, "%q is not a mode an extra file may have", x.Mode)
		}
	}

	checkGates := func(field string, gates map[string]bool) {
		for _, g := range slices.Sorted(maps.Keys(gates)) {
			if !featureGate.MatchString(g) {
				add(field+"."+g, "write the gate as Kubernetes names it, such as InPlacePodVerticalScaling", "%q is not a feature gate name", g)
			}
		}
	}
	checkGates("featureGates", c.FeatureGates)
	for _, comp := range slices.Sorted(maps.Keys(c.ComponentFeatureGates)) {
		f := "componentFeatureGates." + comp
		if !slices.Contains(kubernetesComponents, comp) {
			add(f, "use one of "+strings.Join(kubernetesComponents, ", "), "%q is not a Kubernetes component with feature gates", comp)
			continue
		}
		checkGates(f, c.ComponentFeatureGates[comp])
	}

	for i, n := range c.Nodes {
		f := fmt.Sprintf("nodes[%d]", i)
		if (len(n.Labels) > 0 || len(n.Taints) > 0) && !n.Has(RoleWorker) {
			add(f, "remove labels and taints, or give the node the worker role", "%s runs no kubelet (no worker role), so nothing registers its labels or taints", nodeLabel(n, i))
		}
		for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
			lf := f + ".labels." + k
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				add(lf, "use a label key such as example.com/rack", "%q is not a label key: %s", k, strings.Join(errs, "; "))
				continue
			}
			if errs := validation.IsValidLabelValue(n.Labels[k]); len(errs) > 0 {
				add(lf, "use up to 63 letters, digits, '-', '_' and '.'", "%q is not a label value: %s", n.Labels[k], strings.Join(errs, "; "))
			}
			if why := ValidateNodeLabel(k); why != "" {
				add(lf, "use a key of your own domain (example.com/role), or set it with kubectl label node after the node registers", "%s", why)
			}
		}
		type taintKey struct{ key, effect string }
		taints := map[taintKey]int{}
		for j, t := range n.Taints {
			tf := fmt.Sprintf("%s.taints[%d]", f, j)
			if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
				add(tf+".key", "use a key such as example.com/dedicated", "%q is not a taint key: %s", t.Key, strings.Join(errs, "; "))
			}
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				add(tf+".value", "use up to 63 letters, digits, '-', '_' and '.'", "%q is not a taint value: %s", t.Value, strings.Join(errs, "; "))
			}
			if !slices.Contains(TaintEffects, t.Effect) {
				add(tf+".effect", "use one of "+strings.Join(TaintEffects, ", "), "%q is not a taint effect", t.Effect)
			}
			if k, dup := taints[taintKey{t.Key, t.Effect}]; dup {
				add(tf, "list each key and effect once", "%s:%s is already taints[%d]", t.Key, t.Effect, k)
			}
			taints[taintKey{t.Key, t.Effect}] = j
		}
	}
}

// ValidateNodeLabel says why a kubelet may not register its node with label key, or "" when it
// may. The kubelet refuses to start with a label under kubernetes.io or k8s.io that the
// NodeRestriction admission plugin would not let it set (only kubelet.kubernetes.io/,
// node.kubernetes.io/ and a few well-known keys such as topology.kubernetes.io/zone); a
// node-restriction.kubernetes.io/ label exists precisely so that kubelets cannot set it.
func ValidateNodeLabel(key string) string {
	ns, _, ok := strings.Cut(key, "/")
	if !ok {
		return ""
	}
	reserved := ns == "kubernetes.io" || strings.HasSuffix(ns, ".kubernetes.io") || ns == "k8s.io" || strings.HasSuffix(ns, ".k8s.io")
	switch {
	case !reserved || kubeletapis.IsKubeletLabel(key):
		return ""
	case strings.HasPrefix(key, "node-restriction.kubernetes.io/"):
		return fmt.Sprintf("%s: node-restriction.kubernetes.io/ labels are reserved for administrators (NodeRestriction refuses them from kubelets), so workloads can trust them", key)
	case strings.HasPrefix(key, "node-role.kubernetes.io/"):
		return fmt.Sprintf("%s: NodeRestriction does not let a kubelet set node-role.kubernetes.io/ labels, and the kubelet refuses to start with one in --node-labels", key)
	}
	return fmt.Sprintf("%s: a kubelet may set only kubelet.kubernetes.io/, node.kubernetes.io/ and a few well-known labels under kubernetes.io and k8s.io (NodeRestriction), "+
		"and it refuses to start with another in --node-labels", key)
}
