package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/rootfs"
)

// ArtifactsDir is where a cluster directory keeps the artifacts its bundles reference, each
// once, by content: ArtifactsDir/sha256/<64 hex>. A node's copy sits beside its archive
// (<node>.tar.gz and artifacts/ in one directory).
const ArtifactsDir = "artifacts"

// Artifact is a file a bundle references by its hash instead of carrying it: a program of a
// hundred megabytes, the same on every node, kept once in a Store. The manifest lists it like
// any entry, with "artifact": true; its signature covers the hash.
type Artifact struct {
	SHA256 string // 64 lowercase hex digits
	Size   int64
}

func (a Artifact) String() string { return "sha256:" + a.SHA256 }

// name is a's path inside a store.
func (a Artifact) name() string { return "sha256/" + a.SHA256 }

// Store is a directory of artifacts by content (sha256/<hex>), read without following a link.
type Store struct{ Dir string }

// StoreFor is the artifact store of the cluster directory dir.
func StoreFor(dir string) *Store { return &Store{Dir: filepath.Join(dir, ArtifactsDir)} }

// Path is where a is kept in s.
func (s *Store) Path(a Artifact) string { return filepath.Join(s.Dir, filepath.FromSlash(a.name())) }

// Open opens a's file in s for streaming: a regular file of a's size, reached without
// following a link. Its content is checked as it is read (Verifying).
func (s *Store) Open(a Artifact) (*os.File, error) {
	if !hexSHA256.MatchString(a.SHA256) {
		return nil, fmt.Errorf("artifact %q: not a sha256", a.SHA256)
	}
	root, err := rootfs.Open(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: no artifact store at %s (%w); copy the cluster directory's %s/ beside the bundle, or give it with --artifacts", a, s.Dir, err, ArtifactsDir)
	}
	defer root.Close()
	f, err := root.Open(a.name())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("artifact %s: %s does not exist; copy it from the cluster directory's %s/", a, s.Path(a), ArtifactsDir)
	}
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", a, err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != a.Size {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%d bytes, the manifest says %d", fi.Size(), a.Size)
		}
		return nil, fmt.Errorf("artifact %s: %s: %v: it was altered or copied incompletely; copy it again from the cluster directory's %s/", a, s.Path(a), err, ArtifactsDir)
	}
	return f, nil
}

// Check reads a's file in s through and reports whether it is a: every byte, no more.
func (s *Store) Check(ctx context.Context, a Artifact) error {
	f, err := s.Open(a)
	if err != nil {
		return err
	}
	defer f.Close()
	r, check := Verifying(contextReader{ctx, f}, a, s.Path(a))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("artifact %s: %s: %w", a, s.Path(a), err)
	}
	return check()
}

// Add copies the file src into s as a, streamed and checked on the way (a file that changed
// since it was hashed is refused, and nothing is left of it), unless s already holds a whole.
// It reports whether it wrote.
func (s *Store) Add(ctx context.Context, src string, a Artifact) (bool, error) {
	if s.Check(ctx, a) == nil {
		return false, nil
	}
	dir := filepath.Dir(s.Path(a))
	if err := atomicfile.MkdirAll(dir, atomicfile.ModeDirPub); err != nil {
		return false, err
	}
	f, err := os.Open(src)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r, check := Verifying(contextReader{ctx, f}, a, src)
	if _, err := atomicfile.WriteStream(s.Path(a), r, atomicfile.ModePublic, check); err != nil {
		return false, err
	}
	return true, nil
}

// HashFile returns the artifact the regular file p would be, read as a stream.
func HashFile(ctx context.Context, p string) (Artifact, error) {
	f, err := os.Open(p)
	if err != nil {
		return Artifact{}, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return Artifact{}, fmt.Errorf("%s: not a regular file", p)
	}
	h := sha256.New()
	n, err := io.Copy(h, contextReader{ctx, f})
	if err != nil {
		return Artifact{}, fmt.Errorf("%s: %w", p, err)
	}
	return Artifact{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// ErrArtifactMismatch is content that is not the artifact it should be.
var ErrArtifactMismatch = errors.New("not the artifact the manifest names")

// Verifying returns a reader of r that hashes what passes through, and the check to run once
// it is read to the end (a commit check of internal/atomicfile.WriteStream): the content must
// be a, byte for byte. where names r's file in the error.
func Verifying(r io.Reader, a Artifact, where string) (io.Reader, func() error) {
	v := &verifier{h: sha256.New()}
	return io.TeeReader(io.LimitReader(r, a.Size+1), v), func() error {
		got := hex.EncodeToString(v.h.Sum(nil))
		if v.n != a.Size || got != a.SHA256 {
			return fmt.Errorf("%s: %w: %d bytes of sha256:%.16s…, the signed manifest says %d bytes of %.23s…: it was altered or copied incompletely; nothing was installed from it; copy it again from the cluster directory's %s/", where, ErrArtifactMismatch, v.n, got, a.Size, a, ArtifactsDir)
		}
		return nil
	}
}

type verifier struct {
	h hash.Hash
	n int64
}

func (v *verifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	return v.h.Write(p)
}

// contextReader stops a long read when ctx ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
