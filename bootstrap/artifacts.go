package bootstrap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	strictjson "sigs.k8s.io/json"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
)

// ArtifactsIndex records the programs `init --with-binaries` put in the bundles, each by its
// artifact in the cluster directory's store (bundle.ArtifactsDir/sha256/<hex>), so a later run
// without the flag (init, certs renew) keeps them. Removing it builds the bundles without
// programs again.
//
//	{"version": 1, "binaries": {"kubelet": {"sha256": "<64 hex>", "size": 81236120}}}
const ArtifactsIndex = bundle.ArtifactsDir + "/binaries.json"

type artifactsIndex struct {
	Version  int                      `json:"version"`
	Binaries map[string]indexArtifact `json:"binaries"`
}

type indexArtifact struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// ArtifactCopy is a program Apply copies into the cluster directory's artifact store.
type ArtifactCopy struct {
	Program  string // kubelet
	Source   string // the file it is copied from
	Artifact bundle.Artifact
}

// Path is where c goes in the cluster directory.
func (c ArtifactCopy) Path() string {
	return path.Join(bundle.ArtifactsDir, "sha256", c.Artifact.SHA256)
}

// planBinaries returns the programs the bundles carry, by name: those of the directory
// withBinaries when given (hashed; the ones the store lacks are planned as copies, and the
// index as a change), else those the index lists, each of which the store must hold.
func (p *Plan) planBinaries(fsys fs.FS, withBinaries string) (map[string]bundle.Artifact, error) {
	if withBinaries == "" {
		return readBinaries(fsys)
	}
	progs, err := units.BundledPrograms()
	if err != nil {
		return nil, err
	}
	bins := map[string]bundle.Artifact{}
	var names []string
	for _, prog := range progs {
		name := path.Base(prog)
		names = append(names, name)
		src := filepath.Join(withBinaries, name)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		a, err := bundle.HashFile(context.Background(), src)
		if err != nil {
			return nil, fmt.Errorf("--with-binaries: %w", err)
		}
		bins[name] = a
		if !inStore(fsys, a) {
			p.Artifacts = append(p.Artifacts, ArtifactCopy{Program: name, Source: src, Artifact: a})
		}
	}
	if len(bins) == 0 {
		return nil, fmt.Errorf("--with-binaries %s: it holds none of the programs a bundle carries (%s); get them with `hardway binaries fetch --version X.Y.Z` and give the directory it prints", withBinaries, strings.Join(names, ", "))
	}
	idx := artifactsIndex{Version: 1, Binaries: map[string]indexArtifact{}}
	for name, a := range bins {
		idx.Binaries[name] = indexArtifact{SHA256: a.SHA256, Size: a.Size}
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, err
	}
	p.addIfChanged(fsys, pki.Change{File: atomicfile.File{Path: ArtifactsIndex, Data: append(data, '\n'), Mode: pki.ModePublic}, Reason: "the programs the bundles carry"})
	return bins, nil
}

// readBinaries reads the index: the programs the bundles carry (none without an index), each
// of which the store must hold.
func readBinaries(fsys fs.FS) (map[string]bundle.Artifact, error) {
	data, err := fs.ReadFile(fsys, ArtifactsIndex)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var idx artifactsIndex
	strict, err := strictjson.UnmarshalStrict(data, &idx, strictjson.DisallowDuplicateFields, strictjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	if err == nil && idx.Version != 1 {
		err = fmt.Errorf("version %d, not 1", idx.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w; run `hardway init --with-binaries DIR` to write it again, or remove it to build bundles without programs", ArtifactsIndex, err)
	}
	bins := map[string]bundle.Artifact{}
	for _, name := range slices.Sorted(maps.Keys(idx.Binaries)) {
		e := idx.Binaries[name]
		a := bundle.Artifact{SHA256: e.SHA256, Size: e.Size}
		if fi, err := fs.Stat(fsys, storePath(a)); err != nil || fi.Size() != a.Size {
			return nil, fmt.Errorf("%s: %s (%s) is missing or incomplete; run `hardway init --with-binaries DIR` again, or remove %s to build bundles without programs", ArtifactsIndex, storePath(a), name, ArtifactsIndex)
		}
		bins[name] = a
	}
	return bins, nil
}

// storePath is where a is in the cluster directory.
func storePath(a bundle.Artifact) string { return path.Join(bundle.ArtifactsDir, "sha256", a.SHA256) }

// inStore reports whether the cluster directory holds a, whole.
func inStore(fsys fs.FS, a bundle.Artifact) bool { return checkStored(fsys, a) == nil }

// checkStored reads a's file in the cluster directory's store through and checks it is a.
func checkStored(fsys fs.FS, a bundle.Artifact) error {
	f, err := fsys.Open(storePath(a))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != a.Size || got != a.SHA256 {
		return fmt.Errorf("%d bytes of sha256:%.16s…, not %d bytes of %s: altered or written incompletely", n, got, a.Size, a)
	}
	return nil
}

// programFiles are the programs node's units run that the bundle carries: each unit's program
// in units.BinDir that bins has, as an artifact, 0755.
func programFiles(r *units.Rendered, bins map[string]bundle.Artifact) []bundle.File {
	var out []bundle.File
	seen := map[string]bool{}
	for _, u := range r.Units {
		prog := u.Command[0]
		a, ok := bins[path.Base(prog)]
		if !ok || path.Dir(prog) != units.BinDir || seen[prog] {
			continue
		}
		seen[prog] = true
		out = append(out, bundle.File{Path: prog, Kind: bundle.KindBinary, Mode: units.ProgramMode, Artifact: &a})
	}
	return out
}
