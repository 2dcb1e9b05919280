package archtest

import (
	"encoding/json"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "github.com/hardway-dev/hardway/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// clientGoAllowed are the packages that talk to a running cluster with client-go: applying the
// add-ons (server-side apply, discovery) and setting a Node's pod range.
var clientGoAllowed = map[string]bool{"bootstrap/addons": true, "bootstrap/nodes": true}

func TestImportRules(t *testing.T) {
	const mod = "github.com/hardway-dev/hardway/"
	rules := []struct {
		from    string // package path prefix, under the module
		deny    string // dependency prefix it may not have
		because string
	}{
		{"pki", mod + "units", "the PKI is read by everything else and depends on nothing of theirs"},
		{"pki", mod + "apiserver", "the PKI is read by everything else and depends on nothing of theirs"},
		{"pki", mod + "bootstrap", "the PKI is read by everything else and depends on nothing of theirs"},
		{"configs", mod + "pki", "the cluster model is the bottom layer"},
		{"configs", mod + "apiserver", "the cluster model is the bottom layer"},
		{"apiserver", mod + "pki", "hardway's servers read the cluster's files through their formats' owners, not the PKI"},
		{"apiserver", mod + "units", "hardway's servers do not know how they are rendered or installed"},
		{"apiserver", mod + "bootstrap", "hardway's servers do not know the cluster directory"},
		{"units", mod + "bootstrap", "rendering does not know about the cluster directory"},
	}
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		for _, r := range rules {
			if !strings.HasPrefix(rel, r.from) {
				continue
			}
			for _, d := range p.Deps {
				if strings.HasPrefix(d, r.deny) {
					t.Errorf("%s depends on %s: %s", rel, d, r.because)
				}
			}
		}
		if strings.HasPrefix(rel, "cmd/") {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/spf13/cobra") || strings.HasPrefix(imp, "github.com/spf13/viper") || strings.HasPrefix(imp, "github.com/spf13/pflag") {
				t.Errorf("%s imports %s: only cmd/ talks to the command line", rel, imp)
			}
			if strings.HasPrefix(imp, mod+"cmd") {
				t.Errorf("%s imports %s", rel, imp)
			}
			if strings.HasPrefix(imp, "k8s.io/client-go") && !clientGoAllowed[rel] {
				t.Errorf("%s imports %s: client-go is only for the packages that talk to a running cluster (%v)", rel, imp, slices.Sorted(maps.Keys(clientGoAllowed)))
			}
		}
	}
}
