package sandboxtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/units/systemd"
)

// Manager is a running sandboxed systemd user manager.
type Manager struct {
	// Dir holds everything of the sandbox.
	Dir string
	// RuntimeDir is the manager's XDG_RUNTIME_DIR.
	RuntimeDir string
	// Socket is its private D-Bus socket.
	Socket string
	// LogFile receives the manager's log and its services' output.
	LogFile string
	// PID of the manager.
	PID int

	cgroup string
	cmd    *exec.Cmd
	exited chan struct{}
}

// minimal targets the user manager needs, without any .wants of the host's.
var baseUnits = map[string]string{
	"default.target":       "[Unit]\nDescription=sandbox default\nRequires=basic.target\nAfter=basic.target\n",
	"basic.target":         "[Unit]\nDescription=Basic System\n",
	"shutdown.target":      "[Unit]\nDescription=Shutdown\nDefaultDependencies=no\nRefuseManualStart=yes\n",
	"exit.target":          "[Unit]\nDescription=Exit the Session\nDefaultDependencies=no\nRequires=systemd-exit.service\nAfter=systemd-exit.service\nAllowIsolate=yes\n",
	"systemd-exit.service": "[Unit]\nDescription=Exit the Session\nDefaultDependencies=no\nRequires=shutdown.target\nAfter=shutdown.target\nSuccessAction=exit-force\n[Service]\nType=oneshot\nExecStart=/bin/true\nSlice=-.slice\n",
}

// Options configure StartWith.
type Options struct {
	// UnitDirs are searched first for units, in order.
	UnitDirs []string
	// Binds maps a path as the manager and its services see it (/etc/kubernetes) to a host
	// directory or file (<root>/etc/kubernetes) bind-mounted there, in the manager's private
	// mount namespace only: the host never sees these mounts. A target missing on the host
	// is created inside a tmpfs-backed overlay of its nearest existing parent, so the host's
	// filesystem is never written either. Sources must exist before StartWith; files created
	// in a bound directory later are seen on both sides.
	//
	// This lets a test run units rendered for a node (absolute paths such as
	// /etc/kubernetes/pki/ca.crt or /usr/local/bin/kube-apiserver) unchanged, with their files
	// installed under a test root.
	Binds map[string]string
}

// Start starts a sandboxed manager whose unit search path is unitDirs (searched first, in
// order) and stops it when the test ends.
func Start(t testing.TB, unitDirs ...string) *Manager {
	t.Helper()
	return StartWith(t, Options{UnitDirs: unitDirs})
}

// StartWith starts a sandboxed manager configured by opts and stops it when the test ends.
func StartWith(t testing.TB, opts Options) *Manager {
	t.Helper()
	unitDirs := opts.UnitDirs
	if os.Geteuid() != 0 {
		e2e.Skip(t, "the systemd sandbox needs root (mount and cgroup namespaces)")
	}
	systemdBin := ""
	for _, p := range []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd"} {
		if _, err := os.Stat(p); err == nil {
			systemdBin = p
			break
		}
	}
	if systemdBin == "" {
		e2e.Skip(t, "systemd is not installed (apt-get install systemd)")
	}
	cgBase, err := cgroup2Base()
	if err != nil {
		e2e.Skip(t, err.Error())
	}
	e2e.LockMachine(t) // released after the manager has stopped: cleanups run last-in, first-out

	dir, err := os.MkdirTemp("", "hardway-sandbox-")
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{Dir: dir, RuntimeDir: filepath.Join(dir, "run"), LogFile: filepath.Join(dir, "manager.log"), exited: make(chan struct{})}
	m.Socket = filepath.Join(m.RuntimeDir, "systemd", "private")
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(m.LogFile); err == nil {
				t.Logf("systemd sandbox log (%s):\n%s", m.LogFile, tail(string(b), 200))
			}
		}
		os.RemoveAll(dir)
	})
	configDir := filepath.Join(dir, "config")
	baseDir := filepath.Join(dir, "base")
	for _, d := range []string{m.RuntimeDir, filepath.Join(configDir, "systemd", "user"), baseDir, filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range baseUnits {
		if err := os.WriteFile(filepath.Join(baseDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Services' output to the manager's log: a drop-in for every service (there is no journald,
	// and StandardOutput=inherit would mean the service's stdin, /dev/null).
	if err := os.MkdirAll(filepath.Join(baseDir, "service.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	output := "[Service]\nStandardOutput=append:" + m.LogFile + "\nStandardError=append:" + m.LogFile + "\n"
	if err := os.WriteFile(filepath.Join(baseDir, "service.d", "10-sandbox-output.conf"), []byte(output), 0o644); err != nil {
		t.Fatal(err)
	}
	search := append(slices.Clone(unitDirs), filepath.Join(configDir, "systemd", "user"), baseDir)

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	m.cgroup = filepath.Join(cgBase, "hardway-sandbox-"+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(suffix))
	if err := os.Mkdir(m.cgroup, 0o755); err != nil {
		e2e.Skip(t, "cannot create a cgroup for the sandbox: "+err.Error())
	}
	cgfd, err := unix.Open(m.cgroup, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(m.cgroup)
		t.Fatal(err)
	}
	defer unix.Close(cgfd)

	logf, err := os.Create(m.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	binds, err := bindScript(filepath.Join(dir, "overlay"), opts.Binds)
	if err != nil {
		t.Fatal(err)
	}
	// Inside the new namespaces: private /run/systemd, a cgroup2 view of our own subtree, and
	// the test's bind mounts.
	script := `set -e
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir -p /run/systemd/system
mount -t cgroup2 cgroup2 /sys/fs/cgroup
` + binds + `exec "$0" --user --log-target=console --log-level=info --default-standard-output=inherit --default-standard-error=inherit`
	cmd := exec.Command("/bin/sh", "-c", script, systemdBin)
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_RUNTIME_DIR=" + m.RuntimeDir,
		"XDG_CONFIG_HOME=" + configDir,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"SYSTEMD_UNIT_PATH=" + strings.Join(search, ":"),
		"SYSTEMD_LOG_TARGET=console",
		"LANG=C.UTF-8",
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		UseCgroupFD:  true,
		CgroupFD:     cgfd,
		Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWCGROUP, // Go makes / private for CLONE_NEWNS
		Pdeathsig:    syscall.SIGTERM,
		Setpgid:      true,
	}
	if err := cmd.Start(); err != nil {
		os.Remove(m.cgroup)
		e2e.Skip(t, "cannot start systemd in a sandbox: "+err.Error())
	}
	m.cmd, m.PID = cmd, cmd.Process.Pid
	go func() { _ = cmd.Wait(); close(m.exited) }()
	t.Cleanup(m.stop(t))

	// Ready once the private socket answers and the manager reports running.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last error
	for {
		if d, err := systemd.ConnectPrivate(ctx, m.Socket); err == nil {
			state, err := d.SystemState(ctx)
			d.Close()
			if err == nil && (state == "running" || state == "degraded") {
				return m
			}
			last = fmt.Errorf("system state %q, %v", state, err)
		} else {
			last = err
		}
		select {
		case <-m.exited:
			b, _ := os.ReadFile(m.LogFile)
			t.Fatalf("the sandboxed systemd exited: %v\n%s", cmd.ProcessState, tail(string(b), 50))
		case <-ctx.Done():
			t.Fatalf("the sandboxed systemd did not come up: %v", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Connect returns a D-Bus connection to the manager, closed when the test ends.
func (m *Manager) Connect(t testing.TB) *systemd.DBus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := systemd.ConnectPrivate(ctx, m.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// stop sends the manager SIGTERM (it stops its units and exits), kills by PID whatever is left
// in its cgroup, and removes the cgroups.
func (m *Manager) stop(t testing.TB) func() {
	return func() {
		_ = syscall.Kill(m.PID, syscall.SIGTERM)
		select {
		case <-m.exited:
		case <-time.After(30 * time.Second):
			t.Logf("systemd sandbox (pid %d) did not exit 30s after SIGTERM; killing it", m.PID)
			_ = syscall.Kill(m.PID, syscall.SIGKILL)
			<-m.exited
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			pids := cgroupPIDs(m.cgroup)
			if len(pids) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("processes %v remain in %s", pids, m.cgroup)
				return
			}
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := removeCgroup(m.cgroup); err != nil {
			t.Errorf("removing the sandbox cgroup: %v", err)
		}
	}
}

// bindScript returns the shell commands that make binds (target -> host source) inside the
// sandbox's mount namespace. Targets missing on the host get an overlay of their nearest
// existing parent directory, with its upper layer on a tmpfs mounted at overlayDir.
func bindScript(overlayDir string, binds map[string]string) (string, error) {
	if len(binds) == 0 {
		return "", nil
	}
	var b strings.Builder
	targets := slices.Sorted(maps.Keys(binds))
	var overlays []string // existing parents to overlay, each once
	for _, target := range targets {
		src := binds[target]
		if !filepath.IsAbs(target) || filepath.Clean(target) != target || target == "/" {
			return "", fmt.Errorf("sandbox bind target %q: want an absolute, clean path", target)
		}
		if _, err := os.Stat(src); err != nil {
			return "", fmt.Errorf("sandbox bind source for %s: %w", target, err)
		}
		if _, err := os.Lstat(target); err == nil {
			continue
		}
		parent := filepath.Dir(target)
		for {
			if _, err := os.Lstat(parent); err == nil {
				break
			}
			parent = filepath.Dir(parent)
		}
		if parent == "/" {
			return "", fmt.Errorf("sandbox bind target %s: cannot overlay /", target)
		}
		if !slices.ContainsFunc(overlays, func(o string) bool { return o == parent || strings.HasPrefix(parent, o+"/") }) {
			overlays = append(overlays, parent)
		}
	}
	if len(overlays) > 0 {
		fmt.Fprintf(&b, "mkdir -p %s\nmount -t tmpfs -o mode=0700 tmpfs %s\n", shellQuote(overlayDir), shellQuote(overlayDir))
	}
	for i, o := range overlays {
		up, work := filepath.Join(overlayDir, strconv.Itoa(i), "upper"), filepath.Join(overlayDir, strconv.Itoa(i), "work")
		fmt.Fprintf(&b, "mkdir -p %s %s\nmount -t overlay overlay -o %s %s\n", shellQuote(up), shellQuote(work),
			shellQuote("lowerdir="+o+",upperdir="+up+",workdir="+work), shellQuote(o))
	}
	for _, target := range targets {
		src := binds[target]
		if st, err := os.Stat(src); err == nil && st.IsDir() {
			fmt.Fprintf(&b, "mkdir -p %s\n", shellQuote(target))
		} else {
			fmt.Fprintf(&b, "[ -e %s ] || { mkdir -p %s && : > %s; }\n", shellQuote(target), shellQuote(filepath.Dir(target)), shellQuote(target))
		}
		fmt.Fprintf(&b, "mount --bind %s %s\n", shellQuote(src), shellQuote(target))
	}
	return b.String(), nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// cgroup2Base finds a cgroup v2 hierarchy: /sys/fs/cgroup on a unified host,
// /sys/fs/cgroup/unified on a hybrid one.
func cgroup2Base() (string, error) {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p, nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified")
}

func cgroupPIDs(root string) []int {
	var pids []int
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// removeCgroup removes root and its children, deepest first.
func removeCgroup(root string) error {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
