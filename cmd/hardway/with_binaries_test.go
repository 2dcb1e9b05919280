package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/bootstrap/release"
	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/systemd"
)

// `init --with-binaries` keeps each program once in the cluster directory's artifact store;
// each node's signed manifest references, by hash, the programs its units run and no others,
// and neither its folder nor its archive carries them; launch plans them from the store beside
// the archive, installs them 0755 with their content, and refuses a tampered artifact before
// anything is written.
func TestInitWithBinaries(t *testing.T) {
	fake := map[string]string{}
	for _, n := range release.Binaries {
		fake[n] = "#!/bin/sh\necho fake " + n + "\n"
	}
	bins := t.TempDir()
	out := mustHardway(t, "binaries", "fetch", "--version", "1.37.2", "--arch", "amd64", "--dest", bins, "--base-url", releaseMirror(t, fake))
	binDir := filepath.Join(bins, "v1.37.2", "linux-amd64")
	sum := func(name string) string {
		s := sha256.Sum256([]byte(fake[name]))
		return hex.EncodeToString(s[:])
	}

	dir := t.TempDir()
	out = mustHardway(t, "init", "--config", haExample, "--dir", dir, "--with-binaries", binDir)
	store := filepath.Join(dir, "artifacts", "sha256")
	stored, _ := os.ReadDir(store)
	var names []string
	for _, e := range stored {
		names = append(names, e.Name())
	}
	// The five programs units run, once each; kubectl is no unit's program.
	for _, n := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"} {
		if !strings.Contains(out, "create artifacts/sha256/"+sum(n)+" ("+n+" from "+filepath.Join(binDir, n)) {
			t.Errorf("init does not say it stores %s:\n%s", n, out)
		}
		if data, err := os.ReadFile(filepath.Join(store, sum(n))); err != nil || string(data) != fake[n] {
			t.Errorf("artifact of %s: %q %v", n, data, err)
		}
	}
	if len(names) != 5 {
		t.Errorf("the store holds %d files, want 5: %v", len(names), names)
	}

	manifest := func(node string) *bundle.Manifest {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, "nodes", node, bundle.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		m, err := bundle.DecodeManifest(data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	programs := func(m *bundle.Manifest) map[string]string {
		out := map[string]string{}
		for _, e := range m.Files {
			if e.Artifact {
				if e.Kind != bundle.KindBinary || e.Mode != "0755" {
					t.Errorf("%s: %s %s", e.Path, e.Kind, e.Mode)
				}
				out[e.Path] = e.SHA256
			}
		}
		return out
	}
	cp := programs(manifest("cp-1"))
	for _, n := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		if cp["/usr/local/bin/"+n] != sum(n) {
			t.Errorf("cp-1 does not reference %s by its hash: %v", n, cp)
		}
	}
	worker := programs(manifest("worker-1"))
	if len(worker) != 2 || worker["/usr/local/bin/kubelet"] != sum("kubelet") || worker["/usr/local/bin/kube-proxy"] != sum("kube-proxy") {
		t.Errorf("worker-1 references %v, want kubelet and kube-proxy alone", worker)
	}
	// Not in the node's folder, not in its archive.
	if _, err := os.Stat(filepath.Join(dir, "nodes", "worker-1", "usr/local/bin/kubelet")); err == nil {
		t.Error("the node folder carries the kubelet")
	}
	for _, name := range archiveNames(t, filepath.Join(dir, "nodes", "worker-1.tar.gz")) {
		if strings.HasPrefix(name, "usr/local/bin/") && !strings.HasSuffix(name, "/") {
			t.Errorf("the archive carries %s", name)
		}
	}
	// Again, with and without the flag: nothing to write; the cluster directory verifies.
	for _, args := range [][]string{{"--with-binaries", binDir}, nil} {
		if out := mustHardway(t, append([]string{"init", "--config", haExample, "--dir", dir}, args...)...); !strings.Contains(out, "up to date") {
			t.Errorf("init %v again:\n%s", args, out)
		}
	}
	if out, errs, code := hardway(t, "certs", "verify", "--dir", dir); code != 0 {
		t.Errorf("certs verify: exit %d\n%s%s", code, out, errs)
	}

	// Ship worker-1's archive with the artifacts it references beside it, as distribute.sh does.
	ship := t.TempDir()
	copyFile(t, filepath.Join(dir, "nodes", "worker-1.tar.gz"), filepath.Join(ship, "worker-1.tar.gz"))
	for _, n := range []string{"kubelet", "kube-proxy"} {
		copyFile(t, filepath.Join(store, sum(n)), filepath.Join(ship, "artifacts", "sha256", sum(n)))
	}
	archive := filepath.Join(ship, "worker-1.tar.gz")
	pub := filepath.Join(dir, "signing", "bundle.pub")
	if out, errs, code := hardway(t, "launch", "--dry-run", "--node", "worker-1", "--bundle", archive, "--root", filepath.Join(t.TempDir(), "fresh"), "--trust", pub); code != 0 ||
		!strings.Contains(out, "would create  /usr/local/bin/kubelet (0755)") || strings.Contains(out, "kube-apiserver (0755)") {
		t.Errorf("launch --dry-run: exit %d\n%s%s", code, out, errs)
	}
	// Install as launch does (its units need a systemd; the files do not).
	policy, err := units.Installable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Open(context.Background(), archive, "worker-1", bundle.Options{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	install := func(rootDir string) error {
		root, err := rootfs.Open(rootDir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		_, err = systemd.Install(context.Background(), root, b.Files, b.Artifacts)
		return err
	}
	root := t.TempDir()
	if err := install(root); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"kubelet", "kube-proxy"} {
		p := filepath.Join(root, "usr/local/bin", n)
		fi, err := os.Stat(p)
		data, _ := os.ReadFile(p)
		if err != nil || fi.Mode().Perm() != 0o755 || string(data) != fake[n] {
			t.Errorf("%s: %v %v %q", p, fi, err, data)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/bin/kube-apiserver")); err == nil {
		t.Error("the worker got kube-apiserver")
	}

	// A tampered artifact, the same size or cut short, is refused before anything is written.
	kubelet := filepath.Join(ship, "artifacts", "sha256", sum("kubelet"))
	for _, tc := range []struct{ name, content, want string }{
		{"altered", strings.Replace(fake["kubelet"], "fake", "evil", 1), "not the artifact the manifest names"},
		{"cut short", fake["kubelet"][:10], "bytes, the manifest says"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(kubelet, []byte(tc.content), 0o644)
			_, errs, code := hardway(t, "launch", "--dry-run", "--node", "worker-1", "--bundle", archive, "--root", filepath.Join(t.TempDir(), "fresh"), "--trust", pub)
			if code == 0 || !strings.Contains(errs, "/usr/local/bin/kubelet") || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "copy it again from the cluster directory's artifacts/") {
				t.Errorf("launch --dry-run: exit %d\n%s", code, errs)
			}
			fresh := t.TempDir()
			if err := install(fresh); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("install: %v", err)
			}
			if entries, _ := os.ReadDir(fresh); len(entries) != 0 {
				t.Errorf("written before the refusal: %v", entries)
			}
		})
	}
}

func archiveNames(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
