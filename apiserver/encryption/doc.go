// Package encryption reads and writes values stored in etcd with secrets encrypted at rest, with
// k8s.io/apiserver's own transformers (what kube-apiserver runs), configured from an
// EncryptionConfiguration that configs/encryptionconfig reads. It is the storage-value layer
// only: it takes the serialized object (protobuf with the "k8s\x00" magic, or JSON) and the etcd
// key it is stored under, and returns the bytes to put in etcd, or the reverse.
//
// # What is upstream's and what is hardway's
//
// The transformers are k8s.io/apiserver v0.37.2's: pkg/storage/value/encrypt/aes (NewCBCTransformer,
// NewGCMTransformer), .../encrypt/secretbox (NewSecretboxTransformer), .../encrypt/identity
// (NewEncryptCheckTransformer) and pkg/storage/value (NewPrefixTransformers, which picks a key
// by prefix, writes with the first and reports a read by any other as stale). kube-apiserver
// composes them from the configuration in pkg/server/options/encryptionconfig/config.go, in
// unexported functions that also start KMS plugins; [ForResource] composes them the same way
// (one "<keyName>:" prefix transformer per key inside one "k8s:enc:<provider>:v1:" prefix
// transformer per provider element, identity under no prefix) and refuses KMS providers.
// hardway adds only:
//
//   - errors that say which configured keys tried a value and the usual cause (wrong secret, an
//     aesgcm value moved to another etcd key, a key dropped from the configuration before every
//     value was rewritten), keeping k8s.io/apiserver's error as the cause;
//   - a guard for an aescbc payload of exactly one block, on which k8s.io/apiserver v0.37.2's
//     cbc transformer panics.
//
// # Formats
//
// A value written by a key of an encrypting provider is
//
//	"k8s:enc:" provider ":v1:" keyName ":" payload
//
// with, per provider: aescbc, a 16-byte random IV and AES-CBC with PKCS#7 padding, no MAC and no
// associated data; aesgcm, a 12-byte random nonce, AES-GCM ciphertext and tag, the etcd key as
// associated data (a value copied under another etcd key does not decrypt; rotate the key long
// before 2^32 writes); secretbox, a 24-byte random nonce and NaCl secretbox; identity, the value
// itself, no prefix, refusing to read a value that starts with "k8s:enc:" so that the next
// provider is tried. The IVs and nonces come from crypto/rand inside k8s.io/apiserver.
//
// # Provider and key order
//
// Writes use the first key of the first provider; reads choose by prefix among all of them, and a
// key whose prefix matches but which fails to decrypt does not end the search (two providers of
// the same kind share "k8s:enc:<provider>:v1:"). A read served by anything but the first key is
// stale, so the caller rewrites the object with the current key: this is how rotation completes
// (add the new key second, restart every API server, move it first, restart, rewrite
// everything, drop the old key).
//
// k8s.io/apiserver logs a value it fails to read through klog, as kube-apiserver does; a program
// that wants those lines elsewhere configures klog.
package encryption
