package inspect

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/units/flags"
)

// Severity orders findings: an error means the component will not start or is open to
// attack; a warning, that it should change; info, worth knowing. It is the severity of every
// problem hardway reports (internal/problem).
type Severity = problem.Severity

const (
	Info    = problem.Info
	Warning = problem.Warning
	Error   = problem.Error
)

// ParseSeverity parses "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) { return problem.ParseSeverity(s) }

// Finding is one thing wrong (or worth knowing) about an input. It says what a problem.Problem
// says (severity, message, fix) and more, as a rule engine needs: the rule's stable ID, the input
// and component, and instead of one Where string the flag and the origin as file and line, which
// -o json publishes and --fix uses.
type Finding struct {
	// ID is the rule's stable identifier, e.g. flag-removed.
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Input names the invocation it concerns ("" for cross-component findings).
	Input     string `json:"input,omitempty"`
	Component string `json:"component,omitempty"`
	Flag      string `json:"flag,omitempty"`
	Message   string `json:"message"`
	Fix       string `json:"fix,omitempty"`
	Origin    Origin `json:"origin"`
	// SuppressedBy is the suppression that accepted this finding (set only on findings in
	// Result.Suppressed and Report.CrossSuppressed).
	SuppressedBy *Suppression `json:"suppressedBy,omitempty"`
}

// Options set what Inspect checks against.
type Options struct {
	Catalogue *flags.Catalogue
	// Target is the Kubernetes minor version to check against; zero means the newest the
	// catalogue covers. EtcdTarget likewise for etcd, ContainerdTarget for containerd (whose
	// releases are its own, not Kubernetes'). hardway's own programs (hardway routes) have no
	// target: they change with hardway.
	Target           flags.Version
	EtcdTarget       flags.Version
	ContainerdTarget flags.Version
	// Now is the time certificates are checked at; WarnWithin how close to expiry warns.
	Now        time.Time
	WarnWithin time.Duration
	// FS is where the paths in flags are read (the node's root, or --root). Nil skips every
	// file check.
	FS fs.FS
	// Ignore suppresses every finding of these rule IDs, on every input (rule ID to reason):
	// hardway inspect --ignore. Comments in the inputs suppress per input (Suppression).
	Ignore map[string]string
	// NodeRoot says FS is certainly the inspected node's root (`inspect --root`): a --config
	// file missing there is missing on the node. Without it, a missing --config file may only
	// be missing here (a unit inspected away from its node), and the checks that depend on the
	// file say they could not be judged instead of assuming the command-line defaults. A
	// running process (--pid) is always on this node.
	NodeRoot bool
}

// Result is the inspection of one invocation.
type Result struct {
	Invocation *Invocation `json:"input"`
	Target     string      `json:"targetVersion"`
	Flags      []FlagRow   `json:"flags"`
	// Settings are what inspect read from the component's own configuration files beyond its
	// flags (containerd's config.toml and the CNI configuration), with what each means.
	Settings []SettingRow `json:"settings,omitempty"`
	Findings []Finding    `json:"findings"`
	// Suppressed are the findings a suppression accepted, each with its SuppressedBy; they
	// count for no severity and no exit status.
	Suppressed []Finding `json:"suppressed,omitempty"`
}

// SettingRow is one setting read from a configuration file.
type SettingRow struct {
	File    string `json:"file"`
	Setting string `json:"setting"`
	Value   string `json:"value"`
	Meaning string `json:"meaning"`
}

// FlagRow is one line of the flag table.
type FlagRow struct {
	Flag       string   `json:"flag"`
	Value      string   `json:"value"`
	Origin     string   `json:"origin"`
	Meaning    string   `json:"meaning"`
	State      string   `json:"state"`
	Unresolved []string `json:"unresolved,omitempty"`
}

// Report is the inspection of every input plus the cross-component findings.
type Report struct {
	Results []*Result `json:"results"`
	Cross   []Finding `json:"crossComponent"`
	// CrossSuppressed are the cross-component findings a suppression accepted.
	CrossSuppressed []Finding `json:"crossComponentSuppressed,omitempty"`
}

// All returns every finding that is not suppressed, per input then cross-component.
func (r *Report) All() []Finding {
	var out []Finding
	for _, res := range r.Results {
		out = append(out, res.Findings...)
	}
	return append(out, r.Cross...)
}

// Suppressed returns every suppressed finding, per input then cross-component.
func (r *Report) Suppressed() []Finding {
	var out []Finding
	for _, res := range r.Results {
		out = append(out, res.Suppressed...)
	}
	return append(out, r.CrossSuppressed...)
}

// Count returns how many findings that are not suppressed are at or above sev.
func (r *Report) Count(sev Severity) int {
	n := 0
	for _, f := range r.All() {
		if f.Severity >= sev {
			n++
		}
	}
	return n
}

// checked is one invocation under inspection.
type checked struct {
	inv        *Invocation
	comp       *flags.Component
	args       *Args
	version    flags.Version
	opt        *Options
	files      *fileCache
	kubelet    *kubeletConfig
	proxyRefs  []fileRef // the files kube-proxy's --config names (proxyConfigRefs)
	containerd *containerdConfig
	// node is the kubelet's effective cgroup driver and CRI socket, for the cross checks.
	node *kubeletNode
	rows []SettingRow
	out  []Finding
}

// accepts reports whether the component at the target version has the flag (added and not removed).
func (c *checked) accepts(flag string) bool {
	f := c.comp.Flag(flag)
	if f == nil {
		return false
	}
	st := f.StateAt(c.version)
	return st != flags.NotYetAdded && st != flags.Removed
}

func (c *checked) add(id string, flag string, origin Origin, fix string, format string, a ...any) {
	r, ok := ruleIndex[id]
	if !ok {
		panic("inspect: finding with unregistered rule " + id)
	}
	if origin == (Origin{}) {
		origin = c.originOf("")
	}
	c.out = append(c.out, Finding{ID: id, Severity: r.Severity, Input: c.inv.Name, Component: c.inv.Component,
		Flag: flag, Message: fmt.Sprintf(format, a...), Fix: fix, Origin: origin})
}

// originOf is where the flag was written, or the invocation when it was not given.
func (c *checked) originOf(name string) Origin {
	if ss := c.args.Lookup(name); len(ss) > 0 {
		return ss[len(ss)-1].Origin()
	}
	if c.inv.ExecOption != nil {
		return c.inv.ExecOption.Origin
	}
	return Origin{File: c.inv.Name}
}

// Inspect checks every invocation and the relations between them.
func Inspect(invs []*Invocation, opt Options) *Report {
	if opt.Catalogue == nil {
		opt.Catalogue = flags.Default()
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	fc := newFileCache(opt.FS)
	rep := &Report{}
	var all []*checked
	for _, inv := range invs {
		c := &checked{inv: inv, opt: &opt, files: fc, comp: opt.Catalogue.Component(inv.Component)}
		c.args = ParseArgs(c.comp, inv.Args)
		if c.comp != nil {
			c.version = opt.targetFor(c.comp)
		}
		for _, p := range append(append([]Finding{}, inv.Problems...), c.args.Problems...) {
			c.add(p.ID, "", p.Origin, problemFix[p.ID], "%s", p.Message)
		}
		if c.comp != nil {
			for _, check := range checks {
				check(c)
			}
		}
		sups, bad := suppressionsOf(inv)
		for _, p := range bad {
			c.add(p.ID, "", p.Origin, "Write \"# hardway-inspect: ignore <rule-id> <reason>\" with a rule ID from 'hardway inspect' output or docs/inspect-rules.md.", "%s", p.Message)
		}
		c.out = oneVoice(c.out)
		sortFindings(c.out)
		kept, suppressed := applySuppressions(c.out, sups, opt.Ignore)
		rep.Results = append(rep.Results, &Result{Invocation: inv, Target: c.version.String(), Flags: flagRows(c), Settings: c.rows, Findings: kept, Suppressed: suppressed})
		all = append(all, c)
	}
	rep.Cross = crossChecks(all, &opt)
	sortFindings(rep.Cross)
	rep.Cross, rep.CrossSuppressed = suppressCross(rep.Cross, invs, opt.Ignore)
	return rep
}

// targetFor is the version comp is checked against: the target of its release line, or the
// newest the catalogue covers when none is set or the target belongs to another line; zero for
// hardway's own programs.
func (o *Options) targetFor(comp *flags.Component) flags.Version {
	if comp.Subcommand != "" {
		return flags.Version{}
	}
	v := o.Target
	switch comp.Name {
	case "etcd":
		v = o.EtcdTarget
	case "containerd":
		v = o.ContainerdTarget
	}
	if v.IsZero() || v.Major() < comp.Oldest.Major() || v.Major() > comp.Newest.Major() {
		return comp.Newest
	}
	return v
}

var problemFix = map[string]string{
	"flag-single-dash":         "Use two dashes.",
	"flag-unknown":             "Delete the word, or write the flag's name after the dashes.",
	"flag-missing-value":       "Give the flag a value, or delete it.",
	"unit-multiple-execstart":  "Start a drop-in's override with an empty ExecStart= line, so it replaces the original instead of adding to it.",
	"unit-unresolved-variable": "Define the variable with Environment= or in the EnvironmentFile=, or write the value.",
	"unit-unbraced-variable":   "Write ${NAME} instead of $NAME.",
	"unit-environment":         "Fix or create the environment file, or prefix its path with - if it is optional.",
	"input-no-command":         "Point hardway inspect at the unit, manifest or process that runs the component.",
	"input-unknown-component":  "Inspect one of the supported components.",
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity > fs[j].Severity
		}
		if fs[i].ID != fs[j].ID {
			return fs[i].ID < fs[j].ID
		}
		return fs[i].Flag < fs[j].Flag
	})
}

func flagRows(c *checked) []FlagRow {
	rows := make([]FlagRow, 0, len(c.args.Settings))
	for _, s := range c.args.Settings {
		row := FlagRow{Flag: "--" + s.Name, Value: s.Value, Origin: s.Origin().String(), Unresolved: s.Unresolved}
		if s.Dashes == 1 {
			row.Flag = "-" + s.Name
		}
		if s.Bare {
			row.Value = "(true)"
		}
		if s.Flag != nil {
			row.Meaning = s.Flag.Meaning
			row.State = s.Flag.StateAt(c.version).String()
		} else {
			row.State = "unknown"
		}
		if s.Flag != nil && isSecretFlag(s.Flag) && s.Flag.File == flags.NoFile {
			row.Value = "(redacted)"
		}
		rows = append(rows, row)
	}
	for _, p := range c.args.Positional {
		rows = append(rows, FlagRow{Flag: "(argument)", Value: p.Value, Origin: p.Origin.String(), State: "positional"})
	}
	return rows
}

// isSecretFlag: values that are secrets themselves, never printed.
func isSecretFlag(f *flags.Flag) bool {
	return strings.Contains(f.Name, "password")
}

// oneVoice keeps one voice per fact about a flag: when a flag draws an error at an origin (the
// binary exits on its value, or it is insecure), a flag-noop finding there, which would say the
// flag has no effect, contradicts it and is dropped; its advice moves to the error's fix when
// that has none. A deprecation is another fact and stays.
func oneVoice(fs []Finding) []Finding {
	type key struct {
		flag   string
		origin Origin
	}
	strongest := map[key]int{}
	for i, f := range fs {
		if f.Flag == "" || f.Severity < Error {
			continue
		}
		if _, ok := strongest[key{f.Flag, f.Origin}]; !ok {
			strongest[key{f.Flag, f.Origin}] = i
		}
	}
	drop := make([]bool, len(fs))
	for j, f := range fs {
		if f.ID == "flag-noop" {
			if i, ok := strongest[key{f.Flag, f.Origin}]; ok {
				if fs[i].Fix == "" {
					fs[i].Fix = f.Fix
				}
				drop[j] = true
			}
		}
	}
	out := fs[:0:0]
	for j, f := range fs {
		if !drop[j] {
			out = append(out, f)
		}
	}
	return out
}
