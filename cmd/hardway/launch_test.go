package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/units/systemd"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// writeArchive writes a node bundle archive the way `hardway init` lays it out: manifest.json
// (bootstrap.Manifest) first, then each file by its path relative to /.
func writeArchive(t *testing.T, p, node string, files map[string]string, mus []bootstrap.ManifestUnit) {
	t.Helper()
	m := bootstrap.Manifest{Node: node, Units: mus}
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	})
	for _, fp := range paths {
		sum := sha256.Sum256([]byte(files[fp]))
		m.Files = append(m.Files, bootstrap.ManifestFile{Path: fp, Mode: "0644", SHA256: hex.EncodeToString(sum[:])})
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("manifest.json", manifest)
	for _, fp := range paths {
		add(strings.TrimPrefix(fp, "/"), []byte(files[fp]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// `hardway launch --bundle <node>.tar.gz --systemd-socket ...` against a real (sandboxed)
// systemd manager: the first run installs and starts, the second touches nothing, a changed
// input restarts only its unit.
func TestLaunchCommandArchiveRealSystemd(t *testing.T) {
	root := t.TempDir()
	sb := sandboxtest.Start(t, systemd.HostPath(root, systemd.SystemdDir))
	svc := func(name, input string) string {
		return fmt.Sprintf("[Unit]\nDescription=%s\n[Service]\nExecStart=/bin/sleep infinity\n# reads %s\n[Install]\nWantedBy=default.target\n", name, systemd.HostPath(root, input))
	}
	files := map[string]string{
		"/etc/systemd/system/alpha.service": svc("alpha", "/etc/alpha.conf"),
		"/etc/systemd/system/beta.service":  svc("beta", "/etc/beta.conf"),
		"/etc/alpha.conf":                   "v1",
		"/etc/beta.conf":                    "v1",
	}
	mus := []bootstrap.ManifestUnit{
		{Name: "alpha.service", Inputs: []string{"/etc/alpha.conf"}},
		{Name: "beta.service", Inputs: []string{"/etc/beta.conf"}, After: []string{"alpha.service"}},
	}
	archive := filepath.Join(t.TempDir(), "n1.tar.gz")
	writeArchive(t, archive, "n1", files, mus)
	launch := func() string {
		t.Helper()
		return mustHardway(t, "launch", "--node", "n1", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket, "--timeout", "1m")
	}

	out := launch()
	for _, want := range []string{"create  /etc/alpha.conf (0644)", "daemon-reload", "start   alpha.service", "start   beta.service", "healthy: alpha.service, beta.service"} {
		if !strings.Contains(out, want) {
			t.Errorf("first launch: no %q in\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(systemd.HostPath(root, "/etc/beta.conf")); err != nil || string(b) != "v1" {
		t.Fatalf("installed file: %q, %v", b, err)
	}

	if out = launch(); !strings.Contains(out, "nothing to do") || strings.Contains(out, "start") {
		t.Errorf("second launch:\n%s", out)
	}

	files["/etc/beta.conf"] = "v2"
	writeArchive(t, archive, "n1", files, mus)
	out = launch()
	if !strings.Contains(out, "update  /etc/beta.conf") || !strings.Contains(out, "restart beta.service") || strings.Contains(out, "restart alpha") || strings.Contains(out, "daemon-reload") {
		t.Errorf("launch after a change:\n%s", out)
	}

	// The wrong node's archive is refused before anything is touched.
	if _, errs, code := hardway(t, "launch", "--node", "n2", "--bundle", archive, "--root", root, "--systemd-socket", sb.Socket); code == 0 || !strings.Contains(errs, `for node "n1", not "n2"`) {
		t.Errorf("wrong node: exit %d\n%s", code, errs)
	}
}

// The archive `hardway init` writes reads back as the same bundle as its directory, whichever
// form --bundle names.
func TestLaunchReadsInitArchive(t *testing.T) {
	dir := t.TempDir()
	mustHardway(t, "init", "--config", "../../configs/examples/single.yaml", "--dir", dir)
	fromDir, err := readNodeBundle("", dir, "node1")
	if err != nil {
		t.Fatal(err)
	}
	for _, bundle := range []string{
		filepath.Join(dir, "nodes", "node1.tar.gz"),
		filepath.Join(dir, "nodes", "node1"),
	} {
		got, err := readNodeBundle(bundle, "", "node1")
		if err != nil {
			t.Fatalf("%s: %v", bundle, err)
		}
		if len(got.Files) != len(fromDir.Files) || len(got.Units) != len(fromDir.Units) {
			t.Fatalf("%s: %d files %d units, the directory has %d and %d", bundle, len(got.Files), len(got.Units), len(fromDir.Files), len(fromDir.Units))
		}
		for i := range got.Files {
			if got.Files[i].Path != fromDir.Files[i].Path || got.Files[i].Mode != fromDir.Files[i].Mode || !bytes.Equal(got.Files[i].Data, fromDir.Files[i].Data) {
				t.Errorf("%s: file %d: %s %v differs from %s %v", bundle, i, got.Files[i].Path, got.Files[i].Mode, fromDir.Files[i].Path, fromDir.Files[i].Mode)
			}
		}
	}
	// A directory without nodes/<node>/ falls back to nodes/<node>.tar.gz.
	if err := os.RemoveAll(filepath.Join(dir, "nodes", "node1")); err != nil {
		t.Fatal(err)
	}
	if _, err := readNodeBundle("", dir, "node1"); err != nil {
		t.Fatalf("archive fallback: %v", err)
	}
	if _, err := readNodeBundle(filepath.Join(dir, "cluster.yaml"), "", "node1"); err == nil || !strings.Contains(err.Error(), "not a gzip archive") {
		t.Fatalf("a file that is no archive: %v", err)
	}
}

// Every node bundle `hardway init` writes for the HA example passes the strict manifest reader,
// as a directory and as an archive.
func TestLaunchReadsEveryHABundle(t *testing.T) {
	dir := t.TempDir()
	mustHardway(t, "init", "--config", haExample, "--dir", dir)
	c := mustCluster(t, dir)
	for _, n := range c.Nodes {
		for _, bundle := range []string{filepath.Join(dir, "nodes", n.Name), filepath.Join(dir, "nodes", n.Name+".tar.gz")} {
			if b, err := readNodeBundle(bundle, "", n.Name); err != nil {
				t.Errorf("%s: %v", bundle, err)
			} else if len(b.Units) == 0 {
				t.Errorf("%s: no units", bundle)
			}
		}
	}
}
