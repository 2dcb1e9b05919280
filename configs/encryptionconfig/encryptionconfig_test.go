package encryptionconfig

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	upstream "k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/configs"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update if the change is intended):\n%s", name, path, got)
	}
}

// secret returns n fixed key bytes: 0x00, 0x01, ….
func secret(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func b64(n int) string { return base64.StdEncoding.EncodeToString(secret(n)) }

// config returns an EncryptionConfiguration for secrets with providers (YAML flow style, one per
// element), then identity.
func config(providers ...string) string {
	return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" +
		"  - " + strings.Join(providers, "\n  - ") + "\n  - identity: {}\n"
}

// kubeAPIServerLoads reports whether kube-apiserver's own loader
// (k8s.io/apiserver/pkg/server/options/encryptionconfig.LoadEncryptionConfig, what
// --encryption-provider-config runs) accepts data.
func kubeAPIServerLoads(t *testing.T, data string) error {
	t.Helper()
	p := filepath.Join(t.TempDir(), "encryption-config.yaml")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := upstream.LoadEncryptionConfig(ctx, p, false, "hardway-test")
	return err
}

func TestRenderGolden(t *testing.T) {
	// Every provider a cluster file may choose.
	for _, provider := range configs.EncryptionProviders {
		t.Run(provider, func(t *testing.T) {
			data, err := Render(provider, []Key{{Name: "key-1", Secret: secret(32)}})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "encryption-config-"+provider+".yaml", data)
			if err := kubeAPIServerLoads(t, string(data)); err != nil {
				t.Errorf("kube-apiserver refuses it: %v", err)
			}
			cfg, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			ps := ProvidersFor(cfg, "secrets")
			if len(ps) != 2 || ProviderName(ps[0].Config) != provider || ProviderName(ps[1].Config) != Identity {
				t.Fatalf("secrets: %+v", ps)
			}
			ks := Keys(ps[0].Config)
			if len(ks) != 1 || ks[0].Name != "key-1" || ks[0].Secret != b64(32) {
				t.Errorf("keys read back: %+v", ks)
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		provider string
		keys     []Key
		want     string
	}{
		{"16-byte secretbox key", Secretbox, []Key{{Name: "k", Secret: secret(16)}}, "resources[0].providers[0].secretbox.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 16, expected one of [32]"},
		{"20-byte aescbc key", AESCBC, []Key{{Name: "k", Secret: secret(20)}}, "resources[0].providers[0].aescbc.keys[0].secret"},
		{"no keys", AESGCM, nil, "resources[0].providers[0].aesgcm.keys: Required value"},
		{"no name", AESGCM, []Key{{Secret: secret(32)}}, "resources[0].providers[0].aesgcm.keys[0].name: Required value"},
		{"identity", Identity, []Key{{Name: "k", Secret: secret(32)}}, `"identity": hardway writes keys for secretbox, aescbc or aesgcm`},
		{"kms", KMS, []Key{{Name: "k", Secret: secret(32)}}, `"kms": hardway writes keys for`},
	} {
		if _, err := Render(tc.provider, tc.keys); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Every key size kube-apiserver accepts is accepted, every other refused with the key's field
// path and the fix; kube-apiserver's own loader agrees on each case.
func TestKeySizes(t *testing.T) {
	for _, tc := range []struct {
		provider string
		size     int
		ok       bool
	}{
		{AESCBC, 16, true}, {AESCBC, 24, true}, {AESCBC, 32, true}, {AESCBC, 20, false}, {AESCBC, 64, false}, {AESCBC, 0, false},
		{AESGCM, 16, true}, {AESGCM, 24, true}, {AESGCM, 32, true}, {AESGCM, 31, false},
		{Secretbox, 32, true}, {Secretbox, 16, false}, {Secretbox, 24, false},
	} {
		data := config(tc.provider + ": {keys: [{name: old, secret: " + b64(32) + "}, {name: k, secret: '" + b64(tc.size) + "'}]}")
		_, err := Parse([]byte(data))
		if up := kubeAPIServerLoads(t, data); (up == nil) != tc.ok {
			t.Errorf("%s, %d bytes: kube-apiserver's loader says %v, want ok=%v", tc.provider, tc.size, up, tc.ok)
		}
		if tc.ok {
			if err != nil {
				t.Errorf("%s, %d bytes: %v", tc.provider, tc.size, err)
			}
			continue
		}
		path := "resources[0].providers[0]." + tc.provider + ".keys[1].secret"
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "head -c 32 /dev/urandom | base64") {
			t.Errorf("%s, %d bytes: %v, want an error naming %s and the fix", tc.provider, tc.size, err, path)
		}
	}
}

func TestParseIsStrict(t *testing.T) {
	const head = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "  \n", "empty"},
		{"not YAML", "resources: [", "not an EncryptionConfiguration"},
		{"no apiVersion", "kind: Nope\n", "apiVersion: apiserver.config.k8s.io/v1 and kind: EncryptionConfiguration"},
		{"another kind", "apiVersion: v1\nkind: Secret\n", `no kind "Secret"`},
		{"another kind of the group", "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\n", "holds a AdmissionConfiguration"},
		{"unknown field", head + "resourcez: []\n", `unknown field "resourcez"`},
		{"wrong case", head + "Resources: []\n", `unknown field "Resources"`},
		{"nested unknown field", head + "resources: [{resources: [secrets], providers: [{secretbox: {keys: [{name: k, secret: " + b64(32) + ", size: 32}]}}]}]\n", `unknown field "resources[0].providers[0].secretbox.keys[0].size"`},
		{"duplicate field, YAML", head + "resources: []\nresources: []\n", `"resources" already set`},
		{"duplicate field, JSON", `{"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration", "resources": [], "resources": []}`, `duplicate field "resources"`},
		{"no resources", head, "resources: Required value"},
	} {
		if _, err := Parse([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if tc.name != "empty" && kubeAPIServerLoads(t, tc.data) == nil {
			t.Errorf("%s: kube-apiserver's loader accepts it", tc.name)
		}
	}
	// kube-apiserver still reads the kind under the core "v1" version (a docs bug kept,
	// pkg/apis/apiserver/v1/register.go), and so does Parse.
	legacy := "apiVersion: v1\nkind: EncryptionConfig\nresources: [{resources: [secrets], providers: [{identity: {}}]}]\n"
	if _, err := Parse([]byte(legacy)); err != nil {
		t.Errorf("legacy kind: %v", err)
	}
	if err := kubeAPIServerLoads(t, legacy); err != nil {
		t.Errorf("legacy kind, kube-apiserver: %v", err)
	}
}

// Every problem at once, each with its field path, as kube-apiserver's validation words it.
func TestEveryProblemWithItsPath(t *testing.T) {
	data := `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - {name: short, secret: ` + b64(8) + `}
            - {name: "", secret: ` + b64(32) + `}
            - {name: nob64, secret: "***"}
            - {name: empty}
      - secretbox:
          keys: [{name: sb16, secret: ` + b64(16) + `}]
      - aesgcm: {keys: []}
      - {}
      - {identity: {}, aesgcm: {keys: [{name: k, secret: ` + b64(16) + `}]}}
      - kms: {name: vault, endpoint: "tcp://kms:1234"}
  - resources: []
    providers: []
  - resources: ["*.*"]
    providers: [{identity: {}}]
  - resources: [configmaps, Pods]
    providers: [{identity: {}}]
`
	_, err := Parse([]byte(data))
	if err == nil {
		t.Fatal("parsed")
	}
	for _, w := range []string{
		`resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 8, expected one of [16 24 32]; set it to random bytes`,
		`resources[0].providers[0].aescbc.keys[1].name: Required value: name is a mandatory field for a key; give the key a name`,
		`resources[0].providers[0].aescbc.keys[2].secret: Invalid value: "REDACTED": secrets must be base64 encoded`,
		`resources[0].providers[0].aescbc.keys[3].secret: Required value`,
		`resources[0].providers[1].secretbox.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 16, expected one of [32]`,
		`resources[0].providers[2].aesgcm.keys: Required value: at least one keys is required; list at least one key`,
		`resources[0].providers[3]: Invalid value`,
		`provider does not contain any of the expected providers`,
		`resources[0].providers[4]: Invalid value`,
		`more than one provider specified in a single element, should split into different list elements`,
		`resources[0].providers[5].kms.endpoint: Invalid value: "tcp://kms:1234": unsupported scheme "tcp" for KMS provider, only unix is supported`,
		`resources[1].resources: Required value`,
		`resources[1].providers: Required value`,
		`resources[3].resources[0]: Invalid value: "configmaps": masked by the earlier rule "*.*"`,
		`resources[3].resources[1]: Invalid value: "Pods": resource name should not contain capital letters`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n%v\nwant it to contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), b64(8)) || strings.Contains(err.Error(), b64(16)) {
		t.Errorf("the error prints a secret:\n%v", err)
	}
}

// A resource an earlier wildcard masks is refused, as kube-apiserver refuses it at start.
func TestMasked(t *testing.T) {
	for _, tc := range []struct {
		resources string
		want      string // "" for valid
	}{
		{"[[secrets], ['*.'], ['*.apps'], ['*.*']]", ""},
		{"[['*.'], [secrets]]", `resources[1].resources[0]: Invalid value: "secrets": masked by the earlier rule "*."`},
		{"[['*.apps'], [deployments.apps]]", `resources[1].resources[0]: Invalid value: "deployments.apps": masked by the earlier rule "*.apps"`},
		{"[['*.*'], ['*.apps']]", `masked by the earlier rule "*.*"`},
		{"[[secrets], [secrets, configmaps]]", ""},
	} {
		var b strings.Builder
		b.WriteString("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n")
		var lists [][]string
		if err := yaml.Unmarshal([]byte(tc.resources), &lists); err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			b.WriteString("- resources: ['" + strings.Join(l, "', '") + "']\n  providers: [{identity: {}}]\n")
		}
		_, err := Parse([]byte(b.String()))
		up := kubeAPIServerLoads(t, b.String())
		if tc.want == "" {
			if err != nil || up != nil {
				t.Errorf("%s: %v; kube-apiserver: %v", tc.resources, err, up)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.resources, err, tc.want)
		}
		if up == nil || !strings.Contains(up.Error(), "masked by earlier rule") {
			t.Errorf("%s: kube-apiserver's loader says %v", tc.resources, up)
		}
	}
}

func TestProvidersFor(t *testing.T) {
	k := b64(32)
	cfg, err := Parse([]byte(`{"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration", "resources": [
  {"resources": ["secrets"], "providers": [{"secretbox": {"keys": [{"name": "s", "secret": "` + k + `"}]}}]},
  {"resources": ["secrets", "configmaps"], "providers": [{"aescbc": {"keys": [{"name": "c", "secret": "` + k + `"}]}}]},
  {"resources": ["*.apps"], "providers": [{"aesgcm": {"keys": [{"name": "apps", "secret": "` + k + `"}]}}]},
  {"resources": ["*."], "providers": [{"aesgcm": {"keys": [{"name": "core", "secret": "` + k + `"}]}}]},
  {"resources": ["*.*"], "providers": [{"identity": {}}, {"aesgcm": {"keys": [{"name": "all", "secret": "` + k + `"}]}}]}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	for resource, want := range map[string]string{
		"secrets":                         "resources[0].providers[0] secretbox, resources[1].providers[0] aescbc", // every entry naming it, in order
		"configmaps":                      "resources[1].providers[0] aescbc",
		"deployments.apps":                "resources[2].providers[0] aesgcm",
		"pods":                            "resources[3].providers[0] aesgcm",
		"roles.rbac.authorization.k8s.io": "resources[4].providers[0] identity, resources[4].providers[1] aesgcm",
	} {
		var got []string
		for _, p := range ProvidersFor(cfg, resource) {
			got = append(got, p.Path+" "+ProviderName(p.Config))
		}
		if strings.Join(got, ", ") != want {
			t.Errorf("%s: %s, want %s", resource, strings.Join(got, ", "), want)
		}
	}
	one, err := Parse([]byte(config("secretbox: {keys: [{name: k, secret: " + k + "}]}")))
	if err != nil {
		t.Fatal(err)
	}
	if ps := ProvidersFor(one, "configmaps"); ps != nil {
		t.Errorf("configmaps, not named: %+v, want none (stored unencrypted)", ps)
	}
}
