package systemd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units/bundle"
)

// UnitState is what systemd says about a unit.
type UnitState struct {
	Name          string
	LoadState     string // loaded, not-found, bad-setting, ...
	ActiveState   string // active, activating, inactive, failed, ...
	SubState      string // running, start, dead, auto-restart, ...
	Result        string // success, exit-code, signal, timeout, ... (services)
	UnitFileState string // enabled, disabled, static, linked, ...
	MainPID       uint32
	InvocationID  string
}

func (s UnitState) String() string {
	return fmt.Sprintf("%s: ActiveState=%s SubState=%s Result=%s LoadState=%s", s.Name, s.ActiveState, s.SubState, s.Result, s.LoadState)
}

// Running reports whether the unit is up or on its way up.
func (s UnitState) Running() bool {
	switch s.ActiveState {
	case "active", "activating", "reloading":
		return true
	}
	return false
}

// Manager is the part of systemd Launch needs. DBus implements it; tests may fake it.
type Manager interface {
	// Reload is daemon-reload.
	Reload(ctx context.Context) error
	// Enable enables the named units' unit files and reports whether anything changed.
	Enable(ctx context.Context, units []string) (bool, error)
	// Start starts a unit and waits for its job; an error if the job did not end "done".
	Start(ctx context.Context, unit string) error
	// Restart restarts a unit and waits for its job.
	Restart(ctx context.Context, unit string) error
	// State reads a unit's state.
	State(ctx context.Context, unit string) (UnitState, error)
}

// JournalFunc returns the last lines a unit logged, if a journal is available.
type JournalFunc func(ctx context.Context, unit string, lines int) ([]string, error)

// Launcher installs bundles and brings their units up.
type Launcher struct {
	Manager Manager // required unless DryRun
	// Root is where node paths are installed, "/" for the real filesystem; nothing is reached
	// through a link under it (internal/rootfs). Required: "" is an error, not "/".
	Root string
	// Timeout bounds the wait for one tier of units to become healthy. Default 2 minutes.
	Timeout time.Duration
	// Interval between health probes. Default 500ms.
	Interval time.Duration
	// Journal, when set, supplies a failed unit's last log lines.
	Journal JournalFunc
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// DryRun plans without writing files or changing units. With a Manager it reads the units'
	// states to say what would start; without one it assumes units are running.
	DryRun bool
}

// Report is what a launch did (or, in a dry run, would do).
type Report struct {
	DryRun    bool
	Files     []FileChange
	Reloaded  bool
	Enabled   []string
	Started   []string
	Restarted []string
	Unchanged []string // units left alone
	Healthy   []string // units whose health probe passed
}

// Changed reports whether the launch changed anything.
func (r *Report) Changed() bool {
	return len(r.ChangedFiles()) > 0 || r.Reloaded || len(r.Enabled) > 0 || len(r.Started) > 0 || len(r.Restarted) > 0
}

// ChangedFiles are the node paths written.
func (r *Report) ChangedFiles() []string {
	var out []string
	for _, f := range r.Files {
		if f.Action != Unchanged {
			out = append(out, f.Path)
		}
	}
	return out
}

// Describe writes the report as text.
func (r *Report) Describe(w io.Writer) {
	would := ""
	if r.DryRun {
		would = "would "
	}
	for _, f := range r.Files {
		if f.Action != Unchanged {
			fmt.Fprintf(w, "%s%-7s %s (%04o)\n", would, f.Action, f.Path, f.Mode.Perm())
		}
	}
	if r.Reloaded {
		fmt.Fprintf(w, "%sdaemon-reload\n", would)
	}
	for _, line := range []struct {
		verb  string
		units []string
	}{{"enable", r.Enabled}, {"start", r.Started}, {"restart", r.Restarted}} {
		for _, u := range line.units {
			fmt.Fprintf(w, "%s%-7s %s\n", would, line.verb, u)
		}
	}
	if !r.Changed() {
		fmt.Fprintf(w, "nothing to do: %d files and %d units already up to date\n", len(r.Files), len(r.Unchanged))
	}
	if len(r.Healthy) > 0 {
		fmt.Fprintf(w, "healthy: %s\n", strings.Join(r.Healthy, ", "))
	}
}

// UnitError is a unit that did not come up: its state and last log lines.
type UnitError struct {
	Unit    string
	Action  string // start, restart, health
	State   UnitState
	Journal []string
	Err     error
}

func (e *UnitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s failed: %v\n  %s", e.Unit, e.Action, e.Err, e.State)
	if len(e.Journal) > 0 {
		fmt.Fprintf(&b, "\n  last log lines:\n    %s", strings.Join(e.Journal, "\n    "))
	} else {
		fmt.Fprintf(&b, "\n  see `journalctl -u %s`", e.Unit)
	}
	return b.String()
}

func (e *UnitError) Unwrap() error { return e.Err }

func (l *Launcher) log() *slog.Logger {
	if l.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Log
}

// Launch installs b under l.Root and brings its units up in dependency order, touching only
// what changed (see the package documentation). The report is returned with any error.
func (l *Launcher) Launch(ctx context.Context, b *bundle.Bundle) (*Report, error) {
	rep := &Report{DryRun: l.DryRun}
	if err := b.Validate(); err != nil {
		return rep, err
	}
	order, err := tiers(b.Units)
	if err != nil {
		return rep, err
	}
	if l.Root != "" && !l.DryRun {
		if err := os.MkdirAll(l.Root, 0o755); err != nil { // a fresh root for a test or a chroot
			return rep, fmt.Errorf("root %s: %w", l.Root, err)
		}
	}
	root, err := rootfs.Open(l.Root)
	switch {
	case err == nil:
		defer root.Close()
		if rep.Files, err = PlanFiles(ctx, root, b.Files, b.Artifacts); err != nil {
			return rep, err
		}
	case l.DryRun && errors.Is(err, fs.ErrNotExist): // a fresh root: everything would be created
		for _, f := range b.Files {
			if f.Artifact != nil {
				if err := checkArtifact(ctx, b.Artifacts, f); err != nil {
					return rep, err
				}
			}
		}
		for _, f := range b.Files {
			rep.Files = append(rep.Files, FileChange{Path: f.Path, Action: Create, Mode: f.Mode})
		}
	default:
		return rep, err
	}
	if !l.DryRun {
		if l.Manager == nil {
			return rep, errors.New("launch: no systemd manager")
		}
		if _, err := installPlanned(ctx, root, b.Files, b.Artifacts, rep.Files); err != nil {
			return rep, err
		}
	}
	changed := map[string]bool{}
	unitsDirChanged := false
	for _, p := range rep.ChangedFiles() {
		changed[p] = true
		if strings.HasPrefix(p, bundle.SystemdDir+"/") {
			unitsDirChanged = true
		}
	}

	// daemon-reload first if a unit file changed, so the states read next are current.
	reload := func() error {
		rep.Reloaded = true
		if l.DryRun {
			return nil
		}
		if err := l.Manager.Reload(ctx); err != nil {
			return fmt.Errorf("daemon-reload: %w", err)
		}
		return nil
	}
	if unitsDirChanged {
		if err := reload(); err != nil {
			return rep, err
		}
	}
	states := map[string]UnitState{}
	var toEnable []string
	for _, u := range b.Units {
		var st UnitState
		switch {
		case l.Manager != nil:
			if st, err = l.Manager.State(ctx, u.Name); err != nil {
				return rep, fmt.Errorf("%s: reading its state: %w", u.Name, err)
			}
		default: // dry run without systemd: assume running and enabled
			st = UnitState{Name: u.Name, ActiveState: "active", UnitFileState: "enabled"}
		}
		if !l.DryRun && st.LoadState != "" && st.LoadState != "loaded" {
			return rep, &UnitError{Unit: u.Name, Action: "load", State: st, Err: fmt.Errorf("systemd did not load %s (LoadState=%s); check it with systemd-analyze verify", root.HostPath(u.UnitPath()), st.LoadState)}
		}
		states[u.Name] = st
		if !enabled(st.UnitFileState) {
			toEnable = append(toEnable, u.Name)
		}
	}
	if len(toEnable) > 0 {
		rep.Enabled = toEnable
		if !l.DryRun {
			linked, err := l.Manager.Enable(ctx, toEnable)
			if err != nil {
				return rep, fmt.Errorf("enabling %s: %w", strings.Join(toEnable, ", "), err)
			}
			if linked {
				if err := reload(); err != nil {
					return rep, err
				}
			}
		}
	}

	for _, tier := range order {
		type job struct {
			unit   bundle.Unit
			action string
		}
		var jobs []job
		for _, u := range tier {
			st := states[u.Name]
			switch {
			case !st.Running():
				jobs = append(jobs, job{u, "start"})
				rep.Started = append(rep.Started, u.Name)
			case inputsChanged(u, changed):
				jobs = append(jobs, job{u, "restart"})
				rep.Restarted = append(rep.Restarted, u.Name)
			default:
				rep.Unchanged = append(rep.Unchanged, u.Name)
			}
		}
		if l.DryRun {
			continue
		}
		// Jobs of a tier run together: an etcd member's start job ends only when a quorum of
		// its cluster is up.
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.log().Info(j.action, "unit", j.unit.Name)
				var err error
				if j.action == "start" {
					err = l.Manager.Start(ctx, j.unit.Name)
				} else {
					err = l.Manager.Restart(ctx, j.unit.Name)
				}
				if err != nil {
					errs[i] = l.unitError(ctx, j.unit.Name, j.action, err)
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return rep, err
		}
		if err := l.waitTier(ctx, root, tier, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// waitTier waits until every unit of the tier is active and passes its health probe.
func (l *Launcher) waitTier(ctx context.Context, root *rootfs.Root, tier []bundle.Unit, rep *Report) error {
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	interval := l.Interval
	if interval == 0 {
		interval = 500 * time.Millisecond
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(tier))
	var wg sync.WaitGroup
	for i, u := range tier {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.waitActive(tctx, u.Name, interval); err != nil {
				errs[i] = l.unitError(ctx, u.Name, "health", err)
				return
			}
			if u.Health != nil {
				if err := WaitHealthy(tctx, root, *u.Health, interval); err != nil {
					errs[i] = l.unitError(ctx, u.Name, "health", err)
					return
				}
			}
			l.log().Info("healthy", "unit", u.Name)
		}()
	}
	wg.Wait()
	for i, u := range tier {
		if errs[i] == nil {
			rep.Healthy = append(rep.Healthy, u.Name)
		}
	}
	return errors.Join(errs...)
}

// waitActive waits for ActiveState=active; a unit that failed or stopped is an error at once.
func (l *Launcher) waitActive(ctx context.Context, unit string, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := l.Manager.State(ctx, unit)
		if err != nil {
			return err
		}
		switch st.ActiveState {
		case "active":
			return nil
		case "failed", "inactive":
			return fmt.Errorf("the unit is %s (%s)", st.ActiveState, st.Result)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: still %s/%s", ctx.Err(), st.ActiveState, st.SubState)
		case <-t.C:
		}
	}
}

func (l *Launcher) unitError(ctx context.Context, unit, action string, err error) error {
	ue := &UnitError{Unit: unit, Action: action, Err: err}
	// the launch context may be the one that expired; give the diagnosis its own.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if st, serr := l.Manager.State(dctx, unit); serr == nil {
		ue.State = st
	} else {
		ue.State = UnitState{Name: unit, ActiveState: "unknown (" + serr.Error() + ")"}
	}
	if l.Journal != nil {
		if lines, jerr := l.Journal(dctx, unit, 20); jerr == nil {
			ue.Journal = lines
		}
	}
	return ue
}

func enabled(unitFileState string) bool {
	switch unitFileState {
	case "enabled", "enabled-runtime", "static", "linked", "linked-runtime", "alias", "indirect", "generated", "transient":
		return true
	}
	return false
}

func inputsChanged(u bundle.Unit, changed map[string]bool) bool { return u.Restarts(changed) }
