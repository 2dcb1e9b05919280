package main

import (
	"fmt"
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
		// viper lower-cases keys: feature gates and label keys are read again as written, and
		// the extra flags' values as written (a YAML true would become "1").
		{name: "case-sensitive keys", yaml: base + "    labels: {Example.com/Rack: A}\nfeatureGates: {InPlacePodVerticalScaling: true}\n" +
			"componentFeatureGates: {kubelet: {ImageVolume: false}}\nextraArgs: {kube-apiserver: {profiling: true, audit-log-maxage: 7}}\n", check: func(c *configs.Cluster) string {
			if !c.FeatureGates["InPlacePodVerticalScaling"] || c.ComponentFeatureGates["kubelet"] == nil || c.Nodes[0].Labels["Example.com/Rack"] != "A" {
				return fmt.Sprintf("case lost: %v %v %v", c.FeatureGates, c.ComponentFeatureGates, c.Nodes[0].Labels)
			}
			if a := c.ExtraArgs["kube-apiserver"]; a["profiling"] != "true" || a["audit-log-maxage"] != "7" {
				return fmt.Sprintf("extra flags not as written: %v", a)
			}
			return ""
		}},
		{name: "a list as a flag value", yaml: base + "extraArgs: {kube-apiserver: {oidc-required-claim: [a, b]}}\n", wantErr: "extraArgs[kube-apiserver][oidc-required-claim]: expected type 'string'"},
		{name: "durations", yaml: base + "validity:\n  leaf: 720h\n", check: func(c *configs.Cluster) string {
			if time.Duration(c.Validity.Leaf) != 720*time.Hour {
				return "validity.leaf = " + c.Validity.Leaf.String()
			}
			return ""
		}},
		{name: "days", yaml: base + "validity:\n  ca: 3650d\n  leaf: 1d12h\n", env: []string{"HARDWAY_VALIDITY_RENEWBEFORE=7d"}, check: func(c *configs.Cluster) string {
			if time.Duration(c.Validity.CA) != 87600*time.Hour || time.Duration(c.Validity.Leaf) != 36*time.Hour || time.Duration(c.Validity.RenewBefore) != 7*24*time.Hour {
				return fmt.Sprintf("validity = %+v", c.Validity)
			}
			return ""
		}},
		{name: "negative duration", yaml: base + "validity:\n  leaf: -1d\n", wantErr: `validity.leaf: "-1d" is negative; use a duration such as 30d`},
		{name: "negative duration from the environment", yaml: base, env: []string{"HARDWAY_VALIDITY_CA=-87600h"}, wantErr: `validity.ca: "-87600h" is negative`},
		{name: "duration without a unit", yaml: base + "validity:\n  renewBefore: 30\n", wantErr: "validity.renewBefore: 30 has no unit"},
		{name: "duration that is not one", yaml: base + "validity:\n  ca: ten years\n", wantErr: `validity.ca: "ten years" is not a duration`},
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
		// Keys are reported as written, with the field meant: viper folds case, mapstructure
		// ignores it, and serviceCidr was silently taken for serviceCIDR.
		{name: "key in the wrong case", yaml: base + "serviceCidr: 10.0.0.0/16\n", wantErr: "serviceCidr: unknown key (line 6); did you mean serviceCIDR?"},
		{name: "nested key in the wrong case", yaml: base + "runtime:\n  sandboximage: x\n", wantErr: "runtime.sandboximage: unknown key (line 7); did you mean sandboxImage?"},
		{name: "node key in the wrong case", yaml: base + "    podCidr: 10.244.1.0/24\n", wantErr: "nodes[0].podCidr: unknown key (line 6); did you mean podCIDR?"},
		{name: "capitalized key", yaml: base + "Name: x\n", wantErr: "Name: unknown key (line 6); did you mean name?"},
		{name: "unknown key far from any", yaml: base + "zzzzzz: 1\n", wantErr: "zzzzzz: unknown key (line 6); check the key names against 'hardway config print-defaults'"},
		{name: "every unknown key at once", yaml: base + "serviceCidr: x\napiEndpoint:\n  hots: x\n", wantErr: "2 problem(s)"},
		// A version YAML reads as a number that does not read back as written.
		{name: "unquoted version", yaml: base + "kubernetesVersion: 1.30\n", wantErr: `kubernetesVersion: 1.30 is read as the number 1.3, not as written (line 6); quote it: kubernetesVersion: "1.30"`},
		{name: "unquoted version in a map", yaml: base + "versions:\n  kubelet: 1.20\n", wantErr: `versions.kubelet: 1.20 is read as the number 1.2`},
		{name: "boolean where a string goes", yaml: base + "dnsDomain: true\n", wantErr: `dnsDomain: true is read as the boolean 1`},
		{name: "unquoted version that reads back", yaml: base + "kubernetesVersion: 1.36\n", check: func(c *configs.Cluster) string {
			if c.KubernetesVersion != "1.36" {
				return "kubernetesVersion " + c.KubernetesVersion
			}
			return ""
		}},
		{name: "merge key", yaml: base + "apiEndpoint:\n  <<: {port: 7443}\n", check: func(c *configs.Cluster) string {
			if c.APIEndpoint.Port != 7443 {
				return fmt.Sprintf("port %d", c.APIEndpoint.Port)
			}
			return ""
		}},
		{name: "unknown key in a merge", yaml: base + "apiEndpoint:\n  <<: {prot: 7443}\n", wantErr: "apiEndpoint.prot: unknown key (line 7); did you mean port?"},
		{name: "malformed yaml names the line", yaml: "name: t\nnodes:\n  - name: [unclosed\n", wantErr: "line"},
		{name: "wrong type", yaml: base + "apiEndpoint:\n  port: many\n", wantErr: "port"},
		// Numbers too large for an int are reported as written, not wrapped or rounded.
		{name: "port beyond 64 bits", yaml: base + "apiEndpoint:\n  port: 99999999999999999999\n",
			wantErr: "apiEndpoint.port: 99999999999999999999 is out of range"},
		{name: "port beyond 64 bits, negative", yaml: base + "apiEndpoint:\n  port: -99999999999999999999\n",
			wantErr: "apiEndpoint.port: -99999999999999999999 is out of range"},
		{name: "port beyond int64", yaml: base + "apiEndpoint:\n  port: 18446744073709551615\n",
			wantErr: "apiEndpoint.port: 18446744073709551615 is out of range"},
		{name: "port beyond 64 bits from the environment", yaml: base, env: []string{"HARDWAY_APIENDPOINT_PORT=99999999999999999999"},
			wantErr: "apiEndpoint.port: 99999999999999999999 is out of range"},
		{name: "port with a fraction", yaml: base + "apiEndpoint:\n  port: 6443.5\n",
			wantErr: "apiEndpoint.port: 6443.5 is not a whole number"},
		{name: "port from the environment", yaml: base, env: []string{"HARDWAY_APIENDPOINT_PORT=7443"}, check: func(c *configs.Cluster) string {
			if c.APIEndpoint.Port != 7443 {
				return fmt.Sprintf("port %d", c.APIEndpoint.Port)
			}
			return ""
		}},
		{name: "port written as a float", yaml: base + "apiEndpoint:\n  port: 7443.0\n", check: func(c *configs.Cluster) string {
			if c.APIEndpoint.Port != 7443 {
				return fmt.Sprintf("port %d", c.APIEndpoint.Port)
			}
			return ""
		}},
		{name: "a huge number where a string goes", yaml: base + "dnsDomain: 99999999999999999999\n", check: func(c *configs.Cluster) string {
			if c.DNSDomain != "99999999999999999999" {
				return "dnsDomain " + c.DNSDomain
			}
			return ""
		}},
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

// Every flag that takes days reads them through internal/duration and refuses negative values,
// naming the flag.
func TestWarnWithin(t *testing.T) {
	for _, cmd := range [][]string{{"certs", "check-expiration"}, {"inspect", "-"}} {
		for _, bad := range []string{"-1d", "soon", "30"} {
			_, errs, code := hardway(t, append(cmd, "--dir", t.TempDir(), "--warn-within", bad)...)
			if code != 2 || !strings.Contains(errs, "--warn-within") || !strings.Contains(errs, "such as 30d") {
				t.Errorf("%s --warn-within %s: exit %d %s; want a usage error naming the flag and the fix", strings.Join(cmd, " "), bad, code, errs)
			}
		}
	}
	out, _, _ := hardway(t, "certs", "check-expiration", "--help")
	if !strings.Contains(out, "(default 30d)") {
		t.Errorf("check-expiration --help does not show the default as 30d:\n%s", out)
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

// Input limits are reported by init, each at its field with the value as written, before
// anything is written.
func TestInitRefusesInputLimits(t *testing.T) {
	single := string(mustRead(t, example("single")))
	tests := []struct{ old, new, want string }{
		{"port: 6443", "port: 70000", "apiEndpoint.port: 70000 is not a valid port; use a port from 1 to 65535"},
		{"port: 6443", "port: -1", "apiEndpoint.port: -1 is not a valid port; use a port from 1 to 65535"},
		{"port: 6443", "port: 99999999999999999999", "apiEndpoint.port: 99999999999999999999 is out of range"},
		{"serviceCIDR: 10.96.0.0/12", "serviceCIDR: fd00:10:96::/108", "serviceCIDR: fd00:10:96::/108 is an IPv6 range: IPv6 and dual-stack clusters are not supported yet"},
		{"addresses: [192.168.1.10]", "addresses: [255.255.255.255]", "nodes[0].addresses[0]: 255.255.255.255 is the broadcast address"},
	}
	for _, tt := range tests {
		f := writeFile(t, "cluster.yaml", strings.Replace(single, tt.old, tt.new, 1))
		dir := filepath.Join(t.TempDir(), "cluster")
		_, errs, code := hardway(t, "init", "--config", f, "--dir", dir)
		if code != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("%s: exit %d: %s", tt.new, code, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: init wrote %s", tt.new, dir)
		}
	}
}

// The longest node name validation takes is short enough for every file init derives from it,
// on a real file system (the temporary files included); one byte more is refused by validation,
// before anything is written.
func TestInitLongestNodeName(t *testing.T) {
	name := func(n int) string { // labels of at most 63 characters
		var b strings.Builder
		for b.Len() < n {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(strings.Repeat("n", min(63, n-b.Len())))
		}
		return b.String()
	}
	single := string(mustRead(t, example("single")))
	for _, n := range []int{configs.MaxNodeNameLength, configs.MaxNodeNameLength + 1} {
		if len(name(n)) != n {
			t.Fatalf("made a name of %d bytes, want %d", len(name(n)), n)
		}
		f := writeFile(t, "cluster.yaml", strings.Replace(single, "name: node1", "name: "+name(n), 1))
		dir := filepath.Join(t.TempDir(), "cluster")
		out, errs, code := hardway(t, "init", "--config", f, "--dir", dir)
		if n == configs.MaxNodeNameLength {
			if code != 0 {
				t.Fatalf("a %d-byte node name: exit %d\n%s%s", n, code, out, errs)
			}
			if _, err := os.Stat(filepath.Join(dir, "kubeconfigs", "kubelet-"+name(n)+".kubeconfig")); err != nil {
				t.Error(err)
			}
			continue
		}
		if code != 1 || !strings.Contains(errs, "nodes[0].name") || !strings.Contains(errs, "255-byte limit") {
			t.Errorf("a %d-byte node name: exit %d\n%s%s", n, code, out, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a %d-byte node name: init wrote %s", n, dir)
		}
	}
}
