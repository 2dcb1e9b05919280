package systemd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hardway-dev/hardway/units/bundle"
)

// benchBundle writes a bundle of n 1 KiB config files and one unit as an archive, with a
// policy that allows exactly them.
func benchBundle(b *testing.B, n int) (string, *bundle.Policy) {
	b.Helper()
	pol := &bundle.Policy{Files: map[string]bundle.Allowed{}, Units: map[string]bundle.UnitAllowance{}}
	var files []bundle.File
	for i := range n {
		p := fmt.Sprintf("/etc/bench/d%02d/f%04d.conf", i%32, i)
		files = append(files, bundle.File{Path: p, Kind: bundle.KindConfig, Mode: 0o600, Data: make([]byte, 1024)})
		pol.Files[p] = bundle.Allowed{Kind: bundle.KindConfig, Mode: 0o600}
	}
	unitFile := "[Service]\nExecStart=/bin/true\n"
	files = append(files, bundle.File{Path: bundle.SystemdDir + "/bench.service", Kind: bundle.KindUnit, Mode: 0o600, Data: []byte(unitFile)})
	pol.Files[bundle.SystemdDir+"/bench.service"] = bundle.Allowed{Kind: bundle.KindUnit, Mode: 0o600}
	pol.Units["bench.service"] = bundle.UnitAllowance{Commands: [][]string{{"/bin/true"}}, Options: map[string]bool{"Service.ExecStart": true}}
	bun := bundle.New("n", files, []bundle.Unit{{Name: "bench.service"}})
	m, err := bun.Manifest().Marshal()
	if err != nil {
		b.Fatal(err)
	}
	data, err := bun.Archive(m, nil)
	if err != nil {
		b.Fatal(err)
	}
	archive := filepath.Join(b.TempDir(), "n.tar.gz")
	if err := os.WriteFile(archive, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return archive, pol
}

// `hardway launch --dry-run` of a 1,000-file bundle, without systemd: read the archive with
// every check (strict manifest, checksums, the install policy), then plan every file beneath a
// root that holds them all already (each one resolved without following links and compared).
func BenchmarkLaunchDryRun1000Files(b *testing.B) {
	archive, pol := benchBundle(b, 1000)
	ctx := context.Background()
	root := b.TempDir()
	bun, err := bundle.ReadArchive(ctx, archive, "n", bundle.Options{Policy: pol})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := (&Launcher{Root: root, Manager: newFake()}).Launch(ctx, bun); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		bun, err := bundle.ReadArchive(ctx, archive, "n", bundle.Options{Policy: pol})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := (&Launcher{Root: root, DryRun: true}).Launch(ctx, bun)
		if err != nil || rep.Changed() {
			b.Fatalf("%v %+v", err, rep)
		}
	}
}
