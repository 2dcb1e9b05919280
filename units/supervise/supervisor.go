package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hardway-dev/hardway/internal/atomicfile"

	"golang.org/x/sys/unix"

	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units/systemd"
)

// Supervisor runs processes and keeps them running. Its zero value is not usable: set Procs,
// Root, LogDir and Out.
type Supervisor struct {
	Procs []Process
	// Root is the node root the health probes read their credentials under.
	Root *rootfs.Root
	// LogDir receives <name>.log for each process.
	LogDir string
	// LogBytes is the size a log is rotated at; 0 is DefaultLogBytes.
	LogBytes int64
	// Env is every process's environment.
	Env []string
	// Out receives progress lines.
	Out io.Writer
	// Ready, when set, runs once every tier is healthy (the bootstrap RBAC, the add-ons); its
	// error stops the supervisor.
	Ready func(ctx context.Context) error
	// StartTimeout bounds the wait for one tier's health; 0 is 5 minutes.
	StartTimeout time.Duration
	// StopTimeout is how long a process has to exit after SIGTERM; 0 is 15 seconds.
	StopTimeout time.Duration
	// PIDFile, when set, is rewritten with "name pid" lines whenever a process starts.
	PIDFile string
	// Progress, for a terminal: while a tier comes up, one line that is rewritten in place
	// says what it waits for and for how long. Without it, only the plain lines are written.
	Progress bool

	mu      sync.Mutex // held while forking and while reaping, so no exit is missed
	waiters map[int]chan unix.WaitStatus
	procs   []*child
	start   time.Time
}

type child struct {
	Process
	log      *LogFile
	mu       sync.Mutex
	pid      int
	exited   chan unix.WaitStatus
	stopping bool
	done     chan struct{} // closed when the monitor returns
}

// Backoff of restarts: doubling from minBackoff to maxBackoff; a process that ran for
// resetAfter starts again from minBackoff.
const (
	minBackoff  = time.Second
	maxBackoff  = 30 * time.Second
	resetAfter  = time.Minute
	failingFrom = 3 // quick failures in a row before a process is reported as failing
)

// Run starts the processes tier by tier, waiting for each tier's health, calls Ready, and
// supervises them until ctx ends; then it stops them in reverse order and, when it is PID 1
// of its namespace, kills and reaps whatever is left. The error is the start's or Ready's.
func (s *Supervisor) Run(ctx context.Context) error {
	s.waiters = map[int]chan unix.WaitStatus{}
	s.start = time.Now()
	sigchld := make(chan os.Signal, 16)
	signal.Notify(sigchld, syscall.SIGCHLD)
	defer signal.Stop(sigchld)
	reaperDone := make(chan struct{})
	reaperStop := make(chan struct{})
	go func() {
		defer close(reaperDone)
		for {
			s.reap()
			select {
			case <-sigchld:
			case <-time.After(time.Second):
			case <-reaperStop:
				s.reap()
				return
			}
		}
	}()
	defer func() { close(reaperStop); <-reaperDone }()
	if err := os.MkdirAll(s.LogDir, 0o700); err != nil {
		return err
	}

	var runErr error
	maxTier := 0
	for _, p := range s.Procs {
		maxTier = max(maxTier, p.Tier)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for tier := 0; tier <= maxTier && runErr == nil; tier++ {
		var inTier []*child
		for _, p := range s.Procs {
			if p.Tier != tier {
				continue
			}
			log, err := OpenLog(filepath.Join(s.LogDir, p.Name+".log"), s.logBytes())
			if err != nil {
				runErr = err
				break
			}
			c := &child{Process: p, log: log, done: make(chan struct{})}
			s.procs = append(s.procs, c)
			if err := s.startChild(c); err != nil {
				close(c.done)
				runErr = err
				break
			}
			inTier = append(inTier, c)
			go s.monitor(wctx, c)
		}
		if runErr == nil {
			runErr = s.waitTier(wctx, inTier)
		}
	}
	if runErr == nil && s.Ready != nil {
		runErr = s.Ready(wctx)
	}
	if runErr == nil {
		fmt.Fprintf(s.Out, "up: everything healthy after %s; logs in %s; stop with Ctrl-C or `hardway down`\n", time.Since(s.start).Round(time.Millisecond), s.LogDir)
		<-ctx.Done()
	}
	cancel()
	s.stopAll()
	return runErr
}

func (s *Supervisor) logBytes() int64 {
	if s.LogBytes > 0 {
		return s.LogBytes
	}
	return DefaultLogBytes
}

// startChild forks and execs c with its output to its log.
func (s *Supervisor) startChild(c *child) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		r.Close()
		w.Close()
		return err
	}
	attr := &syscall.ProcAttr{
		Dir:   "/",
		Env:   s.Env,
		Files: []uintptr{devnull.Fd(), w.Fd(), w.Fd()},
		// Its own process group: a terminal's Ctrl-C reaches the supervisor, which stops the
		// processes in order, and not each process at once.
		Sys: &syscall.SysProcAttr{Setpgid: true},
	}
	s.mu.Lock()
	pid, err := syscall.ForkExec(c.Argv[0], c.Argv, attr)
	exited := make(chan unix.WaitStatus, 1)
	if err == nil {
		s.waiters[pid] = exited
	}
	s.mu.Unlock()
	w.Close()
	devnull.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("%s: starting %s: %w", c.Name, c.Argv[0], err)
	}
	go func() { _, _ = io.Copy(c.log, r); r.Close() }()
	c.mu.Lock()
	c.pid, c.exited = pid, exited
	c.mu.Unlock()
	fmt.Fprintf(c.log, "--- hardway up: started %s (pid %d) ---\n", strings.Join(c.Argv, " "), pid)
	s.writePIDs()
	return nil
}

// writePIDs records each process's PID (as this PID namespace numbers them) for tests and
// `hardway down`.
func (s *Supervisor) writePIDs() {
	if s.PIDFile == "" {
		return
	}
	var b strings.Builder
	for _, c := range s.procs {
		c.mu.Lock()
		fmt.Fprintf(&b, "%s %d\n", c.Name, c.pid)
		c.mu.Unlock()
	}
	_ = atomicfile.Write(s.PIDFile, []byte(b.String()), 0o600) // best effort: only tests and down read it
}

// reap collects every exited child: a supervised one's status goes to its waiter; an orphan
// (a shim, a pod process whose parent died) is just reaped.
func (s *Supervisor) reap() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
		if ch, ok := s.waiters[pid]; ok {
			delete(s.waiters, pid)
			ch <- ws
		}
	}
}

// monitor restarts c whenever it exits, until ctx ends.
func (s *Supervisor) monitor(ctx context.Context, c *child) {
	defer close(c.done)
	backoff, quick := minBackoff, 0
	for {
		c.mu.Lock()
		exited, started := c.exited, time.Now()
		c.mu.Unlock()
		var ws unix.WaitStatus
		select {
		case ws = <-exited:
		case <-ctx.Done():
			return
		}
		c.mu.Lock()
		stopping := c.stopping
		c.pid = 0
		c.mu.Unlock()
		fmt.Fprintf(c.log, "--- hardway up: %s %s ---\n", c.Name, describeExit(ws))
		if stopping || ctx.Err() != nil {
			return
		}
		if time.Since(started) >= resetAfter {
			backoff, quick = minBackoff, 0
		} else {
			quick++
		}
		fmt.Fprintf(s.Out, "%s: %s; restarting in %s\n", c.Name, describeExit(ws), backoff)
		if quick >= failingFrom {
			fmt.Fprintf(s.Out, "%s keeps failing (%d quick exits in a row); its last log lines (%s):\n    %s\n", c.Name, quick,
				c.log.Path, strings.Join(c.log.Tail(15), "\n    "))
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, maxBackoff)
		if err := s.startChild(c); err != nil {
			fmt.Fprintf(s.Out, "%s: %v\n", c.Name, err)
			return
		}
	}
}

func describeExit(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exited with status %d", ws.ExitStatus())
}

// waitTier waits until each process of the tier passes its health probe.
func (s *Supervisor) waitTier(ctx context.Context, tier []*child) error {
	timeout := s.StartTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(tier))
	var wg sync.WaitGroup
	for i, c := range tier {
		if c.Health == nil {
			fmt.Fprintf(s.Out, "%s: started\n", c.Name)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			if err := systemd.WaitHealthy(tctx, s.Root, *c.Health, 200*time.Millisecond); err != nil {
				errs[i] = fmt.Errorf("%s did not become healthy: %w\n  its last log lines (%s):\n    %s", c.Name, err, c.log.Path, strings.Join(c.log.Tail(20), "\n    "))
				return
			}
			clear := ""
			if s.Progress {
				clear = "\r\033[K" // over the progress line, which the next tick writes again
			}
			fmt.Fprintf(s.Out, "%s%s: healthy (%s, %s after start; %s since up)\n", clear, c.Name, c.Health.URL, time.Since(began).Round(time.Millisecond), time.Since(s.start).Round(time.Millisecond))
		}()
	}
	if s.Progress {
		stop := s.progress(tier)
		defer stop()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// progress rewrites one terminal line every 250 ms with the tier's processes that are not
// healthy yet and the time waited; the returned function clears it.
func (s *Supervisor) progress(tier []*child) (stop func()) {
	names := make([]string, 0, len(tier))
	for _, c := range tier {
		if c.Health != nil {
			names = append(names, c.Name)
		}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	began := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(s.Out, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(s.Out, "\r\033[Kwaiting for %s ... %s", strings.Join(names, ", "), time.Since(began).Round(100*time.Millisecond))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// stopAll stops the processes in reverse start order, tier by tier: SIGTERM, then SIGKILL after
// StopTimeout. As PID 1 of its namespace it then kills and reaps everything left.
func (s *Supervisor) stopAll() {
	timeout := s.StopTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	maxTier := 0
	for _, c := range s.procs {
		maxTier = max(maxTier, c.Tier)
	}
	for tier := maxTier; tier >= 0; tier-- {
		var wg sync.WaitGroup
		for _, c := range s.procs {
			if c.Tier != tier {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-c.done // the monitor no longer restarts it
				c.mu.Lock()
				c.stopping = true
				pid, exited := c.pid, c.exited
				c.mu.Unlock()
				if pid == 0 {
					return
				}
				_ = unix.Kill(pid, unix.SIGTERM)
				select {
				case <-exited:
				case <-time.After(timeout):
					fmt.Fprintf(s.Out, "%s: still running %s after SIGTERM; killing it\n", c.Name, timeout)
					_ = unix.Kill(pid, unix.SIGKILL)
					<-exited
				}
				fmt.Fprintf(s.Out, "%s: stopped\n", c.Name)
			}()
		}
		wg.Wait()
	}
	if os.Getpid() == 1 {
		// Shims and pods: everything else in the PID namespace.
		_ = unix.Kill(-1, unix.SIGKILL)
	}
	for _, c := range s.procs {
		c.log.Close()
	}
}
