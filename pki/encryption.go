package pki

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/configs"
)

// EncryptionKeySize is the size of every key hardway generates: 32 bytes suits secretbox
// (which requires it), aescbc and aesgcm (AES-256).
const EncryptionKeySize = 32

// NewEncryptionKey reads a fresh key from rand (crypto/rand.Reader in production).
func NewEncryptionKey(rand io.Reader) ([]byte, error) {
	k := make([]byte, EncryptionKeySize)
	if _, err := io.ReadFull(rand, k); err != nil {
		return nil, fmt.Errorf("reading a random encryption key: %w", err)
	}
	return k, nil
}

// EncryptionKey is a named key for a provider.
type EncryptionKey struct {
	Name   string
	Secret []byte
}

// RenderEncryptionConfig returns an apiserver.config.k8s.io/v1 EncryptionConfiguration that
// encrypts secrets with provider and keys (the first key writes, all read), with identity last
// so data written before encryption was turned on stays readable.
func RenderEncryptionConfig(provider string, keys []EncryptionKey) ([]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("encryption config: at least one key is needed")
	}
	var ks []apiserverv1.Key
	for _, k := range keys {
		if k.Name == "" {
			return nil, errors.New("encryption config: a key has no name")
		}
		if len(k.Secret) != EncryptionKeySize {
			return nil, fmt.Errorf("encryption config: key %q is %d bytes, want %d", k.Name, len(k.Secret), EncryptionKeySize)
		}
		ks = append(ks, apiserverv1.Key{Name: k.Name, Secret: base64.StdEncoding.EncodeToString(k.Secret)})
	}
	var p apiserverv1.ProviderConfiguration
	switch provider {
	case configs.ProviderSecretbox:
		p.Secretbox = &apiserverv1.SecretboxConfiguration{Keys: ks}
	case configs.ProviderAESCBC:
		p.AESCBC = &apiserverv1.AESConfiguration{Keys: ks}
	case configs.ProviderAESGCM:
		p.AESGCM = &apiserverv1.AESConfiguration{Keys: ks}
	default:
		return nil, fmt.Errorf("encryption provider %q is not supported; use one of %v", provider, configs.EncryptionProviders)
	}
	cfg := apiserverv1.EncryptionConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiserver.config.k8s.io/v1", Kind: "EncryptionConfiguration"},
		Resources: []apiserverv1.ResourceConfiguration{{
			Resources: []string{"secrets"},
			Providers: []apiserverv1.ProviderConfiguration{p, {Identity: &apiserverv1.IdentityConfiguration{}}},
		}},
	}
	return yaml.Marshal(cfg)
}

// EncryptionConfig is a parsed encryption configuration.
type EncryptionConfig struct {
	Provider string // the writing provider for secrets
	Keys     []EncryptionKey
}

// ParseEncryptionConfig reads and checks an EncryptionConfiguration: known kind and version,
// a writing provider for secrets, keys of the right size.
func ParseEncryptionConfig(data []byte) (*EncryptionConfig, error) {
	var cfg apiserverv1.EncryptionConfiguration
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("not an EncryptionConfiguration: %w", err)
	}
	if cfg.APIVersion != "apiserver.config.k8s.io/v1" || cfg.Kind != "EncryptionConfiguration" {
		return nil, fmt.Errorf("apiVersion/kind is %s/%s, want apiserver.config.k8s.io/v1 EncryptionConfiguration", cfg.APIVersion, cfg.Kind)
	}
	for _, r := range cfg.Resources {
		for _, res := range r.Resources {
			if res != "secrets" || len(r.Providers) == 0 {
				continue
			}
			p := r.Providers[0]
			out := &EncryptionConfig{}
			var keys []apiserverv1.Key
			var size []int
			switch {
			case p.Secretbox != nil:
				out.Provider, keys, size = configs.ProviderSecretbox, p.Secretbox.Keys, []int{32}
			case p.AESCBC != nil:
				out.Provider, keys, size = configs.ProviderAESCBC, p.AESCBC.Keys, []int{32}
			case p.AESGCM != nil:
				out.Provider, keys, size = configs.ProviderAESGCM, p.AESGCM.Keys, []int{16, 24, 32}
			case p.Identity != nil:
				return nil, errors.New("secrets are written unencrypted (identity is the first provider)")
			default:
				return nil, errors.New("the first provider for secrets is not one hardway manages (secretbox, aescbc, aesgcm)")
			}
			if len(keys) == 0 {
				return nil, fmt.Errorf("provider %s has no keys", out.Provider)
			}
			for _, k := range keys {
				b, err := base64.StdEncoding.DecodeString(k.Secret)
				if err != nil {
					return nil, fmt.Errorf("key %q: secret is not base64: %w", k.Name, err)
				}
				ok := false
				for _, s := range size {
					ok = ok || len(b) == s
				}
				if k.Name == "" || !ok {
					return nil, fmt.Errorf("key %q: %d bytes is not a valid %s key", k.Name, len(b), out.Provider)
				}
				out.Keys = append(out.Keys, EncryptionKey{Name: k.Name, Secret: b})
			}
			return out, nil
		}
	}
	return nil, errors.New("no provider for secrets")
}
