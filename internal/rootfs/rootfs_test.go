package rootfs_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hardway-dev/hardway/internal/rootfs"
)

// Links anywhere on the way are refused, whichever way they point, with openat2 and with the
// component-wise walk alike; regular files are read, bounded; FIFOs and devices are refused
// without blocking.
func TestNoLinkIsFollowed(t *testing.T) {
	for _, mode := range []string{"openat2", "walk"} {
		t.Run(mode, func(t *testing.T) {
			run := func(f func()) { f() }
			if mode == "walk" {
				run = rootfs.WithoutOpenat2
			}
			run(func() { checkRoot(t) })
		})
	}
}

func checkRoot(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o600)
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc/kubernetes"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/kubernetes/ca.crt"), []byte("ca"), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "out")))                         // absolute, leaves
	must(os.Symlink("../../../..", filepath.Join(dir, "etc/climb")))             // relative, climbs out
	must(os.Symlink("kubernetes", filepath.Join(dir, "etc/inside")))             // stays inside
	must(os.Symlink("/dev/zero", filepath.Join(dir, "etc/kubernetes/zero.crt"))) // to a device
	must(syscall.Mkfifo(filepath.Join(dir, "etc/kubernetes/fifo.crt"), 0o644))

	r, err := rootfs.Open(dir)
	must(err)
	defer r.Close()
	if b, err := r.ReadFile("/etc/kubernetes/ca.crt", 100); err != nil || string(b) != "ca" {
		t.Fatalf("a plain read: %q, %v", b, err)
	}
	for _, p := range []string{"/out/secret", "/etc/climb/tmp", "/etc/inside/ca.crt", "/etc/kubernetes/zero.crt"} {
		if b, err := r.ReadFile(p, 100); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("read %s: %q, %v", p, b, err)
		}
		if err := r.MkdirAll(p+"/x", 0o700, 0o755); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("mkdir under %s: %v", p, err)
		}
	}
	if _, err := r.ReadFile("/etc/kubernetes/fifo.crt", 100); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
	if _, err := r.ReadFile("/etc/kubernetes/ca.crt", 1); err == nil || !strings.Contains(err.Error(), "more than the 1 allowed") {
		t.Errorf("a file past the limit: %v", err)
	}
	if _, err := r.ReadFile("/etc/../../x", 1); err == nil || !strings.Contains(err.Error(), "not a clean path") {
		t.Errorf("an unclean path: %v", err)
	}
	if err := r.Chmod("/etc/kubernetes/zero.crt", 0o600); err == nil {
		t.Error("chmod through a link to a device")
	}
	// Lstat describes the link itself.
	if fi, err := r.Lstat("/etc/inside"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("lstat of a link: %v, %v", fi, err)
	}

	must(r.MkdirAll("/var/lib/etcd", 0o700, 0o755))
	for p, want := range map[string]os.FileMode{"var/lib": 0o755, "var/lib/etcd": 0o700} {
		if fi, err := os.Lstat(filepath.Join(dir, p)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want %o", p, fi.Mode(), err, want)
		}
	}
	must(r.Chmod("/etc/kubernetes/ca.crt", 0o600))
	if fi, _ := os.Lstat(filepath.Join(dir, "etc/kubernetes/ca.crt")); fi.Mode().Perm() != 0o600 {
		t.Errorf("chmod: %v", fi.Mode())
	}
	if _, err := rootfs.Open(""); err == nil {
		t.Error(`an empty root is not "/"`)
	}
}
