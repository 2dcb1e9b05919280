package bundle_test

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/units/bundle"
)

// Trust follows endorsements from a trusted key, through every rotation, to the signer; never
// from an untrusted key, and never for changed bytes.
func TestVerifySignatureFollowsEndorsements(t *testing.T) {
	key := func() (ed25519.PublicKey, ed25519.PrivateKey) {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		return pub, priv
	}
	pub1, k1 := key()
	pub2, k2 := key()
	pub3, k3 := key()
	_, mallory := key()
	manifest := []byte(`{"version": 1}`)
	chain := []bundle.Endorsement{bundle.Endorse(k1, pub2), bundle.Endorse(k2, pub3)}
	sig, err := bundle.Sign(manifest, k3, chain)
	if err != nil {
		t.Fatal(err)
	}
	for name, trusted := range map[string][]ed25519.PublicKey{"the first key": {pub1}, "the middle key": {pub2}, "the signer": {pub3}} {
		if got, err := bundle.VerifySignature(manifest, sig, trusted); err != nil || !got.Equal(pub3) {
			t.Errorf("%s trusted: %v, %v", name, got, err)
		}
	}
	for _, tc := range []struct {
		name     string
		manifest []byte
		sig      func() []byte
		want     string
	}{
		{"unsigned", manifest, func() []byte { return nil }, "not signed"},
		{"changed bytes", []byte(`{"version": 2}`), func() []byte { return sig }, "does not match"},
		{"untrusted signer", manifest, func() []byte { s, _ := bundle.Sign(manifest, mallory, nil); return s }, "does not trust"},
		{"self-endorsed signer", manifest, func() []byte {
			s, _ := bundle.Sign(manifest, mallory, []bundle.Endorsement{bundle.Endorse(mallory, mallory.Public().(ed25519.PublicKey))})
			return s
		}, "does not trust"},
		{"forged endorsement", manifest, func() []byte {
			e := bundle.Endorse(mallory, mallory.Public().(ed25519.PublicKey))
			e.By = pub1 // claims the trusted key vouched
			s, _ := bundle.Sign(manifest, mallory, []bundle.Endorsement{e})
			return s
		}, "does not trust"},
		{"not JSON", manifest, func() []byte { return []byte("sig") }, "not a signature"},
	} {
		if _, err := bundle.VerifySignature(tc.manifest, tc.sig(), []ed25519.PublicKey{pub1}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
