package inspect

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/units/flags"
)

// Kind is where an invocation was read from.
type Kind string

const (
	FromUnit     Kind = "unit"
	FromManifest Kind = "manifest"
	FromProcess  Kind = "process"
	FromCommand  Kind = "command"
)

// Invocation is one component's command line, wherever it came from.
type Invocation struct {
	// Name identifies the input: a file path, "pid 42", "-" for standard input, plus the
	// container name for manifests.
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Binary is argv[0] as given.
	Binary string `json:"binary"`
	// Component is the recognised component ("kube-apiserver", "etcd", ...), or "" when the
	// binary is not one hardway knows.
	Component string `json:"component"`
	// Args are the arguments after the binary (and after "etcd" for hardway etcd).
	Args []Word `json:"args"`
	// Problems are issues met while reading the input (unit syntax, variables, several
	// ExecStart=): findings with only their rule ID, message and origin, which Inspect
	// completes.
	Problems []Finding `json:"-"`

	// Unit is set for units: --fix rewrites the file that holds the effective ExecStart=.
	Unit *Unit `json:"-"`
	// ExecPrefixes are the ExecStart= prefixes (@, -, :, +, !).
	ExecPrefixes string `json:"-"`
	// ExecOption is the effective ExecStart= setting of a unit.
	ExecOption *UnitOption `json:"-"`
	// Pod and Container are set for manifests.
	Pod       *corev1.Pod `json:"-"`
	Container int         `json:"-"`
	// Source is the original text, for --fix.
	Source File `json:"-"`
	// Wrapper is the program the component was started through ("go-runner", "sh -c"), or ""
	// (see unwrap); Binary and Args are then the wrapped command's.
	Wrapper string `json:"wrapper,omitempty"`
}

// hardwayComponents are hardway's own implementations of upstream components, which take the
// upstream flag names. hardway's own programs, which have no upstream (hardway routes), are in
// the catalogue with their subcommand.
var hardwayComponents = map[string]string{"etcd": "etcd"}

// Recognize returns the component a command line runs, and how many leading arguments belong
// to the binary rather than to the component (1 for "hardway etcd" and "hardway routes").
func Recognize(cat *flags.Catalogue, binary string, args []string) (component string, skip int) {
	base := path.Base(binary)
	if base == "hardway" && len(args) > 0 {
		if c := hardwayComponents[args[0]]; c != "" {
			return c, 1
		}
		if c := cat.ForSubcommand(args[0]); c != nil {
			return c.Name, 1
		}
	}
	if base == "hyperkube" && len(args) > 0 { // hyperkube kube-apiserver --flags
		if c := cat.ForBinary(args[0]); c != nil {
			return c.Name, 1
		}
	}
	if c := cat.ForBinary(base); c != nil {
		return c.Name, 0
	}
	return "", 0
}

func newInvocation(cat *flags.Catalogue, name string, kind Kind, argv []Word) *Invocation {
	inv := &Invocation{Name: name, Kind: kind}
	if len(argv) == 0 {
		inv.Problems = append(inv.Problems, Finding{ID: "input-no-command", Message: "no command line found", Origin: Origin{File: name}})
		return inv
	}
	wrapper := argv[0].Value
	argv, probs, ok := unwrap(cat, argv)
	inv.Problems = append(inv.Problems, probs...)
	if !ok {
		inv.Binary = argv[0].Value
		return inv
	}
	if argv[0].Value != wrapper {
		inv.Wrapper = path.Base(wrapper)
		if shells[inv.Wrapper] {
			inv.Wrapper += " -c"
		}
	}
	inv.Binary = argv[0].Value
	rest := make([]string, 0, len(argv)-1)
	for _, w := range argv[1:] {
		rest = append(rest, w.Value)
	}
	comp, skip := Recognize(cat, inv.Binary, rest)
	inv.Component = comp
	inv.Args = argv[1+skip:]
	if comp == "" {
		inv.Problems = append(inv.Problems, Finding{ID: "input-unknown-component",
			Message: fmt.Sprintf("%s is not a component hardway knows (%s)", path.Base(inv.Binary), knownComponents(cat)),
			Origin:  argv[0].Origin})
	}
	return inv
}

// knownComponents lists what Recognize recognizes: the catalogue's components, then hardway's
// own implementations.
func knownComponents(cat *flags.Catalogue) string {
	var names []string
	for _, c := range cat.Components {
		names = append(names, c.Name) // hardway's own programs are named "hardway <sub>"
	}
	for _, sub := range slices.Sorted(maps.Keys(hardwayComponents)) {
		names = append(names, "hardway "+sub)
	}
	return strings.Join(names, ", ")
}

// FromUnitFile builds the invocation of a loaded unit's effective ExecStart=.
func FromUnitFile(cat *flags.Catalogue, u *Unit) (*Invocation, error) {
	if len(u.ExecStart) == 0 {
		return nil, fmt.Errorf("%s: no ExecStart= in [Service] (after drop-ins); is this the right unit?", u.Name)
	}
	eff := u.ExecStart[len(u.ExecStart)-1]
	cmd, err := ParseExec(eff.Value, u.Env, path.Base(u.Name), eff.Origin)
	if err != nil {
		return nil, fmt.Errorf("%s: ExecStart=: %w", eff.Origin, err)
	}
	inv := newInvocation(cat, u.Name, FromUnit, cmd.Argv)
	inv.Unit, inv.ExecPrefixes, inv.ExecOption = u, cmd.Prefixes, &eff
	if inv.Component == "etcd" {
		inv.Args = append(inv.Args, etcdEnvArgs(cat.Component("etcd"), inv.Args, u.Env, eff.Origin)...)
	}
	for _, f := range u.Files {
		if f.Name == eff.Origin.File {
			inv.Source = f
		}
	}
	if len(u.ExecStart) > 1 {
		inv.Problems = append(inv.Problems, Finding{ID: "unit-multiple-execstart",
			Message: fmt.Sprintf("%d ExecStart= lines are in effect; systemd refuses more than one for Type=simple/notify services (%s)", len(u.ExecStart), u.ExecStart[0].Origin),
			Origin:  eff.Origin})
	}
	if len(cmd.Extra) > 0 {
		inv.Problems = append(inv.Problems, Finding{ID: "unit-multiple-execstart",
			Message: "ExecStart= holds a second command after ';'; only the first is inspected", Origin: eff.Origin})
	}
	for _, p := range u.EnvProblems {
		inv.Problems = append(inv.Problems, Finding{ID: "unit-environment", Message: p, Origin: eff.Origin})
	}
	for _, w := range cmd.Dropped {
		name := w.Unresolved[0]
		msg := fmt.Sprintf("$%s stands alone and is not defined by Environment= or EnvironmentFile=; systemd passes no argument in its place (unless the manager's DefaultEnvironment= defines it)", name)
		if !envName.MatchString(name) {
			msg = fmt.Sprintf("%q stands alone and starts with $, but %q is not a variable name; systemd drops the word: no argument is passed (write $$ for a literal dollar, or ${NAME} inside a word)", w.Raw, name)
		}
		inv.Problems = append(inv.Problems, Finding{ID: "unit-unresolved-variable", Message: msg, Origin: w.Origin})
	}
	for _, w := range cmd.Argv {
		for _, v := range w.Unresolved {
			inv.Problems = append(inv.Problems, Finding{ID: "unit-unresolved-variable", Message: unsetVariableMessage(v, w), Origin: w.Origin})
		}
		if strings.HasSuffix(inv.Wrapper, " -c") {
			continue // in a shell script, $VAR is the shell's: systemd passes it on and the shell expands it (input-wrapper-runtime)
		}
		for _, v := range w.Unbraced {
			inv.Problems = append(inv.Problems, Finding{ID: "unit-unbraced-variable",
				Message: fmt.Sprintf("$%s inside %q is passed on literally: systemd expands only ${%s} inside a word, or $%s standing alone", v, w.Raw, v, v),
				Origin:  w.Origin})
		}
	}
	return inv, nil
}

// unsetVariableMessage says what systemd does with an unset ${NAME} inside a word
// (systemd.service(5), "Command lines"): it becomes the empty string and the word stays. A
// $NAME standing alone becomes no word at all; ParseExec lists those in Dropped.
func unsetVariableMessage(name string, w Word) string {
	return fmt.Sprintf("${%s} is not defined by Environment= or EnvironmentFile=; systemd substitutes an empty string, so %q is passed as %q", name, w.Raw, strings.ReplaceAll(w.Value, "${"+name+"}", ""))
}

// workloadKinds are the kinds whose pod template ParseManifest reads, and where the template is.
var workloadKinds = map[string]string{
	"DaemonSet": "spec.template", "Deployment": "spec.template", "StatefulSet": "spec.template",
	"ReplicaSet": "spec.template", "ReplicationController": "spec.template", "Job": "spec.template",
	"CronJob": "spec.jobTemplate.spec.template",
}

// workload is what ParseManifest decodes of one YAML document: a Pod's spec, or a workload's
// pod template.
type workload struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		corev1.PodSpec `json:",inline"`
		Template       *corev1.PodTemplateSpec `json:"template"`
		JobTemplate    *struct {
			Spec struct {
				Template *corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

// ParseManifest reads a manifest — a static Pod, or the pod template of a DaemonSet,
// Deployment, StatefulSet, ReplicaSet, ReplicationController, Job or CronJob; several
// documents separated by "---" are read in turn — and returns one invocation per container
// that runs a known component (command + args, as the kubelet would exec them; with args
// alone, the image's ENTRYPOINT receives them: the official images' go-runner runs them as a
// command). Documents of other kinds (a ConfigMap, a Service) are skipped.
func ParseManifest(cat *flags.Catalogue, f File) ([]*Invocation, error) {
	var docs []yamlDoc
	for _, d := range splitYAMLDocuments(f.Data) {
		if len(bytes.TrimSpace(d.data)) > 0 {
			docs = append(docs, d)
		}
	}
	lines := strings.Split(string(f.Data), "\n")
	var out []*Invocation
	var kinds []string
	for _, d := range docs {
		var w workload
		if err := yaml.Unmarshal(d.data, &w); err != nil {
			return nil, fmt.Errorf("%s:%d: not a Pod or workload manifest: %w", f.Name, d.line, err)
		}
		pod := corev1.Pod{Spec: w.Spec.PodSpec}
		pod.Kind, pod.Name = w.Kind, w.Metadata.Name
		switch {
		case w.Kind == "" || w.Kind == "Pod":
			pod = corev1.Pod{} // all of it, for --fix to write back
			if err := yaml.Unmarshal(d.data, &pod); err != nil {
				return nil, fmt.Errorf("%s:%d: not a Pod manifest: %w", f.Name, d.line, err)
			}
		case workloadKinds[w.Kind] != "":
			t := w.Spec.Template
			if w.Kind == "CronJob" && w.Spec.JobTemplate != nil {
				t = w.Spec.JobTemplate.Spec.Template
			}
			if t == nil {
				return nil, fmt.Errorf("%s:%d: %s %s has no %s", f.Name, d.line, w.Kind, w.Metadata.Name, workloadKinds[w.Kind])
			}
			pod.ObjectMeta, pod.Spec = t.ObjectMeta, t.Spec
		default:
			kinds = append(kinds, w.Kind)
			continue
		}
		label := f.Name
		if w.Kind != "" && w.Kind != "Pod" {
			label += " (" + w.Kind + " " + w.Metadata.Name + ")"
		}
		for i, c := range pod.Spec.Containers {
			all := append(append([]string{}, c.Command...), c.Args...)
			if len(all) == 0 {
				continue
			}
			argv := make([]Word, len(all))
			at := d.line
			env, anyFrom := containerEnv(&pod.Spec.Containers[i])
			var undefinedProblems []Finding
			for j, a := range all {
				ln := findLine(lines, a, at)
				if ln > 0 {
					at = ln
				}
				o := Origin{File: f.Name, Line: ln}
				v, refs, undefined := expandKube(a, env, anyFrom)
				argv[j] = Word{Value: v, Raw: a, RunTime: refs, Origin: o}
				for _, u := range undefined {
					undefinedProblems = append(undefinedProblems, Finding{ID: "manifest-undefined-variable", Origin: o,
						Message: fmt.Sprintf("$(%s) is not defined in container %s's env; the kubelet passes %q on literally (define it under env:, or write $$(%s) for a literal)", u, c.Name, "$("+u+")", u)})
				}
			}
			inv := newInvocation(cat, label+" ("+c.Name+")", FromManifest, argv)
			inv.Problems = append(inv.Problems, undefinedProblems...)
			if inv.Component == "" && (len(pod.Spec.Containers) > 1 || len(docs) > 1) && inv.Wrapper == "" && !hasID(inv.Problems, "input-wrapper") {
				continue
			}
			p := pod
			inv.Pod, inv.Container, inv.Source = &p, i, f
			if len(docs) > 1 {
				inv.Source = File{Name: f.Name} // --fix rewrites a file of one document only
			}
			out = append(out, inv)
		}
	}
	if len(out) == 0 {
		if len(kinds) > 0 {
			return nil, fmt.Errorf("%s: no Pod or pod template (kinds %s); want a static Pod, DaemonSet, Deployment, StatefulSet, ReplicaSet, Job or CronJob", f.Name, strings.Join(kinds, ", "))
		}
		return nil, fmt.Errorf("%s: no container with a command line", f.Name)
	}
	return out, nil
}

func hasID(fs []Finding, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

type yamlDoc struct {
	data []byte
	line int // 1-based line the document starts on
}

// splitYAMLDocuments splits a YAML stream at its "---" separator lines.
func splitYAMLDocuments(data []byte) []yamlDoc {
	var docs []yamlDoc
	var cur bytes.Buffer
	start := 1
	for n, l := range strings.SplitAfter(string(data), "\n") {
		if t := strings.TrimRight(l, " \t\r\n"); t == "---" || strings.HasPrefix(t, "--- ") {
			docs = append(docs, yamlDoc{data: bytes.Clone(cur.Bytes()), line: start})
			cur.Reset()
			start = n + 2
			continue
		}
		cur.WriteString(l)
	}
	return append(docs, yamlDoc{data: cur.Bytes(), line: start})
}

// findLine returns the 1-based line, at or after line from (1-based, 0 for the start), that
// holds s as a YAML list item or scalar; 0 when none does.
func findLine(lines []string, s string, from int) int {
	start := from - 1
	if start < 0 {
		start = 0
	}
	for i := start; i < len(lines); i++ {
		if strings.Contains(lines[i], s) {
			return i + 1
		}
	}
	return 0
}

// ParseProcCmdline parses /proc/<pid>/cmdline (NUL-separated argv).
func ParseProcCmdline(cat *flags.Catalogue, pid int, data []byte) *Invocation {
	data = bytes.TrimRight(data, "\x00")
	var argv []Word
	name := "pid " + strconv.Itoa(pid)
	if len(data) > 0 {
		for _, a := range bytes.Split(data, []byte{0}) {
			argv = append(argv, Word{Value: string(a), Raw: string(a), Origin: Origin{File: name}})
		}
	}
	return newInvocation(cat, name, FromProcess, argv)
}

// ParseCommand parses a plain command line (as a shell or ExecStart= would see it, backslash
// continuations allowed), e.g. pasted on standard input.
func ParseCommand(cat *flags.Catalogue, f File) (*Invocation, error) {
	cmd, err := ParseExec(string(f.Data), nil, "", Origin{File: f.Name, Line: 1})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	inv := newInvocation(cat, f.Name, FromCommand, cmd.Argv)
	inv.Source = f
	return inv, nil
}

// Detect tells what kind of text f holds: a unit, a manifest, or a plain command line.
func Detect(f File) Kind {
	t := string(f.Data)
	switch {
	case strings.Contains(t, "[Service]") || strings.Contains(t, "\nExecStart=") || strings.HasPrefix(t, "ExecStart="):
		return FromUnit
	case strings.Contains(t, "kind: Pod") || strings.Contains(t, "\"kind\": \"Pod\"") || strings.Contains(t, "containers:"):
		return FromManifest
	}
	return FromCommand
}

// etcdEnvArgs returns, as --flag=value words after the command line, the settings etcd takes
// from its environment: for every flag not on the command line, a non-empty ETCD_<FLAG>
// variable (upper case, dashes as underscores) sets it, and none does when --config-file is
// given (go.etcd.io/etcd/pkg/v3/flags SetFlagsFromEnv, called by server/etcdmain/config.go
// with the prefix "ETCD"). Installers such as kubespray start etcd with no flags at all and
// every setting in an EnvironmentFile=.
func etcdEnvArgs(comp *flags.Component, args []Word, env map[string]string, at Origin) []Word {
	if comp == nil || len(env) == 0 {
		return nil
	}
	given := map[string]bool{}
	for _, s := range ParseArgs(comp, args).Settings {
		given[s.Name] = true
	}
	if given["config-file"] {
		return nil
	}
	var out []Word
	for _, f := range comp.Flags {
		key := "ETCD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := env[key]
		if v == "" || given[f.Name] {
			continue
		}
		out = append(out, Word{Value: "--" + f.Name + "=" + v, Raw: "--" + f.Name + "=" + v, FromEnv: key, Origin: at})
	}
	return out
}
