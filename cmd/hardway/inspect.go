package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/internal/duration"
	"github.com/hardway-dev/hardway/units/flags"
	"github.com/hardway-dev/hardway/units/inspect"
)

func init() { register(newInspectCmd) }

type inspectFlags struct {
	pids             []int
	services         []string
	socket           string
	root             string
	target           string
	etcdTarget       string
	containerdTarget string
	warnWithin       duration.Duration
	output           string
	failOn           string
	fix              bool
	ignore           []string
}

func newInspectCmd(g *globals) *cobra.Command {
	var f inspectFlags
	cmd := &cobra.Command{
		Use:   "inspect [FILE|DIR|-]... [--pid N] [--service NAME]",
		Short: "Explain a component's flags and find what is wrong with them",
		Long: `inspect reads the command line of kube-apiserver, etcd, kube-controller-manager,
kube-scheduler, kubelet, kube-proxy, containerd, 'hardway etcd' or 'hardway routes' from a
systemd unit (with its <unit>.d/*.conf drop-ins and Environment=/EnvironmentFile= variables), a
static-pod manifest, a running process (--pid), a loaded unit (--service) or standard input (-).
It prints every flag with its value, where it was set and what it means, and the settings that
matter from the files some flags name (containerd's config.toml and the CNI network it loads,
the pod-routes file), then the findings: flags and admission plugins removed or deprecated by
--target-version, malformed values, insecure settings (in the spirit of the CIS Kubernetes
Benchmark), deliberate host settings explained (the cgroupfs driver, cgroup v1 allowed,
restrict_oom_score_adj), problems with the certificates and keys the flags point at, and
disagreements between the components given together, such as the kubelet's cgroup driver and
containerd's (a directory inspects every unit and manifest in it; --root DIR alone inspects
DIR/etc/systemd/system and DIR/etc/kubernetes/manifests, e.g. a bundle's nodes/<node>).

A finding can be accepted on purpose: a comment line "# hardway-inspect: ignore <rule-id> <reason>"
in the unit (or a drop-in) or the manifest suppresses that rule's findings on that input, and
--ignore ID[=REASON] suppresses a rule everywhere. Suppressed findings are listed apart with
their reason and do not count for --fail-on. Rule IDs are stable: docs/inspect-rules.md.

Exit status: 0 when no finding that is not suppressed reaches --fail-on, 1 when one does, 2 on a
usage or read error.
With --fix it prints each input migrated to the target version, nothing written: flags the
binary would refuse there are dropped (or renamed when a replacement takes the same value), the
service-account flags 1.20 requires are added with paths from the unit's own layout when those
files exist under --root (otherwise a TODO comment says what to provide); comments say what
changed and what is still wrong, and the exit status is 1 when a finding at or above --fail-on
remains in the result.`,
		Example: `  hardway inspect /etc/systemd/system/kube-apiserver.service
  hardway inspect --service etcd --service kube-apiserver --warn-within 60d
  hardway inspect /etc/kubernetes/manifests -o json
  hardway inspect --root ./cluster/nodes/cp-1 ./cluster/nodes/cp-1/etc/systemd/system
  hardway inspect --root / --containerd-target-version 1.6 /etc/systemd/system/containerd.service /etc/systemd/system/kubelet.service
  hardway inspect old.service --target-version 1.30 --fix > new.service
  hardway inspect diff old.service new.service`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.IntSliceVar(&f.pids, "pid", nil, "inspect a running process by PID (repeatable)")
	fl.StringArrayVar(&f.services, "service", nil, "inspect the unit systemd loaded for NAME (repeatable)")
	fl.StringVar(&f.socket, "systemd-socket", "", "with --service: ask the systemd manager at this private socket instead of the system one")
	fl.StringVar(&f.root, "root", "", "resolve the paths in flags (and EnvironmentFile=, --service units) under this directory instead of /")
	fl.StringVar(&f.target, "target-version", "", "Kubernetes minor version to check against (default: newest known, "+flags.Default().Component("kube-apiserver").Newest.String()+")")
	fl.StringVar(&f.etcdTarget, "etcd-target-version", "", "etcd minor version to check against (default: newest known, "+flags.Default().Component("etcd").Newest.String()+")")
	fl.StringVar(&f.containerdTarget, "containerd-target-version", "", "containerd minor version to check against (default: newest known, "+flags.Default().Component("containerd").Newest.String()+"; config.toml's version is then not checked against it)")
	f.warnWithin = duration.Duration(30 * duration.Day)
	fl.Var(&f.warnWithin, "warn-within", "warn about certificates expiring within this time (e.g. 30d, 720h)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json or yaml")
	fl.StringVar(&f.failOn, "fail-on", "error", "exit 1 when a finding is at or above this severity: error, warning or info")
	fl.BoolVar(&f.fix, "fix", false, "print each input migrated to the target version instead of the report")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "suppress every finding of rule ID (repeatable; ID=REASON records why); suppressed findings are listed, never counted")
	cmd.AddCommand(newInspectDiffCmd(g, &f))
	return cmd
}

func readErr(err error) error { return &exitError{code: 2, err: err} }

func (f *inspectFlags) options() (inspect.Options, inspect.Severity, error) {
	opt := inspect.Options{Catalogue: flags.Default(), Now: time.Now()}
	cat := opt.Catalogue
	for _, t := range []struct {
		val, comp, flag string
		dst             *flags.Version
	}{
		{f.target, "kube-apiserver", "--target-version", &opt.Target},
		{f.etcdTarget, "etcd", "--etcd-target-version", &opt.EtcdTarget},
		{f.containerdTarget, "containerd", "--containerd-target-version", &opt.ContainerdTarget},
	} {
		if t.val == "" {
			continue
		}
		v, err := flags.ParseVersion(t.val)
		c := cat.Component(t.comp)
		if err != nil {
			return opt, 0, usagef("%s: %v", t.flag, err)
		}
		if v.Compare(c.Oldest) < 0 || v.Compare(c.Newest) > 0 {
			return opt, 0, usagef("%s=%s: the catalogue covers %s to %s", t.flag, t.val, c.Oldest, c.Newest)
		}
		*t.dst = v
	}
	for _, ig := range f.ignore {
		id, reason, ok := strings.Cut(ig, "=")
		if !ok || strings.TrimSpace(reason) == "" {
			reason = "--ignore " + id
		}
		if !inspect.KnownRule(id) {
			return opt, 0, usagef("--ignore %s: no such rule; the rule IDs are in hardway inspect's output and docs/inspect-rules.md", id)
		}
		if opt.Ignore == nil {
			opt.Ignore = map[string]string{}
		}
		opt.Ignore[id] = reason
	}
	opt.WarnWithin = time.Duration(f.warnWithin)
	sev, err := inspect.ParseSeverity(f.failOn)
	if err != nil {
		return opt, 0, usagef("--fail-on: %v", err)
	}
	switch f.output {
	case "table", "json", "yaml":
	default:
		return opt, 0, usagef("--output %q: want table, json or yaml", f.output)
	}
	root := f.root
	if root == "" {
		root = "/"
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return opt, 0, usagef("--root %s: not a directory", root)
	}
	if opt.FS, err = inspect.DirFS(root); err != nil {
		return opt, 0, usagef("--root %s: %v", root, err)
	}
	opt.NodeRoot = f.root != "" // without --root, "/" may not be the inspected unit's node
	return opt, sev, nil
}

func runInspect(ctx context.Context, g *globals, f *inspectFlags, args []string) error {
	opt, failOn, err := f.options()
	if err != nil {
		return err
	}
	if len(args) == 0 && len(f.pids) == 0 && len(f.services) == 0 {
		if f.root == "" {
			return usagef("inspect needs something to read: a FILE or DIR, '-' for standard input, --pid N, --service NAME, or --root DIR alone")
		}
		// --root alone: every unit and manifest of that node, read as `inspect DIR` reads them.
		for _, d := range inspect.NodeInputDirs {
			if st, err := os.Stat(filepath.Join(f.root, d)); err == nil && st.IsDir() {
				args = append(args, filepath.Join(f.root, d))
			}
		}
		if len(args) == 0 {
			return usagef("--root %s holds none of %s: name the files to inspect", f.root, strings.Join(inspect.NodeInputDirs, ", "))
		}
	}
	src, err := f.sources(g, opt)
	if err != nil {
		return readErr(err)
	}
	invs, err := src.Read(ctx, inspect.Inputs{Paths: args, PIDs: f.pids, Services: f.services})
	if err != nil {
		return readErr(err)
	}
	if f.fix {
		remaining := 0
		for i, inv := range invs {
			fx, err := inspect.Fix(inv, opt)
			if err != nil {
				return readErr(err)
			}
			if len(invs) > 1 {
				if i > 0 {
					fmt.Fprintln(g.stdout)
				}
				fmt.Fprintf(g.stdout, "# ---- %s\n", inv.Name)
			}
			fmt.Fprint(g.stdout, fx.Text)
			if !strings.HasSuffix(fx.Text, "\n") {
				fmt.Fprintln(g.stdout)
			}
			if n := fx.Count(failOn); n > 0 {
				remaining += n
				fmt.Fprintf(g.stderr, "%s: %d finding(s) at or above %s remain after --fix:\n", inv.Name, n, failOn)
				for _, r := range fx.Remaining {
					if r.Severity >= failOn {
						fmt.Fprintf(g.stderr, "  %-7s %s  %s\n", r.Severity, r.ID, r.Message)
					}
				}
			}
		}
		if remaining > 0 {
			return &exitError{code: 1}
		}
		return nil
	}
	rep := inspect.Inspect(invs, opt)
	if f.root == "" {
		hintRoot(g.stderr, args, rep)
	}
	if err := printOutput(g.stdout, f.output, rep, func(w io.Writer) error { return inspect.WriteTable(w, rep) }); err != nil {
		return err
	}
	if n := rep.Count(failOn); n > 0 {
		fmt.Fprintf(g.stderr, "%d finding(s) at or above %s\n", n, failOn)
		return &exitError{code: 1}
	}
	return nil
}

// hintRoot says that --root exists when an input lies in a node bundle (nodes/<node>/...) and
// files its flags name are missing on this machine: they are in the bundle.
func hintRoot(w io.Writer, args []string, rep *inspect.Report) {
	missing := false
	for _, fd := range rep.All() {
		missing = missing || fd.ID == "file-missing" || fd.ID == "files-not-judged" || fd.ID == "config-not-judged"
	}
	if !missing {
		return
	}
	for _, a := range args {
		if root, ok := inspect.BundleRoot(filepath.ToSlash(a)); ok {
			fmt.Fprintf(w, "hint: %s is in the bundle %s; the files it names are there, not on this machine: hardway inspect --root %s %s\n", a, root, root, a)
			return
		}
	}
}

// sources are where the inputs are read: paths as given (relative to the working directory),
// units and the files they name under --root (opt.FS), processes in /proc; --service asks
// systemd over D-Bus unless --root is given.
func (f *inspectFlags) sources(g *globals, opt inspect.Options) (*inspect.Sources, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	files, err := inspect.DirFS("/")
	if err != nil {
		return nil, err
	}
	proc, err := inspect.DirFS("/proc")
	if err != nil {
		return nil, err
	}
	src := &inspect.Sources{Catalogue: opt.Catalogue, Files: files, Dir: wd, Root: opt.FS, Proc: proc, Stdin: g.stdin}
	if f.root == "" {
		src.Manager, src.RequireManager = unitFilesOverDBus(f.socket), f.socket != ""
	}
	return src, nil
}

// unitFilesOverDBus asks the systemd manager (the system one, or the one at socket) which unit
// file and drop-ins it loaded for a unit.
func unitFilesOverDBus(socket string) func(context.Context, string) (string, []string, error) {
	return func(ctx context.Context, name string) (string, []string, error) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		conn, err := connectSystemd(ctx, socket)
		if err != nil {
			return "", nil, err
		}
		defer conn.Close()
		return conn.UnitFiles(ctx, name)
	}
}

func newInspectDiffCmd(g *globals, f *inspectFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show, flag by flag, how two command lines differ",
		Long: `diff reads two inputs (unit files with their drop-ins, manifests, or '-' for one of them)
and prints every flag that one has and the other lacks, or that has a different value. Exit
status: 0 when they are the same, 1 when they differ, 2 on a usage or read error.`,
		Example: "  hardway inspect diff /etc/systemd/system/kube-apiserver.service ./cluster/nodes/cp-1/etc/systemd/system/kube-apiserver.service",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("inspect diff takes two inputs A and B (got %d)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opt, _, err := f.options()
			if err != nil {
				return err
			}
			src, err := f.sources(g, opt)
			if err != nil {
				return readErr(err)
			}
			var sides [2]*inspect.Invocation
			for i, a := range args {
				invs, err := src.ReadPath(cmd.Context(), a)
				if err != nil {
					return readErr(err)
				}
				if len(invs) != 1 {
					return usagef("%s holds %d command lines; diff compares one with one", a, len(invs))
				}
				sides[i] = invs[0]
			}
			d := inspect.Diff(opt.Catalogue, sides[0], sides[1])
			if f.output != "table" {
				if err := printOutput(g.stdout, f.output, d, nil); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintf(tw, "\tFLAG\t%s\t%s\n", args[0], args[1])
				for _, x := range d {
					mark := map[string]string{"added": "+", "removed": "-", "changed": "~"}[x.Change]
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mark, x.Flag, orDash(x.A, x.Change == "added"), orDash(x.B, x.Change == "removed"))
				}
				tw.Flush()
				if len(d) == 0 {
					fmt.Fprintln(g.stdout, "no differences")
				}
			}
			if len(d) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	addOutputFlag(cmd, &f.output) // inspect's own -o is not inherited
	return cmd
}

func orDash(s string, absent bool) string {
	if absent {
		return "(absent)"
	}
	if s == "" {
		return `""`
	}
	return s
}
