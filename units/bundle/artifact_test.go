package bundle_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/units/bundle"
)

// An artifact is listed in the manifest with its hash, kept out of the archive and the size
// cap, and read from the store beside the archive; only a binary may be one.
func TestArtifacts(t *testing.T) {
	dir := t.TempDir()
	prog := []byte("#!/bin/sh\necho kubelet\n")
	src := filepath.Join(dir, "kubelet")
	os.WriteFile(src, prog, 0o755)
	a, err := bundle.HashFile(ctx, src)
	sum := sha256.Sum256(prog)
	if err != nil || a.SHA256 != hex.EncodeToString(sum[:]) || a.Size != int64(len(prog)) {
		t.Fatalf("HashFile: %+v %v", a, err)
	}
	big := bundle.Artifact{SHA256: strings.Repeat("ab", 32), Size: 200 << 20} // past the archive cap
	b := sample()
	b.Files = bundle.New("w1", append(b.Files,
		bundle.File{Path: "/usr/local/bin/kubelet", Kind: bundle.KindBinary, Mode: 0o755, Artifact: &a},
		bundle.File{Path: "/usr/local/bin/kube-proxy", Kind: bundle.KindBinary, Mode: 0o755, Artifact: &big},
	), nil).Files
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	manifest, _ := b.Manifest().Marshal()
	archive, err := b.Archive(manifest, nil)
	if err != nil {
		t.Fatal(err)
	}
	ship := t.TempDir()
	os.WriteFile(filepath.Join(ship, "w1.tar.gz"), archive, 0o600)
	store := &bundle.Store{Dir: filepath.Join(ship, bundle.ArtifactsDir)}
	if wrote, err := store.Add(ctx, src, a); err != nil || !wrote {
		t.Fatalf("Add: %v %v", wrote, err)
	}
	if wrote, err := store.Add(ctx, src, a); err != nil || wrote {
		t.Errorf("Add again: %v %v", wrote, err)
	}
	got, err := bundle.ReadArchive(ctx, filepath.Join(ship, "w1.tar.gz"), "w1", bundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := got.File("/usr/local/bin/kubelet"); !ok || f.Artifact == nil || *f.Artifact != a || f.Data != nil {
		t.Fatalf("read back: %+v", f)
	}
	if got.Artifacts == nil || got.Artifacts.Dir != store.Dir {
		t.Errorf("store %+v, want %s", got.Artifacts, store.Dir)
	}
	if err := got.Artifacts.Check(ctx, a); err != nil {
		t.Error(err)
	}
	if err := got.Artifacts.Check(ctx, big); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing artifact: %v", err)
	}
	// Changed in the store after it was added: refused.
	os.WriteFile(store.Path(a), []byte(strings.ToUpper(string(prog))), 0o644)
	if err := store.Check(ctx, a); !errors.Is(err, bundle.ErrArtifactMismatch) {
		t.Errorf("an altered artifact: %v", err)
	}

	// Only a binary may be an artifact.
	m := b.Manifest()
	for i := range m.Files {
		if m.Files[i].Path == "/etc/kubernetes/pki/ca.crt" {
			m.Files[i].Artifact = true
		}
	}
	data, _ := m.Marshal()
	if _, err := bundle.DecodeManifest(data); err == nil || !strings.Contains(err.Error(), "only a binary may be an artifact") {
		t.Errorf("a certificate as an artifact: %v", err)
	}
}
