package inspect

import (
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/flags"
)

// An extra flag that weakens a hardened default is a warning of units.CheckExtras when the
// cluster file is read, and the same rule of hardway inspect fires on the unit rendered from it:
// nobody loses sight of it once the bundle is on the node.
func TestInspectSeesWeakeningExtraArgs(t *testing.T) {
	for _, tc := range []struct {
		comp, flag, value, rule string
	}{
		{"kube-apiserver", "anonymous-auth", "true", "anonymous-auth-enabled"},
		{"kube-apiserver", "authorization-mode", "AlwaysAllow", "authorization-always-allow"},
		{"kube-apiserver", "profiling", "true", "profiling-enabled"},
		{"kube-controller-manager", "profiling", "true", "profiling-enabled"},
		{"kubelet", "anonymous-auth", "true", "kubelet-anonymous-auth"},
	} {
		t.Run(tc.comp+"/"+tc.flag, func(t *testing.T) {
			c := &configs.Cluster{Name: "t", Nodes: []configs.Node{{Name: "n1", Addresses: []string{"10.0.0.10"},
				Roles: []string{configs.RoleControlPlane, configs.RoleEtcd, configs.RoleWorker}}}}
			c.ExtraArgs = map[string]map[string]string{tc.comp: {tc.flag: tc.value}}
			c.SetDefaults()
			if ws := units.CheckExtras(c).Warnings(); len(ws) == 0 {
				t.Errorf("CheckExtras gives no warning")
			}
			r, err := units.RenderNode(c, c.Nodes[0], units.OptionsFor(c))
			if err != nil {
				t.Fatal(err)
			}
			var inv *Invocation
			for _, u := range r.Units {
				if string(u.Component) != tc.comp {
					continue
				}
				for _, f := range r.Files {
					if f.Path != u.Path {
						continue
					}
					lu, err := LoadUnit(u.Name, File{Name: u.Path, Data: f.Data}, nil, nil)
					if err != nil {
						t.Fatal(err)
					}
					if inv, err = FromUnitFile(flags.Default(), lu); err != nil {
						t.Fatal(err)
					}
				}
			}
			if inv == nil {
				t.Fatalf("no %s unit", tc.comp)
			}
			rep := Inspect([]*Invocation{inv}, Options{Catalogue: flags.Default()})
			for _, f := range rep.All() {
				if f.ID == tc.rule {
					return
				}
			}
			t.Errorf("inspect of the rendered unit has no %s finding: %+v", tc.rule, rep.All())
		})
	}
}
