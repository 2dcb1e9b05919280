package bootstrap

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
)

// The bundle signing key lives in the cluster directory and never on a node: init signs every
// node's manifest with it, and `hardway launch` checks the signature against the public key the
// node trusts (its --trust file, SigningPub, or the one it pinned at its first install).
const (
	SigningKey          = "signing/bundle.key"
	SigningPub          = "signing/bundle.pub"
	SigningEndorsements = "signing/endorsements.json" // each rotation: the old key vouches for the new
)

// signer is the key bundles are signed with and the endorsements that lead nodes to it.
type signer struct {
	key          ed25519.PrivateKey
	endorsements []bundle.Endorsement
}

// planSigning reads the signing key, creates it on the first run, or, when rotate is set,
// replaces it with a new key the old one endorses (the old key goes to backup/ like any
// replaced file). It adds what it writes to the plan.
func (p *Plan) planSigning(fsys fs.FS, rand io.Reader, rotate bool) (*signer, error) {
	s := &signer{}
	keyPEM, err := fs.ReadFile(fsys, SigningKey)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if rotate {
			return nil, fmt.Errorf("%s: no signing key to rotate yet; run init without --rotate-signing-key first", SigningKey)
		}
	case err != nil:
		return nil, err
	default:
		if s.key, err = parseSigningKey(keyPEM); err != nil {
			return nil, fmt.Errorf("%s: %w; restore it from backup/, or move it away and run init to make a new one (every node must then be given the new %s with --trust)", SigningKey, err, SigningPub)
		}
		if data, err := fs.ReadFile(fsys, SigningEndorsements); err == nil {
			if err := json.Unmarshal(data, &s.endorsements); err != nil {
				return nil, fmt.Errorf("%s: %w", SigningEndorsements, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if s.key != nil && !rotate {
		return s, p.addSigningPub(fsys, s.key, "")
	}
	_, next, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	reason := "new bundle signing key"
	if s.key != nil {
		s.endorsements = append(s.endorsements, bundle.Endorse(s.key, next.Public().(ed25519.PublicKey)))
		data, err := json.MarshalIndent(s.endorsements, "", "  ")
		if err != nil {
			return nil, err
		}
		reason = "rotated bundle signing key, endorsed by the previous one"
		p.addIfChanged(fsys, pki.Change{File: atomicfile.File{Path: SigningEndorsements, Data: append(data, '\n'), Mode: pki.ModePublic}, Reason: reason})
	}
	der, err := x509.MarshalPKCS8PrivateKey(next)
	if err != nil {
		return nil, err
	}
	p.addIfChanged(fsys, pki.Change{File: atomicfile.File{Path: SigningKey, Data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), Mode: pki.ModeSecret}, Reason: reason})
	s.key = next
	return s, p.addSigningPub(fsys, next, reason)
}

func (p *Plan) addSigningPub(fsys fs.FS, key ed25519.PrivateKey, reason string) error {
	data, err := bundle.MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	if reason == "" {
		reason = "the bundle signing key's public half"
	}
	p.addIfChanged(fsys, pki.Change{File: atomicfile.File{Path: SigningPub, Data: data, Mode: pki.ModePublic}, Reason: reason})
	return nil
}

func parseSigningKey(data []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM PRIVATE KEY")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	ed, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an ed25519 key", k)
	}
	return ed, nil
}
