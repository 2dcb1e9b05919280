package pki

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/configs/encryptionconfig"
)

// The file init writes holds one fresh 32-byte key of the cluster's provider, then identity.
func TestEncryptionConfigFromInit(t *testing.T) {
	for _, provider := range configs.EncryptionProviders {
		t.Run(provider, func(t *testing.T) {
			c := haCluster(t)
			c.Encryption.Provider = provider
			fsys := fstest.MapFS{}
			reconcileInto(t, fsys, c, Options{})
			cfg, err := encryptionconfig.Parse(fsys[EncryptionConfigPath].Data)
			if err != nil {
				t.Fatal(err)
			}
			ps := encryptionconfig.ProvidersFor(cfg, "secrets")
			if len(ps) != 2 || encryptionconfig.ProviderName(ps[0].Config) != provider || encryptionconfig.ProviderName(ps[1].Config) != encryptionconfig.Identity {
				t.Fatalf("secrets: %+v", ps)
			}
			ks := encryptionconfig.Keys(ps[0].Config)
			secret, err := base64.StdEncoding.DecodeString(ks[0].Secret)
			if len(ks) != 1 || err != nil || len(secret) != EncryptionKeySize || ks[0].Name != "key-20261126T120000Z" {
				t.Errorf("keys: %+v (%d bytes, %v)", ks, len(secret), err)
			}
		})
	}
}

// handRotated is an operator's rotation of the file init wrote: new aescbc keys of 16 and 24
// bytes first (kube-apiserver accepts 16, 24 or 32), the original key kept to read what it
// wrote, then identity.
func handRotated(t *testing.T, initial []byte, second []byte) []byte {
	t.Helper()
	cfg, err := encryptionconfig.Parse(initial)
	if err != nil {
		t.Fatal(err)
	}
	orig := encryptionconfig.Keys(encryptionconfig.ProvidersFor(cfg, "secrets")[0].Config)[0]
	b64 := base64.StdEncoding.EncodeToString
	return []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - name: key-2027
              secret: ` + b64(bytes.Repeat([]byte{0x16}, 16)) + `
            - name: key-2027-b
              secret: ` + b64(second) + `
      - aescbc:
          keys:
            - name: ` + orig.Name + `
              secret: ` + orig.Secret + `
      - identity: {}
`)
}

// Re-running init over a hand-rotated file keeps it: keys of 16 and 24 bytes are valid
// kube-apiserver keys. It only notes that the provider differs from the cluster file's.
func TestHandRotatedEncryptionConfigIsKept(t *testing.T) {
	c := haCluster(t)
	c.Encryption.Provider = configs.ProviderAESCBC
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	rotated := handRotated(t, fsys[EncryptionConfigPath].Data, bytes.Repeat([]byte{0x24}, 24))
	fsys[EncryptionConfigPath] = &fstest.MapFile{Data: rotated, Mode: ModeSecret}
	p := reconcileInto(t, fsys, c, Options{})
	for _, ch := range p.Changes {
		t.Errorf("re-run over a hand-rotated config changes %s: %s", ch.Path, ch.Reason)
	}
	if !bytes.Equal(fsys[EncryptionConfigPath].Data, rotated) {
		t.Error("the hand-rotated file was rewritten")
	}
	if len(p.Notes) != 0 {
		t.Errorf("notes: %q", p.Notes)
	}

	// The cluster file now says secretbox: the file is still kept, with a note.
	c.Encryption.Provider = configs.ProviderSecretbox
	p = reconcileInto(t, fsys, c, Options{})
	if len(p.Changes) != 0 || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "secrets are written with aescbc (resources[0].providers[0]), the configuration says secretbox; the file is kept") {
		t.Errorf("provider changed in the cluster file: changes %d, notes %q", len(p.Changes), p.Notes)
	}
}

// A key of a length kube-apiserver refuses stops init with the file, the key's field path and
// the fix, and nothing is written.
func TestWrongKeyLengthIsRefusedWithItsPath(t *testing.T) {
	c := haCluster(t)
	c.Encryption.Provider = configs.ProviderAESCBC
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	fsys[EncryptionConfigPath] = &fstest.MapFile{Data: handRotated(t, fsys[EncryptionConfigPath].Data, bytes.Repeat([]byte{0x20}, 20)), Mode: ModeSecret}
	_, err := Reconcile(fsys, c, Options{Now: testNow, Rand: rand.Reader})
	if err == nil {
		t.Fatal("a 20-byte aescbc key was accepted")
	}
	for _, want := range []string{
		"encryption-config.yaml: EncryptionConfiguration: resources[0].providers[0].aescbc.keys[1].secret",
		"got 20, expected one of [16 24 32]",
		"head -c 32 /dev/urandom | base64",
		"restore it from backup/",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
	}
}

// A file that writes secrets unencrypted (identity first, while decrypting a cluster) is valid
// for kube-apiserver: init keeps it and says so.
func TestIdentityFirstIsNoted(t *testing.T) {
	c := haCluster(t)
	fsys := fstest.MapFS{}
	reconcileInto(t, fsys, c, Options{})
	fsys[EncryptionConfigPath] = &fstest.MapFile{Data: []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n"), Mode: ModeSecret}
	p := reconcileInto(t, fsys, c, Options{})
	if len(p.Changes) != 0 || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "secrets are written unencrypted") {
		t.Errorf("changes %d, notes %q", len(p.Changes), p.Notes)
	}
}
