package units

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/units/flags"
)

// TestFlagsKnownToTargetVersion: every flag of every unit rendered for every node of the
// examples, at every supported Kubernetes and etcd version, is in the flag catalogue
// (units/flags) for that component and is current there: not yet added, deprecated, no-op or
// removed all fail. Admission plugins the units enable are checked the same way.
func TestFlagsKnownToTargetVersion(t *testing.T) {
	cat := flags.Default()
	for _, ex := range examples {
		c := loadExample(t, ex)
		for k := configs.MinKubernetesMinor; k <= configs.MaxKubernetesMinor; k++ {
			for e := configs.MinEtcdMinor; e <= configs.MaxEtcdMinor; e++ {
				cv := *c
				cv.KubernetesVersion, cv.EtcdVersion = fmt.Sprintf("1.%d", k), fmt.Sprintf("3.%d", e)
				rs, err := RenderAll(&cv, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rs {
					for _, u := range r.Units {
						checkUnitFlags(t, cat, &cv, r.Node, u)
					}
				}
			}
		}
	}
}

func checkUnitFlags(t *testing.T, cat *flags.Catalogue, c *configs.Cluster, node string, u Unit) {
	t.Helper()
	if u.Component == PodRoutes { // hardway's own, `hardway routes`: no versions to check
		sub := cat.ForSubcommand(PodRoutes.hardwayCommand())
		if sub == nil {
			t.Fatalf("the flag catalogue has no hardway %s", PodRoutes.hardwayCommand())
		}
		for _, f := range u.Flags {
			if sub.Flag(f.Name) == nil {
				t.Errorf("%s %s: --%s is not a flag of hardway %s", node, u.Name, f.Name, PodRoutes.hardwayCommand())
			}
		}
		return
	}
	comp := cat.Component(string(u.Component))
	if comp == nil {
		t.Fatalf("the flag catalogue has no component %s", u.Component)
	}
	version := c.KubernetesVersion
	switch u.Component {
	case Etcd:
		version = c.EtcdVersion
	case Containerd: // the distribution's package: any version the catalogue covers
		version = comp.Oldest.String()
	}
	v := flags.MustVersion(version)
	if v.Compare(comp.Oldest) < 0 || v.Compare(comp.Newest) > 0 {
		t.Errorf("%s %s: the catalogue covers %s to %s, not %s", node, u.Component, comp.Oldest, comp.Newest, v)
		return
	}
	for _, f := range u.Flags {
		cf := comp.Flag(f.Name)
		if cf == nil {
			t.Errorf("%s %s %s: --%s is not in the flag catalogue", node, u.Name, v, f.Name)
			continue
		}
		if st := cf.StateAt(v); st != flags.Current {
			t.Errorf("%s %s %s: --%s is %s (%s)", node, u.Name, v, f.Name, st, cf.Advice)
		}
		if f.Name == "enable-admission-plugins" {
			for _, name := range strings.Split(f.Value, ",") {
				p := cat.Plugin(name)
				if p == nil {
					t.Errorf("%s %s: admission plugin %s is not in the catalogue", node, v, name)
				} else if st := p.StateAt(v); st != flags.Current {
					t.Errorf("%s %s: admission plugin %s is %s", node, v, name, st)
				}
			}
		}
	}
}

// TestFlagCatalogueCheckDiscriminates: the check above fails for flags the 2018 hard-way units
// used and Kubernetes has since removed or deprecated.
func TestFlagCatalogueCheckDiscriminates(t *testing.T) {
	api := flags.Default().Component(string(APIServer))
	v := flags.MustVersion(configs.DefaultKubernetesVersion)
	for _, name := range []string{"insecure-port", "kubelet-https", "apiserver-count"} {
		if f := api.Flag(name); f != nil && f.StateAt(v) == flags.Current {
			t.Errorf("--%s is current in %s according to the catalogue", name, v)
		}
	}
	if api.Flag("no-such-flag") != nil {
		t.Error("an unknown flag is found")
	}
}
