package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/apiserver/encryption"
	"github.com/hardway-dev/hardway/configs/encryptionconfig"
)

// An operator rotates the aescbc key by hand to keys of 16 and 24 bytes, which kube-apiserver
// accepts: `hardway init` runs again over it, keeps it and puts it in the node's bundle, and
// hardway's reader of stored secrets uses it (the 16-byte key writes, the original key still
// reads). A key of 20 bytes stops init with the file, the key's field path and the fix, and
// nothing is written.
func TestInitKeepsHandRotatedEncryptionConfig(t *testing.T) {
	work := t.TempDir()
	example, err := os.ReadFile("../../configs/examples/single.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := writeFile(t, "cluster.yaml", strings.Replace(string(example), "provider: secretbox", "provider: aescbc", 1))
	dir := filepath.Join(work, "cluster")
	mustHardway(t, "init", "--config", cfgFile, "--dir", dir)
	path := filepath.Join(dir, "encryption-config.yaml")
	initial, err := encryptionconfig.Parse(mustRead(t, path))
	if err != nil {
		t.Fatal(err)
	}
	before, err := encryption.ForResource(initial, "secrets")
	if err != nil {
		t.Fatal(err)
	}
	written, err := before.TransformToStorage([]byte("k8s\x00written before the rotation"), "/registry/secrets/default/s")
	if err != nil {
		t.Fatal(err)
	}

	orig := encryptionconfig.Keys(encryptionconfig.ProvidersFor(initial, "secrets")[0].Config)[0]
	rotated := func(second []byte) []byte {
		b64 := base64.StdEncoding.EncodeToString
		return []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - {name: key-16, secret: ` + b64(bytes.Repeat([]byte{1}, 16)) + `}
            - {name: key-second, secret: ` + b64(second) + `}
            - {name: ` + orig.Name + `, secret: ` + orig.Secret + `}
      - identity: {}
`)
	}
	good := rotated(bytes.Repeat([]byte{2}, 24))
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	// The node bundles take the rotated file; the cluster directory's file is kept as it is.
	out := mustHardway(t, "init", "--config", cfgFile, "--dir", dir)
	if !strings.Contains(out, "update nodes/node1/etc/kubernetes/encryption-config.yaml") || strings.Contains(out, " encryption-config.yaml") {
		t.Errorf("init over the hand-rotated config: %s", out)
	}
	if !bytes.Equal(mustRead(t, path), good) {
		t.Error("init rewrote the hand-rotated config")
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "nodes/node1/etc/kubernetes/encryption-config.yaml")), good) {
		t.Error("the node's bundle does not carry the hand-rotated config")
	}
	if out := mustHardway(t, "init", "--config", cfgFile, "--dir", dir); !strings.Contains(out, "up to date: nothing to write") {
		t.Errorf("init again: %s", out)
	}

	cfg, err := encryptionconfig.Parse(mustRead(t, path))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := encryption.ForResource(cfg, "secrets")
	if err != nil {
		t.Fatal(err)
	}
	if got, stale, err := tr.TransformFromStorage(written, "/registry/secrets/default/s"); err != nil || !stale || string(got) != "k8s\x00written before the rotation" {
		t.Errorf("the original key's value after the rotation: %q, stale %v, %v", got, stale, err)
	}
	if stored, err := tr.TransformToStorage([]byte("k8s\x00v"), "/registry/secrets/default/t"); err != nil || !strings.HasPrefix(string(stored), "k8s:enc:aescbc:v1:key-16:") {
		t.Errorf("the rotated config writes %.30q, %v", stored, err)
	}

	bad := rotated(bytes.Repeat([]byte{2}, 20))
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code := hardway(t, "init", "--config", cfgFile, "--dir", dir)
	if code != 1 {
		t.Errorf("init over a 20-byte aescbc key: exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		"encryption-config.yaml: EncryptionConfiguration: resources[0].providers[0].aescbc.keys[1].secret",
		"got 20, expected one of [16 24 32]",
		"head -c 32 /dev/urandom | base64",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("init over a 20-byte aescbc key: no %q in\n%s", want, errs)
		}
	}
	if !bytes.Equal(mustRead(t, path), bad) {
		t.Error("a failed init rewrote the config")
	}
}
