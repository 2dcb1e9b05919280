package inspect

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/units/flags"
)

// hostileTree is a directory with what a careless or hostile node holds: a FIFO (a read of it
// blocks until a writer comes), links to /dev/zero (a read of it never ends), a directory with
// a FIFO named like a unit, a file over the cap, and a link out of the directory.
func hostileTree(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/dev/zero"); err != nil {
		e2e.Skip(t, "no /dev/zero on this machine: "+err.Error())
	}
	dir := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, p := range []string{"fifo", "units/kube-scheduler.service", "etc/fifo.env", "etc/kubernetes/fifo.kubeconfig"} {
		if err := syscall.Mkfifo(mk(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range map[string]string{"zero": "/dev/zero", "etc/zero.env": "/dev/zero", "etc/kubernetes/pki/ca.crt": "/dev/zero", "etc/passwd-link": "/etc/passwd"} {
		if err := os.Symlink(target, mk(p)); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(mk(p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("big.service", "[Service]\nExecStart=/usr/local/bin/kube-scheduler\n"+strings.Repeat("#\n", MaxFileSize/2))
	write("etc/systemd/system/kube-scheduler.service", schedulerUnit)
	if err := syscall.Mkfifo(mk("etc/systemd/system/kube-scheduler.service.d/10-x.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("etc/kubernetes/fifo-user.kubeconfig", "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', certificate-authority: ../../fifo}}]\n"+
		"users: [{name: u, user: {client-certificate: ../../zero, client-key: ../../zero}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
	return dir
}

// inTime runs f and fails the test instead of hanging when f does not return: a read of a FIFO
// never does.
func inTime(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("still reading after 20s: a read that blocks (a FIFO) or never ends (/dev/zero)")
	}
}

func mustDirFS(t *testing.T, dir string) fs.FS {
	t.Helper()
	fsys, err := DirFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// Every input of Read that is not a regular file is refused by name, and a longer one by its
// size: no read blocks, none runs out of memory.
func TestReadRefusesHostileInputs(t *testing.T) {
	dir := hostileTree(t)
	host := mustDirFS(t, "/")
	root := mustDirFS(t, dir)
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	tests := []struct {
		name     string
		in       Inputs
		proc     fs.FS
		stdin    *os.File
		wantErr  string
		wantKind error
	}{
		{name: "a FIFO", in: Inputs{Paths: []string{"fifo"}},
			wantErr: "fifo: not a regular file (a FIFO)", wantKind: ErrNotRegular},
		{name: "/dev/zero", in: Inputs{Paths: []string{"/dev/zero"}},
			wantErr: "/dev/zero: not a regular file (a character device)", wantKind: ErrNotRegular},
		{name: "a link to /dev/zero", in: Inputs{Paths: []string{"zero"}},
			wantErr: "zero: not a regular file (a character device)", wantKind: ErrNotRegular},
		{name: "a directory holding a FIFO named like a unit", in: Inputs{Paths: []string{"units"}},
			wantErr: "units/kube-scheduler.service: not a regular file (a FIFO)", wantKind: ErrNotRegular},
		{name: "a unit over the cap", in: Inputs{Paths: []string{"big.service"}},
			wantErr: "big.service: larger than the 4 MiB inspect reads of a file", wantKind: ErrTooLarge},
		{name: "standard input that never ends", in: Inputs{Paths: []string{"-"}}, stdin: zero,
			wantErr: "standard input: larger than the 4 MiB inspect reads of a file", wantKind: ErrTooLarge},
		{name: "a drop-in of a service that is a FIFO", in: Inputs{Services: []string{"kube-scheduler"}},
			wantErr: "--service kube-scheduler.service: drop-in: /etc/systemd/system/kube-scheduler.service.d/10-x.conf: not a regular file (a FIFO)", wantKind: ErrNotRegular},
		{name: "a process whose cmdline is a device", in: Inputs{PIDs: []int{42}},
			proc:    fstest.MapFS{"42/cmdline": &fstest.MapFile{Mode: fs.ModeDevice | fs.ModeCharDevice}},
			wantErr: "--pid 42: /proc/42/cmdline: not a regular file (a character device)", wantKind: ErrNotRegular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Sources{Catalogue: flags.Default(), Files: host, Dir: dir, Root: root, Proc: tt.proc}
			if tt.stdin != nil {
				src.Stdin = tt.stdin
			}
			var err error
			inTime(t, func() { _, err = src.Read(context.Background(), tt.in) })
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("error %v is not %v", err, tt.wantKind)
			}
		})
	}
}

// What a unit points at (EnvironmentFile=, --config, certificates, kubeconfigs and the files a
// kubeconfig names) is refused the same way, as a finding naming the flag and the file: on the
// host (inspect without --root) and under a root, where a link out of it is refused too.
func TestInspectRefusesHostileFilesBehindFlags(t *testing.T) {
	dir := hostileTree(t)
	host := mustDirFS(t, "/")
	d := func(p string) string { return filepath.Join(dir, p) }
	units := fstest.MapFS{
		"kubelet.service": file("[Service]\nEnvironmentFile=" + d("etc/fifo.env") + "\nEnvironmentFile=-/dev/zero\n" +
			"ExecStart=/usr/local/bin/kubelet --config=" + d("fifo") + " --kubeconfig=" + d("zero") + "\n"),
		"kube-apiserver.service": file("[Service]\nExecStart=/usr/local/bin/kube-apiserver --client-ca-file=" + d("etc/kubernetes/pki/ca.crt") +
			" --tls-cert-file=" + d("big.service") + " --etcd-cafile=/dev/zero\n"),
		"kube-scheduler.service": file("[Service]\nExecStart=/usr/local/bin/kube-scheduler --kubeconfig=" + d("etc/kubernetes/fifo.kubeconfig") +
			" --authentication-kubeconfig=" + d("etc/kubernetes/fifo-user.kubeconfig") + "\n"),
		"kube-controller-manager.service": file("[Service]\nEnvironmentFile=/etc/zero.env\n" +
			"ExecStart=/usr/local/bin/kube-controller-manager --kubeconfig=/etc/passwd-link --root-ca-file=/fifo\n"),
	}
	tests := []struct {
		name  string
		root  fs.FS
		paths []string
		want  []string
	}{
		{name: "on the host", root: host, paths: []string{"kubelet.service", "kube-apiserver.service", "kube-scheduler.service"}, want: []string{
			"EnvironmentFile=" + d("etc/fifo.env") + ": not a regular file (a FIFO)",
			// "-" forgives a missing file, not one that cannot be read.
			"EnvironmentFile=/dev/zero: not a regular file (a character device)",
			"kubelet-config-unreadable: --config=" + d("fifo") + ": not a regular file (a FIFO)",
			"kubeconfig: " + d("zero") + ": not a regular file (a character device)",
			"client-ca-file: " + d("etc/kubernetes/pki/ca.crt") + ": not a regular file (a character device)",
			"tls-cert-file: " + d("big.service") + ": larger than the 4 MiB inspect reads of a file",
			"etcd-cafile: /dev/zero: not a regular file (a character device)",
			"kubeconfig: " + d("etc/kubernetes/fifo.kubeconfig") + ": not a regular file (a FIFO)",
			"authentication-kubeconfig: " + d("etc/kubernetes/fifo-user.kubeconfig") + ": cluster c certificate authority: " + d("fifo") + ": not a regular file (a FIFO)",
		}},
		{name: "under a root", root: mustDirFS(t, dir), paths: []string{"kube-controller-manager.service"}, want: []string{
			"EnvironmentFile=/etc/zero.env: leads to /dev/zero, outside " + dir,
			"kubeconfig: /etc/passwd-link: leads to /etc/passwd, outside " + dir,
			"root-ca-file: /fifo: not a regular file (a FIFO)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Sources{Catalogue: flags.Default(), Files: units, Dir: "/", Root: tt.root}
			var rep *Report
			inTime(t, func() {
				invs, err := src.Read(context.Background(), Inputs{Paths: tt.paths})
				if err != nil {
					t.Error(err)
					return
				}
				rep = Inspect(invs, Options{Catalogue: flags.Default(), Now: testNow, FS: tt.root})
			})
			if rep == nil {
				t.FailNow()
			}
			var msgs []string
			for _, f := range rep.All() {
				msgs = append(msgs, f.ID+": "+f.Message)
			}
			all := strings.Join(msgs, "\n")
			for _, want := range tt.want {
				if !strings.Contains(all, want) {
					t.Errorf("no finding says %q; findings:\n%s", want, all)
				}
			}
		})
	}
}

// The file a kubeconfig names for its client certificate is read with the same rule.
func TestKubeconfigReferencesAreBounded(t *testing.T) {
	dir := hostileTree(t)
	fc := newFileCache(mustDirFS(t, "/"))
	kc := "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\n" +
		"users: [{name: u, user: {client-certificate: ../zero}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
	var err error
	inTime(t, func() { _, err = parseKubeconfig([]byte(kc), filepath.Join(dir, "etc"), fc) })
	if err == nil || !strings.Contains(err.Error(), "user u client certificate: "+filepath.Join(dir, "zero")+": not a regular file (a character device)") {
		t.Errorf("error %v", err)
	}
}

// DirFS follows links within its root (and anywhere from "/"), describes what it will not read,
// and refuses names fs.FS does not allow.
func TestDirFS(t *testing.T) {
	dir := hostileTree(t)
	if err := os.Symlink("big.service", filepath.Join(dir, "inner-link")); err != nil {
		t.Fatal(err)
	}
	root := mustDirFS(t, dir)
	if st, err := fs.Stat(root, "inner-link"); err != nil || !st.Mode().IsRegular() {
		t.Errorf("a link within the root: %v %v", st, err)
	}
	if st, err := fs.Stat(root, "fifo"); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("a FIFO is described: %v %v", st, err)
	}
	var f fs.File
	var err error
	inTime(t, func() { f, err = root.Open("fifo") })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 1)); err == nil {
		t.Error("a FIFO was opened for reading")
	}
	f.Close()
	if _, err := root.Open("../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("../x: %v", err)
	}
	if _, err := fs.Stat(root, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := fs.Stat(root, "etc/passwd-link"); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("a link out of the root: %v", err)
	}
	if _, err := fs.Stat(mustDirFS(t, "/"), strings.TrimPrefix(filepath.Join(dir, "etc/passwd-link"), "/")); err != nil {
		t.Errorf("from /, links are followed anywhere: %v", err)
	}
	ents, err := fs.ReadDir(root, "etc")
	if err != nil || len(ents) == 0 {
		t.Errorf("ReadDir: %v %v", ents, err)
	}
	if _, err := DirFS(""); err == nil {
		t.Error(`DirFS("") is not an error`)
	}
}
