package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// killsPerStep is how many runs a kill loop kills at each kind of step.
const killsPerStep = 5

// killLoop is a command killed with SIGKILL at chosen steps of its writes, and what must finish
// the job afterwards.
type killLoop struct {
	args []string // the command killed, without --dir
	// template, when set, is an initialised cluster directory each killed run starts from (a
	// copy); otherwise each starts from nothing.
	template string
	rerun    [][]string // run after each kill, in order, without --dir; each must succeed
	perStep  int        // kills spread over each kind of step
	// also, when set, adds the recorded steps it selects (given the step and its path relative
	// to the cluster directory) to the kill points: the writes where a run is most fragile,
	// beyond the evenly spread ones.
	also func(step, rel string) bool
	// check, when set, looks at the directory after the re-runs.
	check func(t *testing.T, dir string, killedAt writeStep)
	// forbid, when set, is what no re-run may print (on stdout or stderr).
	forbid string
}

// run records a whole run, then kills a run at each chosen step and checks what it left: only
// whole files, the kill where the hook says, and after the re-runs a directory that verifies
// (bundles included), where init writes nothing more and no temporary file is left.
func (l killLoop) run(t *testing.T) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cli := func(dir string, env ...string) error {
		cmd := exec.Command(self, append(slices.Clone(l.args), "--dir", dir)...)
		cmd.Env = append(os.Environ(), append(env, "HARDWAY_TEST_AS_CLI=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil && !isKilled(err) {
			t.Fatalf("%s: %v\n%s", strings.Join(l.args, " "), err, out)
		}
		return err
	}
	fresh := func() string {
		dir := filepath.Join(t.TempDir(), "cluster")
		if l.template != "" {
			copyTree(t, l.template, dir)
		}
		return dir
	}
	// A whole run, recorded.
	probe, probeDir := filepath.Join(t.TempDir(), "steps"), fresh()
	if err := cli(probeDir, stepsEnv+"="+probe); err != nil {
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
		if len(ns) < l.perStep {
			t.Fatalf("%s made %d %s steps in %d: too few to test", strings.Join(l.args, " "), len(ns), step, len(recorded))
		}
		for _, i := range e2e.Spread(len(ns), l.perStep) {
			kills = append(kills, ns[i])
		}
	}
	for _, s := range recorded {
		rel, _ := filepath.Rel(probeDir, s.path)
		if l.also != nil && l.also(s.step, filepath.ToSlash(rel)) && !slices.Contains(kills, s.n) {
			kills = append(kills, s.n)
		}
	}

	for _, k := range kills {
		dir := fresh()
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
		// The kill landed where the hook says: the target has its temporary file beside it until
		// it is renamed (and, in a new directory, is absent).
		temps, _ := filepath.Glob(filepath.Join(filepath.Dir(at.path), "."+filepath.Base(at.path)+".tmp-*"))
		_, statErr := os.Stat(at.path)
		switch renamed := at.step == atomicfile.AfterRename.String(); {
		case renamed && (statErr != nil || len(temps) > 0):
			t.Errorf("killed %s %s: target %v, temporary files %v", at.step, at.path, statErr, temps)
		case !renamed && len(temps) != 1:
			t.Errorf("killed %s %s: temporary files %v", at.step, at.path, temps)
		case !renamed && l.template == "" && statErr == nil:
			t.Errorf("killed %s %s: the target is present", at.step, at.path)
		}

		for _, args := range l.rerun {
			args = append(slices.Clone(args), "--dir", dir)
			out, errs, code := hardway(t, args...)
			if code != 0 {
				t.Fatalf("kill at step %d, then hardway %s: exit %d\n%s%s", k, strings.Join(args, " "), code, out, errs)
			}
			if l.forbid != "" && strings.Contains(out+errs, l.forbid) {
				t.Errorf("kill at step %d (%s %s), then hardway %s says %q:\n%s%s", k, at.step, at.path, strings.Join(args, " "), l.forbid, out, errs)
			}
		}
		if out, errs, code := hardway(t, "certs", "verify", "--dir", dir); code != 0 || !strings.Contains(out, "verifies") {
			t.Fatalf("kill at step %d (%s %s), then %v: verify exits %d:\n%s%s", k, at.step, at.path, l.rerun, code, out, errs)
		}
		if out := mustHardway(t, "init", "--config", haExample, "--dir", dir); !strings.Contains(out, "nothing to write") {
			t.Errorf("kill at step %d (%s %s): init after the re-runs still writes:\n%s", k, at.step, at.path, out)
		}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".tmp-") {
				t.Errorf("kill at step %d (%s): %s survived the re-run", k, at.step, p)
			}
			return nil
		})
		if l.check != nil {
			l.check(t, dir, at)
		}
	}
	t.Logf("%s: %d runs killed at steps %v of %d (%d files)", strings.Join(l.args, " "), len(kills), kills, len(recorded), len(byStep[atomicfile.AfterRename.String()]))
}

// copyTree copies the directory src to dst, modes kept; the lock file is left out.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
			return os.Chmod(target, fi.Mode().Perm())
		case d.Name() == ".hardway.lock":
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, fi.Mode().Perm()); err != nil {
			return err
		}
		return os.Chmod(target, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A real process killed with SIGKILL in the middle of init's writes leaves only whole files:
// every certificate, key and kubeconfig present parses; the next init completes the directory
// and every key matches its certificate; no temporary file survives it. The kills come from the
// writer's own hook (atomicfile.SetTestHook), at write steps chosen from a recorded whole run:
// while files are staged, just before a rename and just after one, each spread over the run.
func TestInitKilledAnywhere(t *testing.T) {
	e2e.SkipIfShort(t)
	init := []string{"init", "--config", haExample}
	killLoop{args: init, rerun: [][]string{init}, perStep: killsPerStep}.run(t)
}

// A renewal killed anywhere is finished by the next init, or by running it again: the CA
// re-key too, without "not signed by" errors, and the bundles follow. Beyond the evenly spread
// kills, each run is killed around every CA file it writes (between a CA's new key and its new
// certificate; after the CA, before its first leaf).
func TestRenewKilledAnywhere(t *testing.T) {
	e2e.SkipIfShort(t)
	template := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", template)
	init := []string{"init", "--config", haExample}
	// Just after the re-key record, the CA's new key, and its new certificate land.
	caFiles := func(step, rel string) bool {
		return step == atomicfile.AfterRename.String() && (rel == pki.RekeyRecord || rel == "pki/ca.key" || rel == "pki/ca.crt")
	}
	oldCAKey := mustRead(t, filepath.Join(template, "pki", "ca.key"))
	rekeyed := func(t *testing.T, dir string, at writeStep) {
		if bytes.Equal(mustRead(t, filepath.Join(dir, "pki", "ca.key")), oldCAKey) {
			t.Errorf("killed at %s %s, then re-run: the CA key is the old one", at.step, at.path)
		}
	}
	renewAll := []string{"certs", "renew", "all"}
	rekey := []string{"certs", "renew", "ca", "--new-key"}
	for name, l := range map[string]killLoop{
		"renew all, then init":           {args: renewAll, rerun: [][]string{init}, perStep: 3},
		"renew ca --new-key, then init":  {args: rekey, rerun: [][]string{init}, also: caFiles, perStep: 3},
		"renew ca --new-key, then again": {args: rekey, rerun: [][]string{rekey}, also: caFiles, perStep: 2, check: rekeyed},
	} {
		t.Run(name, func(t *testing.T) {
			l.template = template
			l.run(t)
		})
	}
}

// An init killed anywhere while it rewrites the bundles for a changed cluster file leaves files
// as the record (each node's manifest.json) says or as the killed run rendered them: the next
// init reports no hand edit. The kills come from the same hook, beyond the evenly spread ones
// just before and after each manifest.json lands.
func TestInitKilledIsNotAHandEdit(t *testing.T) {
	e2e.SkipIfShort(t)
	base, err := os.ReadFile(haExample)
	if err != nil {
		t.Fatal(err)
	}
	// The template was written from another cluster file: every node's units differ.
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, append(base, "featureGates: {InPlacePodVerticalScaling: true}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	template := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", other, "--dir", template)
	init := []string{"init", "--config", haExample}
	manifests := func(step, rel string) bool {
		return strings.HasPrefix(rel, "nodes/") && strings.HasSuffix(rel, "/manifest.json")
	}
	killLoop{args: init, template: template, rerun: [][]string{init}, perStep: 3, also: manifests, forbid: "hand-edited"}.run(t)
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
