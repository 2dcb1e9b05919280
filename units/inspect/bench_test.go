package inspect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/units/flags"
)

// bigUnit is a kube-apiserver unit setting every flag the catalogue knows (current, deprecated
// and removed alike), one per continuation line, with variables to expand: the worst case a
// hand-written unit can be.
func bigUnit() []byte {
	comp := flags.Default().Component("kube-apiserver")
	var b strings.Builder
	b.WriteString("[Unit]\nDescription=big\n\n[Service]\nEnvironment=IP=10.0.0.10 DIR=/etc/kubernetes/pki\nExecStart=/usr/local/bin/kube-apiserver")
	for _, f := range comp.Flags {
		v := map[flags.Type]string{flags.Bool: "true", flags.Int: "3", flags.Port: "6443", flags.Float: "0.5",
			flags.Duration: "1m0s", flags.IP: "${IP}", flags.CIDRs: "10.96.0.0/12", flags.PortRange: "30000-32767",
			flags.Quantity: "1Mi", flags.Map: "a=b,c=d", flags.URLs: "https://${IP}:2379"}[f.Type]
		if v == "" {
			v = "${DIR}/" + f.Name
		}
		if len(f.Values) > 0 {
			v = f.Values[0]
		}
		fmt.Fprintf(&b, " \\\n  --%s=%s", f.Name, v)
	}
	b.WriteString("\nRestart=on-failure\n")
	return []byte(b.String())
}

func BenchmarkParseBigUnit(b *testing.B) {
	data := bigUnit()
	cat := flags.Default()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		u, err := LoadUnit("kube-apiserver.service", File{Name: "kube-apiserver.service", Data: data}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := FromUnitFile(cat, u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInspectBigUnit(b *testing.B) {
	data := bigUnit()
	cat := flags.Default()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		u, err := LoadUnit("kube-apiserver.service", File{Name: "kube-apiserver.service", Data: data}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		inv, err := FromUnitFile(cat, u)
		if err != nil {
			b.Fatal(err)
		}
		rep := Inspect([]*Invocation{inv}, Options{Catalogue: cat, Now: testNow})
		if len(rep.Results[0].Flags) < 200 {
			b.Fatalf("only %d flags parsed", len(rep.Results[0].Flags))
		}
	}
}

// BenchmarkInspectCleanClusterWithFiles includes the file checks: five components, eighteen
// certificates and keys parsed and verified.
func BenchmarkInspectCleanClusterWithFiles(b *testing.B) {
	p := goodPKI(b)
	invs := cleanCluster(b)
	b.ReportAllocs()
	for b.Loop() {
		if rep := Inspect(invs, opts(p.fs)); len(rep.All()) != 0 {
			b.Fatal("findings on the clean cluster")
		}
	}
}

func TestBigUnitParses(t *testing.T) {
	u, err := LoadUnit("k.service", File{Name: "k.service", Data: bigUnit()}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := FromUnitFile(flags.Default(), u)
	if err != nil {
		t.Fatal(err)
	}
	if n, want := len(inv.Args), len(flags.Default().Component("kube-apiserver").Flags); n != want {
		t.Errorf("%d args, want %d", n, want)
	}
}
