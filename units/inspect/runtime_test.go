package inspect

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/units/flags"
)

// The node half as hardway renders it by default: the kubelet on the systemd cgroup driver with
// cgroup v1 refused, containerd (version 2 config) agreeing with it, the bridge CNI network and
// the pod routes.
const (
	cleanContainerd = "/usr/bin/containerd --config=/etc/containerd/config.toml"
	cleanRoutes     = "/usr/local/bin/hardway routes --config=/etc/hardway/pod-routes.yaml"

	nodeKubeletYAML = kubeletConfigYAML + "cgroupDriver: systemd\nfailCgroupV1: true\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n"

	containerdV2 = `version = 2
root = '/var/lib/containerd'
[grpc]
  address = '/run/containerd/containerd.sock'
[plugins.'io.containerd.grpc.v1.cri']
  sandbox_image = 'registry.k8s.io/pause:3.10'
  restrict_oom_score_adj = false
  [plugins.'io.containerd.grpc.v1.cri'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.grpc.v1.cri'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.grpc.v1.cri'.containerd.runtimes.runc.options]
        BinaryName = '/usr/sbin/runc'
        SystemdCgroup = true
  [plugins.'io.containerd.grpc.v1.cri'.cni]
    bin_dir = '/usr/lib/cni'
    conf_dir = '/etc/cni/net.d'
`
	containerdV3 = `version = 3
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'registry.k8s.io/pause:3.10'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'crun'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun.options]
      SystemdCgroup = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/usr/lib/cni', '/opt/cni/bin']
    conf_dir = '/etc/cni/conf.d'
`
	bridgeConflist = `{"cniVersion": "1.0.0", "name": "hardway", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}`
	podRoutesYAML = "apiVersion: hardway.dev/v1\nkind: PodRoutes\nroutes:\n- {node: worker-2, destination: 10.244.2.0/24, via: 10.0.0.22}\n"
)

// withNode inspects the clean kubelet with containerd and hardway routes on one node; lines
// replace the command lines of the components they name, and mutate changes the node's files.
func withNode(mutate func(fs fstest.MapFS), lines ...string) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		p := goodPKI(t)
		put(p.fs, "/var/lib/kubelet/config.yaml", []byte(nodeKubeletYAML), 0o644)
		put(p.fs, "/etc/containerd/config.toml", []byte(containerdV2), 0o644)
		put(p.fs, "/etc/cni/net.d/10-hardway-bridge.conflist", []byte(bridgeConflist), 0o644)
		put(p.fs, "/etc/cni/net.d/99-loopback.conf", []byte(`{"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}`), 0o644)
		put(p.fs, "/etc/hardway/pod-routes.yaml", []byte(podRoutesYAML), 0o644)
		if mutate != nil {
			mutate(p.fs)
		}
		byComp := map[string]string{"kubelet": cleanKubelet, "containerd": cleanContainerd, "hardway routes": cleanRoutes}
		for _, l := range lines {
			byComp[command(t, l).Component] = l
		}
		var invs []*Invocation
		for _, c := range []string{"kubelet", "containerd", "hardway routes"} {
			invs = append(invs, command(t, byComp[c]))
		}
		return invs, opts(p.fs)
	}
}

func withContainerdUnit(unit string) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		invs, o := withNode(func(fs fstest.MapFS) {
			put(fs, "/etc/containerd/config.toml", []byte(strings.Replace(containerdV2, "restrict_oom_score_adj = false", "restrict_oom_score_adj = true", 1)), 0o644)
		})(t)
		u, err := LoadUnit("containerd.service", File{Name: "containerd.service", Data: []byte(unit)}, nil, fstest.MapFS{})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := FromUnitFile(flags.Default(), u)
		if err != nil {
			t.Fatal(err)
		}
		invs[1] = inv
		return invs, o
	}
}

func configFile(p, text string) func(fs fstest.MapFS) {
	return func(fs fstest.MapFS) { put(fs, p, []byte(text), 0o644) }
}

func containerdTarget(v string, c ruleCase) ruleCase {
	return func(t *testing.T) ([]*Invocation, Options) {
		invs, o := c(t)
		o.ContainerdTarget = flags.MustVersion(v)
		return invs, o
	}
}

var (
	kubeletCgroupfs     = configFile("/var/lib/kubelet/config.yaml", strings.Replace(nodeKubeletYAML, "cgroupDriver: systemd", "cgroupDriver: cgroupfs", 1))
	containerdNoSystemd = configFile("/etc/containerd/config.toml", strings.Replace(containerdV2, "SystemdCgroup = true", "SystemdCgroup = false", 1))
)

func init() {
	for id, rc := range map[string]struct{ fires, quiet ruleCase }{
		"kubelet-cgroup-v1-allowed": {
			fires: withNode(configFile("/var/lib/kubelet/config.yaml", strings.Replace(nodeKubeletYAML, "failCgroupV1: true", "failCgroupV1: false", 1))),
			quiet: withNode(nil),
		},
		"kubelet-cgroup-driver-cgroupfs": {
			fires: withNode(func(fs fstest.MapFS) { kubeletCgroupfs(fs); containerdNoSystemd(fs) }),
			quiet: withNode(nil),
		},
		"containerd-config-unreadable": {fires: withNode(configFile("/etc/containerd/config.toml", "version = 2\n[plugins\n")), quiet: withNode(nil)},
		"containerd-config-version-old": {
			fires: withNode(configFile("/etc/containerd/config.toml", "[plugins.cri]\n  sandbox_image = 'registry.k8s.io/pause:3.10'\n")),
			quiet: withNode(nil),
		},
		"containerd-config-version-unsupported": {
			fires: containerdTarget("1.7", withNode(configFile("/etc/containerd/config.toml", containerdV3))),
			quiet: containerdTarget("2.1", withNode(configFile("/etc/containerd/config.toml", containerdV3))),
		},
		"containerd-config-migrated": {fires: containerdTarget("2.0", withNode(nil)), quiet: containerdTarget("1.7", withNode(nil))},
		"containerd-restrict-oom-score-adj": {
			fires: withNode(configFile("/etc/containerd/config.toml", strings.Replace(containerdV2, "restrict_oom_score_adj = false", "restrict_oom_score_adj = true", 1))),
			quiet: withNode(nil),
		},
		"containerd-oom-score-inconsistent": {
			fires: withContainerdUnit("[Service]\nExecStart=/usr/bin/containerd --config=/etc/containerd/config.toml\nOOMScoreAdjust=-999\n"),
			quiet: withContainerdUnit("[Service]\nExecStart=/usr/bin/containerd --config=/etc/containerd/config.toml\n"),
		},
		"cni-config-missing": {
			fires: withNode(func(fs fstest.MapFS) {
				delete(fs, "etc/cni/net.d/10-hardway-bridge.conflist")
				delete(fs, "etc/cni/net.d/99-loopback.conf")
			}),
			quiet: withNode(nil),
		},
		"cni-config-unreadable": {fires: withNode(configFile("/etc/cni/net.d/10-hardway-bridge.conflist", `{"cniVersion": "1.0.0"}`)), quiet: withNode(nil)},
		"routes-config-or-remove": {
			fires: withNode(nil, cleanRoutes+" --remove"),
			quiet: withNode(nil, "/usr/local/bin/hardway routes --remove"),
		},
		"routes-config-unreadable": {fires: withNode(configFile("/etc/hardway/pod-routes.yaml", "apiVersion: v1\nkind: Pod\n")), quiet: withNode(nil)},
		"cross-cgroup-driver": {
			fires: withNode(containerdNoSystemd),
			// a containerd on another socket is not this kubelet's runtime
			quiet: withNode(containerdNoSystemd, cleanContainerd+" --address=/run/other/containerd.sock"),
		},
	} {
		ruleCases[id] = rc
	}
}

// The node as hardway renders it inspects without findings, and explains its settings.
func TestCleanNodeHasNoFindings(t *testing.T) {
	invs, o := withNode(nil)(t)
	rep := Inspect(invs, o)
	for _, f := range rep.All() {
		t.Errorf("unexpected finding %s (%s) in %s: %s", f.ID, f.Severity, f.Input, f.Message)
	}
	want := map[string]map[string]string{
		"containerd": {
			"runtimes.runc.options.SystemdCgroup": "true", "restrict_oom_score_adj": "false", "sandbox image": "registry.k8s.io/pause:3.10",
			"cni.bin_dir": "/usr/lib/cni", "cni.conf_dir": "/etc/cni/net.d", "version": "2", "bridge": "cni0", "ipam subnet": "10.244.1.0/24",
		},
		"hardway routes": {"route": "10.244.2.0/24 via 10.0.0.22"},
	}
	for _, res := range rep.Results {
		got := map[string]string{}
		for _, s := range res.Settings {
			got[s.Setting] = s.Value
			if s.Meaning == "" {
				t.Errorf("%s: setting %s has no meaning", res.Invocation.Name, s.Setting)
			}
		}
		for k, v := range want[res.Invocation.Component] {
			if got[k] != v {
				t.Errorf("%s: setting %s = %q, want %q (all: %v)", res.Invocation.Component, k, got[k], v, got)
			}
		}
	}
}

// A node with the settings for a host without systemd as PID 1, with cgroup v1 and without
// CAP_SYS_RESOURCE: the findings explain each choice and none is an error.
func TestConstrainedHostIsExplainedNotRefused(t *testing.T) {
	invs, o := withNode(func(fs fstest.MapFS) {
		put(fs, "/var/lib/kubelet/config.yaml", []byte(strings.NewReplacer("cgroupDriver: systemd", "cgroupDriver: cgroupfs", "failCgroupV1: true", "failCgroupV1: false").Replace(nodeKubeletYAML)), 0o644)
		put(fs, "/etc/containerd/config.toml", []byte(strings.NewReplacer("SystemdCgroup = true", "SystemdCgroup = false", "restrict_oom_score_adj = false", "restrict_oom_score_adj = true").Replace(containerdV2)), 0o644)
	})(t)
	rep := Inspect(invs, o)
	got := ids(rep.All())
	for _, id := range []string{"kubelet-cgroup-driver-cgroupfs", "kubelet-cgroup-v1-allowed", "containerd-restrict-oom-score-adj"} {
		if got[id] != 1 {
			t.Errorf("%s: %d findings, want 1:\n%s", id, got[id], dump(rep))
		}
	}
	if n := rep.Count(Error); n > 0 {
		t.Errorf("%d error(s):\n%s", n, dump(rep))
	}
}

func TestParseContainerdConfig(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       containerdConfig
		err        string
	}{
		{name: "v2", text: containerdV2, want: containerdConfig{version: 2, address: "/run/containerd/containerd.sock", runtime: "runc", systemdCgroup: true,
			sandboxImage: "registry.k8s.io/pause:3.10", cniBinDirs: []string{"/usr/lib/cni"}, cniConfDir: "/etc/cni/net.d"}},
		{name: "v3 split CRI tables, bin_dirs, another runtime", text: containerdV3, want: containerdConfig{version: 3, address: "/run/containerd/containerd.sock", runtime: "crun",
			systemdCgroup: true, restrictOOM: true, sandboxImage: "registry.k8s.io/pause:3.10", cniBinDirs: []string{"/usr/lib/cni", "/opt/cni/bin"}, cniConfDir: "/etc/cni/conf.d"}},
		{name: "v2 defaults", text: "version = 2\n", want: containerdConfig{version: 2, address: "/run/containerd/containerd.sock", runtime: "runc",
			cniBinDirs: []string{"/opt/cni/bin"}, cniConfDir: "/etc/cni/net.d"}},
		{name: "wrong type", text: "version = 2\n[plugins.'io.containerd.grpc.v1.cri']\nrestrict_oom_score_adj = 'yes'\n", err: "restrict_oom_score_adj is yes, not true or false"},
		{name: "version not a number", text: "version = 'two'\n", err: "not a number"},
		{name: "not TOML", text: "version = 2\n[plugins\n", err: "line 2 column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseContainerdConfig([]byte(tc.text))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g, w := *got, tc.want; g.version != w.version || g.address != w.address || g.runtime != w.runtime || g.systemdCgroup != w.systemdCgroup ||
				g.restrictOOM != w.restrictOOM || g.sandboxImage != w.sandboxImage || strings.Join(g.cniBinDirs, ",") != strings.Join(w.cniBinDirs, ",") || g.cniConfDir != w.cniConfDir {
				t.Errorf("got %+v\nwant %+v", g, w)
			}
		})
	}
}

func TestRecognizeRuntimePrograms(t *testing.T) {
	cat := flags.Default()
	for _, tc := range []struct {
		line, component string
		target          flags.Version
		flags           []string
	}{
		{cleanRoutes, "hardway routes", flags.Version{}, []string{"config"}},
		{"/usr/local/bin/hardway routes --remove", "hardway routes", flags.Version{}, []string{"remove"}},
		{"/usr/local/bin/hardway etcd --name=a", "etcd", cat.Component("etcd").Newest, []string{"name"}},
		// urfave/cli: Go's flag package, so -config is --config and -c an alias of it
		{"/usr/bin/containerd -c /etc/containerd/config.toml -log-level=info", "containerd", cat.Component("containerd").Newest, []string{"config", "log-level"}},
	} {
		t.Run(tc.line, func(t *testing.T) {
			inv := command(t, tc.line)
			if inv.Component != tc.component {
				t.Fatalf("component %q, want %q", inv.Component, tc.component)
			}
			rep := Inspect([]*Invocation{inv}, opts(nil))
			res := rep.Results[0]
			if res.Target != tc.target.String() {
				t.Errorf("target %q, want %q", res.Target, tc.target)
			}
			var got []string
			for _, f := range res.Flags {
				got = append(got, strings.TrimLeft(f.Flag, "-"))
				if f.State != "current" || f.Meaning == "" {
					t.Errorf("%s: state %s, meaning %q", f.Flag, f.State, f.Meaning)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.flags, ",") {
				t.Errorf("flags %v, want %v", got, tc.flags)
			}
			for _, f := range res.Findings {
				t.Errorf("finding %s: %s", f.ID, f.Message)
			}
		})
	}
}

// containerd's releases are its own: the Kubernetes target never applies to it.
func TestContainerdTargetIsItsOwn(t *testing.T) {
	inv := command(t, cleanContainerd)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Target: flags.MustVersion("1.37")}, "2.2"},
		{Options{Target: flags.MustVersion("1.32"), ContainerdTarget: flags.MustVersion("1.7")}, "1.7"},
		{Options{EtcdTarget: flags.MustVersion("3.5"), ContainerdTarget: flags.MustVersion("2.0")}, "2.0"},
		{Options{ContainerdTarget: flags.MustVersion("3.5")}, "2.2"}, // another line: the newest
	} {
		if got := Inspect([]*Invocation{inv}, tc.o).Results[0].Target; got != tc.want {
			t.Errorf("%+v: target %s, want %s", tc.o, got, tc.want)
		}
	}
}
