package units

import (
	"github.com/hardway-dev/hardway/units/bundle"

	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/configs"
)

// examples are the cluster files under configs/examples whose rendering is kept as golden files.
var examples = []string{"ha", "single", "hard-way", "extras"}

// loadExample reads configs/examples/NAME.yaml into a defaulted, valid cluster; every key must
// be a field of configs.Cluster.
func loadExample(t testing.TB, name string) *configs.Cluster {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "configs", "examples", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	j, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var c configs.Cluster
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c.SetDefaults()
	if err := c.Validate().Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &c
}

func renderNode(t testing.TB, c *configs.Cluster, name string, opt Options) *Rendered {
	t.Helper()
	n, ok := c.Node(name)
	if !ok {
		t.Fatalf("no node %s", name)
	}
	r, err := RenderNode(c, n, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *Rendered) unit(name string) *Unit {
	for i := range r.Units {
		if r.Units[i].Name == name {
			return &r.Units[i]
		}
	}
	return nil
}

func (r *Rendered) file(path string) *bundle.File {
	for i := range r.Files {
		if r.Files[i].Path == path {
			return &r.Files[i]
		}
	}
	return nil
}

func (u *Unit) flag(name string) (string, bool) {
	for _, f := range u.Flags {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}
