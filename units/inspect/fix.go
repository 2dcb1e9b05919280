package inspect

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/flags"
)

// Change is one edit --fix made.
type Change struct {
	Flag   string `json:"flag"`
	Action string `json:"action"` // dropped, renamed, rewritten, added
	Note   string `json:"note"`
}

// Fixed is an input migrated to a target version.
type Fixed struct {
	Name    string   `json:"name"`
	Text    string   `json:"text"`
	Changes []Change `json:"changes"`
}

type fixArg struct {
	name, raw string // raw: the value as written ("" and bare for switches)
	bare      bool
	dashes    int
}

// Fix migrates an invocation's command line to the target version: removed and no-op flags
// are dropped, renamed ones renamed (values kept as written, variables included), removed
// admission plugins dropped from their lists, --admission-control turned into
// --enable-admission-plugins, a bare api/all completed, single-dash flags given two dashes,
// and the service-account flags required since 1.20 added with hardway's default paths. It
// returns the whole input (unit file, manifest or command line) with one comment per change;
// the original is not touched.
func Fix(inv *Invocation, opt Options) (*Fixed, error) {
	if opt.Catalogue == nil {
		opt.Catalogue = flags.Default()
	}
	comp := opt.Catalogue.Component(inv.Component)
	if comp == nil {
		return nil, fmt.Errorf("%s: cannot fix an unknown component", inv.Name)
	}
	version := opt.targetFor(comp)
	args := ParseArgs(comp, inv.Args)
	var out []fixArg
	var changes []Change
	note := func(flag, action, format string, a ...any) {
		changes = append(changes, Change{Flag: flag, Action: action, Note: fmt.Sprintf(format, a...)})
	}
	enableIdx := -1
	for i := range args.Settings {
		s := &args.Settings[i]
		a := fixArg{name: s.Name, raw: rawValue(s), bare: s.Bare, dashes: 2}
		if s.Dashes == 1 && comp.Library == flags.PFlag && len(s.Name) > 1 {
			note(s.Name, "rewritten", "-%s written with two dashes (pflag reads one dash as shorthands)", s.Name)
		}
		f := s.Flag
		if f != nil {
			st := f.StateAt(version)
			switch {
			case st == flags.Removed && f.ReplacedBy == "", st == flags.NoOp:
				note(s.Name, "dropped", "--%s %s: %s", s.Name, stateWords(f, version), f.Advice)
				continue
			case (st == flags.Removed || st == flags.Deprecated) && f.ReplacedBy != "" && comp.Flag(f.ReplacedBy).StateAt(version) == flags.Current:
				note(s.Name, "renamed", "--%s %s; renamed to --%s", s.Name, stateWords(f, version), f.ReplacedBy)
				a.name = f.ReplacedBy
			}
		}
		if a.name == "enable-admission-plugins" || a.name == "disable-admission-plugins" {
			var keep []string
			for _, p := range splitList(s.Value) {
				if pl := opt.Catalogue.Plugin(p); pl != nil && pl.StateAt(version) == flags.Removed {
					note(a.name, "rewritten", "admission plugin %s dropped: removed in %s. %s", p, pl.Removed, pl.Advice)
					continue
				}
				keep = append(keep, p)
			}
			if strings.Join(keep, ",") != s.Value {
				a.raw = strings.Join(keep, ",")
			}
			if len(keep) == 0 {
				note(a.name, "dropped", "--%s is empty after dropping removed plugins", a.name)
				continue
			}
			if a.name == "enable-admission-plugins" {
				if enableIdx >= 0 { // merge --admission-control into an existing list
					out[enableIdx].raw = mergeLists(out[enableIdx].raw, a.raw)
					continue
				}
				enableIdx = len(out)
			}
		}
		if a.name == "runtime-config" {
			items := splitList(s.Value)
			for j, it := range items {
				if strings.EqualFold(it, "api/all") {
					items[j] = "api/all=true"
					a.raw = strings.Join(items, ",")
					note(a.name, "rewritten", "api/all completed to api/all=true (a bare api/all stops 1.17+ apiservers); consider enabling only the group/versions you need")
				}
			}
		}
		out = append(out, a)
	}
	if comp.Name == "kube-apiserver" && version.AtLeast(flags.MustVersion("1.20")) {
		for _, add := range []struct{ name, val, why string }{
			{"service-account-issuer", "https://kubernetes.default.svc.cluster.local", "required since 1.20; use your cluster's stable issuer URL"},
			{"service-account-signing-key-file", units.ServiceAccountKey, "required since 1.20; the private key the controller-manager's --service-account-private-key-file uses"},
			{"service-account-key-file", units.ServiceAccountPub, "required with --service-account-signing-key-file; the matching public key"},
		} {
			if !args.Has(add.name) {
				out = append(out, fixArg{name: add.name, raw: add.val, dashes: 2})
				note(add.name, "added", "--%s=%s added: %s", add.name, add.val, add.why)
			}
		}
	}
	words := make([]string, 0, len(out))
	for _, a := range out {
		w := "--" + a.name
		if !a.bare {
			w += "=" + a.raw
		}
		words = append(words, w)
	}
	fx := &Fixed{Name: inv.Name, Changes: changes}
	var err error
	switch inv.Kind {
	case FromUnit:
		fx.Text, err = fixUnit(inv, words, changes, version)
	case FromManifest:
		fx.Text, err = fixManifest(inv, words, changes, version)
	default:
		fx.Text = commentBlock("# ", changes, version) + renderCommand(inv, words, "") + "\n"
	}
	return fx, err
}

func stateWords(f *flags.Flag, v flags.Version) string {
	switch f.StateAt(v) {
	case flags.Removed:
		return "was removed in " + f.Removed.String()
	case flags.NoOp:
		return "has had no effect since " + f.NoOp.String()
	case flags.Deprecated:
		return "is deprecated since " + f.Deprecated.String()
	}
	return "is current"
}

// rawValue is the setting's value as written (quotes and variables kept).
func rawValue(s *Setting) string {
	if s.Bare || len(s.Words) == 0 {
		return ""
	}
	if len(s.Words) == 2 {
		return s.Words[1].Raw
	}
	raw := s.Words[0].Raw
	if raw == "" {
		raw = s.Words[0].Value
	}
	if _, v, ok := strings.Cut(raw, "="); ok {
		return v
	}
	return s.Value
}

func mergeLists(a, b string) string {
	seen := map[string]bool{}
	var out []string
	for _, p := range append(splitList(a), splitList(b)...) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return strings.Join(out, ",")
}

func commentBlock(prefix string, changes []Change, v flags.Version) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%shardway inspect --fix: migrated to %s (%d change(s))\n", prefix, v, len(changes))
	for _, c := range changes {
		fmt.Fprintf(&b, "%s  %s\n", prefix, c.Note)
	}
	return b.String()
}

func renderCommand(inv *Invocation, words []string, prefixes string) string {
	bin := inv.Binary
	if inv.Component == "etcd" && path.Base(inv.Binary) == "hardway" {
		bin += " etcd"
	}
	var b strings.Builder
	b.WriteString(prefixes + bin)
	for _, w := range words {
		b.WriteString(" \\\n  " + w)
	}
	return b.String()
}

func fixUnit(inv *Invocation, words []string, changes []Change, v flags.Version) (string, error) {
	eo := inv.ExecOption
	src := string(inv.Source.Data)
	if eo == nil || eo.Origin.Line == 0 || src == "" {
		return "", fmt.Errorf("%s: cannot locate the ExecStart= line to rewrite", inv.Name)
	}
	lines := strings.Split(src, "\n")
	start := eo.Origin.Line - 1
	end := start + strings.Count(eo.Value, "\n") + 1
	if end > len(lines) {
		end = len(lines)
	}
	repl := commentBlock("# ", changes, v) + "ExecStart=" + renderCommand(inv, words, inv.ExecPrefixes)
	out := append(append(append([]string{}, lines[:start]...), strings.Split(repl, "\n")...), lines[end:]...)
	header := ""
	if inv.Source.Name != inv.Unit.Files[0].Name {
		header = "# drop-in " + inv.Source.Name + " holds the effective ExecStart=\n"
	}
	return header + strings.Join(out, "\n"), nil
}

func fixManifest(inv *Invocation, words []string, changes []Change, v flags.Version) (string, error) {
	pod := inv.Pod.DeepCopy()
	c := &pod.Spec.Containers[inv.Container]
	switch {
	case len(c.Command) == 0:
		c.Args = append([]string{inv.Binary}, words...)
	case len(c.Args) == 0 || len(c.Command) > 1:
		c.Command = append([]string{c.Command[0]}, words...)
		c.Args = nil
	default:
		c.Args = words
	}
	b, err := yaml.Marshal(pod)
	if err != nil {
		return "", err
	}
	return commentBlock("# ", changes, v) + string(b), nil
}
