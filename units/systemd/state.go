package systemd

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"golang.org/x/sys/unix"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/units/bundle"
)

// StateDir is where launch keeps its own state on a node: the bundle signing keys it trusts
// and the bundles it installed. No bundle may write there (it is no path the renderer writes,
// so bundle.Policy refuses it).
const StateDir = "/var/lib/hardway"

// Files of StateDir.
const (
	TrustedKeysFile = StateDir + "/trusted-bundle-keys.pem" // newest first
	CurrentBundle   = StateDir + "/bundles/current.tar.gz"
	PreviousBundle  = StateDir + "/bundles/previous.tar.gz"
	// LastFailed marks that the last launch did not come up: its files may be installed, but
	// it is not kept, and a rollback goes back to the current (last good) bundle.
	LastFailed = StateDir + "/bundles/last-failed"
)

// maxStateBytes bounds what launch reads back of its own state.
const maxStateBytes = bundle.MaxArchiveBytes

// NodeState is launch's state beneath a node's root.
type NodeState struct{ root *rootfs.Root }

// OpenNodeState opens the state beneath root ("/" on a node).
func OpenNodeState(root string) (*NodeState, error) {
	r, err := rootfs.Open(root)
	if err != nil {
		return nil, err
	}
	return &NodeState{r}, nil
}

// Close releases the state's root.
func (s *NodeState) Close() error { return s.root.Close() }

// HostPath is where node path p of the state lives on this machine.
func (s *NodeState) HostPath(p string) string { return s.root.HostPath(p) }

// Trusted returns the signing keys the node pinned; none before its first launch (or for a
// nil state: a root that does not exist yet).
func (s *NodeState) Trusted() ([]ed25519.PublicKey, error) {
	if s == nil {
		return nil, nil
	}
	data, err := s.root.ReadFile(TrustedKeysFile, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keys, err := bundle.ParsePublicKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; restore it, or remove it and launch with --trust", s.root.HostPath(TrustedKeysFile), err)
	}
	return keys, nil
}

// Pin makes key the one signing key the node trusts: after a rotation (the old key endorsed
// the new) the old key is no longer trusted, so a leaked key stops working once nodes moved on.
func (s *NodeState) Pin(key ed25519.PublicKey) error {
	keys, err := s.Trusted()
	if err != nil {
		return err
	}
	if len(keys) == 1 && bytes.Equal(keys[0], key) {
		return nil
	}
	pem, err := bundle.MarshalPublicKey(key)
	if err != nil {
		return err
	}
	return s.write(TrustedKeysFile, pem, atomicfile.ModePublic)
}

// MarkFailed records that the bundle just installed did not come up.
func (s *NodeState) MarkFailed() error { return s.write(LastFailed, nil, atomicfile.ModeSecret) }

// RollbackTarget is the kept bundle --rollback reinstalls: the current one when the last
// launch failed (its files may be half the failed bundle's), else the one before it.
func (s *NodeState) RollbackTarget() (string, error) {
	target := PreviousBundle
	if _, err := s.root.Lstat(LastFailed); err == nil {
		target = CurrentBundle
	}
	if _, err := s.root.Lstat(target); err != nil {
		return "", fmt.Errorf("--rollback: no bundle to go back to on this node (%s): launch has kept only one so far", s.root.HostPath(target))
	}
	return s.root.HostPath(target), nil
}

// Keep records b, just installed, as the current bundle; the one before becomes the previous,
// which `launch --rollback` reinstalls.
func (s *NodeState) Keep(b *bundle.Bundle) error {
	archive, err := b.Archive(b.RawManifest, b.Signature)
	if err != nil {
		return err
	}
	cur, err := s.root.ReadFile(CurrentBundle, maxStateBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case bytes.Equal(cur, archive):
		return s.clearFailed()
	default:
		if err := s.write(PreviousBundle, cur, atomicfile.ModeSecret); err != nil {
			return err
		}
	}
	if err := s.write(CurrentBundle, archive, atomicfile.ModeSecret); err != nil {
		return err
	}
	return s.clearFailed()
}

func (s *NodeState) clearFailed() error {
	d, err := s.root.OpenDir(path.Dir(LastFailed))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Unlinkat(int(d.Fd()), path.Base(LastFailed), 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

func (s *NodeState) write(p string, data []byte, mode fs.FileMode) error {
	if err := s.root.MkdirAll(path.Dir(p), atomicfile.ModeDirPriv, atomicfile.ModeDirPub); err != nil {
		return err
	}
	return s.root.WriteFile(p, data, mode)
}

// SignatureCheck is the verifier launch reads bundles with: the manifest must be signed by a
// key of trusted or one they endorse, whose key is then stored in signer. Unsigned bundles,
// and any bundle when nothing is trusted, are refused unless insecureUnsigned, and then warn
// says so.
func SignatureCheck(trusted []ed25519.PublicKey, insecureUnsigned bool, signer *ed25519.PublicKey, warn func(string)) bundle.Verifier {
	return func(manifest, sig []byte) error {
		if insecureUnsigned && (sig == nil || len(trusted) == 0) {
			warn("installing a bundle whose origin is not checked (--insecure-unsigned)")
			return nil
		}
		if len(trusted) == 0 {
			return fmt.Errorf("this node trusts no bundle signing key yet: give the cluster's signing/bundle.pub with --trust on the first launch (it is pinned in %s), or --insecure-unsigned", TrustedKeysFile)
		}
		key, err := bundle.VerifySignature(manifest, sig, trusted)
		if errors.Is(err, bundle.ErrUnsigned) {
			return fmt.Errorf("%w; run this hardway's `init` to sign the bundles, or launch with --insecure-unsigned", err)
		}
		if err != nil {
			return err
		}
		*signer = key
		return nil
	}
}
