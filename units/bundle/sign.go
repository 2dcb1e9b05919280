package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/hardway-dev/hardway/internal/rootfs"
	strictjson "sigs.k8s.io/json"
)

// Signature is manifest.json.sig: an ed25519 signature of the manifest's exact bytes, the
// public key that made it, and the endorsements that carry a node's trust from an older
// signing key to this one (after a rotation, the old key signs the new one).
type Signature struct {
	Algorithm    string        `json:"algorithm"` // "ed25519"
	Key          []byte        `json:"key"`       // the signer's public key (base64 in JSON)
	Signature    []byte        `json:"signature"`
	Endorsements []Endorsement `json:"endorsements,omitempty"`
}

// Endorsement says that the key By vouches for the key Key: Signature is By's signature of
// "hardway bundle signing key\n" followed by Key.
type Endorsement struct {
	Key       []byte `json:"key"`
	By        []byte `json:"by"`
	Signature []byte `json:"signature"`
}

const (
	algorithm      = "ed25519"
	endorseContext = "hardway bundle signing key\n"
)

// Endorse returns old's endorsement of next, the step a key rotation takes.
func Endorse(old ed25519.PrivateKey, next ed25519.PublicKey) Endorsement {
	return Endorsement{
		Key:       slices.Clone(next),
		By:        slices.Clone(old.Public().(ed25519.PublicKey)),
		Signature: ed25519.Sign(old, append([]byte(endorseContext), next...)),
	}
}

// Sign returns manifest.json.sig for manifest: key's signature and the endorsements leading
// to key from the keys before it, oldest first.
func Sign(manifest []byte, key ed25519.PrivateKey, endorsements []Endorsement) ([]byte, error) {
	s := Signature{
		Algorithm:    algorithm,
		Key:          slices.Clone(key.Public().(ed25519.PublicKey)),
		Signature:    ed25519.Sign(key, manifest),
		Endorsements: endorsements,
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ErrUnsigned is a bundle without manifest.json.sig.
var ErrUnsigned = errors.New("the bundle is not signed (no " + SignatureName + ")")

// VerifySignature checks sig, a manifest.json.sig, against manifest and the keys the node
// trusts: the signer must be a trusted key or be reached from one through valid endorsements.
// It returns the signer's key, which the node may trust from then on.
func VerifySignature(manifest, sig []byte, trusted []ed25519.PublicKey) (ed25519.PublicKey, error) {
	if sig == nil {
		return nil, ErrUnsigned
	}
	var s Signature
	strict, err := strictjson.UnmarshalStrict(sig, &s, strictjson.DisallowDuplicateFields, strictjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a signature: %w", SignatureName, err)
	}
	if s.Algorithm != algorithm || len(s.Key) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%s: want an %s key and signature", SignatureName, algorithm)
	}
	if !ed25519.Verify(s.Key, manifest, s.Signature) {
		return nil, fmt.Errorf("%s: the signature does not match %s: the bundle was modified after it was signed", SignatureName, ManifestName)
	}
	// Follow endorsements from the trusted keys to the signer.
	known := slices.Clone(trusted)
	for progress := true; progress; {
		if slices.ContainsFunc(known, func(k ed25519.PublicKey) bool { return bytes.Equal(k, s.Key) }) {
			return ed25519.PublicKey(s.Key), nil
		}
		progress = false
		for _, e := range s.Endorsements {
			if len(e.By) != ed25519.PublicKeySize || len(e.Key) != ed25519.PublicKeySize {
				continue
			}
			byKnown := slices.ContainsFunc(known, func(k ed25519.PublicKey) bool { return bytes.Equal(k, e.By) })
			keyKnown := slices.ContainsFunc(known, func(k ed25519.PublicKey) bool { return bytes.Equal(k, e.Key) })
			if byKnown && !keyKnown && ed25519.Verify(e.By, append([]byte(endorseContext), e.Key...), e.Signature) {
				known = append(known, ed25519.PublicKey(e.Key))
				progress = true
			}
		}
	}
	return nil, fmt.Errorf("%s: signed by key %s, which this node does not trust and no trusted key endorses; give the cluster's signing key with --trust", SignatureName, KeyID(s.Key))
}

// KeyID is a short name of a public key for messages: the first bytes of its base64.
func KeyID(pub []byte) string {
	id := base64.RawStdEncoding.EncodeToString(pub)
	return "ed25519:" + id[:min(len(id), 12)]
}

// MarshalPublicKey writes a signing public key as PEM PUBLIC KEY (PKIX), the form of the
// cluster's signing/bundle.pub and of a node's --trust file.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeys reads the PEM PUBLIC KEY blocks of data, each an ed25519 key.
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("a PEM %s block, not a PUBLIC KEY", b.Type)
		}
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		ed, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a %T, not an ed25519 key", k)
		}
		out = append(out, ed)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM PUBLIC KEY")
	}
	return out, nil
}

// ReadPublicKeyFile reads the signing keys in the file p (a --trust file): a regular file, at
// most 1 MiB, not reached through a link (internal/rootfs, like every bundle read).
func ReadPublicKeyFile(p string) ([]ed25519.PublicKey, error) {
	dir, err := rootfs.Open(filepath.Dir(p))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	data, err := dir.ReadFile(filepath.Base(p), 1<<20)
	if err != nil {
		return nil, err
	}
	keys, err := ParsePublicKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return keys, nil
}
