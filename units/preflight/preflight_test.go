package preflight_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/preflight"
)

// fakeEnv is a machine as data.
type fakeEnv struct {
	kernel    map[string]string      // kernel files; absent ones do not exist
	taken     map[string]bool        // host:port in use
	programs  map[string]string      // path -> --version output; absent ones do not exist
	modes     map[string]fs.FileMode // path -> mode, default 0755
	running   map[string]bool
	noSystemd bool
}

func (e *fakeEnv) ReadKernelFile(name string) ([]byte, error) {
	v, ok := e.kernel[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte(v), nil
}

func (e *fakeEnv) Listen(addr string) error {
	if e.taken[addr] {
		return fmt.Errorf("listen tcp %s: %w (held by pid 42 (intruder))", addr, syscall.EADDRINUSE)
	}
	if strings.HasPrefix(addr, "10.9.") {
		return fmt.Errorf("listen tcp %s: %w", addr, syscall.EADDRNOTAVAIL)
	}
	return nil
}

type fileInfo struct{ mode fs.FileMode }

func (f fileInfo) Name() string       { return "" }
func (f fileInfo) Size() int64        { return 0 }
func (f fileInfo) Mode() fs.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return nil }

func (e *fakeEnv) StatProgram(p string) (fs.FileInfo, error) {
	if _, ok := e.programs[p]; !ok {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
	}
	if m, ok := e.modes[p]; ok {
		return fileInfo{m}, nil
	}
	return fileInfo{0o755}, nil
}

func (e *fakeEnv) RunProgram(_ context.Context, p string, args ...string) ([]byte, error) {
	return []byte(e.programs[p]), nil
}

func (e *fakeEnv) Running(_ context.Context, unit string) (bool, error) {
	if e.noSystemd {
		return false, errors.New("no systemd connection")
	}
	return e.running[unit], nil
}

const kube = "Kubernetes v1.37.2\n"

// healthy is a machine where a single-node cluster's bundle passes every check.
func healthy() *fakeEnv {
	return &fakeEnv{
		kernel: map[string]string{
			preflight.IPForwardFile:       "1\n",
			preflight.BridgeNFIptablesKey: "1\n",
			preflight.SwapsFile:           "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
		},
		programs: map[string]string{
			"/usr/local/bin/etcd":                    "etcd Version: 3.6.5\nGit SHA: abc\nGo Version: go1.23\n",
			"/usr/local/bin/kube-apiserver":          kube,
			"/usr/local/bin/kube-controller-manager": kube,
			"/usr/local/bin/kube-scheduler":          kube,
			"/usr/local/bin/kubelet":                 kube,
			"/usr/local/bin/kube-proxy":              kube,
			"/usr/bin/containerd":                    "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n",
			"/usr/local/bin/hardway":                 "hardway dev\n",
			"/usr/sbin/runc":                         "runc version 1.1.5+ds1\n",
			"/usr/lib/cni/bridge":                    "",
			"/usr/lib/cni/host-local":                "",
			"/usr/lib/cni/loopback":                  "",
			"/usr/lib/cni/portmap":                   "",
		},
	}
}

// renderBundle renders the bundle of the one node of a cluster with roles, as init does (without
// credentials: the checks read units and configs only).
func renderBundle(t *testing.T, addr string, roles ...string) *bundle.Bundle {
	t.Helper()
	c := &configs.Cluster{Name: "t", Nodes: []configs.Node{{Name: "n1", Addresses: []string{addr}, Roles: roles}}}
	c.SetDefaults()
	r, err := units.RenderNode(c, c.Nodes[0], units.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var us []bundle.Unit
	for _, u := range r.Units {
		us = append(us, bundle.Unit{Name: u.Name, Inputs: u.Inputs, After: u.After, Health: u.Health, Version: u.Version})
	}
	return bundle.New("n1", r.Files, us)
}

var all = []string{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker}

func run(t *testing.T, env preflight.Env, b *bundle.Bundle, ignore ...string) *preflight.Report {
	t.Helper()
	rep, err := preflight.Run(context.Background(), env, b, preflight.Options{Ignore: ignore})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func find(rep *preflight.Report, check string) []preflight.Finding {
	var out []preflight.Finding
	for _, f := range rep.Findings {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

func TestHealthyNodePasses(t *testing.T) {
	rep := run(t, healthy(), renderBundle(t, "127.0.0.1", all...))
	if err := rep.Err(); err != nil || len(rep.Warnings()) > 0 {
		t.Fatalf("%v\nwarnings %v", err, rep.Warnings())
	}
	// Every port of the single-node cluster is checked, from the units' flags and configs.
	for _, want := range []string{"127.0.0.1:2379", "127.0.0.1:2380", "0.0.0.0:6443", "127.0.0.1:10257", "127.0.0.1:10259",
		"0.0.0.0:10250", "127.0.0.1:10248", "0.0.0.0:10256", "127.0.0.1:10249"} {
		port := want[strings.LastIndexByte(want, ':')+1:]
		fs := find(rep, "Port-"+port)
		if len(fs) != 1 || !strings.HasPrefix(fs[0].Where, want+" ") {
			t.Errorf("Port-%s: %v, want one at %s", port, fs, want)
		}
	}
}

// Each check, one subject at a time: what the machine is like, the finding and its fix.
func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roles []string
		addr  string
		env   func(e *fakeEnv)
		check string
		sev   problem.Severity
		want  []string // in the finding's text
	}{
		{"ip forwarding off", all, "", func(e *fakeEnv) { e.kernel[preflight.IPForwardFile] = "0\n" }, "IPForward", problem.Error,
			[]string{"net.ipv4.ip_forward is 0", "kubelet.service", "sysctl -w net.ipv4.ip_forward=1", "/etc/sysctl.d/"}},
		{"ip forwarding off without a kubelet", []string{configs.RoleControlPlane, configs.RoleEtcd}, "", func(e *fakeEnv) { e.kernel[preflight.IPForwardFile] = "0" }, "IPForward", 0, nil},
		{"no br_netfilter", all, "", func(e *fakeEnv) { delete(e.kernel, preflight.BridgeNFIptablesKey) }, "BridgeNetfilter", problem.Error,
			[]string{"does not exist", "br_netfilter module is not loaded", "modprobe br_netfilter", "/etc/modules-load.d/"}},
		{"bridge netfilter off", all, "", func(e *fakeEnv) { e.kernel[preflight.BridgeNFIptablesKey] = "0" }, "BridgeNetfilter", problem.Error,
			[]string{"net.bridge.bridge-nf-call-iptables is 0"}},
		{"swap on", all, "", func(e *fakeEnv) { e.kernel[preflight.SwapsFile] += "/swapfile file 1048572 0 -2\n" }, "Swap", problem.Error,
			[]string{"swap is on (/swapfile)", "failSwapOn", "refuses to start", "swapoff -a", "/etc/fstab", "/var/lib/kubelet/config.yaml"}},
		{"swap on without a kubelet", []string{configs.RoleEtcd}, "", func(e *fakeEnv) { e.kernel[preflight.SwapsFile] += "/swapfile file 1 0 -2\n" }, "Swap", 0, nil},
		{"no swap", all, "", nil, "Swap", problem.Info, []string{"no active swap"}},
		{"etcd client port taken", all, "", func(e *fakeEnv) { e.taken["127.0.0.1:2379"] = true }, "Port-2379", problem.Error,
			[]string{"127.0.0.1:2379 (etcd.service --listen-client-urls)", "in use", "pid 42 (intruder)", "etcd.service is not running", "ss -ltnp"}},
		{"own port on a relaunch", all, "", func(e *fakeEnv) { e.taken["127.0.0.1:2379"] = true; e.running = map[string]bool{"etcd.service": true} }, "Port-2379", problem.Info,
			[]string{"etcd.service runs and holds it"}},
		{"taken, systemd unknown", all, "", func(e *fakeEnv) { e.taken["127.0.0.1:2379"] = true; e.noSystemd = true }, "Port-2379", problem.Warning,
			[]string{"whether etcd.service holds it is unknown"}},
		{"kubelet port taken", all, "", func(e *fakeEnv) { e.taken["0.0.0.0:10250"] = true }, "Port-10250", problem.Error,
			[]string{"/var/lib/kubelet/config.yaml port", "kubelet.service is not running"}},
		{"api server port taken", all, "", func(e *fakeEnv) { e.taken["0.0.0.0:6443"] = true }, "Port-6443", problem.Error,
			[]string{"kube-apiserver.service --secure-port"}},
		// (Port-2379 fails the same way.)
		{"an address the machine lacks", []string{configs.RoleEtcd}, "10.9.0.1", nil, "Port-2380", problem.Error,
			[]string{"10.9.0.1:2380", "no such address", "cluster file"}},
		{"a CNI directory without bridge", all, "", func(e *fakeEnv) { delete(e.programs, "/usr/lib/cni/bridge") }, "Runtime-bridge", problem.Error,
			[]string{"/usr/lib/cni/bridge (the CNI bridge plugin, named in /etc/containerd/config.toml)", "apt-get install containernetworking-plugins", "binaries.cni"}},
		{"no runc", all, "", func(e *fakeEnv) { delete(e.programs, "/usr/sbin/runc") }, "Runtime-runc", problem.Error,
			[]string{"/usr/sbin/runc (the runc runtime", "apt-get install runc"}},
		{"no program", all, "", func(e *fakeEnv) { delete(e.programs, "/usr/local/bin/kubelet") }, "Program-kubelet", problem.Error,
			[]string{"/usr/local/bin/kubelet: does not exist, and kubelet.service runs it", "install /usr/local/bin/kubelet"}},
		{"not executable", all, "", func(e *fakeEnv) { e.modes = map[string]fs.FileMode{"/usr/local/bin/kube-proxy": 0o644} }, "Program-kube-proxy", problem.Error,
			[]string{"not an executable file", "chmod 0755"}},
		{"a directory", all, "", func(e *fakeEnv) { e.modes = map[string]fs.FileMode{"/usr/local/bin/etcd": fs.ModeDir | 0o755} }, "Program-etcd", problem.Error,
			[]string{"not an executable file"}},
		{"same minor, newer patch", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kube-apiserver"] = "Kubernetes v1.37.9\n" }, "Version-kube-apiserver", problem.Info,
			[]string{"1.37.9 matches 1.37"}},
		{"api server one minor older", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kube-apiserver"] = "Kubernetes v1.36.4\n" }, "Version-kube-apiserver", problem.Error,
			[]string{"1.36.4", "1 minor(s) older than the 1.37", "install Kubernetes 1.37.x at /usr/local/bin/kube-apiserver"}},
		{"controller manager one minor older", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kube-controller-manager"] = "Kubernetes v1.36.0\n" }, "Version-kube-controller-manager", problem.Warning,
			[]string{"within the version-skew policy"}},
		{"scheduler two minors older", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kube-scheduler"] = "Kubernetes v1.35.0\n" }, "Version-kube-scheduler", problem.Error,
			[]string{"2 minor(s) older", "up to 1 minor(s) older"}},
		{"scheduler newer", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kube-scheduler"] = "Kubernetes v1.38.0\n" }, "Version-kube-scheduler", problem.Error,
			[]string{"never newer"}},
		{"kubelet three minors older", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kubelet"] = "Kubernetes v1.34.1\n" }, "Version-kubelet", problem.Warning,
			[]string{"1.34.1, older than the 1.37"}},
		{"kubelet four minors older", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kubelet"] = "Kubernetes v1.33.1\n" }, "Version-kubelet", problem.Error,
			[]string{"4 minor(s) older"}},
		{"kube-proxy newer", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kube-proxy"] = "Kubernetes v1.38.0-alpha.1\n" }, "Version-kube-proxy", problem.Error,
			[]string{"never newer"}},
		{"etcd one minor older", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/etcd"] = "etcd Version: 3.5.16\n" }, "Version-etcd", problem.Warning, nil},
		{"Debian's etcd 3.4", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/etcd"] = "etcd Version: 3.4.23\nGit SHA: Not provided\n" }, "Version-etcd", problem.Error,
			[]string{"install etcd 3.6.x"}},
		{"unknown version output", all, "", func(e *fakeEnv) { e.programs["/usr/local/bin/kubelet"] = "kubelet: unknown flag: --version\n" }, "Version-kubelet", problem.Warning,
			[]string{"did not say its version", "unknown flag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := healthy()
			env.taken = map[string]bool{}
			if tc.env != nil {
				tc.env(env)
			}
			addr := tc.addr
			if addr == "" {
				addr = "127.0.0.1"
			}
			rep := run(t, env, renderBundle(t, addr, tc.roles...))
			got := find(rep, tc.check)
			if tc.sev == 0 {
				if len(got) > 0 {
					t.Fatalf("%s ran: %v", tc.check, got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%s: %d findings: %v\nall: %v", tc.check, len(got), got, rep.Findings)
			}
			if got[0].Severity != tc.sev {
				t.Errorf("severity %v, want %v: %s", got[0].Severity, tc.sev, got[0])
			}
			for _, w := range tc.want {
				if !strings.Contains(got[0].String(), w) {
					t.Errorf("no %q in %s", w, got[0])
				}
			}
			// Only the finding under test is anything but ok (the machine is otherwise healthy).
			for _, f := range rep.Findings {
				if f.Check != tc.check && f.Severity != problem.Info && !strings.HasPrefix(f.Where, "10.9.") {
					t.Errorf("another finding: %s", f)
				}
			}
		})
	}
}

// failSwapOn: false in the kubelet's config (the bundle's file) lets swap be.
func TestSwapAllowedByKubeletConfig(t *testing.T) {
	b := renderBundle(t, "127.0.0.1", configs.RoleWorker)
	for i, f := range b.Files {
		if f.Path == units.KubeletConfig {
			b.Files[i].Data = append(append([]byte(nil), f.Data...), "failSwapOn: false\n"...)
		}
	}
	env := healthy()
	env.kernel[preflight.SwapsFile] += "/dev/sda2 partition 1 0 -2\n"
	got := find(run(t, env, b), "Swap")
	if len(got) != 1 || got[0].Severity != problem.Info || !strings.Contains(got[0].Message, "failSwapOn: false") {
		t.Fatalf("%v", got)
	}
}

// Ignored errors become warnings, by name in any case or with "all"; Err lists the rest with
// the flag that would ignore them.
func TestIgnoreAndErr(t *testing.T) {
	env := healthy()
	env.kernel[preflight.IPForwardFile] = "0"
	env.taken = map[string]bool{"127.0.0.1:2379": true}
	b := renderBundle(t, "127.0.0.1", all...)
	rep := run(t, env, b)
	err := rep.Err()
	var pe *preflight.Error
	if !errors.As(err, &pe) || len(pe.Findings) != 2 {
		t.Fatalf("%v", err)
	}
	for _, w := range []string{"preflight found 2 error(s); nothing was installed or started", "[IPForward]", "[Port-2379]", "--ignore-preflight-errors=IPForward,Port-2379"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("no %q in %v", w, err)
		}
	}
	rep = run(t, env, b, "port-2379")
	if len(rep.Errors()) != 1 || rep.Errors()[0].Check != "IPForward" {
		t.Errorf("ignoring port-2379: %v", rep.Errors())
	}
	if w := find(rep, "Port-2379"); len(w) != 1 || !w[0].Ignored || w[0].Severity != problem.Warning || !strings.Contains(w[0].String(), "[ignored error]") {
		t.Errorf("the ignored finding: %v", w)
	}
	if rep = run(t, env, b, "all"); rep.Err() != nil || len(rep.Warnings()) != 2 {
		t.Errorf("all: %v, warnings %v", rep.Err(), rep.Warnings())
	}
}

// Units no row describes (the launch tests' own) get only the program check; a unit running
// hardway's etcd keeps etcd's ports but has no etcd version; a program the bundle installs is
// not looked for on the machine.
func TestUnitsWithoutRows(t *testing.T) {
	svc := func(exec string) []byte { return []byte("[Service]\nExecStart=" + exec + "\n") }
	b := bundle.New("n1", []bundle.File{
		{Path: "/etc/systemd/system/alpha.service", Kind: bundle.KindUnit, Mode: 0o644, Data: svc("/bin/sleep infinity")},
		{Path: "/etc/systemd/system/etcd.service", Kind: bundle.KindUnit, Mode: 0o644, Data: svc("/usr/local/bin/hardway etcd \\\n\t--listen-client-urls=https://127.0.0.1:2379 \\\n\t--listen-peer-urls=https://127.0.0.1:2380")},
		{Path: "/etc/systemd/system/beta.service", Kind: bundle.KindUnit, Mode: 0o644, Data: svc("/opt/beta")},
		{Path: "/opt/beta", Kind: bundle.KindBinary, Mode: 0o755, Data: []byte("#!/bin/sh\n")},
	}, []bundle.Unit{{Name: "alpha.service"}, {Name: "etcd.service", Version: "3.6"}, {Name: "beta.service"}})
	env := healthy()
	env.programs["/bin/sleep"] = ""
	env.programs["/usr/local/bin/hardway"] = ""
	env.taken = map[string]bool{"127.0.0.1:2380": true}
	rep := run(t, env, b)
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.String())
	}
	want := []string{
		"[ok] Port-2379: 127.0.0.1:2379 (etcd.service --listen-client-urls): free",
		"[error] Port-2380: 127.0.0.1:2380 (etcd.service --listen-peer-urls): in use",
		"[ok] Program-alpha: /bin/sleep: executable",
		"[ok] Program-etcd: /usr/local/bin/hardway: executable",
		"[ok] Version-etcd: /usr/local/bin/hardway: runs hardway, not etcd: no version to compare",
		"[ok] Program-beta: /opt/beta: installed by this bundle",
	}
	if len(got) != len(want) {
		t.Fatalf("findings:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("finding %d: %s\nwant %s...", i, got[i], want[i])
		}
	}
}

// The version formats read the real programs' --version output.
func TestVersionFormats(t *testing.T) {
	for _, tc := range []struct {
		f    preflight.Format
		out  string
		want string
	}{
		{preflight.KubernetesFormat, "Kubernetes v1.37.2\n", "1.37.2"},
		{preflight.KubernetesFormat, "Kubernetes v1.38.0-alpha.1.12+abc\n", "1.38.0-alpha.1.12+abc"},
		{preflight.EtcdFormat, "etcd Version: 3.4.23\nGit SHA: Not provided (use ./build instead of go build)\nGo Version: go1.19.8\n", "3.4.23"},
		{preflight.ContainerdFormat, "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n", "1.6.20~ds1"},
		{preflight.ContainerdFormat, "containerd github.com/containerd/containerd/v2 v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4\n", "2.0.2"},
		{preflight.RuncFormat, "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n", "1.1.5+ds1"},
	} {
		v, err := tc.f.Parse([]byte(tc.out))
		if err != nil || v.String() != tc.want {
			t.Errorf("%s %q: %v, %v; want %s", tc.f.Name, tc.out, v, err, tc.want)
		}
	}
	for _, tc := range []struct {
		f   preflight.Format
		out string
	}{
		{preflight.KubernetesFormat, "kubelet version 1.37"},
		{preflight.EtcdFormat, "Kubernetes v1.37.2"},
		{preflight.RuncFormat, ""},
	} {
		if v, err := tc.f.Parse([]byte(tc.out)); err == nil {
			t.Errorf("%s %q: parsed %v", tc.f.Name, tc.out, v)
		}
	}
}

// Every unit the renderer writes has a row, and every row names a unit the renderer writes.
func TestEveryRenderedUnitHasARow(t *testing.T) {
	rendered := map[string]bool{} // units.Components: a unit for each, on some node
	for _, c := range units.Components {
		rendered[c.UnitName()] = true
	}
	rows := map[string]bool{}
	for _, c := range preflight.Components {
		if rows[c.Unit] {
			t.Errorf("%s: two rows", c.Unit)
		}
		rows[c.Unit] = true
		if !rendered[c.Unit] {
			t.Errorf("row %s: not a unit the renderer writes", c.Unit)
		}
	}
	for u := range rendered {
		if !rows[u] {
			t.Errorf("%s: no row in preflight.Components", u)
		}
	}
}

// The host: kernel files, a taken port named with its holder, a program's mode and output.
func TestHost(t *testing.T) {
	h := &preflight.Host{}
	if _, err := h.ReadKernelFile(preflight.SwapsFile); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = h.Listen(l.Addr().String())
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), fmt.Sprintf("held by pid %d (", os.Getpid())) {
		t.Errorf("a taken port: %v", err)
	}
	if _, err := h.StatProgram("/bin/sh"); err != nil {
		t.Error(err)
	}
	out, err := h.RunProgram(context.Background(), "/bin/sh", "-c", "echo Kubernetes v1.37.2")
	if err != nil || string(out) != "Kubernetes v1.37.2\n" {
		t.Errorf("%q, %v", out, err)
	}
	if _, err := h.Running(context.Background(), "x.service"); err == nil {
		t.Error("no systemd connection, yet an answer")
	}
}
