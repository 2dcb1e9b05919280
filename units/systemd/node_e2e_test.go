package systemd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/internal/e2e/netns"
	"github.com/hardway-dev/hardway/units/systemd/sandboxtest"
)

// The settings a containerd node needs on this kind of machine (systemd not PID 1, cgroup v1
// hybrid, no CAP_SYS_RESOURCE): cgroupfs, not the systemd cgroup driver, and oom_score_adj
// never below the parent's. See /work/notes/spike.md.
const nodeContainerdConfig = `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
`

// No negative OOMScoreAdjust and no raised limits (LimitNOFILE=infinity...): without
// CAP_SYS_RESOURCE the manager cannot apply them and the unit fails to start.
const nodeContainerdUnit = `[Unit]
Description=containerd container runtime

[Service]
Type=notify
ExecStart=/usr/bin/containerd --config /etc/containerd/config.toml
Delegate=yes
Restart=no
`

const nodeKubeletUnit = `[Unit]
Description=kubelet
Wants=containerd.service
After=containerd.service

[Service]
ExecStart=/usr/local/bin/kubelet --config=/var/lib/kubelet/config.yaml --node-ip=NODEIP --hostname-override=node1 --v=2
Restart=no
`

const nodeKubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: NODEIP
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
`

// The node smoke test: a node network namespace, a sandboxed systemd in it that keeps the
// host's cgroup v1 layout, and under it the Debian containerd and the real kubelet
// (standalone, no API server) from hand-written units. containerd answers on its socket, the
// kubelet's healthz answers inside the namespace, and the kubelet's pod cgroups are inside the
// sandbox's memory cgroup, not in the machine's.
func TestNodeContainerdKubelet(t *testing.T) {
	e2e.SkipIfShort(t)
	kubelet := e2e.RequireBinary(t, "kubelet")
	for _, p := range []string{"containerd", "ctr", "runc", "curl"} {
		e2e.RequireBinary(t, p)
	}
	node := netns.New(t, 1).Hosts[0]
	ip := node.IP().String()

	units := t.TempDir()
	for name, body := range map[string]string{
		"containerd.service": nodeContainerdUnit,
		"kubelet.service":    strings.ReplaceAll(nodeKubeletUnit, "NODEIP", ip),
	} {
		if err := os.WriteFile(filepath.Join(units, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sb := sandboxtest.StartWith(t, sandboxtest.Options{
		UnitDirs:         []string{units},
		NetNS:            node.Path,
		HostCgroupLayout: true,
		EmptyDirs:        sandboxtest.NodeDirs,
		Sysctls:          sandboxtest.KubeletSysctls,
		Binds:            map[string]string{"/usr/local/bin/kubelet": kubelet},
	})
	for path, body := range map[string]string{
		"/etc/containerd/config.toml":  nodeContainerdConfig,
		"/var/lib/kubelet/config.yaml": strings.ReplaceAll(nodeKubeletConfig, "NODEIP", ip),
	} {
		if err := os.WriteFile(filepath.Join(sb.EmptyDir(filepath.Dir(path)), filepath.Base(path)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mgr := sb.Connect(t)
	ctx := context.Background()

	if err := mgr.Start(ctx, "containerd.service"); err != nil {
		t.Fatalf("start containerd.service: %v", err)
	}
	if st, err := mgr.State(ctx, "containerd.service"); err != nil || st.ActiveState != "active" {
		t.Fatalf("containerd.service: %+v, %v", st, err)
	}
	if out, err := sb.Command("ctr", "--address", "/run/containerd/containerd.sock", "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "Server:") {
		t.Fatalf("ctr version in the node: %v\n%s", err, out)
	}

	if err := mgr.Start(ctx, "kubelet.service"); err != nil {
		t.Fatalf("start kubelet.service: %v", err)
	}
	// The kubelet serves healthz once its sync loop runs; curl retries until then.
	curl := sb.Command("curl", "-sS", "--retry", "60", "--retry-delay", "1", "--retry-all-errors", "--max-time", "120",
		"http://127.0.0.1:10248/healthz")
	var stderr strings.Builder
	curl.Stderr = &stderr
	if out, err := curl.Output(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("kubelet healthz in the node: %q, %v\n%s", out, err, stderr.String())
	}
	if st, err := mgr.State(ctx, "kubelet.service"); err != nil || st.ActiveState != "active" {
		t.Fatalf("kubelet.service: %+v, %v", st, err)
	}
	// The kubelet's cgroups (cgroupfs driver: /kubepods in its cgroup namespace) are the
	// sandbox's children in the v1 memory hierarchy.
	kubepods := filepath.Join(sb.Cgroup("memory"), "kubepods")
	if _, err := os.Stat(kubepods); err != nil {
		t.Errorf("no kubepods cgroup in the sandbox's memory cgroup: %v", err)
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/kubepods"); err == nil {
		t.Errorf("the kubelet made /sys/fs/cgroup/memory/kubepods in the machine's root memory cgroup")
	}
	// Its node address is the namespace's.
	if out, err := node.Command("ss", "-Htln").CombinedOutput(); err != nil || !strings.Contains(string(out), ip+":10250") {
		t.Errorf("the kubelet does not listen on %s:10250 in the node: %v\n%s", ip, err, out)
	}
}
