// Package encryptionconfig owns the EncryptionConfiguration file (apiserver.config.k8s.io/v1,
// kube-apiserver's --encryption-provider-config): its types, the one hardway writes, its strict
// reader and its validation. pki generates the cluster's file through it and checks a
// hand-edited one through it on every `init`; apiserver/encryption reads it through it to get
// kube-apiserver's transformers. Nothing else parses the format.
//
// The types are k8s.io/apiserver's own (pkg/apis/apiserver/v1). Reading and checking are
// kube-apiserver's, at k8s.io/apiserver v0.37.2:
//
//   - [Parse] decodes with a scheme holding the apiserver.config.k8s.io types and a strict codec
//     factory, as pkg/server/options/encryptionconfig/config.go (init, loadConfig) does: unknown,
//     duplicate and wrongly cased fields are errors, and the kind must be EncryptionConfiguration
//     in apiserver.config.k8s.io/v1 (or the legacy "v1" EncryptionConfig kube-apiserver still
//     accepts, pkg/apis/apiserver/v1/register.go). The v1 defaults are applied.
//   - [Validate] runs pkg/apis/apiserver/validation.ValidateEncryptionConfiguration (key sizes:
//     aescbc and aesgcm 16, 24 or 32 bytes, secretbox 32; names and secrets required, standard
//     base64; one provider per list element; resource names, overlaps; KMS settings), then the
//     one rule kube-apiserver checks only when it builds its transformers: a resource masked by
//     an earlier "*.<group>" or "*.*" entry (config.go, getTransformerOverridesAndKMSPluginProbes).
//     Every problem is reported at once, each with its field path
//     (resources[0].providers[0].aescbc.keys[1].secret) and, for the usual hand-editing
//     mistakes, the fix.
//   - [ProvidersFor] picks a resource's providers as kube-apiserver does (transformerFromOverrides):
//     every entry naming it exactly, else "*.<group>", else "*.*", else none (not encrypted).
//
// Validation pulls k8s.io/apiserver's validation package, and with it cel-go (used there for
// AuthenticationConfiguration), into the binary: the price of checking with kube-apiserver's
// own rules instead of a copy that drifts.
package encryptionconfig
