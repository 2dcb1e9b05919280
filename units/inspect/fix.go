package inspect

import (
	"encoding/pem"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/units/flags"
)

// Change is one edit --fix made.
type Change struct {
	Flag   string `json:"flag"`
	Action string `json:"action"` // dropped, renamed, rewritten, added, kept, todo
	Note   string `json:"note"`
}

// Fixed is an input migrated to a target version.
type Fixed struct {
	Name    string   `json:"name"`
	Text    string   `json:"text"`
	Changes []Change `json:"changes"`
	// Remaining are the findings of the migrated command line, inspected as inspect would
	// (files under Options.FS included): what --fix could not repair.
	Remaining []Finding `json:"remaining"`
}

// Count returns how many remaining findings are at or above sev.
func (fx *Fixed) Count(sev Severity) int {
	n := 0
	for _, f := range fx.Remaining {
		if f.Severity >= sev {
			n++
		}
	}
	return n
}

type fixArg struct {
	name  string
	raw   string // the value as written ("" and bare for switches)
	value string // the value after variable expansion, for inspecting the result
	bare  bool
	at    Origin
}

// Fix migrates an invocation's command line to the target version: every flag the binary
// would refuse there is dropped (removed or not yet added, by the catalogue) unless a
// replacement takes the same value, when it is renamed (values kept as written, variables
// included); no-op flags are dropped, and a deprecated flag whose replacement is already set;
// removed admission plugins are dropped from their lists, --admission-control turned into
// --enable-admission-plugins; --runtime-config keys the target refuses (a group/version it
// does not have) or ignores (api/legacy, api/all without a value before 1.17) are dropped and a
// bare api/all completed from 1.17 on; single-dash flags are given two dashes.
// The service-account flags required since 1.20 are added with paths derived from the unit's
// own layout (the key beside --service-account-key-file, when it exists under Options.FS);
// when no such file is there, a comment says what to provide instead of inventing a path.
// Flags the catalogue does not know are kept with a comment. It returns the whole input (unit
// file, manifest or command line) with one comment per change, and the findings that remain
// in the result; the original is not touched.
func Fix(inv *Invocation, opt Options) (*Fixed, error) {
	if opt.Catalogue == nil {
		opt.Catalogue = flags.Default()
	}
	comp := opt.Catalogue.Component(inv.Component)
	if comp == nil {
		return nil, fmt.Errorf("%s: cannot fix an unknown component", inv.Name)
	}
	if inv.Wrapper != "" {
		return nil, fmt.Errorf("%s: %s is started through %s; --fix does not rewrite wrapped command lines: fix the %s command by hand, with the findings as a guide", inv.Name, inv.Component, inv.Wrapper, inv.Component)
	}
	for _, w := range inv.Args {
		if w.FromEnv != "" {
			return nil, fmt.Errorf("%s: %s takes settings from its environment (%s); --fix does not rewrite environment files: fix them by hand, with the findings as a guide", inv.Name, inv.Component, w.FromEnv)
		}
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
		a := fixArg{name: s.Name, raw: rawValue(s), value: s.Value, bare: s.Bare, at: s.Origin()}
		if s.Dashes == 1 && comp.Library == flags.PFlag && len(s.Name) > 1 {
			note(s.Name, "rewritten", "-%s written with two dashes (pflag reads one dash as shorthands)", s.Name)
		}
		f := s.Flag
		if f == nil {
			if comp.Subcommand == "" {
				note(s.Name, "kept", "--%s is not in hardway's catalogue of %s flags: kept; delete it unless '%s --help' lists it (the binary exits at start on an unknown flag)", s.Name, comp.Name, comp.Name)
			}
		} else {
			st := f.StateAt(version)
			rep := replacementAt(comp, f, st, version)
			switch {
			case st == flags.NoOp:
				note(s.Name, "dropped", "--%s %s: %s", s.Name, stateWords(f, version), f.Advice)
				continue
			case st == flags.NotYetAdded:
				note(s.Name, "dropped", "--%s arrived in %s, after the target %s: the binary refuses it", s.Name, f.Added, version)
				continue
			case rep != nil && rep.Name != "enable-admission-plugins" && args.Has(rep.Name):
				note(s.Name, "dropped", "--%s %s; --%s is already set", s.Name, stateWords(f, version), rep.Name)
				continue
			case rep != nil && sameValues(f, rep, s.Value):
				note(s.Name, "renamed", "--%s %s; renamed to --%s", s.Name, stateWords(f, version), rep.Name)
				a.name = rep.Name
			case st == flags.Removed:
				note(s.Name, "dropped", "--%s %s: %s", s.Name, stateWords(f, version), f.Advice)
				continue
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
				a.value = a.raw
			}
			if len(keep) == 0 {
				note(a.name, "dropped", "--%s is empty after dropping removed plugins", a.name)
				continue
			}
			if a.name == "enable-admission-plugins" {
				if enableIdx >= 0 { // merge --admission-control into an existing list
					out[enableIdx].raw = mergeLists(out[enableIdx].raw, a.raw)
					out[enableIdx].value = mergeLists(out[enableIdx].value, a.value)
					continue
				}
				enableIdx = len(out)
			}
		}
		if a.name == "runtime-config" {
			items := splitList(s.Value)
			verdicts := judgeRuntimeConfig(opt.Catalogue, items, version)
			var keep []string
			for j, it := range items {
				switch r := verdicts[j]; {
				case r.drop:
					note(a.name, "rewritten", "%s dropped: %s", it, r.message)
					continue
				case it == "api/all" && !r.overridden:
					it = "api/all=true"
					note(a.name, "rewritten", "api/all completed to api/all=true (a bare api/all stops 1.17+ apiservers); consider enabling only the group/versions you need")
				}
				keep = append(keep, it)
			}
			if len(keep) == 0 {
				note(a.name, "dropped", "--runtime-config is empty after dropping the keys kube-apiserver %s refuses or ignores", version)
				continue
			}
			if strings.Join(keep, ",") != strings.Join(items, ",") {
				a.raw = strings.Join(keep, ",")
				a.value = a.raw
			}
		}
		out = append(out, a)
	}
	if comp.Name == "kube-apiserver" && version.AtLeast(flags.MustVersion("1.20")) {
		adds, todo := serviceAccountFlags(args, opt)
		for _, add := range adds {
			add.at = invocationOrigin(inv)
			out = append(out, add.fixArg)
			note(add.name, "added", "--%s=%s added: %s", add.name, add.raw, add.why)
		}
		for _, t := range todo {
			note(t.flag, "todo", "%s", t.note)
		}
	}
	words := make([]string, 0, len(out))
	migrated := make([]Word, 0, len(out))
	for _, a := range out {
		w, v := "--"+a.name, "--"+a.name
		if !a.bare {
			w += "=" + a.raw
			v += "=" + a.value
		}
		words = append(words, w)
		migrated = append(migrated, Word{Value: v, Raw: w, Origin: a.at})
	}
	fx := &Fixed{Name: inv.Name, Changes: changes}
	mig := *inv
	mig.Args = migrated
	fx.Remaining = Inspect([]*Invocation{&mig}, opt).Results[0].Findings
	var errs []Finding
	for _, f := range fx.Remaining {
		if f.Severity >= Error {
			errs = append(errs, f)
		}
	}
	var err error
	switch inv.Kind {
	case FromUnit:
		fx.Text, err = fixUnit(inv, words, changes, errs, version)
	case FromManifest:
		fx.Text, err = fixManifest(inv, words, changes, errs, version)
	default:
		fx.Text = commentBlock("# ", changes, errs, version) + renderCommand(inv, words, "") + "\n"
	}
	return fx, err
}

// replacementAt is the flag that takes over from f at version v when f is deprecated or
// removed there: for a removed flag one the binary still accepts, for a deprecated one a
// current flag (moving from one deprecated flag to another gains nothing).
func replacementAt(comp *flags.Component, f *flags.Flag, st flags.State, v flags.Version) *flags.Flag {
	if f.ReplacedBy == "" || (st != flags.Removed && st != flags.Deprecated) {
		return nil
	}
	r := comp.Flag(f.ReplacedBy)
	if r == nil {
		return nil
	}
	switch rs := r.StateAt(v); {
	case rs == flags.Current, st == flags.Removed && rs == flags.Deprecated:
		return r
	}
	return nil
}

// sameValues reports whether value, given to old, means the same to its replacement: a rename
// rather than a different setting (--container-runtime=remote is not a CRI endpoint).
func sameValues(old, rep *flags.Flag, value string) bool {
	if old.Type != rep.Type {
		return false
	}
	if len(old.Values) == 0 {
		return true
	}
	return len(rep.Values) > 0 && contains(rep.Values, value)
}

func invocationOrigin(inv *Invocation) Origin {
	if inv.ExecOption != nil {
		return inv.ExecOption.Origin
	}
	return Origin{File: inv.Name}
}

type addedFlag struct {
	fixArg
	why string
}

type todoNote struct{ flag, note string }

// serviceAccountFlags are the service-account flags a 1.20+ apiserver needs and args lacks. The
// signing key and the verification key are derived from each other's paths in the unit's own
// layout, and added only when the derived file exists under opt.FS; otherwise a todo says what
// to provide. The issuer gets the conventional in-cluster URL.
func serviceAccountFlags(args *Args, opt Options) ([]addedFlag, []todoNote) {
	var adds []addedFlag
	var todo []todoNote
	if !args.Has("service-account-issuer") {
		const issuer = "https://kubernetes.default.svc.cluster.local"
		adds = append(adds, addedFlag{fixArg{name: "service-account-issuer", raw: issuer, value: issuer},
			"required since 1.20; use your cluster's stable issuer URL"})
	}
	sign, hasSign := lastSetting(args, "service-account-signing-key-file")
	pub, hasPub := lastSetting(args, "service-account-key-file")
	const signTodo = "--service-account-signing-key-file is required since 1.20 and was not added: provide the private key the controller-manager's --service-account-private-key-file uses"
	switch {
	case hasSign && hasPub:
	case hasPub:
		raw := rawValue(pub)
		if strings.Contains(raw, ",") { // several verification keys: which one signs is the user's choice
			todo = append(todo, todoNote{"service-account-signing-key-file", signTodo + " (one of the keys in --service-account-key-file)"})
			break
		}
		if isPrivateKeyFile(opt.FS, pub.Value) {
			adds = append(adds, addedFlag{fixArg{name: "service-account-signing-key-file", raw: raw, value: pub.Value},
				"required since 1.20; --service-account-key-file is itself a private key, which verifies and signs"})
			break
		}
		for _, c := range signingKeyNames(raw, pub.Value) {
			if isPrivateKeyFile(opt.FS, c.value) {
				adds = append(adds, addedFlag{fixArg{name: "service-account-signing-key-file", raw: c.raw, value: c.value},
					"required since 1.20; the private key beside --service-account-key-file=" + raw})
				return adds, todo
			}
		}
		where := ""
		if names := signingKeyNames(raw, pub.Value); len(names) > 0 {
			where = fmt.Sprintf(", the private half of %s (e.g. %s, which does not exist under the inspected root)", raw, names[0].raw)
		}
		todo = append(todo, todoNote{"service-account-signing-key-file", signTodo + where})
	case hasSign:
		raw := rawValue(sign)
		adds = append(adds, addedFlag{fixArg{name: "service-account-key-file", raw: raw, value: sign.Value},
			"the signing key's public half verifies tokens; a private key file serves as its own verification key"})
	default:
		todo = append(todo, todoNote{"service-account-signing-key-file", signTodo + ", and --service-account-key-file, its public half (openssl rsa -in KEY -pubout)"})
	}
	return adds, todo
}

func lastSetting(args *Args, name string) (*Setting, bool) {
	ss := args.Lookup(name)
	if len(ss) == 0 {
		return nil, false
	}
	return ss[len(ss)-1], true
}

type pathPair struct{ raw, value string }

// signingKeyNames are the names the private key beside a public key or certificate has in the
// common layouts: kubeadm's sa.pub/sa.key, cfssl's X.pem/X-key.pem, X.crt/X.key.
func signingKeyNames(raw, value string) []pathPair {
	var out []pathPair
	ext := path.Ext(value)
	if path.Ext(raw) != ext {
		return nil // the extension comes from a variable: nothing to derive
	}
	for _, suffix := range map[string][]string{".pub": {".key"}, ".pem": {"-key.pem", ".key"}, ".crt": {".key"}}[ext] {
		out = append(out, pathPair{strings.TrimSuffix(raw, ext) + suffix, strings.TrimSuffix(value, ext) + suffix})
	}
	return out
}

// isPrivateKeyFile reports whether p (a node path) is a readable PEM private key under fsys.
func isPrivateKeyFile(fsys fs.FS, p string) bool {
	if fsys == nil || p == "" || !path.IsAbs(p) {
		return false
	}
	data, err := readFile(fsys, fsPath(p))
	if err != nil {
		return false
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			return true
		}
	}
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

func commentBlock(prefix string, changes []Change, remaining []Finding, v flags.Version) string {
	var b strings.Builder
	if len(remaining) > 0 {
		fmt.Fprintf(&b, "%shardway inspect --fix: changed for %s (%d change(s)); %d error(s) remain, listed last\n", prefix, v, len(changes), len(remaining))
	} else {
		fmt.Fprintf(&b, "%shardway inspect --fix: migrated to %s (%d change(s))\n", prefix, v, len(changes))
	}
	for _, c := range changes {
		mark := ""
		if c.Action == "todo" {
			mark = "TODO: "
		}
		fmt.Fprintf(&b, "%s  %s%s\n", prefix, mark, c.Note)
	}
	for _, f := range remaining {
		fmt.Fprintf(&b, "%s  still wrong (%s): %s\n", prefix, f.ID, f.Message)
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

func fixUnit(inv *Invocation, words []string, changes []Change, remaining []Finding, v flags.Version) (string, error) {
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
	repl := commentBlock("# ", changes, remaining, v) + "ExecStart=" + renderCommand(inv, words, inv.ExecPrefixes)
	out := append(append(append([]string{}, lines[:start]...), strings.Split(repl, "\n")...), lines[end:]...)
	header := ""
	if inv.Source.Name != inv.Unit.Files[0].Name {
		header = "# drop-in " + inv.Source.Name + " holds the effective ExecStart=\n"
	}
	return header + strings.Join(out, "\n"), nil
}

func fixManifest(inv *Invocation, words []string, changes []Change, remaining []Finding, v flags.Version) (string, error) {
	if k := inv.Pod.Kind; (k != "" && k != "Pod") || len(inv.Source.Data) == 0 {
		return "", fmt.Errorf("%s: --fix rewrites a static Pod manifest of one document; edit this container's command by hand, with the findings as a guide", inv.Name)
	}
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
	return commentBlock("# ", changes, remaining, v) + string(b), nil
}
