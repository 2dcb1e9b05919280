package systemd_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/internal/e2e/netns"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/systemd"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// A bundle of plain services under a real (sandboxed) systemd: first launch installs, enables
// and starts; a second launch touches nothing; changing one unit's input restarts that unit only.
func TestLaunchRealSystemd(t *testing.T) {
	root := t.TempDir()
	sb := sandboxtest.Start(t, filepath.Join(root, bundle.SystemdDir))
	mgr := sb.Connect(t)

	svc := func(name, input string) []byte {
		return []byte("[Unit]\nDescription=" + name + "\n[Service]\nExecStart=/bin/sleep infinity\n" +
			"# reads " + filepath.Join(root, input) + "\n[Install]\nWantedBy=default.target\n")
	}
	b := &bundle.Bundle{
		Node: "n1",
		Files: []bundle.File{
			{Path: "/etc/systemd/system/alpha.service", Kind: bundle.KindUnit, Data: svc("alpha", "/etc/alpha.conf"), Mode: 0o600},
			{Path: "/etc/systemd/system/beta.service", Kind: bundle.KindUnit, Data: svc("beta", "/etc/beta.conf"), Mode: 0o600},
			{Path: "/etc/alpha.conf", Kind: bundle.KindSecret, Data: []byte("v1"), Mode: 0o600},
			{Path: "/etc/beta.conf", Kind: bundle.KindSecret, Data: []byte("v1"), Mode: 0o600},
		},
		Units: []bundle.Unit{
			{Name: "alpha.service", Inputs: []string{"/etc/alpha.conf"}},
			{Name: "beta.service", Inputs: []string{"/etc/beta.conf"}, After: []string{"alpha.service"}},
		},
	}
	l := &systemd.Launcher{Manager: mgr, Root: root, Timeout: time.Minute}
	ctx := context.Background()

	rep, err := l.Launch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Reloaded || len(rep.ChangedFiles()) != 4 || !slices.Equal(rep.Started, []string{"alpha.service", "beta.service"}) || len(rep.Enabled) != 2 {
		t.Fatalf("first launch: %+v", rep)
	}
	before := states(t, mgr, "alpha.service", "beta.service")

	rep, err = l.Launch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed() {
		t.Fatalf("second launch changed something: %+v", rep)
	}
	if got := states(t, mgr, "alpha.service", "beta.service"); !slices.Equal(got, before) {
		t.Fatalf("second launch restarted units: %v -> %v", before, got)
	}

	b.Files[3].Data = []byte("v2")
	rep, err = l.Launch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reloaded || !slices.Equal(rep.Restarted, []string{"beta.service"}) || len(rep.Started) != 0 {
		t.Fatalf("third launch: %+v", rep)
	}
	after := states(t, mgr, "alpha.service", "beta.service")
	if after[0] != before[0] || after[1] == before[1] {
		t.Fatalf("want only beta restarted: %v -> %v", before, after)
	}
}

// states returns each unit's InvocationID, which changes on every start.
func states(t *testing.T, m systemd.Manager, units ...string) []string {
	t.Helper()
	var out []string
	for _, u := range units {
		st, err := m.State(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if st.ActiveState != "active" {
			t.Fatalf("%s", st)
		}
		out = append(out, st.InvocationID)
	}
	return out
}

// Binds are visible to the sandbox's services at their node paths, even where the host has no
// such directory, and never on the host.
func TestSandboxBinds(t *testing.T) {
	root := t.TempDir()
	target := "/etc/hardway-sandbox-bind-test/sub"
	if _, err := os.Lstat(filepath.Dir(target)); err == nil {
		e2e.Skip(t, filepath.Dir(target)+" exists on the host: this test binds it in the sandbox to prove the host never sees it")
	}
	src := filepath.Join(root, "src")
	unitDir := filepath.Join(root, "units")
	for _, d := range []string{src, unitDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "in"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unit := "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'cp " + target + "/in " + target + "/out && echo copied-by-the-sandbox'\n"
	if err := os.WriteFile(filepath.Join(unitDir, "copy.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.StartWith(t, sandboxtest.Options{UnitDirs: []string{unitDir}, Binds: map[string]string{target: src}})
	mgr := sb.Connect(t)
	if err := mgr.Start(context.Background(), "copy.service"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(src, "out")); err != nil || string(b) != "hello\n" {
		t.Fatalf("the service did not see the bind: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Dir(target)); err == nil {
		t.Fatalf("%s appeared on the host", filepath.Dir(target))
	}
	// The service's output is in the manager's log.
	if b, err := os.ReadFile(sb.LogFile); err != nil || !strings.Contains(string(b), "copied-by-the-sandbox") {
		t.Fatalf("the service's output is not in %s: %v\n%s", sb.LogFile, err, b)
	}
}

// A node sandbox: in a network namespace, with the host's cgroup v1 layout rooted at the
// sandbox's own cgroups, and empty node directories. The manager and its services are in the
// sandbox's cgroup in every hierarchy (never the host's root, where a manager would move every
// process of the machine), see the namespace's network, and everything is gone after cleanup.
func TestSandboxNode(t *testing.T) {
	var cgroups []string
	t.Run("node", func(t *testing.T) {
		node := netns.New(t, 1).Hosts[0]
		unitDir := t.TempDir()
		unit := "[Service]\nExecStart=/bin/sh -c 'echo started > /var/lib/kubelet/proof; exec sleep infinity'\n"
		if err := os.WriteFile(filepath.Join(unitDir, "sleeper.service"), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		sb := sandboxtest.StartWith(t, sandboxtest.Options{
			UnitDirs: []string{unitDir}, NetNS: node.Path, HostCgroupLayout: true, EmptyDirs: sandboxtest.NodeDirs,
		})
		mgr := sb.Connect(t)
		ctx := context.Background()
		if err := mgr.Start(ctx, "sleeper.service"); err != nil {
			t.Fatal(err)
		}
		st, err := mgr.State(ctx, "sleeper.service")
		if err != nil || st.ActiveState != "active" || st.MainPID == 0 {
			t.Fatalf("sleeper.service: %+v, %v", st, err)
		}
		for _, pid := range []int{sb.PID, int(st.MainPID)} {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("pid %d:\n%s", pid, b)
			for line := range strings.Lines(string(b)) {
				f := strings.SplitN(strings.TrimSpace(line), ":", 3)
				cg := sb.Cgroup(f[1])
				if cg == "" {
					t.Fatalf("no sandbox cgroup for hierarchy %q of %q", f[1], line)
				}
				// The host path of the process's cgroup must be inside the sandbox's.
				if !strings.Contains(f[2]+"/", "/"+filepath.Base(cg)+"/") {
					t.Errorf("pid %d is outside the sandbox in hierarchy %q: %s (sandbox %s)", pid, f[1], f[2], cg)
				}
			}
		}
		if n := len(cgroupProcsRecursive(t, sb.Cgroup("memory"))); n < 2 {
			t.Errorf("the sandbox's memory cgroup holds %d processes, want the manager and the service", n)
		}
		// The services see the namespace's interfaces, in /sys too.
		if out, err := sb.Command("cat", "/sys/class/net/eth0/address").CombinedOutput(); err != nil {
			t.Errorf("/sys/class/net/eth0 in the sandbox: %v %s", err, out)
		}
		if out, err := sb.Command("ip", "-br", "addr", "show", "eth0").CombinedOutput(); err != nil || !strings.Contains(string(out), node.Addr.String()) {
			t.Errorf("eth0 in the sandbox: %v %s, want %s", err, out, node.Addr)
		}
		// The unit is Type=simple: started is not the same as its shell having written the file.
		proof := filepath.Join(sb.EmptyDir("/var/lib/kubelet"), "proof")
		var b []byte
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if b, err = os.ReadFile(proof); err == nil && string(b) == "started\n" {
				break
			}
		}
		if err != nil || string(b) != "started\n" {
			t.Errorf("the service's /var/lib/kubelet is not the sandbox's empty dir: %q, %v", b, err)
		}
		if _, err := os.Stat("/var/lib/kubelet/proof"); err == nil {
			t.Errorf("the service wrote the host's /var/lib/kubelet")
		}
		for _, h := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd", ""} {
			if cg := sb.Cgroup(h); cg != "" {
				cgroups = append(cgroups, cg)
			} else if _, err := os.Stat("/sys/fs/cgroup/" + strings.TrimPrefix(h, "name=")); err == nil && h != "" {
				t.Errorf("no sandbox cgroup in hierarchy %q", h)
			}
		}
	})
	for _, cg := range cgroups {
		if _, err := os.Stat(cg); !os.IsNotExist(err) {
			t.Errorf("cgroup %s left behind: %v", cg, err)
		}
	}
}

// cgroupProcsRecursive lists the processes in cg and its children.
func cgroupProcsRecursive(t *testing.T, cg string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(cg, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "cgroup.procs" {
			return err
		}
		b, err := os.ReadFile(p)
		out = append(out, strings.Fields(string(b))...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
