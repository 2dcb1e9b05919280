package encryption

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// The configuration `hardway init` renders (pki.RenderEncryptionConfig) for every provider:
// secrets are written with the provider's first key, identity reads what came before.
func TestConfigFromHardwayInit(t *testing.T) {
	keys := []pki.EncryptionKey{{Name: "key2", Secret: testSecret(32)}, {Name: "key1", Secret: bytes.Repeat([]byte{1}, 32)}}
	for _, provider := range configs.EncryptionProviders {
		data, err := pki.RenderEncryptionConfig(provider, keys)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ParseConfig(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", provider, err, data)
		}
		tr, err := ForResource(cfg, "secrets", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range tr.Keys() {
			got = append(got, k.String())
		}
		want := provider + ` key "key2", ` + provider + ` key "key1", identity`
		if strings.Join(got, ", ") != want {
			t.Errorf("%s: keys %s, want %s", provider, strings.Join(got, ", "), want)
		}
		stored, err := tr.TransformToStorage([]byte("k8s\x00v"), etcdKey)
		if err != nil || !strings.HasPrefix(string(stored), "k8s:enc:"+provider+":v1:key2:") {
			t.Errorf("%s writes %.30q, %v", provider, stored, err)
		}
		// Resources the configuration does not name are not encrypted.
		cm, err := ForResource(cfg, "configmaps", rand.Reader)
		if err != nil || len(cm.Keys()) != 1 || cm.WriteKey().Provider() != Identity {
			t.Errorf("%s: configmaps get %v, %v; want identity alone", provider, cm.Keys(), err)
		}
	}
}

func TestRotationFromConfig(t *testing.T) {
	oldSecret, newSecret := testSecret(32), bytes.Repeat([]byte{7}, 32)
	before, err := ParseConfig([]byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aesgcm:
          keys: [{name: old, secret: ` + b64(oldSecret) + `}]
      - identity: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseConfig([]byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aesgcm:
          keys:
            - {name: new, secret: ` + b64(newSecret) + `}
            - {name: old, secret: ` + b64(oldSecret) + `}
      - identity: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ForResource(before, "secrets", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ForResource(after, "secrets", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	old, err := b.TransformToStorage([]byte("k8s\x00v"), etcdKey)
	if err != nil {
		t.Fatal(err)
	}
	got, stale, err := a.TransformFromStorage(old, etcdKey)
	if err != nil || !stale || string(got) != "k8s\x00v" {
		t.Fatalf("the rotated configuration reads the old key's value as %q, stale %v, %v", got, stale, err)
	}
	rewritten, err := a.TransformToStorage(got, etcdKey)
	if err != nil || !strings.HasPrefix(string(rewritten), "k8s:enc:aesgcm:v1:new:") {
		t.Fatalf("rewrite: %.30q, %v", rewritten, err)
	}
	if _, stale, err := a.TransformFromStorage(rewritten, etcdKey); err != nil || stale {
		t.Errorf("the rewritten value: stale %v, %v", stale, err)
	}
}

func TestForResourceWildcards(t *testing.T) {
	k := b64(testSecret(32))
	cfg, err := ParseConfig([]byte(`{"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration", "resources": [
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
		"secrets":                         `secretbox key "s", aescbc key "c"`, // every entry naming it, in order
		"configmaps":                      `aescbc key "c"`,
		"deployments.apps":                `aesgcm key "apps"`,
		"pods":                            `aesgcm key "core"`,
		"roles.rbac.authorization.k8s.io": `identity, aesgcm key "all"`,
	} {
		tr, err := ForResource(cfg, resource, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range tr.Keys() {
			got = append(got, k.String())
		}
		if strings.Join(got, ", ") != want {
			t.Errorf("%s: %s, want %s", resource, strings.Join(got, ", "), want)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"kind", "apiVersion: v1\nkind: Secret\n", []string{`"v1"/"Secret"`}},
		{"unknown field", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresource: []\n", []string{"not an EncryptionConfiguration", "resource"}},
		{"no resources", "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n", []string{"resources: at least one"}},
		{"every problem with its path", `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - {name: short, secret: ` + b64(testSecret(8)) + `}
            - {name: "", secret: ` + b64(testSecret(32)) + `}
            - {name: nob64, secret: "***"}
            - {name: empty}
      - secretbox:
          keys: [{name: sb16, secret: ` + b64(testSecret(16)) + `}]
      - aesgcm: {keys: []}
      - {}
      - {identity: {}, aesgcm: {keys: [{name: k, secret: ` + b64(testSecret(16)) + `}]}}
      - kms: {name: vault, endpoint: "unix:///kms.sock"}
  - resources: []
    providers: []
`, []string{
			`resources[0].providers[0].aescbc.keys[0]: aescbc key "short": the secret is 8 bytes`,
			`resources[0].providers[0].aescbc.keys[1]: aescbc key: the name is empty`,
			`resources[0].providers[0].aescbc.keys[2].secret: key "nob64": not standard base64`,
			`resources[0].providers[0].aescbc.keys[3].secret: missing for key "empty"`,
			`resources[0].providers[1].secretbox.keys[0]: secretbox key "sb16": the secret is 16 bytes, want exactly 32`,
			`resources[0].providers[2].aesgcm.keys: at least one key`,
			`resources[0].providers[3]: no provider`,
			`resources[0].providers[4]: more than one provider (aesgcm, identity)`,
			`resources[0].providers[5].kms: KMS provider "vault" is not supported by hardway`,
			`resources[1].resources: at least one resource`,
			`resources[1].providers: at least one provider`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
