package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// The advice for a damaged certificate leads somewhere: verify names 'certs renew', the renewal
// reissues the leaf and keeps the damaged file in backup/, and a damaged CA is an error that
// names the backup copies to restore.
func TestCertsRenewRepairsDamagedLeaf(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	mustHardway(t, "certs", "renew", "etcd-ca", "--dir", dir) // a backup copy of etcd/ca.crt
	tests := []struct {
		name, file, renew string
		damage            func(path string)
	}{
		{"corrupt certificate", "pki/apiserver.crt", "apiserver", func(p string) { os.WriteFile(p, []byte("junk"), 0o644) }},
		{"missing key", "pki/etcd/peer-cp-2.key", "etcd/peer-cp-2", func(p string) { os.Remove(p) }},
		{"corrupt kubeconfig's certificate", "pki/kube-proxy.crt", "kube-proxy", func(p string) {
			os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(tt.file))
			tt.damage(path)
			damaged, _ := os.ReadFile(path)
			out, _, code := hardway(t, "certs", "verify", "--dir", dir)
			if code != 1 || !strings.Contains(out, "hardway certs renew "+tt.renew) {
				t.Fatalf("verify: exit %d\n%s", code, out)
			}
			_, errs, code := hardway(t, "init", "--dir", dir, "--config", filepath.Join(dir, "cluster.yaml"))
			if code != 1 || !strings.Contains(errs, "hardway certs renew "+tt.renew) {
				t.Errorf("init: exit %d, %s", code, errs)
			}
			out = mustHardway(t, "certs", "renew", tt.renew, "--dir", dir)
			if !strings.Contains(out, tt.file) {
				t.Errorf("renew: %s", out)
			}
			if out := mustHardway(t, "certs", "verify", "--dir", dir); !strings.Contains(out, "verifies") {
				t.Errorf("verify after the renewal: %s", out)
			}
			if damaged != nil {
				copies, _ := filepath.Glob(filepath.Join(dir, "backup", "*", filepath.FromSlash(tt.file)))
				found := false
				for _, c := range copies {
					if b, _ := os.ReadFile(c); string(b) == string(damaged) {
						found = true
					}
				}
				if !found {
					t.Errorf("no backup of the damaged %s among %v", tt.file, copies)
				}
			}
		})
	}
	t.Run("corrupt CA", func(t *testing.T) {
		os.WriteFile(filepath.Join(dir, "pki", "etcd", "ca.crt"), []byte("junk"), 0o644)
		for _, args := range [][]string{{"certs", "renew", "etcd-ca"}, {"certs", "renew", "etcd-server"}, {"certs", "verify"}} {
			out, errs, code := hardway(t, append(args, "--dir", dir)...)
			if code != 1 || !strings.Contains(out+errs, "backup/") || !regexp.MustCompile(`backup/\d{8}T\d{6}Z[-0-9]*/pki/etcd/ca.crt`).MatchString(out+errs) {
				t.Errorf("%v: exit %d\n%s%s", args, code, out, errs)
			}
		}
	})
}
