package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/internal/e2e/images"
	"github.com/hardway-dev/hardway/internal/e2e/netns"
	"github.com/hardway-dev/hardway/units"
)

// upCluster is a `hardway up` the test runs in a network namespace of its own.
type upCluster struct {
	hardway, kubectl, etcdctl, dir, binDir, config string
	host                                           *netns.Host
	// nodeIP is the address up runs the node at: the host's, then another one of it.
	nodeIP string

	cmd    *exec.Cmd
	mu     sync.Mutex
	out    strings.Builder
	exited chan error
}

// start runs `hardway up` and waits until it prints the KUBECONFIG line.
func (u *upCluster) start(t *testing.T) {
	t.Helper()
	u.cmd = exec.Command("nsenter", "--net="+u.host.Path, u.hardway, "up", "--dir", u.dir, "--bin-dir", u.binDir,
		"--node-ip", u.nodeIP, "--config", u.config)
	u.cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + u.dir}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	u.cmd.Stdout, u.cmd.Stderr = w, w
	u.mu.Lock()
	u.out.Reset()
	u.mu.Unlock()
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ready := make(chan struct{})
	u.exited = make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(r)
		once := sync.Once{}
		for sc.Scan() {
			u.mu.Lock()
			u.out.WriteString(sc.Text() + "\n")
			u.mu.Unlock()
			if strings.HasPrefix(sc.Text(), "up: everything healthy") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { u.exited <- u.cmd.Wait() }()
	cmd := u.cmd
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-u.exited:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
	})
	select {
	case <-ready:
		t.Logf("hardway up:\n%s", u.output())
	case err := <-u.exited:
		t.Fatalf("hardway up exited before it was ready: %v\n%s", err, u.output())
	case <-time.After(6 * time.Minute):
		t.Fatalf("hardway up not ready after 6 minutes:\n%s", u.output())
	}
}

func (u *upCluster) output() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.out.String()
}

// stop sends the signal to `hardway up` and waits for it to exit.
func (u *upCluster) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := u.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-u.exited:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatalf("hardway up did not exit 2 minutes after %v:\n%s", sig, u.output())
	}
	return nil
}

func (u *upCluster) kubectlRun(args ...string) (string, error) {
	full := append([]string{"--net=" + u.host.Path, u.kubectl, "--kubeconfig", filepath.Join(u.dir, "kubeconfigs", "admin.kubeconfig"), "--request-timeout=30s"}, args...)
	cmd := exec.Command("nsenter", full...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + u.dir}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), err
}

func (u *upCluster) kubectl1(t *testing.T, args ...string) string {
	t.Helper()
	out, err := u.kubectlRun(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// supervisor is the host PID of the supervisor (PID 1 of the components' namespace).
func (u *upCluster) supervisor(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(u.dir, "run", "supervisor.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// descendants lists the processes under pid (host PIDs), with their first argument.
func descendants(pid int) map[int]string {
	out := map[int]string{}
	var walk func(int)
	walk = func(p int) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, s := range strings.Fields(string(b)) {
				c, err := strconv.Atoi(s)
				if err != nil {
					continue
				}
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c))
				out[c], _, _ = strings.Cut(string(cmdline), "\x00")
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] != 'Z'
	}
	return true
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	e2e.Eventually(t, within, 500*time.Millisecond, what, cond)
}

const upPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"demo"},
"spec":{"containers":[{"name":"web","image":"` + images.ProgramRef + `","imagePullPolicy":"Never","args":["serve"]}]}}`

// newUpCluster prepares `hardway up` in a network namespace of the test's: the real binaries
// linked into one --bin-dir, the built hardway, the node images' archive (returned), a base
// cluster file naming the local images, and a cleanup that runs `hardway down` whatever
// happened, so a failed run leaves nothing on the machine (the kubelet's cgroups, the rules).
func newUpCluster(t *testing.T) (*upCluster, string) {
	t.Helper()
	u := &upCluster{}
	binDir := t.TempDir()
	for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"} {
		if err := os.Symlink(e2e.RequireBinary(t, name), filepath.Join(binDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"containerd", "ctr", "runc", "nsenter", "iptables"} {
		e2e.RequireBinary(t, name)
	}
	u.kubectl, u.etcdctl = e2e.RequireBinary(t, "kubectl"), e2e.RequireBinary(t, "etcdctl")
	e2e.LockMachine(t)
	u.hardway, u.binDir = e2e.BuildHardway(t), binDir
	archive := images.NodeArchive(t, images.PauseRef)
	u.host = netns.New(t, 1).Hosts[0]
	u.nodeIP = u.host.IP().String()
	work := t.TempDir()
	u.dir = filepath.Join(work, "cluster")
	u.config = filepath.Join(work, "base.yaml")
	if err := os.WriteFile(u.config, []byte("name: up\nruntime:\n  sandboxImage: "+images.PauseRef+"\ndns:\n  image: "+images.CoreDNSRef+"\n  replicas: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		if _, err := os.Stat(u.dir); err == nil {
			out, err := exec.Command("nsenter", "--net="+u.host.Path, u.hardway, "down", "--dir", u.dir).CombinedOutput()
			t.Logf("cleanup: hardway down: %v\n%s", err, out)
		}
	})
	return u, archive
}

// `hardway up` end to end: a fresh DIR in a network namespace of the test's, the real
// components, the real kubectl and etcdctl; SIGTERM and up again (the data stays), a
// component killed and restarted, the supervisor killed (nothing survives it).
func TestUpEndToEnd(t *testing.T) {
	e2e.SkipIfShort(t)
	if os.Geteuid() != 0 {
		e2e.Skip(t, "hardway up needs root")
	}
	u, archive := newUpCluster(t)
	u.start(t)
	if out := u.output(); !strings.Contains(out, "export KUBECONFIG="+filepath.Join(u.dir, "kubeconfigs", "admin.kubeconfig")) ||
		!strings.Contains(out, "host: cgroup") {
		t.Errorf("hardway up did not print what it detected and the KUBECONFIG line:\n%s", out)
	}
	if out := u.kubectl1(t, "get", "--raw", "/readyz"); out != "ok" {
		t.Errorf("/readyz: %q", out)
	}
	if out := u.kubectl1(t, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); out != "admin" {
		t.Errorf("auth whoami: %q, want admin", out)
	}
	u.kubectl1(t, "create", "namespace", "demo")
	u.kubectl1(t, "-n", "demo", "create", "configmap", "settings", "--from-literal=color=blue")
	u.kubectl1(t, "-n", "demo", "create", "secret", "generic", "token", "--from-literal=token=s3cret")
	etcdctl := exec.Command("nsenter", "--net="+u.host.Path, u.etcdctl, "--endpoints=https://"+u.host.IP().String()+":2379",
		"--cacert="+filepath.Join(u.dir, "pki", "etcd", "ca.crt"), "--cert="+filepath.Join(u.dir, "pki", "apiserver-etcd-client.crt"),
		"--key="+filepath.Join(u.dir, "pki", "apiserver-etcd-client.key"), "get", "/registry/secrets/demo/token", "--print-value-only")
	if out, err := etcdctl.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "k8s:enc:") || strings.Contains(string(out), "s3cret") {
		t.Errorf("the secret in etcd is not encrypted at rest (err %v): %.80q", err, out)
	}

	// Second up on a running DIR: refused, naming the PID.
	second, err := exec.Command("nsenter", "--net="+u.host.Path, u.hardway, "up", "--dir", u.dir, "--bin-dir", u.binDir,
		"--node-ip", u.host.IP().String(), "--config", u.config).CombinedOutput()
	if err == nil || !strings.Contains(string(second), "already running") || !strings.Contains(string(second), "pid "+strconv.Itoa(u.cmd.Process.Pid)) {
		t.Errorf("a second up on the running DIR: %v\n%s", err, second)
	}

	// The node half: Ready, and a pod Running from an image imported into its containerd.
	eventually(t, 3*time.Minute, "node Ready", func() bool {
		out, err := u.kubectlRun("get", "nodes", "-o", `jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}`)
		return err == nil && out == "True"
	})
	ctr := exec.Command("nsenter", "--target", strconv.Itoa(u.supervisor(t)), "--mount", "--net", "ctr", "--address", units.ContainerdSocket,
		"--namespace", "k8s.io", "images", "import", "--snapshotter", "overlayfs", archive)
	if out, err := ctr.CombinedOutput(); err != nil {
		t.Fatalf("importing the images into up's containerd: %v\n%s", err, out)
	}
	podFile := filepath.Join(t.TempDir(), "pod.json")
	if err := os.WriteFile(podFile, []byte(upPod), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "service account demo/default", func() bool {
		_, err := u.kubectlRun("-n", "demo", "get", "serviceaccount", "default")
		return err == nil
	})
	u.kubectl1(t, "apply", "-f", podFile)
	eventually(t, 3*time.Minute, "pod demo/web Running", func() bool {
		out, err := u.kubectlRun("-n", "demo", "get", "pod", "web", "-o", "jsonpath={.status.phase}")
		return err == nil && out == "Running"
	})

	// SIGTERM: everything stops, in reverse order, and nothing is left.
	before := descendants(u.cmd.Process.Pid)
	if err := u.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("hardway up after SIGTERM: %v\n%s", err, u.output())
	}
	for pid, name := range before {
		if alive(pid) {
			t.Errorf("%s (pid %d) survived hardway up's SIGTERM", name, pid)
		}
	}

	// Up again, at another address of the machine: init reissues what names the address, etcd's
	// member takes its new peer URL, and the data is there.
	moved := u.host.IP().Next().Next().Next().Next().Next().String() // .6 on the test's /24
	if out, err := u.host.Command("ip", "addr", "add", moved+"/24", "dev", "eth0").CombinedOutput(); err != nil {
		t.Fatalf("a second address: %v\n%s", err, out)
	}
	u.nodeIP = moved
	u.start(t)
	if out := u.output(); !strings.Contains(out, "etcd: member ") || !strings.Contains(out, "https://"+moved+":2380") {
		t.Errorf("up at a new address did not update etcd's peer URL:\n%s", out)
	}
	members := exec.Command("nsenter", "--net="+u.host.Path, u.etcdctl, "--endpoints=https://"+moved+":2379",
		"--cacert="+filepath.Join(u.dir, "pki", "etcd", "ca.crt"), "--cert="+filepath.Join(u.dir, "pki", "apiserver-etcd-client.crt"),
		"--key="+filepath.Join(u.dir, "pki", "apiserver-etcd-client.key"), "member", "list")
	if out, err := members.CombinedOutput(); err != nil || !strings.Contains(string(out), "https://"+moved+":2380") {
		t.Errorf("etcdctl member list after the move (%v):\n%s", err, out)
	}
	if out := u.kubectl1(t, "-n", "demo", "get", "configmap", "settings", "-o", "jsonpath={.data.color}"); out != "blue" {
		t.Errorf("after a restart, configmap demo/settings: %q", out)
	}
	if out := u.kubectl1(t, "-n", "demo", "get", "secret", "token", "-o", "jsonpath={.data.token}"); out != "czNjcmV0" {
		t.Errorf("after a restart, secret demo/token: %q", out)
	}

	// hardway inspect --pid on each running component (its files resolved in the supervisor's
	// mount namespace, /proc/<pid>/root) finds no error: what up runs is what inspect judges.
	inspected := 0
	for pid, name := range descendants(u.supervisor(t)) {
		base := filepath.Base(name)
		if !slices.Contains([]string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "containerd"}, base) {
			continue
		}
		inspected++
		out, err := exec.Command(u.hardway, "inspect", "--pid", strconv.Itoa(pid), "--root", "/proc/"+strconv.Itoa(pid)+"/root", "--fail-on", "error").CombinedOutput()
		if err != nil {
			t.Errorf("hardway inspect --pid %d (%s): %v\n%s", pid, base, err, out)
		}
	}
	if inspected < 6 {
		t.Errorf("inspected %d components of up, want 6", inspected)
	}

	// A component killed with SIGKILL is restarted, and the cluster recovers.
	apiserver := 0
	for pid, name := range descendants(u.supervisor(t)) {
		if name == "/usr/local/bin/kube-apiserver" {
			apiserver = pid
		}
	}
	if apiserver == 0 {
		t.Fatalf("no kube-apiserver under the supervisor: %v", descendants(u.supervisor(t)))
	}
	if err := syscall.Kill(apiserver, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "a new kube-apiserver, ready", func() bool {
		restarted := false
		for pid, name := range descendants(u.supervisor(t)) {
			restarted = restarted || (name == "/usr/local/bin/kube-apiserver" && pid != apiserver)
		}
		out, err := u.kubectlRun("get", "--raw", "/readyz")
		return restarted && err == nil && out == "ok"
	})
	if !strings.Contains(u.output(), "kube-apiserver: killed by signal killed; restarting") {
		t.Errorf("hardway up did not report the restart:\n%s", u.output())
	}

	// SIGKILL of hardway up: no child survives it.
	before = descendants(u.cmd.Process.Pid)
	if len(before) < 7 {
		t.Errorf("only %d processes under hardway up: %v", len(before), before)
	}
	err = u.stop(t, syscall.SIGKILL)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("hardway up after SIGKILL: %v", err)
	}
	eventually(t, 30*time.Second, "every process of hardway up gone", func() bool {
		for pid := range before {
			if alive(pid) {
				return false
			}
		}
		return true
	})

	// hardway down undoes what up did to the host: the bridge, the kubelet's cgroups; --purge
	// --yes deletes DIR.
	down, err := exec.Command("nsenter", "--net="+u.host.Path, u.hardway, "down", "--dir", u.dir, "--purge", "--yes").CombinedOutput()
	if err != nil {
		t.Fatalf("hardway down --purge: %v\n%s", err, down)
	}
	t.Logf("hardway down --purge:\n%s", down)
	if out, err := u.host.Command("ip", "link", "show", units.CNIBridge).CombinedOutput(); err == nil {
		t.Errorf("the CNI bridge survived hardway down:\n%s", out)
	}
	if out, err := u.host.Command("iptables-save").CombinedOutput(); err != nil || strings.Contains(string(out), "KUBE-") || strings.Contains(string(out), "CNI-") {
		t.Errorf("kube-proxy's or the CNI plugins' rules survived hardway down (%v):\n%s", err, out)
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/kubepods"); err == nil {
		t.Errorf("the kubelet's cgroups survived hardway down")
	}
	if _, err := os.Stat(u.dir); err == nil {
		t.Errorf("%s survived hardway down --purge --yes", u.dir)
	}
}
