package bootstrap

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
)

func verify(t *testing.T, dir string) problem.List {
	t.Helper()
	return Verify(context.Background(), dir, haCluster(t), now)
}

// findProblem returns the problem at where whose message holds each of words, failing the test
// when there is none.
func findProblem(t *testing.T, ps problem.List, where string, words ...string) problem.Problem {
	t.Helper()
	for _, p := range ps {
		if p.Where == where && !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(p.Message, w) }) {
			return p
		}
	}
	t.Fatalf("no problem at %s saying %q in:\n%v", where, words, ps)
	return problem.Problem{}
}

// A run stopped after it renewed a certificate but before the bundles that carry it leaves
// stale copies: pki.Verify alone calls the directory clean, Verify names each stale copy with
// its node and the fix, and the next init repairs them.
func TestVerifyReportsStaleBundles(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	if ps := verify(t, dir); len(ps) > 0 {
		t.Fatalf("a fresh cluster directory: %v", ps)
	}
	stop := errors.New("killed")
	_, err := Apply(dir, build(t, dir, c, Options{Renew: map[string]bool{"ca": true, "apiserver": true}}), ApplyOptions{Now: now.Add(time.Minute), BeforeWrite: func(p string) error {
		if strings.HasPrefix(p, BundleDir+"/") {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatal(err)
	}
	if ps := pki.Verify(os.DirFS(dir), c, now); len(ps) > 0 {
		t.Fatalf("pki.Verify: %v", ps)
	}
	ps := verify(t, dir)
	for where, source := range map[string]string{
		"nodes/cp-1/etc/kubernetes/pki/apiserver.crt":             "pki/apiserver.crt",
		"nodes/cp-2/etc/kubernetes/pki/ca.crt":                    "pki/ca.crt",
		"nodes/worker-3/etc/kubernetes/kubelet.kubeconfig":        "kubeconfigs/kubelet-worker-3.kubeconfig",
		"nodes/cp-1/etc/kubernetes/controller-manager.kubeconfig": "kubeconfigs/controller-manager.kubeconfig",
	} {
		p := findProblem(t, ps, where)
		node := strings.Split(where, "/")[1]
		if !strings.Contains(p.Message, "bundle for "+node) || !strings.Contains(p.Message, source) || p.Fix != "run hardway init" {
			t.Errorf("%s: %s", where, p)
		}
	}
	findProblem(t, ps, "nodes/worker-1.tar.gz", "/etc/kubernetes/pki/ca.crt: not the same as pki/ca.crt")
	if _, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if ps := verify(t, dir); len(ps) > 0 {
		t.Errorf("after init: %v", ps)
	}
}

// A bundle file changed without its manifest, or a manifest whose units differ from what init
// renders, is reported; so is a missing bundle.
func TestVerifyReadsBundlesStrictly(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	f := filepath.Join(dir, "nodes/worker-1/etc/kubernetes/pki/ca.crt")
	data := mustReadFile(t, f)
	changed := slices.Clone(data)
	changed[40] ^= 1
	os.WriteFile(f, changed, 0o644)
	os.Remove(filepath.Join(dir, "nodes/worker-2.tar.gz"))
	ps := verify(t, dir)
	findProblem(t, ps, "nodes/worker-1/manifest.json", "files[6].sha256 (/etc/kubernetes/pki/ca.crt)", "does not match")
	findProblem(t, ps, "nodes/worker-2.tar.gz", "no bundle archive")
	// A change nobody but a person makes: not what the record says hardway wrote.
	findProblem(t, ps, "nodes/worker-1/etc/kubernetes/pki/ca.crt", "hand-edited: differs from what hardway wrote on")
	if len(ps) != 3 {
		t.Errorf("%d problems: %v", len(ps), ps)
	}
	os.WriteFile(f, data, 0o644)
	c.PodCIDR = "10.245.0.0/16" // the units' flags change, no certificate does
	ps = Verify(context.Background(), dir, c, now)
	findProblem(t, ps, "nodes/worker-1/var/lib/kube-proxy/config.yaml", "not what init renders for the node now")
	findProblem(t, ps, "nodes/worker-1.tar.gz", "/var/lib/kube-proxy/config.yaml: not what init renders")
	for _, p := range ps {
		if strings.Contains(p.Message, "hand-edited") {
			t.Errorf("a file as hardway wrote it, stale since the cluster file changed, is reported as a hand edit: %v", p)
		}
	}
}

// Two mutating runs in the same second get backup folders of their own: no backup replaces
// another, and a key backed up once stays.
func TestTwoRenewalsInOneSecondKeepBothBackups(t *testing.T) {
	c := cluster(t)
	dir := t.TempDir()
	if _, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	renew := Options{Renew: map[string]bool{"apiserver": true}, NewKey: true}
	var keys []string
	var backups []string
	for range 3 {
		keys = append(keys, string(mustReadFile(t, filepath.Join(dir, "pki/apiserver.key"))))
		res, err := Apply(dir, build(t, dir, c, renew), ApplyOptions{Now: now.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		backups = append(backups, res.BackupDir)
	}
	if want := []string{"backup/20261126T120001Z", "backup/20261126T120001Z-2", "backup/20261126T120001Z-3"}; strings.Join(backups, " ") != strings.Join(want, " ") {
		t.Errorf("backup folders %v, want %v", backups, want)
	}
	for i, b := range backups {
		if got := string(mustReadFile(t, filepath.Join(dir, b, "pki/apiserver.key"))); got != keys[i] {
			t.Errorf("%s holds the key of another run", b)
		}
	}
}

// Keys, kubeconfigs, the encryption config, the signing key, bundle secrets and their folders
// made readable by others are reported, and the next init narrows them back, saying so.
func TestModesDriftBack(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	drift := map[string]os.FileMode{
		"pki/ca.key":                                  0o644,
		"pki/etcd/server-cp-1.key":                    0o640,
		"kubeconfigs/admin.kubeconfig":                0o604,
		"encryption-config.yaml":                      0o666,
		"signing/bundle.key":                          0o640,
		"nodes/cp-1/etc/kubernetes/pki/apiserver.key": 0o644,
		"nodes/worker-1.tar.gz":                       0o644,
		"pki/ca.crt":                                  0o666, // world-writable
		"pki":                                         0o755,
		"pki/etcd":                                    0o750,
		"kubeconfigs":                                 0o711,
		".":                                           0o755,
		"nodes/cp-2/etc/kubernetes":                   0o755,
	}
	for p, m := range drift {
		if err := os.Chmod(filepath.Join(dir, p), m); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "pki/admin.key"), 0o400) // narrower: fine
	ps := verify(t, dir)
	for p := range drift {
		if got := findProblem(t, ps, p); !strings.Contains(got.Message, "mode 0") || !strings.Contains(got.Fix, "run hardway init") {
			t.Errorf("%s: %s", p, got)
		}
	}
	if len(ps) != len(drift) {
		t.Errorf("%d problems for %d drifted modes: %v", len(ps), len(drift), ps)
	}
	if p := findProblem(t, ps, "pki/ca.key"); p.Message != "mode 0644 lets its group and everyone read it; it should be 0600" {
		t.Errorf("message: %q", p.Message)
	}
	p := build(t, dir, c, Options{})
	var b strings.Builder
	p.Describe(&b)
	if len(p.Changes) != len(drift) || !strings.Contains(b.String(), "chmod  pki/ca.key (mode 0644 lets its group and everyone read it; it should be 0600: restored)") {
		t.Errorf("plan:\n%s", b.String())
	}
	res, err := Apply(dir, p, ApplyOptions{Now: now})
	if err != nil || len(res.Restored) != len(drift) || len(res.Written) != 0 || res.BackupDir != "" {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if ps := verify(t, dir); len(ps) > 0 {
		t.Errorf("after init: %v", ps)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "pki/admin.key")); fi.Mode().Perm() != 0o400 {
		t.Errorf("a narrower mode was changed to %o", fi.Mode().Perm())
	}
}

// A folder of the cluster directory that is a link is refused, not followed and chmodded:
// neither before the first init (pki -> elsewhere) nor after it (kubeconfigs -> elsewhere).
func TestLinkedFolderIsRefused(t *testing.T) {
	c := cluster(t)
	for _, name := range []string{"pki", "kubeconfigs"} {
		dir := t.TempDir()
		if name == "kubeconfigs" {
			if _, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		elsewhere := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.Mkdir(elsewhere, 0o755); err != nil {
			t.Fatal(err)
		}
		if name == "kubeconfigs" {
			os.Rename(filepath.Join(dir, name), filepath.Join(elsewhere, "old"))
		}
		os.Chmod(elsewhere, 0o755)
		if err := os.Symlink(elsewhere, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		_, err := Build(os.DirFS(dir), c, Options{Now: now, Rand: rand.Reader})
		if err == nil || !strings.Contains(err.Error(), name+" -> "+elsewhere) || !strings.Contains(err.Error(), "never follows a link") {
			t.Errorf("%s -> elsewhere: %v", name, err)
		}
		if fi, _ := os.Stat(elsewhere); fi.Mode().Perm() != 0o755 {
			t.Errorf("%s -> elsewhere: its mode became %o", name, fi.Mode().Perm())
		}
		if name == "kubeconfigs" {
			if p := findProblem(t, Verify(context.Background(), dir, c, now), name); !strings.Contains(p.Message, "symbolic link") {
				t.Errorf("verify: %s", p)
			}
		}
	}
}

// A bundle signed by another key than signing/bundle.pub (a copy from another cluster, or one
// re-signed by hand) is reported; init signs it again.
func TestVerifyChecksBundleSignatures(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	_, other, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, BundleDir, "cp-1", bundle.ManifestName)
	manifest := mustReadFile(t, mpath)
	sig, err := bundle.Sign(manifest, other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, BundleDir, "cp-1", bundle.SignatureName), sig, 0o644); err != nil {
		t.Fatal(err)
	}
	findProblem(t, verify(t, dir), "nodes/cp-1/manifest.json", "does not trust")
	if _, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if ps := verify(t, dir); len(ps) > 0 {
		t.Errorf("after init: %v", ps)
	}
}
