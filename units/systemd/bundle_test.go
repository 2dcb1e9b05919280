package systemd_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/bootstrap"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/systemd"
)

// writeBundle writes files as DIR/nodes/<node>/ with the manifest bootstrap writes.
func writeBundle(t *testing.T, dir, node string, files map[string]string, mus []bootstrap.ManifestUnit) {
	t.Helper()
	m := bootstrap.Manifest{Node: node, Units: mus}
	for p, data := range files {
		host := filepath.Join(systemd.NodeDir(dir, node), p)
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(host, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(data))
		mode := "0644"
		if strings.HasSuffix(p, ".key") {
			mode = "0600"
		}
		m.Files = append(m.Files, bootstrap.ManifestFile{Path: p, Mode: mode, SHA256: hex.EncodeToString(sum[:])})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(systemd.NodeDir(dir, node), systemd.ManifestName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReadBundle reads exactly what bootstrap writes.
func TestReadBundleFromBootstrapManifest(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, "cp-1", map[string]string{
		"/etc/systemd/system/etcd.service":    "[Service]\nExecStart=/usr/local/bin/etcd\n",
		"/etc/kubernetes/pki/etcd/ca.crt":     "ca",
		"/etc/kubernetes/pki/etcd/server.key": "key",
	}, []bootstrap.ManifestUnit{{
		Name:   "etcd.service",
		Inputs: []string{"/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/server.key"},
		Health: &units.Health{Kind: units.HealthEtcd, URL: "https://10.0.0.1:2379/health", CA: "/etc/kubernetes/pki/etcd/ca.crt", Cert: "/c", Key: "/k"},
	}})
	b, err := systemd.ReadBundle(dir, "cp-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Files) != 3 || len(b.Units) != 1 {
		t.Fatalf("bundle: %+v", b)
	}
	u := b.Units[0]
	if u.Name != "etcd.service" || len(u.Inputs) != 2 || u.Health == nil || u.Health.Kind != systemd.HealthEtcd || u.Health.URL != "https://10.0.0.1:2379/health" || u.Health.Cert != "/c" {
		t.Fatalf("unit: %+v health %+v", u, u.Health)
	}
	for _, f := range b.Files {
		if want := map[bool]os.FileMode{true: 0o600, false: 0o644}[strings.HasSuffix(f.Path, ".key")]; f.Mode != want {
			t.Errorf("%s: mode %o, want %o", f.Path, f.Mode, want)
		}
	}
}

// The tolerant forms: a bare list of files, and "units" as a map of unit name to inputs.
func TestReadBundleTolerantManifest(t *testing.T) {
	dir := t.TempDir()
	nd := systemd.NodeDir(dir, "w1")
	os.MkdirAll(filepath.Join(nd, "etc/systemd/system"), 0o755)
	os.WriteFile(filepath.Join(nd, "etc/systemd/system/kubelet.service"), []byte("[Service]\n"), 0o644)
	manifest := `{"files":[{"path":"etc/systemd/system/kubelet.service","mode":420}],"units":{"kubelet.service":["/var/lib/kubelet/config.yaml"]}}`
	os.WriteFile(filepath.Join(nd, "manifest.json"), []byte(manifest), 0o644)
	b, err := systemd.ReadBundle(dir, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if b.Files[0].Path != "/etc/systemd/system/kubelet.service" || b.Files[0].Mode != 0o644 || b.Units[0].Inputs[0] != "/var/lib/kubelet/config.yaml" {
		t.Fatalf("%+v", b)
	}
	os.WriteFile(filepath.Join(nd, "manifest.json"), []byte(`[{"path":"/etc/systemd/system/kubelet.service","mode":"0644"}]`), 0o644)
	if b, err = systemd.ReadBundle(dir, "w1"); err != nil || len(b.Units) != 1 || b.Units[0].Name != "kubelet.service" {
		t.Fatalf("list manifest: %+v, %v", b, err)
	}
}

func TestReadBundleRefusesTamperingAndEscapes(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, "n", map[string]string{"/etc/a": "x"}, nil)
	os.WriteFile(filepath.Join(systemd.NodeDir(dir, "n"), "etc/a"), []byte("y"), 0o644)
	if _, err := systemd.ReadBundle(dir, "n"); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("tampered file: %v", err)
	}
	nd := systemd.NodeDir(dir, "n")
	os.WriteFile(filepath.Join(nd, "manifest.json"), []byte(`{"files":[{"path":"/etc/../../x","mode":"0644"}]}`), 0o644)
	if _, err := systemd.ReadBundle(dir, "n"); err == nil || !strings.Contains(err.Error(), "..") {
		t.Fatalf("escaping path: %v", err)
	}
	if _, err := systemd.ReadBundle(dir, "other"); err == nil || !strings.Contains(err.Error(), "hardway init") {
		t.Fatalf("missing node: %v", err)
	}
}

// A dry run writes nothing and says what it would do.
func TestDryRunWritesNothing(t *testing.T) {
	root := t.TempDir()
	b := &systemd.Bundle{Node: "n", Files: []systemd.File{{Path: "/etc/systemd/system/etcd.service", Data: []byte("[Service]\n"), Mode: 0o644}},
		Units: []systemd.Unit{{Name: "etcd.service"}}}
	rep, err := (&systemd.Launcher{Root: root, DryRun: true}).Launch(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Fatalf("dry run wrote %v", ents)
	}
	var out bytes.Buffer
	rep.Describe(&out)
	if !strings.Contains(out.String(), "would create  /etc/systemd/system/etcd.service (0644)") || !strings.Contains(out.String(), "would daemon-reload") {
		t.Fatalf("dry run report:\n%s", out.String())
	}
}
