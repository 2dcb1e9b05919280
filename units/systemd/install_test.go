package systemd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
)

// A link anywhere under the root stops the install before anything is written through it:
// an absolute link out, a relative one that climbs out, and one that stays inside alike.
func TestInstallFollowsNoLink(t *testing.T) {
	files := []bundle.File{
		{Path: "/etc/kubernetes/pki/ca.crt", Kind: bundle.KindCertificate, Mode: 0o644, Data: []byte("ca")},
		{Path: "/var/lib/etcd", Kind: bundle.KindDirectory, Mode: 0o700},
	}
	for name, plant := range map[string]func(root, outside string) error{
		"absolute link out": func(root, outside string) error { return os.Symlink(outside, filepath.Join(root, "etc")) },
		"relative link that climbs": func(root, outside string) error {
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			rel, _ := filepath.Rel(filepath.Join(root, "etc"), outside)
			return os.Symlink(rel, filepath.Join(root, "etc/kubernetes"))
		},
		"link inside the root": func(root, _ string) error {
			os.MkdirAll(filepath.Join(root, "elsewhere"), 0o755)
			return os.Symlink("elsewhere", filepath.Join(root, "etc"))
		},
		"link as the data directory": func(root, outside string) error {
			os.MkdirAll(filepath.Join(root, "var/lib"), 0o755)
			return os.Symlink(outside, filepath.Join(root, "var/lib/etcd"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			if err := plant(dir, outside); err != nil {
				t.Fatal(err)
			}
			root, err := rootfs.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			_, err = Install(context.Background(), root, files, nil)
			if err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("install: %v", err)
			}
			ents, _ := os.ReadDir(outside)
			if len(ents) > 0 {
				t.Errorf("wrote outside the root: %v", ents)
			}
			if _, err := os.Stat(filepath.Join(dir, "elsewhere/kubernetes")); err == nil {
				t.Error("wrote through a link inside the root")
			}
		})
	}
	// Without links: files, their parents 0755 and the directory 0700; then nothing to do.
	dir := t.TempDir()
	root, err := rootfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if changed, err := Install(context.Background(), root, files, nil); err != nil || len(changed) != 2 {
		t.Fatalf("install: %v, %v", changed, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "var/lib/etcd")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v", fi, err)
	}
	if changed, err := Install(context.Background(), root, files, nil); err != nil || len(changed) != 0 {
		t.Errorf("second install: %v, %v", changed, err)
	}
}

// No bundle may write launch's own state: the policy read off the renderer has no path there.
func TestStateDirIsOutOfBundlesReach(t *testing.T) {
	pol, err := units.Installable()
	if err != nil {
		t.Fatal(err)
	}
	for p := range pol.Files {
		if p == StateDir || strings.HasPrefix(p, StateDir+"/") {
			t.Errorf("a bundle may write %s", p)
		}
	}
}
