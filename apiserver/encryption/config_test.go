package encryption

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/configs/encryptionconfig"
)

// The configuration `hardway init` renders (encryptionconfig.Render) for every provider:
// secrets are written with the provider's first key, identity reads what came before.
func TestConfigFromHardwayInit(t *testing.T) {
	keys := []encryptionconfig.Key{{Name: "key2", Secret: testSecret(32)}, {Name: "key1", Secret: bytes.Repeat([]byte{1}, 32)}}
	for _, p := range []string{Secretbox, AESCBC, AESGCM} {
		data, err := encryptionconfig.Render(p, keys)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := encryptionconfig.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", p, err, data)
		}
		tr, err := ForResource(cfg, "secrets")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range tr.Keys() {
			got = append(got, k.String())
		}
		want := p + ` key "key2", ` + p + ` key "key1", identity`
		if strings.Join(got, ", ") != want {
			t.Errorf("%s: keys %s, want %s", p, strings.Join(got, ", "), want)
		}
		stored, err := tr.TransformToStorage([]byte("k8s\x00v"), etcdKey)
		if err != nil || !strings.HasPrefix(string(stored), "k8s:enc:"+p+":v1:key2:") {
			t.Errorf("%s writes %.30q, %v", p, stored, err)
		}
		// Resources the configuration does not name are not encrypted.
		cm, err := ForResource(cfg, "configmaps")
		if err != nil || len(cm.Keys()) != 1 || cm.WriteKey().Provider() != Identity {
			t.Errorf("%s: configmaps get %v, %v; want identity alone", p, cm.Keys(), err)
		}
	}
}

func TestRotationFromConfig(t *testing.T) {
	oldSecret, newSecret := testSecret(32), bytes.Repeat([]byte{7}, 32)
	b := forSecrets(t, provider(AESGCM, "old", oldSecret), provider(Identity))
	a := forSecrets(t, provider(AESGCM, "new", newSecret, "old", oldSecret), provider(Identity))
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
	cfg, err := encryptionconfig.Parse([]byte(`{"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration", "resources": [
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
		tr, err := ForResource(cfg, resource)
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
