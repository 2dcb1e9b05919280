package encryption

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apiserver/pkg/storage/value"

	"github.com/hardway-dev/hardway/configs/encryptionconfig"
)

// EncryptedPrefix starts every value written by an encrypting provider (KMS included); identity
// refuses to read such a value (pkg/storage/value/encrypt/identity/identity.go).
const EncryptedPrefix = "k8s:enc:"

// ErrNoKey is a stored value written by a provider or key that the configuration does not list.
var ErrNoKey = errors.New("no key in the encryption configuration matches the stored value")

// providerPrefix returns the stored prefix of provider's values without the key name,
// "k8s:enc:<provider>:v1:" ("" for identity): pkg/server/options/encryptionconfig/config.go,
// aesCBCTransformerPrefixV1, aesGCMTransformerPrefixV1, secretboxTransformerPrefixV1.
func providerPrefix(provider string) string {
	if provider == encryptionconfig.Identity {
		return ""
	}
	return EncryptedPrefix + provider + ":v1:"
}

// A Key names one configured key of one provider, or the identity provider, which has no key.
type Key struct {
	provider string
	name     string
}

// Provider returns the key's provider name.
func (k Key) Provider() string { return k.provider }

// Name returns the key's name ("" for identity).
func (k Key) Name() string { return k.name }

// Prefix returns what this key writes in front of its payloads: "k8s:enc:<provider>:v1:<name>:"
// ("" for identity).
func (k Key) Prefix() string {
	if k.provider == encryptionconfig.Identity {
		return ""
	}
	return providerPrefix(k.provider) + k.name + ":"
}

// String names the key for messages: `aescbc key "key1"` or `identity`.
func (k Key) String() string {
	if k.provider == encryptionconfig.Identity {
		return encryptionconfig.Identity
	}
	return fmt.Sprintf("%s key %q", k.provider, k.name)
}

// A Transformer is kube-apiserver's transformer for one resource, built from k8s.io/apiserver's
// own: the first key writes, every key reads the values carrying its prefix. It is safe for
// concurrent use.
type Transformer struct {
	resource string
	keys     []Key
	upstream value.Transformer
	// ctx carries the resource as request info, as kube-apiserver's requestInfoTransformer
	// does, for k8s.io/apiserver's transformation metrics and logs.
	ctx context.Context
}

// Keys returns the keys in the order they are tried; the first one writes.
func (t *Transformer) Keys() []Key { return append([]Key(nil), t.keys...) }

// WriteKey returns the key that writes.
func (t *Transformer) WriteKey() Key { return t.keys[0] }

// TransformToStorage returns what to store in etcd under etcdKey for data (the serialized
// object): the first key's prefix and payload.
func (t *Transformer) TransformToStorage(data []byte, etcdKey string) ([]byte, error) {
	out, err := t.upstream.TransformToStorage(t.ctx, data, value.DefaultContext(etcdKey))
	if err != nil {
		return nil, fmt.Errorf("encrypting %s (%s) with %s: %w", etcdKey, t.resource, t.keys[0], err)
	}
	return out, nil
}

// TransformFromStorage returns the serialized object stored under etcdKey. stale is true when
// a key other than the first read it: the caller should write the object again so it is stored
// with the current key.
func (t *Transformer) TransformFromStorage(stored []byte, etcdKey string) (data []byte, stale bool, err error) {
	out, stale, err := t.upstream.TransformFromStorage(t.ctx, stored, value.DefaultContext(etcdKey))
	if err != nil {
		return nil, false, t.explain(stored, etcdKey, err)
	}
	return out, stale, nil
}

// explain turns k8s.io/apiserver's error for a value it could not read into one that says which
// configured keys tried it and what usually causes it.
func (t *Transformer) explain(stored []byte, etcdKey string, err error) error {
	var tried []string
	gcm := false
	for _, k := range t.keys {
		if k.provider != encryptionconfig.Identity && bytes.HasPrefix(stored, []byte(k.Prefix())) {
			tried = append(tried, k.String())
			gcm = gcm || k.provider == encryptionconfig.AESGCM
		}
	}
	if len(tried) == 0 {
		return t.noKey(stored, etcdKey)
	}
	cause := "the secret is not the one that wrote the value, or the value is damaged"
	if gcm {
		cause = "the secret is not the one that wrote the value, the value was written under another etcd key than " + etcdKey + " (aesgcm authenticates the key), or it is damaged"
	}
	return fmt.Errorf("decrypting %s (%s) with %s: %w; %s", etcdKey, t.resource, strings.Join(tried, ", "), err, cause)
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
	case provider == encryptionconfig.KMS:
		return fmt.Errorf("reading %s (%s): the value was written by the KMS %s provider %q, which hardway does not read: %w", etcdKey, t.resource, version, name, ErrNoKey)
	case len(have) == 0:
		return fmt.Errorf("reading %s (%s): the value was written by %s key %q and the configuration has no %s provider: %w; add it back with that key after the first provider until every value is rewritten", etcdKey, t.resource, provider, name, provider, ErrNoKey)
	default:
		return fmt.Errorf("reading %s (%s): the value was written by %s key %q, which is not in the configuration (its %s keys: %s): %w; add the key back after the first one until every value is rewritten", etcdKey, t.resource, provider, name, provider, strings.Join(have, ", "), ErrNoKey)
	}
}
