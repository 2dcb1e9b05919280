// Package encryption encrypts stored values exactly as kube-apiserver does for encryption at
// rest, so that hardway's API server and the real one read each other's etcd data. It is the
// storage-value layer only: it takes the serialized object (protobuf with the "k8s\x00" magic,
// or JSON) and the etcd key it is stored under, and returns the bytes to put in etcd.
//
// # Formats
//
// A value written by a key of an encrypting provider is
//
//	"k8s:enc:" provider ":v1:" keyName ":" payload
//
// with, per provider:
//
//   - aescbc: 16-byte random IV ‖ AES-CBC ciphertext of the value with PKCS#7 padding (always
//     1–16 bytes, a whole block when the value is block-aligned). No MAC, no associated data.
//     Keys of 16, 24 or 32 bytes.
//   - aesgcm: 12-byte random nonce ‖ AES-GCM ciphertext ‖ 16-byte tag, with the etcd key
//     (for example /registry/secrets/default/foo, the --etcd-prefix included) as additional
//     authenticated data: a value copied under another etcd key does not decrypt. Keys of 16,
//     24 or 32 bytes. Random 96-bit nonces: rotate the key long before 2^32 writes.
//   - secretbox: 24-byte random nonce ‖ NaCl secretbox (XSalsa20-Poly1305,
//     golang.org/x/crypto/nacl/secretbox). No associated data. Keys of exactly 32 bytes.
//   - identity: the value itself, no prefix. Reading a value that starts with "k8s:enc:" fails
//     (ErrEncryptedData), so that the next provider in the configuration is tried.
//
// # Provider and key order
//
// A [Transformer] holds the keys of an EncryptionConfiguration's providers for one resource, in
// order (providers in the order listed, each provider's keys in the order listed). Writes use
// the first key of the first provider. Reads choose by prefix among all of them; a key whose
// prefix matches but which fails to decrypt does not end the search (two providers of the same
// kind may share the "k8s:enc:<provider>:v1:" prefix). A read served by anything but the first
// key reports stale, so the caller rewrites the object with the current key: this is how
// rotation completes (add the new key second, restart every API server, move it first, restart,
// rewrite everything, drop the old key).
//
// The random source (IVs and nonces) is passed in; production code passes crypto/rand.Reader,
// tests pin it to get fixed byte vectors.
//
// # Sources
//
// Every format claim above was checked against kubernetes/kubernetes, staging/src/k8s.io/apiserver
// (k8s.io/apiserver v0.37.2, the kube-apiserver v1.37.2 the end-to-end test runs):
//
//   - pkg/storage/value/encrypt/aes/aes.go: gcm (nonce = aead.NonceSize() = 12, Seal/Open with
//     dataCtx.AuthenticatedData()), cbc (IV ‖ ciphertext, PKCS#7 checks and their messages);
//   - pkg/storage/value/encrypt/secretbox/secretbox.go: nonceSize = 24, secretbox.Seal(nonce, …);
//   - pkg/storage/value/encrypt/identity/identity.go: the "k8s:enc:" refusal;
//   - pkg/server/options/encryptionconfig/config.go: the prefix constants
//     (aesCBCTransformerPrefixV1 …), aesPrefixTransformer and secretboxPrefixTransformer (one
//     "<keyName>:" prefix transformer per key inside the provider's), transformerFromOverrides
//     (exact resource, then "*.<group>", then "*.*", else identity);
//   - pkg/storage/value/transformer.go: prefixTransformers (first writes; a failed match goes on;
//     stale when the index is not 0; identity's error is skipped);
//   - pkg/apis/apiserver/validation/validation_encryption.go: key sizes (AES 16/24/32,
//     secretbox 32), names and secrets required, base64;
//   - pkg/storage/etcd3/store.go: authenticatedDataString(preparedKey), the full etcd key.
//
// KMS providers (v1 and v2) are not implemented: a configuration that lists one is refused
// with the reason.
package encryption
