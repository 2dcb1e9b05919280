package inspect

import (
	"sort"

	"github.com/hardway-dev/hardway/units/flags"
)

// FlagDiff is one flag that differs between two command lines.
type FlagDiff struct {
	Flag   string `json:"flag"`
	Change string `json:"change"` // added, removed, changed
	A      string `json:"a,omitempty"`
	B      string `json:"b,omitempty"`
}

// Diff compares the effective flags of two invocations flag by flag (repeated slice flags
// merged, the last value of others), sorted by flag name.
func Diff(cat *flags.Catalogue, a, b *Invocation) []FlagDiff {
	va, vb := effective(cat, a), effective(cat, b)
	names := map[string]bool{}
	for n := range va {
		names[n] = true
	}
	for n := range vb {
		names[n] = true
	}
	var out []FlagDiff
	for _, n := range sortedKeys(names) {
		x, inA := va[n]
		y, inB := vb[n]
		switch {
		case inA && !inB:
			out = append(out, FlagDiff{Flag: n, Change: "removed", A: x})
		case !inA && inB:
			out = append(out, FlagDiff{Flag: n, Change: "added", B: y})
		case x != y:
			out = append(out, FlagDiff{Flag: n, Change: "changed", A: x, B: y})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Flag < out[j].Flag })
	return out
}

func effective(cat *flags.Catalogue, inv *Invocation) map[string]string {
	args := ParseArgs(cat.Component(inv.Component), inv.Args)
	m := map[string]string{}
	if args.Component == nil { // unknown component: compare the raw words
		for _, w := range inv.Args {
			m[w.Value] = ""
		}
		return m
	}
	for _, s := range args.Settings {
		v, _ := args.Value(s.Name)
		if s.Bare {
			v = "true"
		}
		m["--"+s.Name] = v
	}
	return m
}
