package encryption_test

import (
	"fmt"

	"github.com/hardway-dev/hardway/apiserver/encryption"
	"github.com/hardway-dev/hardway/configs/encryptionconfig"
)

// The EncryptionConfiguration kube-apiserver reads (--encryption-provider-config) gives the
// transformer for secrets; values stored with it are readable by kube-apiserver and back.
func Example() {
	cfg, err := encryptionconfig.Parse([]byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aesgcm:
          keys:
            - name: key2
              secret: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
            - name: key1
              secret: AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=
      - identity: {}
`))
	if err != nil {
		panic(err)
	}
	secrets, err := encryption.ForResource(cfg, "secrets")
	if err != nil {
		panic(err)
	}
	const key = "/registry/secrets/default/db-password" // the etcd key: aesgcm authenticates it
	stored, err := secrets.TransformToStorage([]byte("k8s\x00…protobuf…"), key)
	if err != nil {
		panic(err)
	}
	// 12-byte nonce, the 18-byte value encrypted, 16-byte tag
	fmt.Printf("stored: %s + %d bytes\n", stored[:len(secrets.WriteKey().Prefix())], len(stored)-len(secrets.WriteKey().Prefix()))

	_, stale, err := secrets.TransformFromStorage(stored, key)
	fmt.Println("read back, stale:", stale, err)
	_, _, err = secrets.TransformFromStorage(stored, "/registry/secrets/default/other")
	fmt.Println("under another key:", err != nil)
	_, stale, _ = secrets.TransformFromStorage([]byte("k8s\x00written before encryption"), key)
	fmt.Println("plaintext read by identity, stale:", stale)
	// Output:
	// stored: k8s:enc:aesgcm:v1:key2: + 46 bytes
	// read back, stale: false <nil>
	// under another key: true
	// plaintext read by identity, stale: true
}
