package encryption

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/nacl/secretbox"
)

// Provider names, as they appear in an EncryptionConfiguration and in the stored prefix.
const (
	Identity  = "identity"
	AESCBC    = "aescbc"
	AESGCM    = "aesgcm"
	Secretbox = "secretbox"
)

// EncryptedPrefix starts every value written by an encrypting provider (KMS included).
const EncryptedPrefix = "k8s:enc:"

// Payload sizes fixed by kube-apiserver's formats.
const (
	cbcIVSize       = aes.BlockSize // 16
	gcmNonceSize    = 12
	secretboxNonce  = 24
	secretboxKeyLen = 32
)

// ErrEncryptedData is identity's refusal to read a value that starts with "k8s:enc:".
var ErrEncryptedData = errors.New("identity transformer tried to read encrypted data")

// ErrNoKey is a stored value written by a provider or key that the configuration does not list.
var ErrNoKey = errors.New("no key in the encryption configuration matches the stored value")

// ProviderPrefix returns the stored prefix of provider's values without the key name,
// "k8s:enc:<provider>:v1:" ("" for identity).
func ProviderPrefix(provider string) string {
	if provider == Identity {
		return ""
	}
	return EncryptedPrefix + provider + ":v1:"
}

// A Key is one named key of one provider (or the identity provider, which has no key): it
// writes and reads values carrying its prefix. Keys are immutable and safe for concurrent use.
type Key struct {
	provider string
	name     string
	prefix   []byte
	aead     cipher.AEAD // aesgcm
	block    cipher.Block
	box      *[secretboxKeyLen]byte
}

// NewKey returns provider's key named name with the raw (not base64) secret. provider is
// aescbc, aesgcm or secretbox; for identity use [IdentityKey].
func NewKey(provider, name string, secret []byte) (*Key, error) {
	if name == "" {
		return nil, fmt.Errorf("%s key: the name is empty; every key needs a name, it is written in front of each value", provider)
	}
	k := &Key{provider: provider, name: name, prefix: []byte(ProviderPrefix(provider) + name + ":")}
	switch provider {
	case AESCBC, AESGCM:
		block, err := aes.NewCipher(secret)
		if err != nil {
			return nil, fmt.Errorf("%s key %q: the secret is %d bytes, want 16, 24 or 32 (generate one with `head -c 32 /dev/urandom | base64`): %w", provider, name, len(secret), err)
		}
		k.block = block
		if provider == AESGCM {
			aead, err := cipher.NewGCM(block)
			if err != nil {
				return nil, fmt.Errorf("%s key %q: %w", provider, name, err)
			}
			if aead.NonceSize() != gcmNonceSize {
				return nil, fmt.Errorf("%s key %q: GCM nonce size %d, want %d", provider, name, aead.NonceSize(), gcmNonceSize)
			}
			k.aead = aead
		}
	case Secretbox:
		if len(secret) != secretboxKeyLen {
			return nil, fmt.Errorf("%s key %q: the secret is %d bytes, want exactly 32 (generate one with `head -c 32 /dev/urandom | base64`)", provider, name, len(secret))
		}
		k.box = new([secretboxKeyLen]byte)
		copy(k.box[:], secret)
	case Identity:
		return nil, errors.New("identity has no keys: use IdentityKey")
	default:
		return nil, fmt.Errorf("encryption provider %q is not supported; use one of %s, %s, %s or %s", provider, Secretbox, AESGCM, AESCBC, Identity)
	}
	return k, nil
}

// IdentityKey returns the identity provider: it writes values unchanged and reads any value that
// does not start with "k8s:enc:".
func IdentityKey() *Key { return &Key{provider: Identity} }

// Provider returns the key's provider name.
func (k *Key) Provider() string { return k.provider }

// Name returns the key's name ("" for identity).
func (k *Key) Name() string { return k.name }

// Prefix returns what this key writes in front of its payloads: "k8s:enc:<provider>:v1:<name>:"
// ("" for identity).
func (k *Key) Prefix() string { return string(k.prefix) }

// String names the key for messages: `aescbc key "key1"` or `identity`.
func (k *Key) String() string {
	if k.provider == Identity {
		return Identity
	}
	return fmt.Sprintf("%s key %q", k.provider, k.name)
}

// seal returns Prefix() ‖ payload for data stored under etcdKey, reading IVs and nonces from rand.
func (k *Key) seal(rand io.Reader, data []byte, etcdKey string) ([]byte, error) {
	p := len(k.prefix)
	switch k.provider {
	case Identity:
		return data, nil
	case AESCBC:
		pad := aes.BlockSize - len(data)%aes.BlockSize
		out := make([]byte, p+cbcIVSize+len(data)+pad)
		copy(out, k.prefix)
		iv := out[p : p+cbcIVSize]
		if _, err := io.ReadFull(rand, iv); err != nil {
			return nil, fmt.Errorf("%s: reading a random IV: %w", k, err)
		}
		body := out[p+cbcIVSize:]
		copy(body, data)
		for i := len(data); i < len(body); i++ {
			body[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(k.block, iv).CryptBlocks(body, body)
		return out, nil
	case AESGCM:
		out := make([]byte, p+gcmNonceSize, p+gcmNonceSize+len(data)+k.aead.Overhead())
		copy(out, k.prefix)
		nonce := out[p:]
		if _, err := io.ReadFull(rand, nonce); err != nil {
			return nil, fmt.Errorf("%s: reading a random nonce: %w", k, err)
		}
		return k.aead.Seal(out, nonce, data, []byte(etcdKey)), nil
	case Secretbox:
		out := make([]byte, p+secretboxNonce, p+secretboxNonce+len(data)+secretbox.Overhead)
		copy(out, k.prefix)
		var nonce [secretboxNonce]byte
		if _, err := io.ReadFull(rand, nonce[:]); err != nil {
			return nil, fmt.Errorf("%s: reading a random nonce: %w", k, err)
		}
		copy(out[p:], nonce[:])
		return secretbox.Seal(out, data, &nonce, k.box), nil
	}
	return nil, fmt.Errorf("%s: unknown provider", k)
}

// open reads payload, the stored value after Prefix(), stored under etcdKey. Its errors say
// what is wrong with the value; the caller adds which key and etcd key.
func (k *Key) open(payload []byte, etcdKey string) ([]byte, error) {
	switch k.provider {
	case Identity:
		if bytes.HasPrefix(payload, []byte(EncryptedPrefix)) {
			return nil, ErrEncryptedData
		}
		return payload, nil
	case AESCBC:
		if len(payload) < cbcIVSize {
			return nil, errors.New("the stored data was shorter than the required size (truncated value)")
		}
		iv, body := payload[:cbcIVSize], payload[cbcIVSize:]
		if len(body)%aes.BlockSize != 0 {
			return nil, errors.New("the stored data is not a multiple of the block size (truncated or damaged value)")
		}
		if len(body) == 0 {
			return nil, errors.New("invalid PKCS7 data (empty or not padded)")
		}
		out := make([]byte, len(body))
		cipher.NewCBCDecrypter(k.block, iv).CryptBlocks(out, body)
		pad := int(out[len(out)-1])
		if pad == 0 || pad > len(out) {
			return nil, errors.New("invalid PKCS7 data (empty or not padded): the secret is not the one that wrote the value, or the value is damaged")
		}
		for _, b := range out[len(out)-pad:] {
			if int(b) != pad {
				return nil, errors.New("invalid padding on input: the secret is not the one that wrote the value, or the value is damaged")
			}
		}
		return out[:len(out)-pad], nil
	case AESGCM:
		if len(payload) < gcmNonceSize {
			return nil, errors.New("the stored data was shorter than the required size (truncated value)")
		}
		out, err := k.aead.Open(nil, payload[:gcmNonceSize], payload[gcmNonceSize:], []byte(etcdKey))
		if err != nil {
			return nil, fmt.Errorf("%w: the secret is not the one that wrote the value, the value was written under another etcd key than %s, or it is damaged", err, etcdKey)
		}
		return out, nil
	case Secretbox:
		if len(payload) < secretboxNonce+secretbox.Overhead {
			return nil, errors.New("the stored data was shorter than the required size (truncated value)")
		}
		var nonce [secretboxNonce]byte
		copy(nonce[:], payload)
		out, ok := secretbox.Open(make([]byte, 0, len(payload)-secretboxNonce-secretbox.Overhead), payload[secretboxNonce:], &nonce, k.box)
		if !ok {
			return nil, errors.New("message authentication failed: the secret is not the one that wrote the value, or the value is damaged")
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: unknown provider", k)
}

// A Transformer is kube-apiserver's prefix transformer over the keys configured for one
// resource: the first key writes, every key reads the values carrying its prefix. It is safe for
// concurrent use when its random source is.
type Transformer struct {
	resource string
	keys     []*Key
	rand     io.Reader
}

// New returns a Transformer for resource (used in messages, e.g. "secrets") over keys, in the
// configuration's order: providers as listed, each provider's keys as listed. rand supplies IVs
// and nonces (crypto/rand.Reader in production).
func New(resource string, rand io.Reader, keys ...*Key) (*Transformer, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("encryption for %s: no provider; list at least one (identity to store values unencrypted)", resource)
	}
	if rand == nil {
		return nil, fmt.Errorf("encryption for %s: no random source", resource)
	}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("encryption for %s: key %d is nil", resource, i)
		}
	}
	return &Transformer{resource: resource, keys: keys, rand: rand}, nil
}

// Keys returns the keys in the order they are tried; the first one writes.
func (t *Transformer) Keys() []*Key { return append([]*Key(nil), t.keys...) }

// WriteKey returns the key that writes.
func (t *Transformer) WriteKey() *Key { return t.keys[0] }

// TransformToStorage returns what to store in etcd under etcdKey for data (the serialized
// object): the first key's prefix and payload.
func (t *Transformer) TransformToStorage(data []byte, etcdKey string) ([]byte, error) {
	out, err := t.keys[0].seal(t.rand, data, etcdKey)
	if err != nil {
		return nil, fmt.Errorf("encrypting %s for %s: %w", etcdKey, t.resource, err)
	}
	return out, nil
}

// TransformFromStorage returns the serialized object stored under etcdKey. stale is true when
// a key other than the first read it: the caller should write the object again so it is stored
// with the current key.
func (t *Transformer) TransformFromStorage(stored []byte, etcdKey string) (data []byte, stale bool, err error) {
	var errs []error
	for i, k := range t.keys {
		if !bytes.HasPrefix(stored, k.prefix) {
			continue
		}
		out, err := k.open(stored[len(k.prefix):], etcdKey)
		if err != nil {
			if k.provider == Identity {
				continue // as upstream: identity's refusal lets the next provider try
			}
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			continue
		}
		return out, i != 0, nil
	}
	if len(errs) > 0 {
		return nil, false, fmt.Errorf("decrypting %s (%s): %w", etcdKey, t.resource, errors.Join(errs...))
	}
	return nil, false, t.noKey(stored, etcdKey)
}

// noKey explains a stored value that no configured key's prefix matches.
func (t *Transformer) noKey(stored []byte, etcdKey string) error {
	if !bytes.HasPrefix(stored, []byte(EncryptedPrefix)) {
		return fmt.Errorf("reading %s (%s): the value is not encrypted and the configuration has no identity provider: %w; add `- identity: {}` as the last provider to read it, then rewrite it", etcdKey, t.resource, ErrNoKey)
	}
	// "k8s:enc:<provider>:v1:<name>:" — the key name may be cut short if it contains ':'.
	rest := string(stored[len(EncryptedPrefix):min(len(stored), len(EncryptedPrefix)+128)])
	provider, rest, _ := strings.Cut(rest, ":")
	version, rest, _ := strings.Cut(rest, ":")
	name, _, _ := strings.Cut(rest, ":")
	var have []string
	for _, k := range t.keys {
		if k.provider == provider {
			have = append(have, fmt.Sprintf("%q", k.name))
		}
	}
	switch {
	case provider == "kms":
		return fmt.Errorf("reading %s (%s): the value was written by the KMS %s provider %q, which hardway does not implement: %w", etcdKey, t.resource, version, name, ErrNoKey)
	case len(have) == 0:
		return fmt.Errorf("reading %s (%s): the value was written by %s key %q and the configuration has no %s provider: %w; add it back with that key after the first provider until every value is rewritten", etcdKey, t.resource, provider, name, provider, ErrNoKey)
	default:
		return fmt.Errorf("reading %s (%s): the value was written by %s key %q, which is not in the configuration (its %s keys: %s): %w; add the key back after the first one until every value is rewritten", etcdKey, t.resource, provider, name, provider, strings.Join(have, ", "), ErrNoKey)
	}
}
