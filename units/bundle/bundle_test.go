package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hardway-dev/hardway/units/bundle"
)

var ctx = context.Background()

func sample() *bundle.Bundle {
	return bundle.New("w1", []bundle.File{
		{Path: "/etc/systemd/system/kubelet.service", Kind: bundle.KindUnit, Mode: 0o600, Data: []byte("[Service]\n")},
		{Path: "/etc/kubernetes/pki/ca.crt", Kind: bundle.KindCertificate, Mode: 0o644, Data: []byte("ca")},
		{Path: "/etc/kubernetes/kubelet.kubeconfig", Kind: bundle.KindSecret, Mode: 0o600, Data: []byte("kc")},
		{Path: "/var/lib/kubelet", Kind: bundle.KindDirectory, Mode: 0o700},
		{Path: "/var/lib/kubelet/pki/kubelet.crt", Kind: bundle.KindIfAbsent, Mode: 0o644, Data: []byte("")},
	}, []bundle.Unit{{
		Name:   "kubelet.service",
		Inputs: []string{"/etc/kubernetes/kubelet.kubeconfig"},
		Health: &bundle.Health{Kind: bundle.HealthKubelet, URL: "http://127.0.0.1:10248/healthz"},
	}})
}

// writeDir writes b as dir/nodes/<node>/ the way init does, and returns the manifest's path.
func writeDir(t *testing.T, dir string, b *bundle.Bundle) string {
	t.Helper()
	root := bundle.NodeDir(dir, b.Node)
	for _, f := range b.Files {
		if f.Kind == bundle.KindDirectory {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	m, err := b.Manifest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(root, bundle.ManifestName)
	if err := os.WriteFile(mpath, m, 0o644); err != nil {
		t.Fatal(err)
	}
	return mpath
}

func writeArchive(t *testing.T, b *bundle.Bundle) string {
	t.Helper()
	m, err := b.Manifest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Archive(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), b.Node+".tar.gz")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// What the writer produces, both readers give back, entry for entry.
func TestRoundTrip(t *testing.T) {
	want := sample()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeDir(t, dir, want)
	fromDir, err := bundle.ReadDir(ctx, dir, "w1", bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromTar, err := bundle.ReadArchive(ctx, writeArchive(t, want), "w1", bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Files {
		want.Files[i].Owner = bundle.DefaultOwner
		if want.Files[i].Data == nil && want.Files[i].Kind != bundle.KindDirectory {
			want.Files[i].Data = []byte{}
		}
	}
	for name, got := range map[string]*bundle.Bundle{"directory": fromDir, "archive": fromTar} {
		if !reflect.DeepEqual(got.Manifest(), want.Manifest()) {
			t.Errorf("%s: manifest\n%+v\nwant\n%+v", name, got.Manifest(), want.Manifest())
		}
		for i, f := range got.Files {
			if string(f.Data) != string(want.Files[i].Data) {
				t.Errorf("%s: %s: %q", name, f.Path, f.Data)
			}
		}
	}
}

// The manifest is read strictly and validated; every problem names its field.
func TestDecodeManifestProblems(t *testing.T) {
	sum := hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("[Service]\n")); return s[:] }())
	file := `{"path": "/etc/systemd/system/kubelet.service", "kind": "unit", "mode": "0600", "owner": "root:root", "size": 10, "sha256": "` + sum + `"}`
	unit := `{"name": "kubelet.service", "inputs": [], "after": []}`
	doc := func(files, units string) string {
		return `{"version": 1, "node": "w1", "files": [` + files + `], "units": [` + units + `]}`
	}
	if _, err := bundle.DecodeManifest([]byte(doc(file, unit))); err != nil {
		t.Fatalf("a good manifest: %v", err)
	}
	versioned := `{"name": "kubelet.service", "inputs": [], "after": [], "version": "1.37"}`
	if m, err := bundle.DecodeManifest([]byte(doc(file, versioned))); err != nil || m.Units[0].Version != "1.37" {
		t.Fatalf("a unit with its version: %v", err)
	}
	swap := func(from, to string) string { return strings.Replace(file, from, to, 1) }
	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"not JSON", `{"node": "w1",`, "not a bundle manifest"},
		{"a bare list", `[` + file + `]`, "cannot unmarshal array"},
		{"unknown field", `{"version": 1, "node": "w1", "extra": 1, "files": [], "units": []}`, `unknown field "extra"`},
		{"duplicate field", `{"version": 1, "node": "w1", "node": "w2", "files": [], "units": []}`, `duplicate field "node"`},
		{"wrong case", doc(swap(`"path"`, `"Path"`), unit), `unknown field "files[0].Path"`},
		{"other version", strings.Replace(doc(file, unit), `"version": 1`, `"version": 2`, 1), "version: 2 is not a format"},
		{"no version", strings.Replace(doc(file, unit), `"version": 1, `, "", 1), "version: 0 is not a format"},
		{"no node", strings.Replace(doc(file, unit), `"node": "w1", `, "", 1), "node: missing"},
		{"numeric mode", doc(swap(`"0600"`, `384`), unit), "cannot unmarshal number"},
		{"three-digit mode", doc(swap(`"0600"`, `"600"`), unit), `files[0].mode: "600" is not a four-digit octal mode`},
		{"setuid", doc(swap(`"0600"`, `"4755"`), unit), `files[0].mode: "4755" is not a four-digit octal mode`},
		{"world-writable", doc(swap(`"0600"`, `"0666"`), unit), "files[0].mode: 0666 is wider than a unit may be (at most 0600)"},
		{"readable unit (CIS 4.1.1)", doc(swap(`"0600"`, `"0644"`), unit), "files[0].mode: 0644 is wider than a unit may be (at most 0600)"},
		{"readable secret", doc(strings.Replace(swap(`"unit"`, `"secret"`), `"0600"`, `"0644"`, 1), unit), "files[0].mode: 0644 is wider than a secret may be (at most 0600)"},
		{"unknown kind", doc(swap(`"unit"`, `"script"`), unit), `files[0].kind: "script" is not a kind`},
		{"no sha256", doc(swap(`, "sha256": "`+sum+`"`, ``), unit), `files[0].sha256: "" is not 64 lowercase hex digits`},
		{"no owner", doc(swap(`"owner": "root:root", `, ``), unit), `files[0].owner: "" is not user:group`},
		{"relative path", doc(swap(`"/etc/systemd`, `"etc/systemd`), unit), "files[0].path: \"etc/systemd/system/kubelet.service\" is not an absolute path"},
		{"climbing path", doc(swap(`/etc/systemd/system/kubelet.service`, `/etc/../../etc/systemd/system/kubelet.service`), unit), "is not clean"},
		{"a file as a parent", doc(file+`,`+strings.Replace(file, "kubelet.service\"", "kubelet.service/x\"", 1), unit), "inside /etc/systemd/system/kubelet.service, which the bundle lists as a unit"},
		{"listed twice", doc(file+`,`+file, unit), "files[1].path: /etc/systemd/system/kubelet.service is listed twice"},
		{"unit without its file", doc(file, unit+`,{"name": "kube-proxy.service", "inputs": [], "after": []}`), "units[1].name: the bundle has no unit file /etc/systemd/system/kube-proxy.service"},
		{"undescribed unit file", doc(file, ``), "files[0]: /etc/systemd/system/kubelet.service is a unit file that units does not describe"},
		{"after an unknown unit", doc(file, `{"name": "kubelet.service", "inputs": [], "after": ["etcd.service"]}`), `units[0].after[0]: "etcd.service" is not a unit of the bundle`},
		{"a cycle", doc(file, `{"name": "kubelet.service", "inputs": [], "after": ["kubelet.service"]}`), "dependency cycle: kubelet.service -> kubelet.service"},
		{"unknown health kind", doc(file, `{"name": "kubelet.service", "inputs": [], "after": [], "health": {"kind": "ping", "url": "http://127.0.0.1:10248/healthz"}}`), `units[0].health.kind: "ping" is not a health kind`},
		{"https health without a key", doc(file, `{"name": "kubelet.service", "inputs": [], "after": [], "health": {"kind": "apiserver", "url": "https://10.0.0.1:6443/readyz", "ca": "/ca", "cert": "/c"}}`), "units[0].health.key: missing"},
		{"patch version", doc(file, strings.Replace(versioned, `"1.37"`, `"1.37.2"`, 1)), `units[0].version: "1.37.2" is not a minor version MAJOR.MINOR`},
		{"v-prefixed version", doc(file, strings.Replace(versioned, `"1.37"`, `"v1.37"`, 1)), `units[0].version: "v1.37" is not a minor version`},
		{"numeric version", doc(file, strings.Replace(versioned, `"1.37"`, `1.37`, 1)), "cannot unmarshal number"},
		{"escaping health path", doc(file, `{"name": "kubelet.service", "inputs": [], "after": [], "health": {"kind": "apiserver", "url": "https://10.0.0.1:6443/readyz", "ca": "/ca", "cert": "/c", "key": "/../k"}}`), "units[0].health.key: \"/../k\" is not clean"},
	} {
		_, err := bundle.DecodeManifest([]byte(tc.manifest))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %q", tc.name, err, tc.want)
		}
	}
}

// The readers check every file against the manifest and take in nothing else.
func TestReadersRefuseTamperingAndStrangers(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, sample())
	nd := bundle.NodeDir(dir, "w1")
	ca := filepath.Join(nd, "etc/kubernetes/pki/ca.crt")
	os.WriteFile(ca, []byte("CA"), 0o644)
	if _, err := bundle.ReadDir(ctx, dir, "w1", bundle.Options{}); err == nil || !strings.Contains(err.Error(), "files[1].sha256 (/etc/kubernetes/pki/ca.crt): does not match") {
		t.Errorf("a modified file: %v", err)
	}
	os.Remove(ca)
	if err := syscall.Mkfifo(ca, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.ReadDir(ctx, dir, "w1", bundle.Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
	os.Remove(ca)
	os.Symlink("/etc/hostname", ca)
	if _, err := bundle.ReadDir(ctx, dir, "w1", bundle.Options{}); err == nil || !strings.Contains(err.Error(), "a symbolic link on the way to /etc/kubernetes/pki/ca.crt") {
		t.Errorf("a link: %v", err)
	}
	if _, err := bundle.ReadDir(ctx, dir, "w2", bundle.Options{}); err == nil || !strings.Contains(err.Error(), "hardway init") {
		t.Errorf("another node: %v", err)
	}
	// An archive with an entry its manifest does not list.
	b := sample()
	extra := bundle.New("w1", append(b.Files, bundle.File{Path: "/etc/cron.d/x", Kind: bundle.KindConfig, Mode: 0o600, Data: []byte("* * * * * root sh")}), b.Units)
	m, _ := b.Manifest().Marshal()
	data, err := extra.Archive(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "w1.tar.gz")
	os.WriteFile(p, data, 0o600)
	if _, err := bundle.ReadArchive(ctx, p, "w1", bundle.Options{}); err == nil || !strings.Contains(err.Error(), "entry etc/cron.d/x is not in its manifest") {
		t.Errorf("an unlisted entry: %v", err)
	}
	if _, err := bundle.ReadArchive(ctx, writeArchive(t, b), "w2", bundle.Options{}); err == nil || !strings.Contains(err.Error(), `the manifest is for node "w1", not "w2"`) {
		t.Errorf("another node's archive: %v", err)
	}
}

// A verifier sees the manifest's bytes and the detached signature before anything is decoded.
func TestVerifierSeesTheSignatureFirst(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(manifest, sig []byte) error {
		if sig == nil {
			return errors.New("unsigned bundle")
		}
		if !ed25519.Verify(pub, manifest, sig) {
			return errors.New("bad signature")
		}
		return nil
	}
	dir := t.TempDir()
	mpath := writeDir(t, dir, sample())
	if _, err := bundle.ReadDir(ctx, dir, "w1", bundle.Options{Verify: verify}); err == nil || !strings.Contains(err.Error(), "unsigned bundle") {
		t.Errorf("unsigned: %v", err)
	}
	m, _ := os.ReadFile(mpath)
	sigPath := filepath.Join(filepath.Dir(mpath), bundle.SignatureName)
	os.WriteFile(sigPath, ed25519.Sign(priv, m), 0o644)
	if _, err := bundle.ReadDir(ctx, dir, "w1", bundle.Options{Verify: verify}); err != nil {
		t.Errorf("signed: %v", err)
	}
	// Not even a broken manifest is parsed when the signature does not match.
	os.WriteFile(mpath, []byte("{not json"), 0o644)
	if _, err := bundle.ReadDir(ctx, dir, "w1", bundle.Options{Verify: verify}); err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Errorf("tampered: %v", err)
	}
}

// An archive's signature is judged before any of its files is taken in: a refused signature is
// the error even when a later entry is one no bundle may hold.
func TestArchiveSignatureIsCheckedFirst(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	m, _ := sample().Manifest().Marshal()
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: bundle.ManifestName, Mode: 0o644, Size: int64(len(m))})
	tw.Write(m)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "etc/passwd", Linkname: "/etc/shadow"})
	tw.Close()
	gz.Close()
	p := filepath.Join(t.TempDir(), "w1.tar.gz")
	os.WriteFile(p, buf.Bytes(), 0o600)
	refuse := func([]byte, []byte) error { return errors.New("refused by the verifier") }
	if _, err := bundle.ReadArchive(ctx, p, "w1", bundle.Options{Verify: refuse}); err == nil || !strings.Contains(err.Error(), "refused by the verifier") {
		t.Errorf("verifier first: %v", err)
	}
	if _, err := bundle.ReadArchive(ctx, p, "w1", bundle.Options{}); err == nil || !strings.Contains(err.Error(), "only regular files and directories") {
		t.Errorf("a link entry: %v", err)
	}
}

// Directory entries interleaved with many files are all accounted for by the manifest.
func TestArchiveWithManyDirectories(t *testing.T) {
	var files []bundle.File
	for i := range 200 {
		files = append(files, bundle.File{Path: fmt.Sprintf("/etc/d%02d/e%02d/f%03d", i%40, i%7, i), Kind: bundle.KindConfig, Mode: 0o600, Data: []byte{byte(i)}})
	}
	b := bundle.New("w1", files, nil)
	got, err := bundle.ReadArchive(ctx, writeArchive(t, b), "w1", bundle.Options{})
	if err != nil || len(got.Files) != 200 {
		t.Fatalf("%d files, %v", len(got.Files), err)
	}
}

// Diff is launch's restart rule applied to two manifests: what changed, what starts, what
// restarts.
func TestManifestDiff(t *testing.T) {
	unit := func(name string, inputs ...string) bundle.Unit { return bundle.Unit{Name: name, Inputs: inputs} }
	entry := func(p, sum, mode string) bundle.Entry {
		return bundle.Entry{Path: p, Kind: bundle.KindConfig, Mode: mode, SHA256: sum}
	}
	base := &bundle.Manifest{
		Files: []bundle.Entry{entry("/etc/a.crt", "1", "0644"), entry("/etc/b.key", "2", "0600"), entry("/etc/systemd/system/x.service", "3", "0644")},
		Units: []bundle.Unit{unit("x.service", "/etc/a.crt"), unit("y.service", "/etc/b.key")},
	}
	tests := []struct {
		name                    string
		change                  func(m *bundle.Manifest)
		old                     *bundle.Manifest
		changed, start, restart []string
	}{
		{"same", func(*bundle.Manifest) {}, base, nil, nil, nil},
		{"input content", func(m *bundle.Manifest) { m.Files[0].SHA256 = "9" }, base, []string{"/etc/a.crt"}, nil, []string{"x.service"}},
		{"input mode", func(m *bundle.Manifest) { m.Files[1].Mode = "0640" }, base, []string{"/etc/b.key"}, nil, []string{"y.service"}},
		{"unit file", func(m *bundle.Manifest) { m.Files[2].SHA256 = "9" }, base, []string{"/etc/systemd/system/x.service"}, nil, []string{"x.service"}},
		{"drop-in added", func(m *bundle.Manifest) {
			m.Files = append(m.Files, entry("/etc/systemd/system/y.service.d/10.conf", "5", "0644"))
		}, base,
			[]string{"/etc/systemd/system/y.service.d/10.conf"}, nil, []string{"y.service"}},
		{"input removed", func(m *bundle.Manifest) { m.Files = m.Files[1:] }, base, []string{"/etc/a.crt"}, nil, []string{"x.service"}},
		{"new unit", func(m *bundle.Manifest) { m.Units = append(m.Units, unit("z.service")) }, base, nil, []string{"z.service"}, nil},
		{"no old manifest", func(*bundle.Manifest) {}, nil, []string{"/etc/a.crt", "/etc/b.key", "/etc/systemd/system/x.service"}, []string{"x.service", "y.service"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &bundle.Manifest{Files: slices.Clone(base.Files), Units: slices.Clone(base.Units)}
			tt.change(m)
			changed, start, restart := m.Diff(tt.old)
			if !slices.Equal(changed, tt.changed) || !slices.Equal(start, tt.start) || !slices.Equal(restart, tt.restart) {
				t.Errorf("changed %v start %v restart %v; want %v %v %v", changed, start, restart, tt.changed, tt.start, tt.restart)
			}
		})
	}
}
