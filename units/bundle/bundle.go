package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// File is one entry of a bundle with its content: a file, or a directory (Data nil).
type File struct {
	Path  string // absolute on the node: /etc/kubernetes/pki/ca.crt
	Kind  Kind
	Mode  fs.FileMode
	Owner string // "user:group"; "" is DefaultOwner
	Data  []byte
	// Artifact, when set, is the content of a binary the bundle references instead of
	// carrying it (Data is nil): the artifact of the bundle's Store.
	Artifact *Artifact
}

// owner is f's owner with the default applied.
func (f File) owner() string {
	if f.Owner == "" {
		return DefaultOwner
	}
	return f.Owner
}

// Entry is f's manifest entry.
func (f File) Entry() Entry {
	e := Entry{Path: f.Path, Kind: f.Kind, Mode: fmt.Sprintf("%04o", f.Mode.Perm()), Owner: f.owner()}
	switch {
	case f.Artifact != nil:
		e.Size, e.SHA256, e.Artifact = f.Artifact.Size, f.Artifact.SHA256, true
	case f.Kind != KindDirectory:
		sum := sha256.Sum256(f.Data)
		e.Size, e.SHA256 = int64(len(f.Data)), hex.EncodeToString(sum[:])
	}
	return e
}

// Bundle is everything one node needs: its files and the units to run.
type Bundle struct {
	Node  string
	Files []File // sorted by path
	Units []Unit // in start order
	// Artifacts is where the content of the artifacts the bundle references is (see
	// Artifact): set by the reader, nil when the bundle references none or none was found.
	Artifacts *Store
	// RawManifest and Signature are the bytes a reader read (manifest.json and
	// manifest.json.sig, nil when unsigned), so the bundle can be kept exactly as it came.
	RawManifest, Signature []byte
}

// New returns node's bundle of files (sorted here by path) and units.
func New(node string, files []File, units []Unit) *Bundle {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return &Bundle{Node: node, Files: files, Units: units}
}

// Manifest is b's manifest.json.
func (b *Bundle) Manifest() *Manifest {
	m := &Manifest{Version: FormatVersion, Node: b.Node, Files: make([]Entry, len(b.Files)), Units: make([]Unit, len(b.Units))}
	for i, f := range b.Files {
		m.Files[i] = f.Entry()
	}
	for i, u := range b.Units {
		u.Inputs, u.After = nonNil(u.Inputs), nonNil(u.After)
		m.Units[i] = u
	}
	return m
}

// Validate checks b as a reader would check its manifest.
func (b *Bundle) Validate() error {
	return b.Manifest().problems().err(fmt.Sprintf("bundle for node %q", b.Node))
}

// File returns the bundle's entry at node path p.
func (b *Bundle) File(p string) (File, bool) {
	for _, f := range b.Files {
		if f.Path == p {
			return f, true
		}
	}
	return File{}, false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Dir is where node bundles live in a cluster directory: Dir/<node>/ mirrors the node's
// filesystem beside its manifest.json, Dir/<node>.tar.gz packs both.
const Dir = "nodes"

// NodeDir is node's bundle directory inside the directory dir that holds Dir.
func NodeDir(dir, node string) string { return filepath.Join(dir, Dir, node) }

// ArchivePath is node's bundle archive inside the directory dir that holds Dir.
func ArchivePath(dir, node string) string { return filepath.Join(dir, Dir, node+".tar.gz") }
