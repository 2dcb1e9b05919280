package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/bootstrap"
)

// verify waits while a run that writes holds the lock, so it never reports the half-done state
// of a renewal: here a directory left inconsistent until the "renewal" lets go.
func TestVerifyWaitsForAWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	lock, _, err := bootstrap.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	adminKey := filepath.Join(dir, "pki", "admin.key")
	good := mustRead(t, adminKey)
	os.WriteFile(adminKey, mustRead(t, filepath.Join(dir, "pki", "super-admin.key")), 0o600)

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "certs", "verify", "--dir", dir)
	cmd.Env = append(os.Environ(), "HARDWAY_TEST_AS_CLI=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stderr).ReadString('\n')
		waiting <- line
	}()
	select {
	case line := <-waiting:
		if !strings.Contains(line, "waiting for the hardway run") {
			cmd.Wait()
			t.Fatalf("verify did not wait for the lock: %q\n%s", line, stdout.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("verify said nothing in 20s")
	}
	os.WriteFile(adminKey, good, 0o600)
	lock.Unlock()
	if err := cmd.Wait(); err != nil || !strings.Contains(stdout.String(), "verifies") {
		t.Errorf("verify after the writer let go: %v\n%s", err, stdout.String())
	}
}

// Temporary files a killed run left (some hold keys) are reported by verify and removed by the
// next run that writes, even one with nothing else to write.
func TestStaleTemporaryFilesAreRemovedOnEveryRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	stale := []string{"pki/.apiserver.key.tmp-12345", "nodes/cp-1/etc/kubernetes/pki/.ca.key.tmp-9"}
	for _, p := range stale {
		os.WriteFile(filepath.Join(dir, p), []byte("a key"), 0o600)
	}
	out, _, code := hardway(t, "certs", "verify", "--dir", dir)
	for _, p := range stale {
		if code != 1 || !strings.Contains(out, p) {
			t.Errorf("verify does not report %s: exit %d\n%s", p, code, out)
		}
	}
	out, errs, code := hardway(t, "init", "--config", haExample, "--dir", dir)
	if code != 0 || !strings.Contains(out, "nothing to write") || !strings.Contains(errs, "removed 2 temporary file(s)") {
		t.Errorf("init: exit %d\n%s%s", code, out, errs)
	}
	for _, p := range stale {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s survived init", p)
		}
	}
	mustHardway(t, "certs", "verify", "--dir", dir)
}

// Modes that drifted wider are reported by verify and restored by init, which says so.
func TestInitRestoresModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	os.Chmod(filepath.Join(dir, "pki", "ca.key"), 0o644)
	os.Chmod(filepath.Join(dir, "kubeconfigs"), 0o755)
	out, _, code := hardway(t, "certs", "verify", "--dir", dir)
	if code != 1 || !strings.Contains(out, "pki/ca.key") || !strings.Contains(out, "kubeconfigs ") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
	out = mustHardway(t, "init", "--config", haExample, "--dir", dir)
	for _, want := range []string{
		"chmod  kubeconfigs (mode 0755 lets its group and everyone list it; it should be 0700: restored)",
		"chmod  pki/ca.key (mode 0644 lets its group and everyone read it; it should be 0600: restored)",
		"restored the mode of 2 file(s) and folder(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("init does not say %q:\n%s", want, out)
		}
	}
	mustHardway(t, "certs", "verify", "--dir", dir)
}
