package systemd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hardway-dev/hardway/units/bundle"
)

// rank is the start order of the components hardway knows, for units that do not say what
// they come after: etcd, then the API server, then the controllers, then the node agents.
func rank(unit string) int {
	name := strings.TrimSuffix(unit, ".service")
	switch {
	case name == "etcd" || strings.HasPrefix(name, "etcd-") || strings.HasPrefix(name, "etcd@"):
		return 0
	case name == "kube-apiserver":
		return 1
	case name == "kube-controller-manager" || name == "kube-scheduler":
		return 2
	case name == "kubelet" || name == "kube-proxy":
		return 3
	}
	return 2
}

// tiers groups units into start tiers: a unit's tier is at least its rank and above every unit
// it comes after. Units of one tier start together. A cycle in After is an error.
func tiers(units []bundle.Unit) ([][]bundle.Unit, error) {
	byName := map[string]bundle.Unit{}
	for _, u := range units {
		byName[u.Name] = u
	}
	level := map[string]int{}
	const visiting = -1
	var visit func(name string, stack []string) (int, error)
	visit = func(name string, stack []string) (int, error) {
		if l, ok := level[name]; ok {
			if l == visiting {
				return 0, fmt.Errorf("units %s: dependency cycle", strings.Join(append(stack, name), " -> "))
			}
			return l, nil
		}
		level[name] = visiting
		u := byName[name]
		l := rank(name)
		for _, a := range u.After {
			if _, ok := byName[a]; !ok {
				continue
			}
			al, err := visit(a, append(stack, name))
			if err != nil {
				return 0, err
			}
			l = max(l, al+1)
		}
		level[name] = l
		return l, nil
	}
	maxL := 0
	for _, u := range units {
		l, err := visit(u.Name, nil)
		if err != nil {
			return nil, err
		}
		maxL = max(maxL, l)
	}
	var out [][]bundle.Unit
	for l := 0; l <= maxL; l++ {
		var t []bundle.Unit
		for _, u := range units {
			if level[u.Name] == l {
				t = append(t, u)
			}
		}
		slices.SortFunc(t, func(a, b bundle.Unit) int { return strings.Compare(a.Name, b.Name) })
		if len(t) > 0 {
			out = append(out, t)
		}
	}
	return out, nil
}

// Tiers groups units into start tiers as Launch does: a unit's tier is at least its rank
// (etcd, the API server, the controllers, the node agents) and above every unit it comes
// after; units of one tier start together. A cycle in After is an error.
func Tiers(units []bundle.Unit) ([][]bundle.Unit, error) { return tiers(units) }
