package encryption

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/yaml"
)

// ParseConfig reads an apiserver.config.k8s.io/v1 EncryptionConfiguration (YAML or JSON;
// unknown fields fail) and checks every provider and key the way kube-apiserver does, returning
// all problems at once, each with its field path.
func ParseConfig(data []byte) (*apiserverv1.EncryptionConfiguration, error) {
	var cfg apiserverv1.EncryptionConfiguration
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("not an EncryptionConfiguration: %w", err)
	}
	if cfg.APIVersion != "apiserver.config.k8s.io/v1" || cfg.Kind != "EncryptionConfiguration" {
		return nil, fmt.Errorf("apiVersion/kind is %q/%q, want apiserver.config.k8s.io/v1 EncryptionConfiguration", cfg.APIVersion, cfg.Kind)
	}
	var errs []error
	if len(cfg.Resources) == 0 {
		errs = append(errs, errors.New("resources: at least one entry is needed"))
	}
	for i, r := range cfg.Resources {
		path := fmt.Sprintf("resources[%d]", i)
		if len(r.Resources) == 0 {
			errs = append(errs, fmt.Errorf("%s.resources: at least one resource is needed", path))
		}
		if len(r.Providers) == 0 {
			errs = append(errs, fmt.Errorf("%s.providers: at least one provider is needed", path))
		}
		for j, p := range r.Providers {
			if _, err := providerKeys(p, fmt.Sprintf("%s.providers[%d]", path, j)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("EncryptionConfiguration: %w", err)
	}
	return &cfg, nil
}

// ForResource returns the Transformer kube-apiserver uses for resource ("secrets",
// "deployments.apps", "*." …, as written in an EncryptionConfiguration): the providers of every
// entry naming it exactly, in order; else of the first entry naming "*.<group>"; else of "*.*";
// else identity alone (the resource is not encrypted). rand supplies IVs and nonces.
func ForResource(cfg *apiserverv1.EncryptionConfiguration, resource string, rand io.Reader) (*Transformer, error) {
	group := ""
	if _, g, ok := strings.Cut(resource, "."); ok {
		group = g
	}
	for _, want := range []string{resource, "*." + group, "*.*"} {
		var keys []*Key
		for i, r := range cfg.Resources {
			for _, res := range r.Resources {
				if res != want {
					continue
				}
				for j, p := range r.Providers {
					ks, err := providerKeys(p, fmt.Sprintf("resources[%d].providers[%d]", i, j))
					if err != nil {
						return nil, fmt.Errorf("encryption for %s: %w", resource, err)
					}
					keys = append(keys, ks...)
				}
			}
		}
		if len(keys) > 0 {
			return New(resource, rand, keys...)
		}
	}
	return New(resource, rand, IdentityKey())
}

// providerKeys returns the keys of one provider element, in order.
func providerKeys(p apiserverv1.ProviderConfiguration, path string) ([]*Key, error) {
	var (
		set   []string
		name  string
		keys  []apiserverv1.Key
		isKey = true
	)
	if p.AESGCM != nil {
		set, name, keys = append(set, AESGCM), AESGCM, p.AESGCM.Keys
	}
	if p.AESCBC != nil {
		set, name, keys = append(set, AESCBC), AESCBC, p.AESCBC.Keys
	}
	if p.Secretbox != nil {
		set, name, keys = append(set, Secretbox), Secretbox, p.Secretbox.Keys
	}
	if p.Identity != nil {
		set, name, isKey = append(set, Identity), Identity, false
	}
	if p.KMS != nil {
		set, name, isKey = append(set, "kms"), "kms", false
	}
	switch {
	case len(set) == 0:
		return nil, fmt.Errorf("%s: no provider; set one of %s, %s, %s or %s", path, Secretbox, AESGCM, AESCBC, Identity)
	case len(set) > 1:
		return nil, fmt.Errorf("%s: more than one provider (%s) in one element; give each its own list element", path, strings.Join(set, ", "))
	case name == "kms":
		return nil, fmt.Errorf("%s.kms: KMS provider %q is not supported by hardway; use %s, %s or %s", path, p.KMS.Name, Secretbox, AESGCM, AESCBC)
	case !isKey:
		return []*Key{IdentityKey()}, nil
	case len(keys) == 0:
		return nil, fmt.Errorf("%s.%s.keys: at least one key is needed", path, name)
	}
	var out []*Key
	var errs []error
	for i, k := range keys {
		kp := fmt.Sprintf("%s.%s.keys[%d]", path, name, i)
		if k.Secret == "" {
			errs = append(errs, fmt.Errorf("%s.secret: missing for key %q", kp, k.Name))
			continue
		}
		secret, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.secret: key %q: not standard base64: %w", kp, k.Name, err))
			continue
		}
		key, err := NewKey(name, k.Name, secret)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", kp, err))
			continue
		}
		out = append(out, key)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
