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

	"github.com/hardway-dev/hardway/units/supervise"

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

	cgroup    string            // the sandbox's cgroup v2 cgroup
	cgroups   map[string]string // hierarchy key ("memory", "name=systemd", "" for v2) -> the sandbox's cgroup there
	emptyDirs map[string]string // node path -> host directory (Options.EmptyDirs)
	cmd       *exec.Cmd
	exited    chan struct{}
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
	// EmptyDirs are node paths (/var/lib/kubelet, /run/containerd) that each get a fresh empty
	// directory of the sandbox (under Dir, removed with it), bound there like Binds: a node's
	// state that must not be shared with the host or with another node. Manager.EmptyDir
	// returns the host side. NodeDirs lists those of a kubelet and containerd node.
	EmptyDirs []string
	// NetNS is a network namespace (a file such as /run/netns/node1, see internal/e2e/netns)
	// the manager and every service it starts run in. /sys is remounted inside it, so
	// /sys/class/net shows the namespace's interfaces. Empty: the host's network namespace.
	NetNS string
	// HostCgroupLayout keeps the host's cgroup layout instead of mounting a cgroup2 tree over
	// /sys/fs/cgroup, for programs that need the v1 controllers of a hybrid host (the kubelet,
	// runc): the sandbox gets a fresh child cgroup in every hierarchy (each v1 controller,
	// name=systemd and cgroup2), created under this process's own cgroup there, is moved into
	// all of them before its cgroup namespace is made, and mounts each hierarchy at its host
	// mount point (a tmpfs at /sys/fs/cgroup, /sys/fs/cgroup/memory, /sys/fs/cgroup/systemd,
	// /sys/fs/cgroup/unified), so every view is rooted at the sandbox's cgroups. The manager
	// then runs systemd's legacy or hybrid mode. StartWith refuses to start the manager when
	// any line of its /proc/<pid>/cgroup is not the sandbox's cgroup (a manager in the host's
	// root name=systemd cgroup would move every process of the machine). Cleanup kills by PID
	// what is left in any of these cgroups and removes them in every hierarchy.
	HostCgroupLayout bool
	// Sysctls shadows machine-wide sysctls (vm.overcommit_memory) inside the sandbox: a file
	// holding the value is bound over /proc/sys/vm/overcommit_memory, so a service that checks
	// or sets the value (the kubelet, see KubeletSysctls) sees it and the machine's own setting
	// is never changed. Per-network-namespace sysctls (net.*) need no shadow: set them in the
	// namespace.
	Sysctls map[string]string
}

// KubeletSysctls are the kernel settings the kubelet sets at start (or, with
// protectKernelDefaults, requires): for Options.Sysctls, so a sandboxed kubelet neither
// changes the machine's panic and overcommit behaviour nor fails.
var KubeletSysctls = supervise.KubeletSysctls // one table: hardway up shadows the same ones

// NodeDirs are the node paths a kubelet and containerd keep their state, sockets, CNI
// configuration and pod logs in: for Options.EmptyDirs.
var NodeDirs = []string{
	"/etc/cni/net.d",
	"/etc/containerd",
	"/run/containerd",
	"/var/lib/cni",
	"/var/lib/containerd",
	"/var/lib/kubelet",
	"/var/log/containers",
	"/var/log/pods",
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
	if opts.NetNS != "" {
		if _, err := exec.LookPath("nsenter"); err != nil {
			e2e.Skip(t, "nsenter is not installed (apt-get install util-linux): a sandbox in a network namespace needs it")
		}
		if _, err := os.Stat(opts.NetNS); err != nil {
			t.Fatalf("sandbox network namespace: %v", err)
		}
	}
	if opts.HostCgroupLayout {
		if _, err := exec.LookPath("unshare"); err != nil {
			e2e.Skip(t, "unshare is not installed (apt-get install util-linux): HostCgroupLayout needs it")
		}
	}
	e2e.LockMachine(t) // released after the manager has stopped: cleanups run last-in, first-out

	dir, err := os.MkdirTemp("", "hardway-sandbox-")
	if err != nil {
		t.Fatal(err)
	}
	m := &Manager{Dir: dir, RuntimeDir: filepath.Join(dir, "run"), LogFile: filepath.Join(dir, "manager.log"), exited: make(chan struct{}),
		emptyDirs: map[string]string{}}
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

	binds := maps.Clone(opts.Binds)
	if binds == nil {
		binds = map[string]string{}
	}
	for i, target := range opts.EmptyDirs {
		if _, dup := binds[target]; dup {
			t.Fatalf("sandbox: %s is both in Binds and in EmptyDirs; keep one", target)
		}
		src := filepath.Join(dir, "node", strconv.Itoa(i)+strings.ReplaceAll(target, "/", "_"))
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		binds[target], m.emptyDirs[target] = src, src
	}
	if len(opts.Sysctls) > 0 {
		if err := os.Mkdir(filepath.Join(dir, "sysctl"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for key, value := range opts.Sysctls {
		target := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
		if _, err := os.Stat(target); err != nil {
			t.Fatalf("sandbox sysctl %s: %v", key, err)
		}
		src := filepath.Join(dir, "sysctl", key)
		if err := os.WriteFile(src, []byte(value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		binds[target] = src
	}

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "hardway-sandbox-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(suffix)
	m.cgroup = filepath.Join(cgBase, name)
	m.cgroups = map[string]string{"": m.cgroup}
	var hierarchies []hierarchy
	if opts.HostCgroupLayout {
		if hierarchies, err = hostHierarchies(name); err != nil {
			e2e.Skip(t, "HostCgroupLayout: "+err.Error())
		}
		if i := slices.IndexFunc(hierarchies, func(h hierarchy) bool { return !h.v1() }); i < 0 || hierarchies[i].cgroup != m.cgroup {
			e2e.Skip(t, fmt.Sprintf("HostCgroupLayout: the cgroup2 hierarchy is not at %s", cgBase))
		}
		if err := createCgroups(hierarchies); err != nil {
			e2e.Skip(t, "cannot create the sandbox's cgroups: "+err.Error())
		}
		for _, h := range hierarchies {
			m.cgroups[h.key] = h.cgroup
		}
	} else if err := os.Mkdir(m.cgroup, 0o755); err != nil {
		e2e.Skip(t, "cannot create a cgroup for the sandbox: "+err.Error())
	}
	cgfd, err := unix.Open(m.cgroup, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.removeCgroups()
		t.Fatal(err)
	}
	defer unix.Close(cgfd)

	logf, err := os.Create(m.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	bindCmds, err := bindScript(filepath.Join(dir, "overlay"), binds)
	if err != nil {
		m.removeCgroups()
		t.Fatal(err)
	}
	outer, inner := startScripts(name, opts, hierarchies, bindCmds)
	cmd := exec.Command("/bin/sh", "-c", outer, systemdBin, inner)
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
	// With HostCgroupLayout, the outer script makes the cgroup namespace (`unshare --cgroup`)
	// once it has moved itself into the sandbox's v1 cgroups.
	unshare := uintptr(syscall.CLONE_NEWNS | syscall.CLONE_NEWCGROUP)
	if opts.HostCgroupLayout {
		unshare = syscall.CLONE_NEWNS
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		UseCgroupFD:  true,
		CgroupFD:     cgfd,
		Unshareflags: unshare, // Go makes / private for CLONE_NEWNS
		Pdeathsig:    syscall.SIGTERM,
		Setpgid:      true,
	}
	if err := cmd.Start(); err != nil {
		m.removeCgroups()
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
				if err := m.checkCgroups(); err != nil {
					t.Fatal(err)
				}
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
			var pids []int
			for _, cg := range m.cgroups {
				pids = append(pids, cgroupPIDs(cg)...)
			}
			if len(pids) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("processes %v remain in the sandbox's cgroups %v", pids, slices.Sorted(maps.Values(m.cgroups)))
				return
			}
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := m.removeCgroups(); err != nil {
			t.Errorf("removing the sandbox's cgroups: %v", err)
		}
	}
}

// removeCgroups removes the sandbox's cgroups in every hierarchy, with their children.
func (m *Manager) removeCgroups() error {
	var errs []error
	for _, cg := range m.cgroups {
		errs = append(errs, removeCgroup(cg))
	}
	return errors.Join(errs...)
}

// checkCgroups fails unless the manager is inside the sandbox's cgroup in every hierarchy the
// sandbox has one in.
func (m *Manager) checkCgroups() error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", m.PID))
	if err != nil {
		return err
	}
	name := "/" + filepath.Base(m.cgroup) + "/"
	for line := range strings.Lines(string(b)) {
		f := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(f) != 3 {
			continue
		}
		if _, ours := m.cgroups[f[1]]; ours && !strings.Contains(f[2]+"/", name) {
			return fmt.Errorf("the sandboxed systemd (pid %d) runs in %s cgroup %s, outside the sandbox's %s; stopping it", m.PID, f[1], f[2], name)
		}
	}
	return nil
}

// Cgroup returns the sandbox's cgroup on the host in the hierarchy named as in
// /proc/<pid>/cgroup: "memory", "name=systemd", or "" for cgroup v2. Without HostCgroupLayout
// the sandbox has a cgroup v2 one only; the others are "".
func (m *Manager) Cgroup(hierarchy string) string { return m.cgroups[hierarchy] }

// EmptyDir returns the host directory bound at the node path target (one of Options.EmptyDirs),
// or "".
func (m *Manager) EmptyDir(target string) string { return m.emptyDirs[target] }

// Command returns a command that runs name inside the sandbox's mount and network namespaces,
// as a service sees them (its bound node paths, its network), from the test's cgroups:
// `ctr --address /run/containerd/containerd.sock version`, `curl http://127.0.0.1:10248/healthz`.
func (m *Manager) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--target", strconv.Itoa(m.PID), "--mount", "--net", "--", name}, args...)...)
}

// startScripts returns the two shell scripts that start the manager: outer runs in the new
// mount namespace (and, without HostCgroupLayout, the new cgroup namespace) as
// `sh -c outer SYSTEMD INNER`; it enters the sandbox's v1 cgroups, checks it is in no cgroup
// of the host's, and runs inner in the network namespace and a new cgroup namespace. inner
// mounts the sandbox's view (/sys, /sys/fs/cgroup, the binds, /run/systemd) and execs systemd.
func startScripts(name string, opts Options, hierarchies []hierarchy, binds string) (outer, inner string) {
	var o, in strings.Builder
	o.WriteString("set -e\n")
	if opts.HostCgroupLayout {
		for _, h := range hierarchies {
			if h.v1() { // cgroup2: the clone put us there (CgroupFD)
				fmt.Fprintf(&o, "echo $$ > %s\n", shellQuote(filepath.Join(h.cgroup, "cgroup.procs")))
			}
		}
		// The safety gate: never exec a manager that is in one of the host's cgroups.
		fmt.Fprintf(&o, "while IFS= read -r l; do case \"$l\" in */%s) ;; *) echo \"sandbox: refusing to start systemd in cgroup $l, outside the sandbox's\" >&2; exit 1;; esac; done < /proc/$$/cgroup\n", name)
	}
	o.WriteString("exec")
	if opts.NetNS != "" {
		o.WriteString(" nsenter --net=" + shellQuote(opts.NetNS) + " --")
	}
	if opts.HostCgroupLayout {
		o.WriteString(" unshare --cgroup --")
	}
	o.WriteString(` /bin/sh -c "$1" "$0"` + "\n")

	in.WriteString("set -e\n")
	if opts.NetNS != "" {
		in.WriteString("mount -t sysfs sysfs /sys\n") // /sys/class/net of the namespace
	}
	if opts.HostCgroupLayout {
		in.WriteString("mount -t tmpfs -o mode=0755 tmpfs /sys/fs/cgroup\n")
		for _, h := range hierarchies {
			mp := shellQuote(h.mountpoint)
			if h.v1() {
				fmt.Fprintf(&in, "mkdir -p %s\nmount -t cgroup -o %s cgroup %s\n", mp, shellQuote(h.options), mp)
			} else {
				fmt.Fprintf(&in, "mkdir -p %s\nmount -t cgroup2 cgroup2 %s\n", mp, mp)
			}
		}
	} else {
		in.WriteString("mount -t cgroup2 cgroup2 /sys/fs/cgroup\n")
	}
	// The binds before the private /run/systemd: a bind under /run may overlay /run.
	in.WriteString(binds)
	in.WriteString("mount -t tmpfs -o mode=0755 tmpfs /run/systemd\nmkdir -p /run/systemd/system\n")
	in.WriteString(`exec "$0" --user --log-target=console --log-level=info --default-standard-output=inherit --default-standard-error=inherit`)
	return o.String(), in.String()
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
