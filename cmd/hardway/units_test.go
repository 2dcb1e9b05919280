package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/apiserver/etcdserver"
	"github.com/hardway-dev/hardway/units"
)

func example(name string) string {
	return filepath.Join("..", "..", "configs", "examples", name+".yaml")
}

func TestUnitsShow(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"units", "show", "cp-1", "--config", example("ha")}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"==> /etc/systemd/system/etcd.service (mode 0600) <==\n# etcd.service",
		"==> /etc/systemd/system/kube-apiserver.service (mode 0600) <==",
		"==> /etc/kubernetes/audit-policy.yaml (mode 0600) <==",
		"--advertise-address=10.0.0.11 \\\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "kubelet.service") {
		t.Error("cp-1 is not a worker but gets a kubelet")
	}
}

func TestUnitsShowErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"units", "show", "nope", "--config", example("ha")}, 2, `no node "nope"; the nodes are: cp-1, cp-2`},
		{[]string{"units", "show", "cp-1", "--dir", "/nonexistent"}, 2, "/nonexistent/cluster.yaml not found: run 'hardway init"},
		{[]string{"units", "show", "--config", example("ha")}, 2, "takes one NODE"},
		{[]string{"units", "show", "cp-1", "--config", example("ha"), "--implementation", "coredns=hardway"}, 2, `--implementation coredns=hardway: "coredns" is not a component`},
		{[]string{"units", "show", "cp-1", "--config", example("ha"), "--implementation", "etcd=docker"}, 2, `--implementation etcd=docker: "docker" is not an implementation`},
		{[]string{"units", "show", "worker-1", "--config", example("ha"), "--implementation", "kubelet=hardway"}, 2, "hardway has no implementation of kubelet"},
		{[]string{"units"}, 2, "show NODE"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("hardway %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}

// The etcd units rendered with the hardway implementation run "hardway etcd" with the same
// flags as the upstream etcd: every one must be a flag hardway etcd takes, and together they
// must make a valid member configuration.
func TestEtcdUnitFlagsAreHardwayEtcdFlags(t *testing.T) {
	g := &globals{configFile: example("ha"), stderr: io.Discard}
	g.log = slog.New(slog.DiscardHandler)
	c, err := loadCluster(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.NodesWith("etcd") {
		r, err := units.RenderNode(c, n, units.Options{Implementation: map[units.Component]units.Implementation{units.Etcd: units.Hardway}})
		if err != nil {
			t.Fatal(err)
		}
		var u *units.Unit
		for i := range r.Units {
			if r.Units[i].Component == units.Etcd {
				u = &r.Units[i]
			}
		}
		if u == nil || u.Command[len(u.Command)-1] != "etcd" {
			t.Fatalf("%s: no hardway etcd unit: %+v", n.Name, u)
		}
		cfg := etcdserver.NewConfig()
		fs := flag.NewFlagSet("hardway etcd", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.AddFlags(fs)
		var args []string
		for _, f := range u.Flags {
			args = append(args, "--"+f.Name+"="+f.Value)
		}
		if err := fs.Parse(args); err != nil {
			t.Errorf("%s: hardway etcd refuses the unit's flags: %v", n.Name, err)
			continue
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: hardway etcd finds the unit's flags invalid: %v", n.Name, err)
		}
	}
}
