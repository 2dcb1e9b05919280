package bootstrap

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/pki"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func cluster(t testing.TB) *configs.Cluster {
	t.Helper()
	c := &configs.Cluster{
		Name: "t",
		Nodes: []configs.Node{
			{Name: "cp-1", Addresses: []string{"10.0.0.11"}, Roles: []string{"control-plane", "etcd"}},
			{Name: "w-1", Addresses: []string{"10.0.0.21"}, Roles: []string{"worker"}},
		},
	}
	c.SetDefaults()
	if err := c.Validate().Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

func build(t testing.TB, dir string, c *configs.Cluster, opt Options) *Plan {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = now
	}
	opt.Rand = rand.Reader
	p, err := Build(os.DirFS(dir), c, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyModesAndIdempotence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	c := cluster(t)
	lock, _, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Lock(dir); err == nil || !strings.Contains(err.Error(), "another") {
		t.Errorf("a second lock: %v", err)
	}
	defer lock.Unlock()
	p := build(t, dir, c, Options{})
	if _, err := Apply(dir, p, ApplyOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		rel, _ := filepath.Rel(dir, path)
		mode := fi.Mode().Perm()
		switch {
		case strings.HasPrefix(filepath.Base(rel), ".") && rel != ".":
			if rel != LockFile {
				t.Errorf("%s: stray hidden file (a temporary file left behind?)", rel)
			}
		case d.IsDir() && (rel == "." || strings.HasPrefix(rel, "pki") || strings.HasPrefix(rel, "kubeconfigs")):
			if mode != 0o700 {
				t.Errorf("%s: directory mode %o, want 700", rel, mode)
			}
		case strings.HasSuffix(rel, ".key") || strings.HasSuffix(rel, ".kubeconfig") || rel == "encryption-config.yaml":
			if mode != 0o600 {
				t.Errorf("%s: mode %o, want 600", rel, mode)
			}
		case strings.HasSuffix(rel, ".crt") || strings.HasSuffix(rel, ".pub"):
			if mode != 0o644 {
				t.Errorf("%s: mode %o, want 644", rel, mode)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p2 := build(t, dir, c, Options{}); !p2.Empty() {
		t.Errorf("second run plans %d changes", len(p2.Changes))
	}
}

func TestApplyBacksUpReplacedFiles(t *testing.T) {
	dir := t.TempDir()
	c := cluster(t)
	if _, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(filepath.Join(dir, "pki/apiserver.crt"))
	c.APIServerExtraSANs = []string{"api.example.com"}
	res, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	want := "pki/apiserver.crt " + ClusterFile + " nodes/cp-1/etc/kubernetes/pki/apiserver.crt nodes/cp-1/manifest.json nodes/cp-1/manifest.json.sig nodes/cp-1.tar.gz"
	if strings.Join(res.Written, " ") != want {
		t.Errorf("wrote %v", res.Written)
	}
	saved, err := os.ReadFile(filepath.Join(dir, res.BackupDir, "pki/apiserver.crt"))
	if err != nil || string(saved) != string(old) {
		t.Fatalf("backup: %v", err)
	}
}

// crashPoints is how many of a run's writes TestCrashBeforeWrites stops it at: a run per write
// would make the test quadratic in the number of files.
const crashPoints = 16

// A run stopped before one of its writes leaves only whole files, and the next run completes
// the directory with every key matching its certificate. The stops are spread evenly over the
// run's writes, the first and the last included.
func TestCrashBeforeWrites(t *testing.T) {
	c := cluster(t)
	total := 0 // the writes BeforeWrite sees
	for _, ch := range build(t, t.TempDir(), c, Options{}).Changes {
		if ch.Action != pki.Chmod {
			total++
		}
	}
	if total < 20 {
		t.Fatalf("only %d changes planned", total)
	}
	stop := errors.New("simulated crash")
	for _, k := range e2e.Spread(total, crashPoints) {
		dir := t.TempDir()
		n := 0
		_, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now, BeforeWrite: func(string) error {
			if n == k {
				return stop
			}
			n++
			return nil
		}})
		if !errors.Is(err, stop) {
			t.Fatalf("write %d: %v", k, err)
		}
		// Every file present is complete: no temporary files are left, and the re-run accepts
		// (or completes) whatever is there.
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if strings.Contains(filepath.Base(path), ".tmp-") {
				t.Errorf("crash at write %d left %s", k, path)
			}
			return nil
		})
		p, err := Build(os.DirFS(dir), c, Options{Now: now, Rand: rand.Reader})
		if err != nil {
			t.Fatalf("re-run after a crash at write %d: %v", k, err)
		}
		if _, err := Apply(dir, p, ApplyOptions{Now: now}); err != nil {
			t.Fatal(err)
		}
		if ps := pki.Verify(os.DirFS(dir), c, now); len(ps) > 0 {
			t.Fatalf("after a crash at write %d and a re-run: %+v", k, ps)
		}
		if p := build(t, dir, c, Options{}); !p.Empty() {
			t.Fatalf("crash at write %d: a third run still plans %d changes", k, len(p.Changes))
		}
	}
}

// A link in the cluster directory is never followed: the planner refuses a directory that holds
// one, naming it, and the writer refuses to write through one that appeared after the plan.
func TestApplyRefusesSymlinkTargets(t *testing.T) {
	dir := t.TempDir()
	c := cluster(t)
	os.MkdirAll(filepath.Join(dir, "pki"), 0o700)
	p, err := Build(os.DirFS(dir), c, Options{Now: now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "stolen.key")
	if err := os.Symlink(outside, filepath.Join(dir, "pki", "ca.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(os.DirFS(dir), c, Options{Now: now, Rand: rand.Reader}); err == nil || !strings.Contains(err.Error(), "pki/ca.key -> "+outside) {
		t.Errorf("planning with a link: %v", err)
	}
	_, err = Apply(dir, p, ApplyOptions{Now: now})
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Error("a key was written through the link")
	}
}

// A CA re-key stopped before any of its writes (the removal of its record included) is
// finished by plain init: everything verifies, the bundles included, and the record, written
// first and removed last, is gone.
func TestRekeyStoppedAnywhereIsFinished(t *testing.T) {
	c := cluster(t)
	base := t.TempDir()
	if _, err := Apply(base, build(t, base, c, Options{}), ApplyOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	rekey := Options{Renew: map[string]bool{"ca": true}, NewKey: true}
	var order []string
	if _, err := Apply(t.TempDir(), build(t, base, c, rekey), ApplyOptions{Now: now, BeforeWrite: func(p string) error {
		order = append(order, p)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if order[0] != pki.RekeyRecord || order[1] != "pki/ca.key" || order[len(order)-1] != pki.RekeyRecord {
		t.Fatalf("the re-key record is not written first and removed last: %v", order)
	}
	stop := errors.New("simulated crash")
	for _, k := range e2e.Spread(len(order), crashPoints) {
		dir := filepath.Join(t.TempDir(), "cluster")
		copyDir(t, base, dir)
		n := 0
		_, err := Apply(dir, build(t, dir, c, rekey), ApplyOptions{Now: now, BeforeWrite: func(string) error {
			if n == k {
				return stop
			}
			n++
			return nil
		}})
		if !errors.Is(err, stop) {
			t.Fatalf("write %d: %v", k, err)
		}
		if _, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now.Add(time.Minute)}); err != nil {
			t.Fatalf("init after a stop at write %d (%s): %v", k, order[k], err)
		}
		if ps := Verify(t.Context(), dir, c, now); len(ps) > 0 {
			t.Errorf("stopped at write %d (%s), then init: %v", k, order[k], ps)
		}
	}
}

// copyDir copies the cluster directory src to dst, modes kept.
func copyDir(t *testing.T, src, dst string) {
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
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
			return os.Chmod(target, fi.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(target, data, fi.Mode().Perm())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
