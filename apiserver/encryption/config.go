package encryption

import (
	"context"
	"crypto/aes"
	"encoding/base64"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/storage/value"
	aestransformer "k8s.io/apiserver/pkg/storage/value/encrypt/aes"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/apiserver/pkg/storage/value/encrypt/secretbox"

	"github.com/hardway-dev/hardway/configs/encryptionconfig"
)

// ForResource returns the Transformer kube-apiserver uses for resource ("secrets",
// "deployments.apps", as written in an EncryptionConfiguration) under cfg, which
// encryptionconfig.Parse read: the providers encryptionconfig.ProvidersFor picks, or identity
// alone when none is configured (the resource is not encrypted). A KMS provider is refused:
// its values can only be read through its plugin.
func ForResource(cfg *apiserverv1.EncryptionConfiguration, resource string) (*Transformer, error) {
	if err := encryptionconfig.Validate(cfg); err != nil {
		return nil, fmt.Errorf("encryption for %s: %w", resource, err)
	}
	gr := schema.ParseGroupResource(resource)
	t := &Transformer{
		resource: resource,
		ctx:      request.WithRequestInfo(context.Background(), &request.RequestInfo{IsResourceRequest: true, APIGroup: gr.Group, Resource: gr.Resource}),
	}
	providers := encryptionconfig.ProvidersFor(cfg, resource)
	if len(providers) == 0 {
		// config.go, transformerFromOverrides: no entry names the resource.
		t.keys, t.upstream = []Key{{provider: encryptionconfig.Identity}}, identity.NewEncryptCheckTransformer()
		return t, nil
	}
	var pts []value.PrefixTransformer
	var errs []error
	for _, p := range providers {
		pt, keys, err := prefixTransformer(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pts, t.keys = append(pts, pt), append(t.keys, keys...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("encryption for %s: %w", resource, err)
	}
	// config.go, getTransformerOverridesAndKMSPluginProbes: one prefix transformer per provider,
	// in order, the first writing.
	t.upstream = value.NewPrefixTransformers(errors.New("no matching prefix found"), pts...)
	return t, nil
}

// prefixTransformer returns kube-apiserver's transformer for one provider element and its keys,
// composed from k8s.io/apiserver's transformers as pkg/server/options/encryptionconfig/config.go
// composes them in prefixTransformersAndProbes, aesPrefixTransformer and
// secretboxPrefixTransformer (unexported there): a "<keyName>:" prefix transformer per key,
// in order, inside one "k8s:enc:<provider>:v1:" prefix transformer; identity under no prefix.
func prefixTransformer(p encryptionconfig.Provider) (value.PrefixTransformer, []Key, error) {
	name := encryptionconfig.ProviderName(p.Config)
	switch name {
	case encryptionconfig.Identity:
		return value.PrefixTransformer{Prefix: []byte{}, Transformer: identity.NewEncryptCheckTransformer()}, []Key{{provider: encryptionconfig.Identity}}, nil
	case encryptionconfig.KMS:
		return value.PrefixTransformer{}, nil, fmt.Errorf("%s.kms: KMS provider %q is not supported by hardway (its values are read through the KMS plugin); use %s, %s or %s", p.Path, p.Config.KMS.Name, encryptionconfig.Secretbox, encryptionconfig.AESGCM, encryptionconfig.AESCBC)
	}
	var (
		perKey []value.PrefixTransformer
		keys   []Key
		errs   []error
	)
	for i, k := range encryptionconfig.Keys(p.Config) {
		tr, err := keyTransformer(name, k)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.%s.keys[%d]: %w", p.Path, name, i, err))
			continue
		}
		perKey = append(perKey, value.PrefixTransformer{Prefix: []byte(k.Name + ":"), Transformer: tr})
		keys = append(keys, Key{provider: name, name: k.Name})
	}
	if err := errors.Join(errs...); err != nil {
		return value.PrefixTransformer{}, nil, err
	}
	noKey := "no matching key was found for the provided AES transformer"
	if name == encryptionconfig.Secretbox {
		noKey = "no matching key was found for the provided Secretbox transformer"
	}
	return value.PrefixTransformer{
		Prefix:      []byte(providerPrefix(name)),
		Transformer: value.NewPrefixTransformers(errors.New(noKey), perKey...),
	}, keys, nil
}

// keyTransformer returns k8s.io/apiserver's transformer for one key of provider.
// encryptionconfig.Validate has checked the secrets; the errors here are for a cfg changed
// since.
func keyTransformer(provider string, k apiserverv1.Key) (value.Transformer, error) {
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, fmt.Errorf("key %q: the secret is not standard base64: %w", k.Name, err)
	}
	switch provider {
	case encryptionconfig.AESGCM, encryptionconfig.AESCBC:
		block, err := aes.NewCipher(secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.Name, err)
		}
		if provider == encryptionconfig.AESCBC {
			return cbcGuard{aestransformer.NewCBCTransformer(block)}, nil
		}
		return aestransformer.NewGCMTransformer(block)
	case encryptionconfig.Secretbox:
		if len(secret) != 32 {
			return nil, fmt.Errorf("key %q: the secret is %d bytes, want 32", k.Name, len(secret))
		}
		return secretbox.NewSecretboxTransformer([32]byte(secret)), nil
	}
	return nil, fmt.Errorf("provider %q has no keys; use %s, %s or %s", provider, encryptionconfig.Secretbox, encryptionconfig.AESGCM, encryptionconfig.AESCBC)
}

// cbcGuard refuses a stored aescbc payload that is exactly one block (an IV and no ciphertext):
// k8s.io/apiserver v0.37.2's cbc transformer indexes the last byte of the empty plaintext and
// panics on it (pkg/storage/value/encrypt/aes/aes.go, cbc.TransformFromStorage). The error is
// the one it gives for a payload without padding.
type cbcGuard struct{ value.Transformer }

func (g cbcGuard) TransformFromStorage(ctx context.Context, data []byte, dataCtx value.Context) ([]byte, bool, error) {
	if len(data) == aes.BlockSize {
		return nil, false, errors.New("invalid PKCS7 data (empty or not padded)")
	}
	return g.Transformer.TransformFromStorage(ctx, data, dataCtx)
}
