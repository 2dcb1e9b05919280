package bootstrap

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/configstest"
	"github.com/hardway-dev/hardway/pki"
)

func haCluster(t testing.TB) *configs.Cluster { return configstest.HA() }

func initDir(t *testing.T, c *configs.Cluster) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Apply(dir, build(t, dir, c, Options{}), ApplyOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// bundleFiles lists a node's bundle as node paths.
func bundleFiles(t *testing.T, dir, node string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(dir, BundleDir, node)
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && fi.Name() != "manifest.json" {
			out = append(out, strings.TrimPrefix(p, root))
		}
		return nil
	})
	return out
}

// Least privilege, over every node of the HA example.
func TestBundlesCarryOnlyWhatTheNodeNeeds(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	for _, n := range c.Nodes {
		files := bundleFiles(t, dir, n.Name)
		if len(files) == 0 {
			t.Fatalf("%s: empty bundle", n.Name)
		}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dir, BundleDir, n.Name, f))
			if err != nil {
				t.Fatal(err)
			}
			// No node ever gets another node's credentials.
			for _, other := range c.Nodes {
				if other.Name != n.Name && strings.Contains(f, other.Name) {
					t.Errorf("%s: carries %s", n.Name, f)
				}
			}
			if n.Has(configs.RoleWorker) && !n.Has(configs.RoleControlPlane) {
				if strings.HasSuffix(f, "ca.key") || strings.Contains(string(data), "system:masters") {
					t.Errorf("worker %s carries %s", n.Name, f)
				}
			}
			if strings.Contains(f, "super-admin") && n.Name != "cp-1" {
				t.Errorf("%s carries the break-glass credentials", n.Name)
			}
		}
		if n.Has(configs.RoleWorker) {
			want := []string{"/etc/kubernetes/kube-proxy.kubeconfig", "/etc/kubernetes/kubelet.kubeconfig", "/etc/kubernetes/pki/ca.crt",
				"/etc/systemd/system/kube-proxy.service", "/etc/systemd/system/kubelet.service",
				"/var/lib/kube-proxy/config.yaml", "/var/lib/kubelet/config.yaml", "/var/lib/kubelet/pki/kubelet.crt", "/var/lib/kubelet/pki/kubelet.key"}
			if !slices.Equal(files, want) {
				t.Errorf("worker %s bundle:\n got %v\nwant %v", n.Name, files, want)
			}
			// The kubelet credentials are its own.
			kc, err := pki.ParseKubeconfig(mustReadFile(t, filepath.Join(dir, BundleDir, n.Name, "etc/kubernetes/kubelet.kubeconfig")))
			if err != nil {
				t.Fatal(err)
			}
			cert, _ := pki.ParseCert(kc.CertPEM)
			if cert.Subject.CommonName != "system:node:"+n.Name {
				t.Errorf("%s: kubelet kubeconfig is for %s", n.Name, cert.Subject.CommonName)
			}
		}
		if n.Has(configs.RoleControlPlane) {
			for _, f := range []string{"/etc/kubernetes/pki/apiserver.key", "/etc/kubernetes/pki/sa.key", "/etc/kubernetes/encryption-config.yaml",
				"/etc/kubernetes/pki/etcd/server.key", "/etc/kubernetes/pki/etcd/peer.key", "/etc/kubernetes/pki/ca.key"} {
				if !slices.Contains(files, f) {
					t.Errorf("control-plane %s lacks %s", n.Name, f)
				}
			}
			for _, f := range files {
				if strings.HasSuffix(f, "etcd/ca.key") || strings.HasSuffix(f, "front-proxy-ca.key") {
					t.Errorf("control-plane %s carries %s, which no component reads", n.Name, f)
				}
			}
			cert, _ := pki.ParseCert(mustReadFile(t, filepath.Join(dir, BundleDir, n.Name, "etc/kubernetes/pki/etcd/server.crt")))
			if cert.Subject.CommonName != n.Name {
				t.Errorf("%s: etcd server certificate is %s's", n.Name, cert.Subject.CommonName)
			}
		}
	}
}

func TestBundleArchiveMatchesDirectoryAndManifest(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	node := "cp-1"
	var m Manifest
	if err := json.Unmarshal(mustReadFile(t, filepath.Join(dir, BundleDir, node, "manifest.json")), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Units) != 4 || m.Units[0].Name != "etcd.service" || m.Units[0].Health == nil {
		t.Errorf("manifest units: %+v", m.Units)
	}
	f, err := os.Open(filepath.Join(dir, BundleDir, node+".tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	inTar := map[string]*tar.Header{}
	data := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		inTar["/"+h.Name], data["/"+h.Name] = h, b
	}
	if len(m.Files) != len(bundleFiles(t, dir, node)) {
		t.Errorf("manifest lists %d files, the directory holds %d", len(m.Files), len(bundleFiles(t, dir, node)))
	}
	for _, mf := range m.Files {
		h, ok := inTar[mf.Path]
		if !ok {
			t.Errorf("%s: not in the archive", mf.Path)
			continue
		}
		sum := sha256.Sum256(data[mf.Path])
		if hex.EncodeToString(sum[:]) != mf.SHA256 {
			t.Errorf("%s: archive content does not match the manifest", mf.Path)
		}
		onDisk := mustReadFile(t, filepath.Join(dir, BundleDir, node, mf.Path))
		if !bytes.Equal(onDisk, data[mf.Path]) {
			t.Errorf("%s: archive and directory differ", mf.Path)
		}
		if h.Uid != 0 || h.Uname != "root" {
			t.Errorf("%s: owner %d/%s", mf.Path, h.Uid, h.Uname)
		}
		if want := mf.Mode; want != fmt.Sprintf("%04o", h.Mode) {
			t.Errorf("%s: archive mode %o, manifest %s", mf.Path, h.Mode, want)
		}
	}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Renewing one member's certificate changes that member's bundle and nothing else.
func TestRenewTouchesOnlyItsBundle(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	p := build(t, dir, c, Options{Renew: map[string]bool{"etcd/server-cp-2": true}})
	for _, ch := range p.Changes {
		if strings.HasPrefix(ch.Path, BundleDir+"/") && !strings.HasPrefix(ch.Path, BundleDir+"/cp-2") {
			t.Errorf("renewing cp-2's etcd certificate changes %s", ch.Path)
		}
	}
	if len(p.Changes) != 4 { // the cert, its bundle copy, the manifest, the archive
		var paths []string
		for _, ch := range p.Changes {
			paths = append(paths, ch.Path)
		}
		t.Errorf("changes: %v", paths)
	}
}

func TestSummarizeCountsByReason(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	p := build(t, dir, c, Options{Renew: map[string]bool{"kube-proxy": true}})
	var b strings.Builder
	p.Summarize(&b)
	want := "update      1 file(s): renewal requested\nupdate      1 file(s): its certificate, key, CA or server changed\nupdate      9 file(s): node bundles\n"
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}
