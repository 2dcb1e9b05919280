package preflight

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/units/bundle"
)

// Env is the machine as the checks read it. Host is the real one; tests fake it.
type Env interface {
	// ReadKernelFile reads a file of the running kernel: /proc/sys/..., /proc/swaps.
	ReadKernelFile(name string) ([]byte, error)
	// Listen listens on the TCP address host:port and closes the listener at once. The error
	// wraps syscall.EADDRINUSE when the port is taken and names the holder where it can.
	Listen(addr string) error
	// StatProgram returns the file info of the program at an absolute path, as the systemd
	// manager that starts the unit would find it (links followed).
	StatProgram(path string) (fs.FileInfo, error)
	// RunProgram runs the program with args and returns what it wrote (stdout and stderr).
	RunProgram(ctx context.Context, path string, args ...string) ([]byte, error)
	// Running reports whether systemd runs the unit (active, activating or reloading).
	Running(ctx context.Context, unit string) (bool, error)
}

// Finding is the outcome of one check for one subject: a problem.Problem (Info when the check
// passed) under the check's name, which --ignore-preflight-errors takes.
type Finding struct {
	// Check names the check and its subject: "IPForward", "Port-2379", "Program-kubelet".
	Check string
	problem.Problem
	// Ignored marks an error turned into a warning by Options.Ignore.
	Ignored bool
}

func (f Finding) String() string {
	sev := f.Severity.String()
	if f.Severity == problem.Info {
		sev = "ok"
	}
	if f.Ignored {
		sev = "ignored error"
	}
	return fmt.Sprintf("[%s] %s: %s", sev, f.Check, f.Problem.String())
}

// Options change how Run judges what it finds.
type Options struct {
	// Ignore names the checks whose errors are warnings ("Port-2379", "Swap"; any case), or
	// "all".
	Ignore []string
	// Components are the rows the checks know; nil is the package's Components.
	Components []Component
}

// Report is every finding of a run, in check order.
type Report struct {
	Findings []Finding
}

// Errors are the findings that stop a launch.
func (r *Report) Errors() []Finding { return r.with(problem.Error) }

// Warnings are the findings that do not, ignored errors among them.
func (r *Report) Warnings() []Finding { return r.with(problem.Warning) }

func (r *Report) with(s problem.Severity) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == s {
			out = append(out, f)
		}
	}
	return out
}

// Err is nil when no error remains, else an *Error listing each.
func (r *Report) Err() error {
	if errs := r.Errors(); len(errs) > 0 {
		return &Error{Findings: errs}
	}
	return nil
}

// Describe writes the findings, one a line; the checks that passed only when all is set.
func (r *Report) Describe(w io.Writer, all bool) {
	for _, f := range r.Findings {
		if all || f.Severity != problem.Info {
			fmt.Fprintf(w, "preflight %s\n", f)
		}
	}
}

// Error is the errors preflight found; its message lists each and how to go on anyway.
type Error struct{ Findings []Finding }

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "preflight found %d error(s); nothing was installed or started:", len(e.Findings))
	names := make([]string, 0, len(e.Findings))
	for _, f := range e.Findings {
		b.WriteString("\n  [" + f.Check + "] " + f.Problem.String())
		if !slices.Contains(names, f.Check) {
			names = append(names, f.Check)
		}
	}
	fmt.Fprintf(&b, "\nfix them, or launch anyway with --ignore-preflight-errors=%s", strings.Join(names, ","))
	return b.String()
}

// Unit is one unit of the bundle as the checks see it: its ExecStart split into program and
// arguments, and its row when Components has one.
type Unit struct {
	bundle.Unit
	// Program is ExecStart's program, an absolute path; Args the words after it.
	Program string
	Args    []string
	// Component is the unit's row; nil for a unit no row describes.
	Component *Component
}

// Flag returns the value of --name=value among the unit's arguments.
func (u *Unit) Flag(name string) (string, bool) {
	for _, a := range u.Args {
		if v, found := strings.CutPrefix(a, "--"+name+"="); found {
			return v, true
		}
	}
	return "", false
}

// Node is what the checks read of the bundle.
type Node struct {
	Bundle *bundle.Bundle
	Units  []Unit
}

// File returns the content of the bundle's file at node path p.
func (n *Node) File(p string) ([]byte, bool) {
	f, ok := n.Bundle.File(p)
	if !ok || f.Kind == bundle.KindDirectory {
		return nil, false
	}
	return f.Data, true
}

// PodNetwork reports whether a unit of the node runs pods (a kubelet).
func (n *Node) PodNetwork() *Unit {
	for i, u := range n.Units {
		if u.Component != nil && u.Component.PodNetwork {
			return &n.Units[i]
		}
	}
	return nil
}

// NewNode reads the units of b: each unit file's ExecStart, matched to its row of comps.
func NewNode(b *bundle.Bundle, comps []Component) (*Node, error) {
	n := &Node{Bundle: b}
	for _, bu := range b.Units {
		u := Unit{Unit: bu}
		for i := range comps {
			if comps[i].Unit == bu.Name {
				u.Component = &comps[i]
			}
		}
		f, ok := b.File(bu.UnitPath())
		if !ok {
			return nil, fmt.Errorf("preflight: %s: the bundle has no unit file %s", bu.Name, bu.UnitPath())
		}
		opts, err := unit.DeserializeOptions(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fmt.Errorf("preflight: %s: %w", bu.UnitPath(), err)
		}
		for _, o := range opts {
			if o.Section == "Service" && o.Name == "ExecStart" {
				// The bundle policy holds unit files to the renderer's form: plain words, a
				// backslash-newline between flags.
				words := strings.Fields(strings.ReplaceAll(o.Value, "\\\n", " "))
				if len(words) > 0 {
					u.Program, u.Args = strings.TrimLeft(words[0], "@-:+!"), words[1:]
				}
			}
		}
		n.Units = append(n.Units, u)
	}
	return n, nil
}

// Check is one check: a pure function of the node and the machine.
type Check func(ctx context.Context, n *Node, env Env) []Finding

// Checks run in this order.
var Checks = []Check{IPForward, BridgeNetfilter, Swap, Ports, Programs, Runtime}

// Run runs every check on b and applies opt.Ignore. The report holds every finding; its Err
// the errors that remain.
func Run(ctx context.Context, env Env, b *bundle.Bundle, opt Options) (*Report, error) {
	comps := opt.Components
	if comps == nil {
		comps = Components
	}
	n, err := NewNode(b, comps)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, c := range Checks {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Findings = append(rep.Findings, c(ctx, n, env)...)
	}
	ignoreAll := slices.ContainsFunc(opt.Ignore, func(s string) bool { return strings.EqualFold(s, "all") })
	for i, f := range rep.Findings {
		if f.Severity == problem.Error && (ignoreAll || slices.ContainsFunc(opt.Ignore, func(s string) bool { return strings.EqualFold(s, f.Check) })) {
			rep.Findings[i].Severity, rep.Findings[i].Ignored = problem.Warning, true
		}
	}
	return rep, nil
}

// name is a check's subject in a check name: a unit without ".service".
func name(unitName string) string { return strings.TrimSuffix(unitName, path.Ext(unitName)) }

func ok(check, where, format string, a ...any) Finding {
	return Finding{Check: check, Problem: problem.Problem{Severity: problem.Info, Where: where, Message: fmt.Sprintf(format, a...)}}
}

func fail(check, where, fix, format string, a ...any) Finding {
	return Finding{Check: check, Problem: problem.Errorf(where, fix, format, a...)}
}

func warn(check, where, fix, format string, a ...any) Finding {
	return Finding{Check: check, Problem: problem.Warningf(where, fix, format, a...)}
}
