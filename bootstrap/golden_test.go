package bootstrap

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"

	"github.com/hardway-dev/hardway/units/bundle"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The formats init writes besides what other packages render: the resolved cluster.yaml and each
// node's manifest.json, for the HA example. Keys and serial numbers come from a seeded random
// source drawn in one order, so every byte (checksums included) is the same on every run.
func TestGoldenClusterFileAndManifests(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 1)
	c := haCluster(t)
	dir := t.TempDir()
	// One worker: parallel issuing would draw from the seeded source in any order.
	if _, err := Apply(dir, build(t, dir, c, Options{Workers: 1}), ApplyOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{ClusterFile: ClusterFile}
	for _, n := range []string{"cp-1", "worker-1"} {
		files[filepath.Join(BundleDir, n, bundle.ManifestName)] = n + ".manifest.json"
	}
	for src, name := range files {
		got := mustReadFile(t, filepath.Join(dir, src))
		path := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./bootstrap -run TestGolden -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test ./bootstrap -run TestGolden -update if the change is intended, and review the diff):\n%s", src, path, got)
		}
	}
}
