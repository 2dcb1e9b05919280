package bundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hardway-dev/hardway/internal/rootfs"
)

// Limits on what a reader takes in: a bundle holds certificates, keys, configs and units,
// kilobytes each.
const (
	MaxManifestBytes = 16 << 20
	MaxArchiveBytes  = 64 << 20
)

// Verifier checks a detached signature of the manifest's bytes before anything is decoded;
// signature is nil when the bundle has none.
type Verifier func(manifest, signature []byte) error

// Options steer reading a bundle.
type Options struct {
	// Verify, when set, is given the manifest's bytes and its signature before they are
	// parsed; its error refuses the bundle.
	Verify Verifier
	// Policy, when set, is what the bundle may install; anything else refuses it.
	Policy *Policy
	// Artifacts is the artifact store of the bundle's artifacts (Bundle.Artifacts); when
	// empty, the one beside it: DIR/artifacts for a cluster directory DIR, and for an archive
	// the artifacts/ directory beside it, else the cluster directory's when the archive is in
	// its nodes/.
	Artifacts string
}

// Open reads node's bundle from location, which is one of: the node's archive (<node>.tar.gz,
// as copied to the node), the node's bundle directory (holding manifest.json, named after the
// node under a nodes/ directory), or a directory holding nodes/<node>/ or nodes/<node>.tar.gz
// (a cluster directory). Every file is checked against the manifest's size and sha256.
func Open(ctx context.Context, location, node string, opt Options) (*Bundle, error) {
	st, err := os.Stat(location)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w; give the node's <node>.tar.gz or the directory holding %s/%s/", location, err, Dir, node)
	}
	if !st.IsDir() {
		return ReadArchive(ctx, location, node, opt)
	}
	if _, err := os.Stat(filepath.Join(location, ManifestName)); err == nil {
		nodes := filepath.Dir(filepath.Clean(location))
		if filepath.Base(filepath.Clean(location)) != node || filepath.Base(nodes) != Dir {
			return nil, fmt.Errorf("bundle %s: a node bundle, but not %s/%s; give the directory that holds %s/%s/", location, Dir, node, Dir, node)
		}
		location = filepath.Dir(nodes)
	}
	if _, err := os.Stat(NodeDir(location, node)); err != nil {
		if _, aerr := os.Stat(ArchivePath(location, node)); aerr == nil {
			return ReadArchive(ctx, ArchivePath(location, node), node, opt)
		}
	}
	return ReadDir(ctx, location, node, opt)
}

// ReadDir reads node's bundle from dir/nodes/<node>/: its manifest, read strictly, and every
// file it lists, each a regular file matching its size and sha256, reached without following a
// link (internal/rootfs). Errors name the manifest file and the field (files[3].mode).
func ReadDir(ctx context.Context, dir, node string, opt Options) (*Bundle, error) {
	mpath := filepath.Join(NodeDir(dir, node), ManifestName)
	root, err := rootfs.Open(NodeDir(dir, node))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no bundle manifest for node %q; run `hardway init` to write the bundles, and check --bundle and --node", mpath, node)
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := root.ReadFile(ManifestName, MaxManifestBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no bundle manifest for node %q; run `hardway init` to write the bundles, and check --bundle and --node", mpath, node)
	}
	if err != nil {
		return nil, err
	}
	sig, err := root.ReadFile(SignatureName, MaxManifestBytes)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	m, err := verifyAndDecode(mpath, data, sig, node, opt)
	if err != nil {
		return nil, err
	}
	if opt.Artifacts == "" {
		opt.Artifacts = filepath.Join(dir, ArtifactsDir)
	}
	return files(ctx, mpath, m, data, sig, opt, func(e Entry) ([]byte, error) {
		return root.ReadFile(e.Path, e.Size)
	})
}

// ReadArchive reads node's bundle from the archive at p (<node>.tar.gz as `hardway init` writes
// it: manifest.json first, its signature next if any, then the node's entries), with the same
// checks as ReadDir. Nothing is unpacked to disk; an entry the manifest does not list is refused.
func ReadArchive(ctx context.Context, p, node string, opt Options) (*Bundle, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no bundle archive; run `hardway init` to write the bundles, and check --bundle", p)
		}
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a gzip archive: %w", p, err)
	}
	tr := tar.NewReader(gz)
	var manifest, sig []byte
	var m *Manifest            // decoded once verified: every later entry must be listed in it
	listed := map[string]int{} // path -> index in m.Files, of the files not read yet
	entries := map[string][]byte{}
	var total int64
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading the archive: %w", p, err)
		}
		name := "/" + strings.TrimSuffix(h.Name, "/")
		// The signature is checked, and the manifest decoded, as soon as they are known: before
		// any file is looked at, so a file the manifest does not list is refused on arrival.
		if i >= 1 && m == nil && (i > 1 || h.Name != SignatureName || h.Typeflag != tar.TypeReg) {
			if m, err = verifyAndDecode(p, manifest, sig, node, opt); err != nil {
				return nil, err
			}
			for j, e := range m.Files {
				if e.Kind != KindDirectory && !e.Artifact {
					listed[e.Path] = j
				}
			}
		}
		switch {
		case len(h.Name) > maxEntryName || path.Clean(name) != name:
			return nil, fmt.Errorf("%s: entry %.100q: not a clean path", p, h.Name)
		case h.Typeflag == tar.TypeDir:
			if m != nil && i > 4*len(m.Files)+64 { // parents and directories of the listed files, and no more
				return nil, fmt.Errorf("%s: more directory entries than its manifest accounts for", p)
			}
			continue
		case h.Typeflag != tar.TypeReg:
			return nil, fmt.Errorf("%s: entry %s: only regular files and directories belong in a bundle (type %q)", p, h.Name, h.Typeflag)
		}
		limit := int64(MaxManifestBytes)
		if m != nil {
			j, ok := listed[name]
			if !ok {
				return nil, fmt.Errorf("%s: entry %s is not in its manifest, or appears twice", p, h.Name)
			}
			delete(listed, name)
			if limit = m.Files[j].Size; h.Size != limit {
				return nil, fmt.Errorf("%s: entry %s: %d bytes, the manifest says %d", p, h.Name, h.Size, limit)
			}
		}
		if h.Size > limit {
			return nil, fmt.Errorf("%s: entry %s: %d bytes, more than %d", p, h.Name, h.Size, limit)
		}
		if total += h.Size; total > MaxArchiveBytes {
			return nil, fmt.Errorf("%s: more than %d bytes of files; not a node bundle", p, MaxArchiveBytes)
		}
		data, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, fmt.Errorf("%s: entry %s: %w", p, h.Name, err)
		}
		switch {
		case i == 0 && h.Name != ManifestName:
			return nil, fmt.Errorf("%s: the first entry is %s, not %s; is it a node bundle written by `hardway init`?", p, h.Name, ManifestName)
		case i == 0:
			manifest = data
		case i == 1 && h.Name == SignatureName:
			sig = data
		default:
			entries[name] = data
		}
	}
	if manifest == nil {
		return nil, fmt.Errorf("%s: no %s in the archive; is it a node bundle written by `hardway init`?", p, ManifestName)
	}
	if m == nil {
		if m, err = verifyAndDecode(p, manifest, sig, node, opt); err != nil {
			return nil, err
		}
	}
	if opt.Artifacts == "" {
		opt.Artifacts = archiveArtifacts(p)
	}
	return files(ctx, p+":"+ManifestName, m, manifest, sig, opt, func(e Entry) ([]byte, error) {
		data, ok := entries[e.Path]
		if !ok {
			return nil, fmt.Errorf("not in the archive %s", p)
		}
		return data, nil
	})
}

// archiveArtifacts is the artifact store of the archive at p: artifacts/ beside it, else,
// when there is none and p is in a cluster directory's nodes/, the cluster directory's.
func archiveArtifacts(p string) string {
	dir := filepath.Dir(p)
	beside := filepath.Join(dir, ArtifactsDir)
	if _, err := os.Lstat(beside); err != nil && filepath.Base(dir) == Dir {
		return filepath.Join(filepath.Dir(dir), ArtifactsDir)
	}
	return beside
}

// maxEntryName bounds an archive entry's name (PATH_MAX).
const maxEntryName = 4096

// verifyAndDecode verifies the manifest's signature and decodes it for node.
func verifyAndDecode(where string, manifest, sig []byte, node string, opt Options) (*Manifest, error) {
	mpath := where
	if !strings.HasSuffix(mpath, ManifestName) {
		mpath += ":" + ManifestName
	}
	if err := verify(mpath, manifest, sig, opt); err != nil {
		return nil, err
	}
	m, err := DecodeManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mpath, err)
	}
	if m.Node != node {
		return nil, fmt.Errorf("%s: node: the manifest is for node %q, not %q; check --node and --bundle", mpath, m.Node, node)
	}
	var total int64
	for _, e := range m.Files {
		if !e.Artifact {
			total += e.Size
		}
	}
	if total > MaxArchiveBytes {
		return nil, fmt.Errorf("%s: its files add up to %d bytes, more than the %d a node bundle may hold", mpath, total, MaxArchiveBytes)
	}
	return m, nil
}

// verify runs the caller's verifier, if any, on the manifest's bytes and its signature.
func verify(where string, manifest, sig []byte, opt Options) error {
	if opt.Verify == nil {
		return nil
	}
	if err := opt.Verify(manifest, sig); err != nil {
		if !strings.HasSuffix(where, ManifestName) {
			where += ":" + ManifestName
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// files reads each file m lists with read, checking size and sha256, and applies the policy.
func files(ctx context.Context, mpath string, m *Manifest, manifest, sig []byte, opt Options, read func(Entry) ([]byte, error)) (*Bundle, error) {
	b := &Bundle{Node: m.Node, Units: m.Units, Files: make([]File, 0, len(m.Files)), RawManifest: manifest, Signature: sig}
	var ps problems
	for i, e := range m.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := File{Path: e.Path, Kind: e.Kind, Mode: e.Perm(), Owner: e.Owner}
		if e.Artifact {
			f.Artifact = &Artifact{SHA256: e.SHA256, Size: e.Size}
			b.Artifacts = &Store{Dir: opt.Artifacts}
		} else if e.Kind != KindDirectory {
			data, err := read(e)
			if err != nil {
				ps.add(fmt.Sprintf("files[%d] (%s)", i, e.Path), "%v", err)
				continue
			}
			sum := sha256.Sum256(data)
			if int64(len(data)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
				ps.add(fmt.Sprintf("files[%d].sha256 (%s)", i, e.Path), "does not match the file: the bundle was modified or copied incompletely")
				continue
			}
			f.Data = data
		}
		b.Files = append(b.Files, f)
	}
	if err := ps.err(mpath); err != nil {
		return nil, err
	}
	b.Files = New(b.Node, b.Files, nil).Files
	if opt.Policy != nil {
		if err := opt.Policy.Check(b); err != nil {
			return nil, fmt.Errorf("%s: %w", mpath, err)
		}
	}
	return b, nil
}
