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

// Anything but bootstrap.Manifest's own format is refused, each problem named by its file and
// field path.
func TestReadBundleStrictManifest(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, "w1", map[string]string{"/etc/systemd/system/kubelet.service": "[Service]\n"},
		[]bootstrap.ManifestUnit{{Name: "kubelet.service", Inputs: []string{"/var/lib/kubelet/config.yaml"}}})
	mpath := filepath.Join(systemd.NodeDir(dir, "w1"), systemd.ManifestName)
	good, err := os.ReadFile(mpath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := systemd.ReadBundle(dir, "w1"); err != nil {
		t.Fatalf("bootstrap's own manifest: %v", err)
	}
	sum := `"sha256": "` + hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("[Service]\n")); return s[:] }()) + `"`
	file := `{"path": "/etc/systemd/system/kubelet.service", "mode": "0644", ` + sum + `}`
	unit := `{"name": "kubelet.service", "inputs": null}`
	for _, tc := range []struct {
		name, manifest string
		want           []string
	}{
		{"a bare list of files", `[` + file + `]`, []string{"manifest: want a JSON object, got an array"}},
		{"units as a map", `{"node": "w1", "files": [` + file + `], "units": {"kubelet.service": []}}`, []string{"units: want a JSON array, got an object"}},
		{"numeric mode", `{"node": "w1", "files": [{"path": "/etc/systemd/system/kubelet.service", "mode": 420, ` + sum + `}], "units": [` + unit + `]}`, []string{"files[0].mode: want a string, got a number 420"}},
		{"three-digit mode", `{"node": "w1", "files": [{"path": "/etc/systemd/system/kubelet.service", "mode": "644", ` + sum + `}], "units": [` + unit + `]}`, []string{`files[0].mode: "644" is not a four-digit octal mode`}},
		{"capitalised field", `{"node": "w1", "files": [{"Path": "/etc/systemd/system/kubelet.service", "mode": "0644", ` + sum + `}], "units": [` + unit + `]}`, []string{`files[0].Path: unknown field; the field is spelled "path"`, "files[0].path: missing"}},
		{"no sha256", `{"node": "w1", "files": [{"path": "/etc/systemd/system/kubelet.service", "mode": "0644"}], "units": [` + unit + `]}`, []string{"files[0].sha256: missing"}},
		{"extra field", `{"node": "w1", "version": 2, "files": [` + file + `], "units": [` + unit + `]}`, []string{"version: unknown field (known: node, files, units)"}},
		{"no node", `{"files": [` + file + `], "units": [` + unit + `]}`, []string{"node: missing"}},
		{"health in upper case", `{"node": "w1", "files": [` + file + `], "units": [{"name": "kubelet.service", "inputs": [], "health": {"Kind": "kubelet", "url": "http://127.0.0.1:10248/healthz", "ca": "", "cert": "", "key": ""}}]}`, []string{`units[0].health.Kind: unknown field; the field is spelled "kind"`, "units[0].health.kind: missing"}},
		{"unknown health kind", `{"node": "w1", "files": [` + file + `], "units": [{"name": "kubelet.service", "inputs": [], "health": {"kind": "ping", "url": "http://127.0.0.1:10248/healthz", "ca": "", "cert": "", "key": ""}}]}`, []string{`units[0].health.kind: "ping" is not a health kind`}},
		{"undescribed unit file", `{"node": "w1", "files": [` + file + `], "units": []}`, []string{"files[0] (/etc/systemd/system/kubelet.service): a unit file that units does not describe"}},
		{"another node's manifest", `{"node": "w2", "files": [` + file + `], "units": [` + unit + `]}`, []string{`node: the manifest is for node "w2", not "w1"`}},
		{"not JSON", `{"node": "w1",`, []string{"not valid JSON"}},
	} {
		if err := os.WriteFile(mpath, []byte(tc.manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := systemd.ReadBundle(dir, "w1")
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), mpath+": ") {
			t.Errorf("%s: the error does not start with the manifest's path: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: no %q in\n%v", tc.name, w, err)
			}
		}
	}
	if err := os.WriteFile(mpath, good, 0o644); err != nil {
		t.Fatal(err)
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
	os.WriteFile(filepath.Join(nd, "manifest.json"), []byte(`{"node":"n","files":[{"path":"/etc/../../x","mode":"0644","sha256":"`+strings.Repeat("0", 64)+`"}],"units":[]}`), 0o644)
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
