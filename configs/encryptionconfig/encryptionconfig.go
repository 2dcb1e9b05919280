package encryptionconfig

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/apis/apiserver"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/apiserver/pkg/apis/apiserver/validation"
	"sigs.k8s.io/yaml"
)

// Provider names, as they appear in an EncryptionConfiguration.
const (
	Identity  = "identity"
	AESCBC    = "aescbc"
	AESGCM    = "aesgcm"
	Secretbox = "secretbox"
	KMS       = "kms"
)

// The scheme and strict codecs kube-apiserver reads the file with
// (pkg/server/options/encryptionconfig/config.go, init).
var (
	scheme = runtime.NewScheme()
	codecs serializer.CodecFactory
)

func init() {
	utilruntime.Must(apiserver.AddToScheme(scheme))
	utilruntime.Must(apiserverv1.AddToScheme(scheme))
	codecs = serializer.NewCodecFactory(scheme, serializer.EnableStrict)
}

// A Key is one named key of a provider, its secret raw (not base64).
type Key struct {
	Name   string
	Secret []byte
}

// Render returns the EncryptionConfiguration hardway writes: secrets encrypted by provider
// (secretbox, aescbc or aesgcm) with keys, the first of which encrypts and all of which decrypt,
// then identity, so that what was stored before encryption was turned on stays readable. The
// result passes Validate.
func Render(provider string, keys []Key) ([]byte, error) {
	var ks []apiserverv1.Key
	for _, k := range keys {
		ks = append(ks, apiserverv1.Key{Name: k.Name, Secret: base64.StdEncoding.EncodeToString(k.Secret)})
	}
	var p apiserverv1.ProviderConfiguration
	switch provider {
	case Secretbox:
		p.Secretbox = &apiserverv1.SecretboxConfiguration{Keys: ks}
	case AESCBC:
		p.AESCBC = &apiserverv1.AESConfiguration{Keys: ks}
	case AESGCM:
		p.AESGCM = &apiserverv1.AESConfiguration{Keys: ks}
	default:
		return nil, fmt.Errorf("encryption provider %q: hardway writes keys for %s, %s or %s", provider, Secretbox, AESCBC, AESGCM)
	}
	cfg := &apiserverv1.EncryptionConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: apiserverv1.SchemeGroupVersion.String(), Kind: "EncryptionConfiguration"},
		Resources: []apiserverv1.ResourceConfiguration{{
			Resources: []string{"secrets"},
			Providers: []apiserverv1.ProviderConfiguration{p, {Identity: &apiserverv1.IdentityConfiguration{}}},
		}},
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return yaml.Marshal(cfg)
}

// Parse reads an EncryptionConfiguration (YAML or JSON) as kube-apiserver does: strictly
// (unknown, duplicate or wrongly cased fields are errors), with the v1 defaults applied, and
// checked by Validate.
func Parse(data []byte) (*apiserverv1.EncryptionConfiguration, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, errors.New("the EncryptionConfiguration is empty")
	}
	obj, gvk, err := codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		if runtime.IsStrictDecodingError(err) {
			return nil, fmt.Errorf("EncryptionConfiguration: %w; remove or correct those fields (names are case-sensitive)", err)
		}
		return nil, fmt.Errorf("not an EncryptionConfiguration kube-apiserver reads: %w; it starts with apiVersion: %s and kind: EncryptionConfiguration", err, apiserverv1.SchemeGroupVersion)
	}
	cfg, ok := obj.(*apiserverv1.EncryptionConfiguration)
	if !ok {
		return nil, fmt.Errorf("the file holds a %s, not an EncryptionConfiguration; it starts with apiVersion: %s and kind: EncryptionConfiguration", gvk.Kind, apiserverv1.SchemeGroupVersion)
	}
	scheme.Default(cfg)
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate checks cfg with kube-apiserver's rules and returns every problem, each naming its
// field path; nil when kube-apiserver would start with it.
func Validate(cfg *apiserverv1.EncryptionConfiguration) error {
	if cfg == nil {
		return errors.New("EncryptionConfiguration: none")
	}
	v1 := cfg.DeepCopy()
	scheme.Default(v1) // validation reads defaulted KMS fields
	var internal apiserver.EncryptionConfiguration
	if err := scheme.Convert(v1, &internal, nil); err != nil {
		return fmt.Errorf("EncryptionConfiguration: %w", err)
	}
	errs := validation.ValidateEncryptionConfiguration(&internal, false) // reload=false: --encryption-provider-config-automatic-reload's default
	errs = append(errs, masked(internal.Resources)...)
	if len(errs) == 0 {
		return nil
	}
	var out []error
	for _, e := range errs {
		out = append(out, withFix(e))
	}
	return fmt.Errorf("EncryptionConfiguration: %w", errors.Join(out...))
}

// masked reports a resource that an earlier "*.<group>" or "*.*" resource masks: kube-apiserver
// refuses to start with it ("resource %q is masked by earlier rule %q"), but only when it builds
// its transformers (pkg/server/options/encryptionconfig/config.go,
// getTransformerOverridesAndKMSPluginProbes), so validation does not report it.
func masked(resources []apiserver.ResourceConfiguration) field.ErrorList {
	var errs field.ErrorList
	seen := map[schema.GroupResource]bool{}
	anyGroupAnyResource := schema.GroupResource{Group: "*", Resource: "*"}
	for i, rc := range resources {
		for j, res := range rc.Resources {
			gr := schema.ParseGroupResource(res)
			path := field.NewPath("resources").Index(i).Child("resources").Index(j)
			for _, rule := range []schema.GroupResource{{Group: gr.Group, Resource: "*"}, anyGroupAnyResource} {
				if seen[rule] {
					errs = append(errs, field.Invalid(path, res, fmt.Sprintf("masked by the earlier rule %q; move this entry before it, or drop it", yamlString(rule))))
					break
				}
			}
			seen[gr] = true
		}
	}
	return errs
}

// yamlString writes gr as an EncryptionConfiguration does (config.go, grYAMLString).
func yamlString(gr schema.GroupResource) string {
	if gr.Group == "" && gr.Resource == "*" {
		return "*."
	}
	return gr.String()
}

// withFix adds the fix to the problems a hand edit usually makes. A problem with a whole provider
// element (none or several providers in it) does not print the element: it holds the keys'
// secrets.
func withFix(e *field.Error) error {
	if _, ok := e.BadValue.(apiserver.ProviderConfiguration); ok {
		c := *e
		c.BadValue = field.OmitValueType{}
		e = &c
	}
	var fix string
	switch f := e.Field; {
	case strings.HasSuffix(f, ".secret"):
		fix = "set it to random bytes in standard base64, e.g. `head -c 32 /dev/urandom | base64` (32 bytes suit every provider)"
	case strings.HasSuffix(f, ".name") && strings.Contains(f, ".keys["):
		fix = "give the key a name unique within its provider: it is written in front of every value the key encrypts"
	case strings.HasSuffix(f, ".keys") && e.Type == field.ErrorTypeRequired:
		fix = "list at least one key; the first one encrypts"
	}
	if fix == "" {
		return e
	}
	return fmt.Errorf("%w; %s", e, fix)
}

// ProviderName returns which provider p configures (aesgcm, aescbc, secretbox, kms or
// identity, in the order kube-apiserver looks, config.go prefixTransformersAndProbes), "" for
// none.
func ProviderName(p apiserverv1.ProviderConfiguration) string {
	switch {
	case p.AESGCM != nil:
		return AESGCM
	case p.AESCBC != nil:
		return AESCBC
	case p.Secretbox != nil:
		return Secretbox
	case p.KMS != nil:
		return KMS
	case p.Identity != nil:
		return Identity
	}
	return ""
}

// Keys returns the keys of an aesgcm, aescbc or secretbox provider, nil for the others.
func Keys(p apiserverv1.ProviderConfiguration) []apiserverv1.Key {
	switch {
	case p.AESGCM != nil:
		return p.AESGCM.Keys
	case p.AESCBC != nil:
		return p.AESCBC.Keys
	case p.Secretbox != nil:
		return p.Secretbox.Keys
	}
	return nil
}

// A Provider is one element of an entry's providers, with its field path.
type Provider struct {
	Path   string // resources[i].providers[j]
	Config apiserverv1.ProviderConfiguration
}

// ProvidersFor returns the providers kube-apiserver uses for resource, written as in an
// EncryptionConfiguration ("secrets", "deployments.apps"): those of every entry naming it, in
// order; else of the entries naming "*.<group>" ("*." for the core group); else of "*.*"; else
// none, and the resource is stored unencrypted (config.go, transformerFromOverrides). The first
// provider writes.
func ProvidersFor(cfg *apiserverv1.EncryptionConfiguration, resource string) []Provider {
	gr := schema.ParseGroupResource(resource)
	for _, want := range []schema.GroupResource{gr, {Group: gr.Group, Resource: "*"}, {Group: "*", Resource: "*"}} {
		var out []Provider
		for i, rc := range cfg.Resources {
			if !slices.ContainsFunc(rc.Resources, func(r string) bool { return schema.ParseGroupResource(r) == want }) {
				continue
			}
			for j, p := range rc.Providers {
				out = append(out, Provider{Path: fmt.Sprintf("resources[%d].providers[%d]", i, j), Config: p})
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}
