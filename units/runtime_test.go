package units

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/e2e"
	"github.com/hardway-dev/hardway/units/routes"
)

// runtimeVariants are the cluster file's runtime settings: the default for a systemd host, and
// the settings for a host without systemd as PID 1, with cgroup v1 and without
// CAP_SYS_RESOURCE (this machine), with runc and the CNI plugins moved.
func runtimeVariants(t *testing.T) map[string]*configs.Cluster {
	t.Helper()
	def := loadExample(t, "hard-way")
	host := loadExample(t, "hard-way")
	host.Runtime = configs.Runtime{SandboxImage: "registry.example/pause:9", CgroupDriver: configs.CgroupDriverCgroupfs, AllowCgroupV1: true, RestrictOOMScoreAdj: true}
	host.Binaries = map[string]string{configs.BinaryRunc: "/opt/runc/runc", configs.BinaryCNIDir: "/opt/cni/bin"}
	return map[string]*configs.Cluster{"default": def, "container host": host}
}

func fileData(t *testing.T, r *Rendered, p string) []byte {
	t.Helper()
	f := r.file(p)
	if f == nil {
		t.Fatalf("%s: no %s", r.Node, p)
	}
	return f.Data
}

// The runtime layer follows the cluster file: containerd's cgroup driver is the kubelet's, the
// sandbox image, runc and the CNI directory are the file's, and a host without
// CAP_SYS_RESOURCE gets restrict_oom_score_adj and a unit without a negative OOM score or
// raised limits. config.toml decodes strictly into the type it was rendered from.
func TestRuntimeFollowsTheClusterFile(t *testing.T) {
	for name, c := range runtimeVariants(t) {
		r := renderNode(t, c, "worker-0", Options{})
		var got ContainerdConfiguration
		dec := toml.NewDecoder(bytes.NewReader(fileData(t, r, ContainerdConfig)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("%s: config.toml: %v", name, err)
		}
		if !reflect.DeepEqual(&got, ContainerdSettings(c)) {
			t.Errorf("%s: config.toml decodes to %+v", name, got)
		}
		cri := got.Plugins.CRI
		runc := cri.Containerd.Runtimes["runc"].Options
		if runc.SystemdCgroup != (c.Runtime.CgroupDriver == configs.CgroupDriverSystemd) || runc.BinaryName != c.Binary(configs.BinaryRunc) ||
			cri.SandboxImage != c.Runtime.SandboxImage || cri.CNI.BinDir != c.Binary(configs.BinaryCNIDir) || cri.RestrictOOMScoreAdj != c.Runtime.RestrictOOMScoreAdj {
			t.Errorf("%s: containerd settings %+v do not follow runtime %+v", name, cri, c.Runtime)
		}
		kubelet := string(fileData(t, r, KubeletConfig))
		if !strings.Contains(kubelet, "cgroupDriver: "+c.Runtime.CgroupDriver+"\n") {
			t.Errorf("%s: kubelet config without cgroupDriver %s:\n%s", name, c.Runtime.CgroupDriver, kubelet)
		}
		if want := "failCgroupV1: " + map[bool]string{true: "false", false: "true"}[c.Runtime.AllowCgroupV1] + "\n"; !strings.Contains(kubelet, want) {
			t.Errorf("%s: kubelet config without %q", name, want)
		}
		unit := string(fileData(t, r, SystemdDir+"/containerd.service"))
		for _, opt := range []string{"OOMScoreAdjust=-999", "LimitNPROC=infinity", "TasksMax=infinity"} {
			if strings.Contains(unit, opt) == c.Runtime.RestrictOOMScoreAdj {
				t.Errorf("%s: containerd.service with restrictOOMScoreAdj %v has %s: %v", name, c.Runtime.RestrictOOMScoreAdj, opt, !c.Runtime.RestrictOOMScoreAdj)
			}
		}

		// The CNI network hands out the node's own pod range; the routes go to the others'.
		var conf CNIConfList
		d := json.NewDecoder(bytes.NewReader(fileData(t, r, CNIBridgeConfig)))
		d.DisallowUnknownFields()
		if err := d.Decode(&conf); err != nil {
			t.Fatal(err)
		}
		node, _ := c.Node("worker-0")
		if s := conf.Plugins[0].IPAM.Ranges[0][0].Subnet; s != node.PodCIDR || s == "" {
			t.Errorf("%s: the bridge hands out %s, the node's range is %s", name, s, node.PodCIDR)
		}
		rf, err := routes.Parse("pod-routes.yaml", fileData(t, r, PodRoutesConfig))
		if err != nil {
			t.Fatal(err)
		}
		other, _ := c.Node("worker-1")
		if len(rf.Routes) != 1 || rf.Routes[0].Destination != other.PodCIDR || rf.Routes[0].Via != other.InternalIP() {
			t.Errorf("%s: routes %+v, want worker-1's %s via %s", name, rf.Routes, other.PodCIDR, other.InternalIP())
		}
	}
}

// The real containerd reads config.toml as hardway means it: `containerd config dump` (the
// configuration containerd would run with, defaults merged in) has every value hardway set.
// containerd ignores keys it does not know, so this is the check that the names are right.
func TestRealContainerdReadsTheConfig(t *testing.T) {
	containerd := e2e.RequireBinary(t, "containerd")
	for name, c := range runtimeVariants(t) {
		r := renderNode(t, c, "worker-0", Options{})
		p := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(p, fileData(t, r, ContainerdConfig), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(containerd, "--config", p, "config", "dump").Output()
		if err != nil {
			t.Fatalf("%s: containerd config dump: %v", name, err)
		}
		var dumped ContainerdConfiguration
		if err := toml.Unmarshal(out, &dumped); err != nil {
			t.Fatalf("%s: the dump: %v\n%s", name, err, out)
		}
		if want := ContainerdSettings(c); !reflect.DeepEqual(&dumped, want) {
			t.Errorf("%s: containerd runs with\n%+v\nhardway rendered\n%+v", name, dumped, *want)
		}
	}
}
