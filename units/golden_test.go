package units

import (
	"github.com/hardway-dev/hardway/units/bundle"

	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current rendering")

// goldenDir is testdata/golden/<example>/<node>, which mirrors the node's filesystem.
func goldenDir(example, node string) string {
	return filepath.Join("testdata", "golden", example, node)
}

// TestGolden compares every rendered unit and config file of every node of the examples with
// its golden file, and finds golden files nothing renders any more. Run with -update to
// rewrite them, then review the diff.
func TestGolden(t *testing.T) {
	for _, ex := range examples {
		c := loadExample(t, ex)
		for _, n := range c.Nodes {
			t.Run(ex+"/"+n.Name, func(t *testing.T) {
				r, err := RenderNode(c, n, Options{})
				if err != nil {
					t.Fatal(err)
				}
				dir := goldenDir(ex, n.Name)
				if *update {
					if err := os.RemoveAll(dir); err != nil {
						t.Fatal(err)
					}
				}
				var want []string
				for _, f := range r.Files {
					if f.Kind == bundle.KindDirectory {
						continue // no content; bootstrap's golden manifest.json records it
					}
					p := filepath.Join(dir, filepath.FromSlash(f.Path))
					want = append(want, p)
					if *update {
						if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(p, f.Data, 0o644); err != nil {
							t.Fatal(err)
						}
						continue
					}
					g, err := os.ReadFile(p)
					if err != nil {
						t.Errorf("%s: no golden file (run go test ./units -run TestGolden -update): %v", f.Path, err)
						continue
					}
					if !bytes.Equal(g, f.Data) {
						t.Errorf("%s differs from %s (run with -update and review the diff):\n--- got\n%s", f.Path, p, f.Data)
					}
				}
				var have []string
				err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						have = append(have, p)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range have {
					if !slices.Contains(want, p) {
						t.Errorf("golden file %s is no longer rendered (run with -update)", p)
					}
				}
			})
		}
	}
}
