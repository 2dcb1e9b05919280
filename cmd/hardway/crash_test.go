package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs/encryptionconfig"
	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/pki"
)

// The environment of a CLI run (HARDWAY_TEST_AS_CLI=1) that TestInitKilledAnywhere steers.
const (
	// stepsEnv names a file to which the run appends each step of its writes (see
	// atomicfile.Step) as "<n> <step> <path>", n counting from 1.
	stepsEnv = "HARDWAY_TEST_WRITE_STEPS"
	// killAtEnv makes the run SIGKILL itself at its n-th step, after recording it.
	killAtEnv = "HARDWAY_TEST_KILL_AT_STEP"
)

// installCrashHook installs atomicfile's test hook in a CLI run when stepsEnv or killAtEnv asks.
func installCrashHook() {
	log, killAt := os.Getenv(stepsEnv), 0
	if s := os.Getenv(killAtEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "%s=%q: want a step number from 1\n", killAtEnv, s)
			os.Exit(3)
		}
		killAt = n
	}
	if log == "" && killAt == 0 {
		return
	}
	var f *os.File
	if log != "" {
		var err error
		if f, err = os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	var mu sync.Mutex
	n := 0
	atomicfile.SetTestHook(func(s atomicfile.Step, path string) {
		mu.Lock() // held to the end: no other writer goes on while this one dies
		defer mu.Unlock()
		n++
		if f != nil {
			fmt.Fprintf(f, "%d %s %s\n", n, s, path) // a plain write(2): a SIGKILL does not lose it
		}
		if n == killAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Hour)
		}
	})
}

type writeStep struct {
	n    int
	step string
	path string
}

func readSteps(t *testing.T, file string) []writeStep {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var steps []writeStep
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.SplitN(line, " ", 3)
		n, err := strconv.Atoi(f[0])
		if len(f) != 3 || err != nil || n != len(steps)+1 {
			t.Fatalf("%s: malformed step %q", file, line)
		}
		steps = append(steps, writeStep{n, f[1], f[2]})
	}
	return steps
}

// killsPerStep is how many runs TestInitKilledAnywhere kills at each kind of step.
const killsPerStep = 5

// A real process killed with SIGKILL in the middle of init's writes leaves only whole files:
// every certificate, key and kubeconfig present parses; the next init completes the directory
// and every key matches its certificate; no temporary file survives it. The kills come from the
// writer's own hook (atomicfile.SetTestHook), at write steps chosen from a recorded whole run:
// while files are staged, just before a rename and just after one, each spread over the run.
func TestInitKilledAnywhere(t *testing.T) {
	e2e.SkipIfShort(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cli := func(dir string, env ...string) error {
		cmd := exec.Command(self, "init", "--config", haExample, "--dir", dir)
		cmd.Env = append(os.Environ(), append(env, "HARDWAY_TEST_AS_CLI=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil && !isKilled(err) {
			t.Fatalf("init: %v\n%s", err, out)
		}
		return err
	}
	// A whole run, recorded.
	probe := filepath.Join(t.TempDir(), "steps")
	if err := cli(filepath.Join(t.TempDir(), "probe"), stepsEnv+"="+probe); err != nil {
		t.Fatalf("the recorded run: %v", err)
	}
	recorded := readSteps(t, probe)
	byStep := map[string][]int{}
	for _, s := range recorded {
		byStep[s.step] = append(byStep[s.step], s.n)
	}
	var kills []int
	for _, step := range []atomicfile.Step{atomicfile.Staged, atomicfile.BeforeRename, atomicfile.AfterRename} {
		ns := byStep[step.String()]
		if len(ns) < killsPerStep {
			t.Fatalf("init made %d %s steps in %d: too few to test", len(ns), step, len(recorded))
		}
		for _, i := range e2e.Spread(len(ns), killsPerStep) {
			kills = append(kills, ns[i])
		}
	}

	for _, k := range kills {
		dir := filepath.Join(t.TempDir(), "cluster")
		log := filepath.Join(t.TempDir(), "steps")
		if err := cli(dir, stepsEnv+"="+log, killAtEnv+"="+strconv.Itoa(k)); !isKilled(err) {
			t.Fatalf("kill at step %d: the run was not killed (%v)", k, err)
		}
		steps := readSteps(t, log)
		at := steps[len(steps)-1]
		if at.n != k || at.step != recorded[k-1].step {
			t.Fatalf("killed at step %+v, want step %d (%s), as in the recorded run", at, k, recorded[k-1].step)
		}
		checkWholeFiles(t, dir)
		// The kill landed where the hook says: the target is absent (a new directory) with its
		// temporary file beside it, until it is renamed.
		temps, _ := filepath.Glob(filepath.Join(filepath.Dir(at.path), "."+filepath.Base(at.path)+".tmp-*"))
		_, statErr := os.Stat(at.path)
		switch renamed := at.step == atomicfile.AfterRename.String(); {
		case renamed && (statErr != nil || len(temps) > 0):
			t.Errorf("killed %s %s: target %v, temporary files %v", at.step, at.path, statErr, temps)
		case !renamed && (statErr == nil || len(temps) != 1):
			t.Errorf("killed %s %s: target present (%v), temporary files %v", at.step, at.path, statErr == nil, temps)
		}

		mustHardway(t, "init", "--config", haExample, "--dir", dir)
		if out := mustHardway(t, "certs", "verify", "--dir", dir); !strings.Contains(out, "verifies") {
			t.Fatalf("kill at step %d: %s", k, out)
		}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".tmp-") {
				t.Errorf("kill at step %d (%s): %s survived the re-run", k, at.step, p)
			}
			return nil
		})
	}
	t.Logf("%d runs killed at steps %v of %d (%d files)", len(kills), kills, len(recorded), len(byStep[atomicfile.AfterRename.String()]))
}

// isKilled reports whether err is a process's death by SIGKILL.
func isKilled(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// checkWholeFiles checks every file under dir, but the temporary ones, parses.
func checkWholeFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(d.Name(), ".tmp-") || d.Name() == ".hardway.lock" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		switch {
		case strings.HasSuffix(p, ".crt"):
			_, err = pki.ParseCert(data)
		case strings.HasSuffix(p, ".key"):
			_, err = pki.ParseKey(data)
		case strings.HasSuffix(p, ".kubeconfig"):
			_, err = pki.ParseKubeconfig(data)
		case strings.HasSuffix(p, "encryption-config.yaml"):
			_, err = encryptionconfig.Parse(data)
		}
		if err != nil {
			t.Errorf("%s is not whole after a kill: %v", p, err)
		}
		return nil
	})
}
