package supervise_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
	"github.com/hardway-dev/hardway/units/supervise"
)

// singleNode is the cluster `hardway up` makes on a cgroup v1 host without systemd.
func singleNode(t *testing.T, controlPlaneOnly bool) (*configs.Cluster, *bundle.Bundle, *units.Rendered) {
	t.Helper()
	c := &configs.Cluster{}
	if _, err := supervise.SingleNode(c, supervise.NodeOptions{Name: "box", Address: netip.MustParseAddr("10.1.2.3"), ControlPlaneOnly: controlPlaneOnly}); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate().Err(); err != nil {
		t.Fatal(err)
	}
	r, err := units.RenderNode(c, c.Nodes[0], units.OptionsFor(c))
	if err != nil {
		t.Fatal(err)
	}
	var us []bundle.Unit
	for _, u := range r.Units {
		us = append(us, bundle.Unit{Name: u.Name, After: u.After, Health: u.Health, Inputs: u.Inputs})
	}
	return c, bundle.New(r.Node, r.Files, us), r
}

// Each process's argv is its unit's ExecStart word for word: the renderer's command and
// flags; the tiers follow the units' After lists.
func TestPlanIsTheRenderedUnits(t *testing.T) {
	for _, cpOnly := range []bool{false, true} {
		_, b, r := singleNode(t, cpOnly)
		procs, err := supervise.Plan(b, func(u string) bool { return u == "pod-routes.service" })
		if err != nil {
			t.Fatal(err)
		}
		if len(procs) != len(r.Units) {
			t.Errorf("control plane only %v: %d processes for %d units", cpOnly, len(procs), len(r.Units))
		}
		tier := map[string]int{}
		for _, p := range procs {
			tier[p.Unit] = p.Tier
		}
		for _, u := range r.Units {
			want := slices.Clone(u.Command)
			for _, f := range u.Flags {
				want = append(want, "--"+f.Name+"="+f.Value)
			}
			i := slices.IndexFunc(procs, func(p supervise.Process) bool { return p.Unit == u.Name })
			if i < 0 {
				t.Errorf("%s: no process", u.Name)
				continue
			}
			if !slices.Equal(procs[i].Argv, want) {
				t.Errorf("%s: argv\n  %q\nwant the rendered ExecStart\n  %q", u.Name, procs[i].Argv, want)
			}
			for _, a := range u.After {
				if tier[a] >= tier[u.Name] {
					t.Errorf("%s (tier %d) comes after %s (tier %d)", u.Name, tier[u.Name], a, tier[a])
				}
			}
		}
		if procs[0].Unit != "etcd.service" || !strings.HasSuffix(procs[0].Argv[0], "/hardway") {
			t.Errorf("the first process is %s %q, want etcd as `hardway etcd`", procs[0].Unit, procs[0].Argv)
		}
	}
}

// Every file of the bundle is under a bound node directory, and every program is bound.
func TestMountsCoverTheBundle(t *testing.T) {
	_, b, _ := singleNode(t, false)
	procs, err := supervise.Plan(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	programs := map[string]string{}
	for _, p := range supervise.Programs(procs) {
		programs[p] = "/opt/bin/" + p
	}
	ms, err := supervise.Mounts(b, "/data/root", programs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range b.Files {
		if strings.HasPrefix(f.Path, bundle.SystemdDir+"/") {
			continue
		}
		if !slices.ContainsFunc(ms, func(m supervise.Mount) bool { return strings.HasPrefix(f.Path+"/", m.Target+"/") }) {
			t.Errorf("%s is under no mount", f.Path)
		}
	}
	for np := range programs {
		if !slices.ContainsFunc(ms, func(m supervise.Mount) bool { return m.Target == np && m.File }) {
			t.Errorf("program %s is not bound", np)
		}
	}
	if _, err := supervise.Mounts(b, "/data/root", map[string]string{"/opt/x": "/x"}); err == nil {
		t.Error("a program outside /usr/local/bin was accepted")
	}
}

func TestSingleNode(t *testing.T) {
	cases := []struct {
		name    string
		addr    string
		cpOnly  bool
		host    supervise.Host
		wantErr string
		check   func(t *testing.T, c *configs.Cluster)
	}{
		{name: "loopback refused for the node half", addr: "127.0.0.1", wantErr: "loopback"},
		{name: "cgroup v1, no systemd, no CAP_SYS_RESOURCE", addr: "10.0.0.1", check: func(t *testing.T, c *configs.Cluster) {
			want := configs.Runtime{CgroupDriver: "cgroupfs", AllowCgroupV1: true, RestrictOOMScoreAdj: true}
			if c.Runtime != want {
				t.Errorf("runtime %+v, want %+v", c.Runtime, want)
			}
			if !slices.Equal(c.Nodes[0].Roles, []string{"control-plane", "etcd", "worker"}) || c.APIEndpoint.Host != "10.0.0.1" || c.Implementations["etcd"] != "hardway" {
				t.Errorf("cluster %+v", c)
			}
		}},
		{name: "systemd host", addr: "10.0.0.1", host: supervise.Host{CgroupV2: true, SystemdInit: true, SysResource: true}, check: func(t *testing.T, c *configs.Cluster) {
			if want := (configs.Runtime{CgroupDriver: "systemd"}); c.Runtime != want {
				t.Errorf("runtime %+v, want %+v", c.Runtime, want)
			}
		}},
		{name: "control plane only", addr: "10.0.0.1", cpOnly: true, check: func(t *testing.T, c *configs.Cluster) {
			if slices.Contains(c.Nodes[0].Roles, "worker") {
				t.Errorf("roles %v", c.Nodes[0].Roles)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &configs.Cluster{}
			_, err := supervise.SingleNode(c, supervise.NodeOptions{Name: "n", Address: netip.MustParseAddr(tc.addr), ControlPlaneOnly: tc.cpOnly, Host: tc.host})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
	c := &configs.Cluster{Nodes: []configs.Node{{Name: "a"}, {Name: "b"}}}
	if _, err := supervise.SingleNode(c, supervise.NodeOptions{Address: netip.MustParseAddr("10.0.0.1")}); err == nil {
		t.Error("two nodes accepted")
	}
}

func TestExecStartRefusesWhatHardwayDoesNotRender(t *testing.T) {
	for _, body := range []string{
		"[Service]\nExecStart=-/usr/bin/x\n",
		"[Service]\nExecStart=/usr/bin/x \"quoted arg\"\n",
		"[Service]\nExecStart=x\n",
		"[Service]\nType=exec\n",
		"[Service]\nExecStart=/a\nExecStart=/b\n",
	} {
		if argv, err := supervise.ExecStart([]byte(body)); err == nil {
			t.Errorf("%q: accepted as %q", body, argv)
		}
	}
}

func TestNodeName(t *testing.T) {
	for in, want := range map[string]string{"Box_1.example": "box-1.example", "": "node1", "--": "node1"} {
		if got := supervise.NodeName(in); got != want {
			t.Errorf("NodeName(%q) = %q, want %q", in, got, want)
		}
	}
}
