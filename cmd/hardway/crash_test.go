package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs/encryptionconfig"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/pki"
)

// A real process killed with SIGKILL at many points of an init leaves only whole files: every
// certificate, key and kubeconfig present parses; the next init completes the directory and
// every key matches its certificate; no temporary file survives it.
func TestInitKilledAnywhere(t *testing.T) {
	e2e.SkipIfShort(t)
	var cfg strings.Builder
	cfg.WriteString("name: crash\napiEndpoint:\n  host: 10.0.0.100\nnodes:\n")
	for i := 0; i < 60; i++ {
		role := "[worker]"
		if i < 3 {
			role = "[control-plane, etcd]"
		}
		fmt.Fprintf(&cfg, "  - name: n%d\n    addresses: [10.1.0.%d]\n    roles: %s\n", i, i+1, role)
	}
	config := writeFile(t, "cluster.yaml", cfg.String())
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Measure a whole run, then kill runs at points spread across it.
	start := time.Now()
	mustHardway(t, "init", "--config", config, "--dir", filepath.Join(t.TempDir(), "probe"))
	whole := time.Since(start)
	killed, midWrite := 0, 0
	for i := 1; i <= 12; i++ {
		dir := filepath.Join(t.TempDir(), "cluster")
		cmd := exec.Command(self, "init", "--config", config, "--dir", dir)
		cmd.Env = append(os.Environ(), "HARDWAY_TEST_AS_CLI=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(whole * time.Duration(i) / 10)
		cmd.Process.Signal(syscall.SIGKILL)
		wasKilled := cmd.Wait() != nil
		if files, temps := checkWholeFiles(t, dir); wasKilled {
			killed++
			if files+temps > 0 {
				midWrite++ // killed while writing: temporary files staged, or some renamed
			}
		}
		mustHardway(t, "init", "--config", config, "--dir", dir)
		if out := mustHardway(t, "certs", "verify", "--dir", dir); !strings.Contains(out, "verifies") {
			t.Fatalf("kill %d: %s", i, out)
		}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".tmp-") {
				t.Errorf("kill %d: %s survived the re-run", i, p)
			}
			return nil
		})
	}
	if midWrite == 0 {
		t.Error("no run was killed while writing files: the kill points miss the write phase")
	}
	t.Logf("%d of 12 runs killed before they finished, %d of them while writing (a whole run takes %s)", killed, midWrite, whole)
}

// checkWholeFiles checks every file under dir parses and returns how many there are, and how
// many temporary files a killed run left (bootstrap's TestCrashAtEveryWrite stops a run
// between every two renames; a kill mostly lands while files are being staged).
func checkWholeFiles(t *testing.T, dir string) (n, temps int) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if strings.Contains(d.Name(), ".tmp-") {
			temps++
			return nil
		}
		if d.Name() == ".hardway.lock" {
			return nil
		}
		n++
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
	return n, temps
}
