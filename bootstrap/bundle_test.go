package bootstrap

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/configstest"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
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
		if err == nil && !fi.IsDir() && fi.Name() != bundle.ManifestName && fi.Name() != bundle.SignatureName {
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
			want := []string{"/etc/cni/net.d/10-hardway-bridge.conflist", "/etc/cni/net.d/99-loopback.conf", "/etc/containerd/config.toml",
				"/etc/hardway/pod-routes.yaml", "/etc/kubernetes/kube-proxy.kubeconfig", "/etc/kubernetes/kubelet.kubeconfig", "/etc/kubernetes/pki/ca.crt",
				"/etc/systemd/system/containerd.service", "/etc/systemd/system/kube-proxy.service", "/etc/systemd/system/kubelet.service", "/etc/systemd/system/pod-routes.service",
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

// The directory and the archive hold the same bundle, which the one reader accepts: every
// entry matches its manifest line, and the archive keeps modes and root ownership.
func TestBundleArchiveMatchesDirectoryAndManifest(t *testing.T) {
	c := haCluster(t)
	dir := initDir(t, c)
	node := "cp-1"
	fromDir, err := bundle.ReadDir(context.Background(), dir, node, bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromTar, err := bundle.ReadArchive(context.Background(), bundle.ArchivePath(dir, node), node, bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromDir, fromTar) {
		t.Errorf("the archive and the directory differ:\n%+v\n%+v", fromDir.Manifest(), fromTar.Manifest())
	}
	if u := fromDir.Units; len(u) != 5 || u[0].Name != "etcd.service" || u[0].Health == nil {
		t.Errorf("units: %+v", u)
	}
	var onDisk int
	for _, f := range fromDir.Files {
		if f.Kind != bundle.KindDirectory {
			onDisk++
		}
	}
	if onDisk != len(bundleFiles(t, dir, node)) {
		t.Errorf("the manifest lists %d files, the directory holds %d", onDisk, len(bundleFiles(t, dir, node)))
	}
	if d, ok := fromDir.File(units.EtcdDataDir); !ok || d.Kind != bundle.KindDirectory || d.Mode != 0o700 {
		t.Errorf("etcd's data directory: %+v, %v", d, ok)
	}
	gz, err := gzip.NewReader(bytes.NewReader(mustReadFile(t, bundle.ArchivePath(dir, node))))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Uname != "root" {
			t.Errorf("%s: owner %d/%s", h.Name, h.Uid, h.Uname)
		}
		if f, ok := fromDir.File("/" + strings.TrimSuffix(h.Name, "/")); ok && int64(f.Mode) != h.Mode {
			t.Errorf("%s: archive mode %o, manifest %o", h.Name, h.Mode, f.Mode)
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
	if len(p.Changes) != 5 { // the cert, its bundle copy, the manifest, its signature, the archive
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
	want := "update      1 file(s): renewal requested\nupdate      1 file(s): its certificate or key changed\nupdate     12 file(s): node bundles\n"
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}
