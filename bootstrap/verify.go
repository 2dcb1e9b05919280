package bootstrap

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/fslock"
	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
)

// fixInit is the fix of every problem the next init repairs.
const fixInit = "run hardway init"

// LockShared takes the lock of a run that only reads the cluster directory dir: shared with
// other readers, waiting (until ctx ends) while a run that writes holds it, so a reader never
// sees a renewal half done. waiting is called once if it has to wait.
func LockShared(ctx context.Context, dir string, waiting func()) (*fslock.Lock, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	return fslock.LockShared(ctx, filepath.Join(dir, LockFile), waiting)
}

// Verify checks the cluster directory dir for cluster c: everything pki.Verify checks (chains,
// key pairs, subjects, SANs, usages, kubeconfigs); that it holds no link and no temporary file a
// killed run left; that no file or folder it keeps has a mode wider than init writes; and every
// node's bundle, its folder and its archive, each read through units/bundle (which checks the
// manifest's checksums), against what init would write now from the cluster directory's files:
// the same CA, leaf, key and kubeconfig bytes, the same units; a file of a bundle folder that
// differs from what hardway recorded writing there is reported as hand-edited (see HandEdit).
// Each problem names the file; a
// bundle's, the node too. Each bundle's signature is checked against signing/bundle.pub. Take the directory's lock (LockShared) first: a run that writes
// leaves it inconsistent until it ends.
func Verify(ctx context.Context, dir string, c *configs.Cluster, now time.Time) problem.List {
	fsys := os.DirFS(dir)
	out := pki.Verify(fsys, c, now)
	t, err := inspectTree(fsys)
	if err != nil {
		return append(out, problem.Errorf(".", "", "%v", err))
	}
	for _, l := range t.links {
		out = append(out, problem.Errorf(l.Path, "replace it with the file or folder it points to",
			"a symbolic link (to %s): hardway never follows a link inside the cluster directory", l.Target))
	}
	for _, p := range t.temps {
		out = append(out, problem.Errorf(p, fixInit, "a temporary file a killed run left behind (it may hold a key)"))
	}
	managed := append(pki.Managed(c), ownFiles...)
	// The programs the bundles reference, each whole in the store.
	if bins, err := readBinaries(fsys); err == nil {
		for _, name := range slices.Sorted(maps.Keys(bins)) {
			if err := checkStored(fsys, bins[name]); err != nil {
				out = append(out, problem.Errorf(storePath(bins[name]), "run `hardway init --with-binaries DIR` again", "%s: %v", name, err))
			}
		}
	}
	for _, node := range c.Nodes {
		ps, files := verifyBundle(ctx, dir, fsys, c, node)
		out = append(out, ps...)
		managed = append(managed, files...)
	}
	ds, err := drifted(fsys, t, managed, nil)
	if err != nil {
		out = append(out, problem.Errorf(".", "", "%v", err))
	}
	for _, d := range ds {
		out = append(out, problem.Errorf(d.Path, fixInit+" (it restores the mode)", "%s", d))
	}
	return out
}

// verifyBundle checks node's bundle folder and archive against the bundle init would compose
// now, and returns the bundle's files in the cluster directory with their modes.
func verifyBundle(ctx context.Context, dir string, fsys fs.FS, c *configs.Cluster, node configs.Node) (problem.List, []pki.ManagedFile) {
	base := path.Join(BundleDir, node.Name)
	bins, err := readBinaries(fsys)
	if err != nil {
		return problem.List{problem.Errorf(ArtifactsIndex, fixInit, "%v", err)}, nil
	}
	want, err := composeBundle(c, node, func(rel string) ([]byte, error) { return fs.ReadFile(fsys, rel) }, bins)
	if err != nil {
		return problem.List{problem.Errorf(base, fixInit, "the bundle for %s cannot be checked: %v", node.Name, err)}, nil
	}
	var managed []pki.ManagedFile
	files := (nodeBundle{files: want.Files}).clusterFiles(node.Name)
	for _, f := range files {
		managed = append(managed, pki.ManagedFile{Path: f.Path, Mode: f.Mode})
	}
	var out problem.List
	for _, h := range handEdits(fsys, node.Name, files) {
		out = append(out, problem.Errorf(h.Path, "say the change in the cluster file (extraArgs, extraFiles, featureGates, nodes[].labels, nodes[].taints) and run hardway init, which replaces the file and keeps your copy in backup/",
			"hand-edited: differs from what hardway wrote on %s and from what init renders now", h.Written.UTC().Format("2006-01-02 15:04 MST")))
	}
	manifest, err := want.Manifest().Marshal()
	if err != nil {
		return problem.List{problem.Errorf(base, "", "%v", err)}, managed
	}
	sources := map[string]string{}
	for _, nf := range pki.NodeFiles(c, node.Name) {
		sources[nf.NodePath] = nf.Source
	}
	cmp := bundleCheck{node: node.Name, want: want, manifest: manifest, sources: sources}
	// Each bundle must be signed by the cluster's current signing key, as nodes will check.
	opts := bundle.Options{}
	if data, err := fs.ReadFile(fsys, SigningPub); err != nil {
		out = append(out, problem.Errorf(SigningPub, fixInit, "the bundle signing key: %v", err))
	} else if keys, err := bundle.ParsePublicKeys(data); err != nil {
		out = append(out, problem.Errorf(SigningPub, fixInit, "the bundle signing key: %v", err))
	} else {
		opts.Verify = func(manifest, sig []byte) error {
			_, err := bundle.VerifySignature(manifest, sig, keys[:1])
			return err
		}
	}
	if got, err := bundle.ReadDir(ctx, dir, node.Name, opts); err != nil {
		out = append(out, problem.Errorf(base+"/"+bundle.ManifestName, fixInit, "the bundle for %s: %v", node.Name, err))
	} else {
		out = append(out, cmp.against(got, func(p string) string { return base + p }, base+"/"+bundle.ManifestName)...)
	}
	archive := base + ".tar.gz"
	if got, err := bundle.ReadArchive(ctx, filepath.Join(dir, filepath.FromSlash(archive)), node.Name, opts); err != nil {
		out = append(out, problem.Errorf(archive, fixInit, "the bundle for %s: %v", node.Name, err))
	} else {
		out = append(out, cmp.against(got, func(string) string { return archive }, archive)...)
	}
	return out, managed
}

// bundleCheck compares bundles read from the cluster directory with the one init would write.
type bundleCheck struct {
	node     string
	want     *bundle.Bundle
	manifest []byte            // want's manifest.json
	sources  map[string]string // node path -> the cluster-directory file it copies
}

// against compares got with the wanted bundle; where says where a node path of got is in the
// cluster directory, manifest where got's manifest is.
func (b bundleCheck) against(got *bundle.Bundle, where func(nodePath string) string, manifest string) problem.List {
	var out problem.List
	add := func(nodePath, format string, a ...any) {
		out = append(out, problem.Errorf(where(nodePath), fixInit, "the bundle for %s: %s: %s", b.node, nodePath, fmt.Sprintf(format, a...)))
	}
	for _, w := range b.want.Files {
		g, ok := got.File(w.Path)
		switch {
		case !ok:
			add(w.Path, "missing (init writes it)")
			continue
		case g.Kind != w.Kind || g.Mode != w.Mode:
			add(w.Path, "a %s %04o, init writes a %s %04o", g.Kind, g.Mode, w.Kind, w.Mode)
		}
		if (g.Artifact == nil) != (w.Artifact == nil) || g.Artifact != nil && *g.Artifact != *w.Artifact {
			add(w.Path, "not the program %s records", ArtifactsIndex)
			continue
		}
		if bytes.Equal(g.Data, w.Data) {
			continue
		}
		if src, ok := b.sources[w.Path]; ok {
			add(w.Path, "not the same as %s (a stale copy: a run was interrupted?)", src)
		} else {
			add(w.Path, "not what init renders for the node now")
		}
	}
	for _, g := range got.Files {
		if _, ok := b.want.File(g.Path); !ok {
			add(g.Path, "not a file init writes for the node")
		}
	}
	if len(out) == 0 && !bytes.Equal(got.RawManifest, b.manifest) {
		out = append(out, problem.Errorf(manifest, fixInit, "the bundle for %s: %s is not what init renders for the node now (its units differ)", b.node, bundle.ManifestName))
	}
	return out
}
