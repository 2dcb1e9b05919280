package main

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
)

// fieldPaths lists the dotted paths of every field of t, as clusterFileDocs names them.
func fieldPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		out = append(out, prefix+tag)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.NumField() > 0 && ft.Field(0).Tag.Get("mapstructure") != "" {
			out = append(out, fieldPaths(ft, prefix+tag+".")...)
		}
	}
	return out
}

// print-defaults documents every field of configs.Cluster, and nothing else, in struct order.
func TestPrintDefaultsDocumentsEveryField(t *testing.T) {
	var documented []string
	for _, d := range clusterFileDocs {
		documented = append(documented, d.key)
	}
	if fields := fieldPaths(reflect.TypeFor[configs.Cluster](), ""); !reflect.DeepEqual(documented, fields) {
		t.Errorf("clusterFileDocs and configs.Cluster differ:\n docs   %q\n fields %q", documented, fields)
	}
	out := mustHardway(t, "config", "print-defaults")
	for _, d := range clusterFileDocs {
		key := d.key[strings.LastIndexByte(d.key, '.')+1:]
		if !regexp.MustCompile(`(?m)^[ #-]*` + regexp.QuoteMeta(key) + `:`).MatchString(out) {
			t.Errorf("print-defaults does not show %s", d.key)
		}
	}
}

// The printed file is a cluster file: read strictly, it is the defaults (with the example node),
// and every setting with a default is written out, not left to SetDefaults.
func TestPrintDefaultsIsTheDefaults(t *testing.T) {
	f := writeFile(t, "cluster.yaml", mustHardway(t, "config", "print-defaults"))
	got, err := decodeCluster(f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := defaultCluster(); !reflect.DeepEqual(*got, want) {
		t.Errorf("print-defaults, read back, is not the defaults:\n got  %+v\n want %+v", *got, want)
	}
	got.SetDefaults()
	want := configs.Cluster{Nodes: []configs.Node{exampleNode}}
	want.SetDefaults()
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("print-defaults with defaults applied:\n got  %+v\n want %+v", *got, want)
	}
	if ps := got.Validate(); len(ps.Errors()) > 0 {
		t.Errorf("print-defaults does not validate: %v", ps)
	}
	// Each commented-out example is a valid setting too.
	uncommented := regexp.MustCompile(`(?m)^(\s*)# (\w+: .*)$`).ReplaceAllStringFunc(mustHardway(t, "config", "print-defaults"), func(line string) string {
		m := regexp.MustCompile(`^(\s*)# (\w+): (.*)$`).FindStringSubmatch(line)
		if m == nil {
			return line
		}
		for _, d := range clusterFileDocs {
			if strings.HasSuffix(d.key, m[2]) && d.example == m[3] {
				return m[1] + m[2] + ": " + m[3]
			}
		}
		return line
	})
	f = writeFile(t, "examples.yaml", uncommented)
	c, err := decodeCluster(f, nil, nil)
	if err != nil {
		t.Fatalf("the examples, uncommented: %v\n%s", err, uncommented)
	}
	c.SetDefaults()
	if ps := c.Validate(); len(ps.Errors()) > 0 {
		t.Errorf("the examples, uncommented, do not validate: %v", ps)
	}
	if c.APIEndpoint.Host == "" || len(c.Binaries) == 0 || c.Nodes[0].PodCIDR != "10.244.7.0/24" {
		t.Errorf("the examples were not uncommented: %+v", c)
	}
}

// Through the CLI: a key in the wrong case and an unquoted version stop init before it writes,
// each reported as written with its fix.
func TestInitReportsKeysAsWritten(t *testing.T) {
	single := string(mustRead(t, example("single")))
	f := writeFile(t, "cluster.yaml", strings.NewReplacer("serviceCIDR:", "serviceCidr:", `kubernetesVersion: "1.37"`, "kubernetesVersion: 1.30").Replace(single))
	dir := t.TempDir() + "/cluster"
	_, errs, code := hardway(t, "init", "--config", f, "--dir", dir)
	for _, want := range []string{"serviceCidr: unknown key", "did you mean serviceCIDR?", `quote it: kubernetesVersion: "1.30"`} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, errs)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("init wrote %s", dir)
	}
}
