package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/configstest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExamplesLoadAndValidate(t *testing.T) {
	files, _ := filepath.Glob("../../configs/examples/*.yaml")
	if len(files) < 3 {
		t.Fatalf("found %d example files", len(files))
	}
	for _, f := range files {
		c, err := decodeCluster(f, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.SetDefaults()
		if ps := c.Validate(); len(ps) > 0 {
			t.Errorf("%s: %v", f, ps)
		}
	}
}

func TestDecodeCluster(t *testing.T) {
	const base = "name: t\nnodes:\n  - name: n1\n    addresses: [127.0.0.1]\n    roles: [control-plane, etcd]\n"
	tests := []struct {
		name    string
		yaml    string
		env     []string
		flags   []string
		check   func(*configs.Cluster) string
		wantErr string
	}{
		{name: "plain", yaml: base, check: func(c *configs.Cluster) string {
			if c.Name != "t" || len(c.Nodes) != 1 || c.Nodes[0].Addresses[0] != "127.0.0.1" {
				return "fields not decoded"
			}
			return ""
		}},
		{name: "durations", yaml: base + "validity:\n  leaf: 720h\n", check: func(c *configs.Cluster) string {
			if c.Validity.Leaf != 720*time.Hour {
				return "validity.leaf = " + c.Validity.Leaf.String()
			}
			return ""
		}},
		{name: "env overrides file", yaml: base + "keyAlgorithm: ecdsa-p384\n", env: []string{"HARDWAY_KEYALGORITHM=rsa-2048", "HARDWAY_APIENDPOINT_HOST=lb.example.com"},
			check: func(c *configs.Cluster) string {
				if c.KeyAlgorithm != "rsa-2048" || c.APIEndpoint.Host != "lb.example.com" {
					return "env not applied: " + c.KeyAlgorithm + " " + c.APIEndpoint.Host
				}
				return ""
			}},
		{name: "flag overrides env", yaml: base, env: []string{"HARDWAY_KEYALGORITHM=rsa-2048"}, flags: []string{"--key-algorithm=rsa-4096"},
			check: func(c *configs.Cluster) string {
				if c.KeyAlgorithm != "rsa-4096" {
					return "flag not applied: " + c.KeyAlgorithm
				}
				return ""
			}},
		{name: "unknown top-level key", yaml: base + "nmae: x\n", wantErr: "nmae"},
		{name: "unknown nested key", yaml: base + "validity:\n  leef: 1h\n", wantErr: "leef"},
		{name: "unknown node key", yaml: strings.Replace(base, "roles:", "role: [x]\n    roles:", 1), wantErr: "role"},
		{name: "malformed yaml names the line", yaml: "name: t\nnodes:\n  - name: [unclosed\n", wantErr: "line"},
		{name: "wrong type", yaml: base + "apiEndpoint:\n  port: many\n", wantErr: "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFile(t, "cluster.yaml", tt.yaml)
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			addConfigFlags(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			c, err := decodeCluster(f, fs, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), f) {
					t.Fatalf("error %v, want one naming %s and containing %q", err, f, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(c); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	_, err := decodeCluster(filepath.Join(t.TempDir(), "nope.yaml"), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("got %v", err)
	}
}

func TestParseDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "72h": 72 * time.Hour, "1d12h": 36 * time.Hour} {
		got, err := parseDays(in)
		if err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := parseDays("soon"); err == nil {
		t.Error("parseDays(soon) succeeded")
	}
}

// configstest.HA, which package tests use, is the HA example file.
func TestHAExampleMatchesConfigstest(t *testing.T) {
	c, err := decodeCluster(haExample, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if want := configstest.HA(); !reflect.DeepEqual(c, want) {
		t.Errorf("configs/examples/ha.yaml and configstest.HA differ:\n file %+v\n code %+v", c, want)
	}
}
