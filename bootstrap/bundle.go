package bootstrap

import (
	"github.com/hardway-dev/hardway/internal/atomicfile"

	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/parallel"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units"
	"github.com/hardway-dev/hardway/units/bundle"
)

// BundleDir is where node bundles live in the cluster directory (see package bundle).
const BundleDir = bundle.Dir

// nodeBundle is one node's rendered bundle, before it joins the plan.
type nodeBundle struct {
	files    []bundle.File
	manifest []byte
	sig      []byte
	tgz      []byte
}

// addBundles renders every node's units and packs its bundle: the rendered files plus exactly
// the credentials its units read (their inputs and health probes), no more. read returns the
// final content of a cluster-directory file (what the plan will write, else what is on disk).
// Nodes are rendered in parallel and join the plan in file order.
func (p *Plan) addBundles(fsys fs.FS, c *configs.Cluster, read func(string) ([]byte, error), s *signer, bins map[string]bundle.Artifact) error {
	bundles := make([]nodeBundle, len(c.Nodes))
	errs := make([]error, len(c.Nodes))
	parallel.Do(len(c.Nodes), runtime.GOMAXPROCS(0), func(i int) {
		bundles[i], errs[i] = renderBundle(c, c.Nodes[i], read, s, bins)
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, node := range c.Nodes {
		if err := p.addBundle(fsys, node.Name, bundles[i]); err != nil {
			return err
		}
	}
	return nil
}

// renderBundle renders one node's bundle: composed, signed and packed.
func renderBundle(c *configs.Cluster, node configs.Node, read func(string) ([]byte, error), s *signer, bins map[string]bundle.Artifact) (nodeBundle, error) {
	nb, err := composeBundle(c, node, read, bins)
	if err != nil {
		return nodeBundle{}, err
	}
	out := nodeBundle{files: nb.Files}
	if out.manifest, err = nb.Manifest().Marshal(); err != nil {
		return nodeBundle{}, err
	}
	if out.sig, err = bundle.Sign(out.manifest, s.key, s.endorsements); err != nil {
		return nodeBundle{}, err
	}
	if out.tgz, err = nb.Archive(out.manifest, out.sig); err != nil {
		return nodeBundle{}, fmt.Errorf("bundle for %s: %w", node.Name, err)
	}
	return out, nil
}

// composeBundle is the bundle init writes for node: its rendered units and files, the
// copies of the cluster-directory files they read (read returns a file's content), and the
// programs its units run that bins has (by name), referenced as artifacts; validated.
func composeBundle(c *configs.Cluster, node configs.Node, read func(string) ([]byte, error), bins map[string]bundle.Artifact) (*bundle.Bundle, error) {
	opt, err := renderOptions(c, read)
	if err != nil {
		return nil, err
	}
	r, err := units.RenderNode(c, node, opt)
	if err != nil {
		return nil, err
	}
	files := map[string]bundle.File{}
	for _, f := range r.Files {
		files[f.Path] = f
	}
	for _, f := range programFiles(r, bins) {
		files[f.Path] = f
	}
	// Where each cluster-directory file goes on this node, from the catalogue.
	sources := map[string]pki.NodeFile{}
	for _, nf := range pki.NodeFiles(c, node.Name) {
		sources[nf.NodePath] = nf
	}
	need := func(nodePath string) error {
		nf, ok := sources[nodePath]
		if !ok {
			return nil // a program, a log, a rendered file
		}
		if _, done := files[nodePath]; done {
			return nil
		}
		data, err := read(nf.Source)
		if err != nil {
			return fmt.Errorf("bundle for %s: %s (for %s): %w", node.Name, nf.Source, nodePath, err)
		}
		files[nodePath] = bundle.File{Path: nodePath, Kind: units.NodeFileKind(nf), Mode: nf.Mode, Data: data}
		return nil
	}
	var bunits []bundle.Unit
	for _, u := range r.Units {
		for _, in := range u.Inputs {
			if err := need(in); err != nil {
				return nil, err
			}
		}
		if h := u.Health; h != nil {
			for _, in := range []string{h.CA, h.Cert, h.Key} {
				if err := need(in); err != nil {
					return nil, err
				}
			}
		}
		bunits = append(bunits, bundle.Unit{Name: u.Name, Inputs: u.Inputs, After: u.After, Health: u.Health, Version: u.Version})
	}
	// launch applies the bootstrap RBAC from the first control-plane node, with the
	// break-glass credentials; no other node carries them.
	if cps := c.NodesWith(configs.RoleControlPlane); len(cps) > 0 && cps[0].Name == node.Name {
		if err := need(units.SuperAdminKubeconfig); err != nil {
			return nil, err
		}
	}
	all := make([]bundle.File, 0, len(files))
	for _, f := range files {
		all = append(all, f)
	}
	nb := bundle.New(node.Name, all, bunits)
	if err := nb.Validate(); err != nil {
		return nil, err
	}
	return nb, nil
}

// RenderOptions are the options units.RenderNode renders the cluster's nodes with: its
// implementations, and the cluster directory fsys's files its extra files copy.
func RenderOptions(fsys fs.FS, c *configs.Cluster) (units.Options, error) {
	return renderOptions(c, func(rel string) ([]byte, error) { return fs.ReadFile(fsys, rel) })
}

func renderOptions(c *configs.Cluster, read func(string) ([]byte, error)) (units.Options, error) {
	opt := units.OptionsFor(c)
	for _, src := range units.ExtraSources(c) {
		if opt.Sources == nil {
			opt.Sources = map[string][]byte{}
		}
		data, err := read(src)
		if err != nil {
			return opt, fmt.Errorf("an extra file of the cluster file (extraFiles[].source): %w; put it in the cluster directory's %s/ folder", err, configs.ExtraSourceDir)
		}
		opt.Sources[src] = data
	}
	return opt, nil
}

func (p *Plan) addBundle(fsys fs.FS, node string, b nodeBundle) error {
	if err := p.addNodeChange(fsys, node, b.manifest); err != nil {
		return err
	}
	reason := "bundle for " + node
	files := b.clusterFiles(node)
	edited := map[string]HandEdit{}
	for _, h := range handEdits(fsys, node, files) {
		edited[h.Path] = h
		p.HandEdits = append(p.HandEdits, h)
	}
	for _, f := range files {
		p.managed = append(p.managed, pki.ManagedFile{Path: f.Path, Mode: f.Mode})
		ch := pki.Change{File: f, Reason: reason, ID: "bundle/" + node}
		if _, ok := edited[f.Path]; ok {
			ch.Reason = reason + "; hand-edited, your copy goes to backup/"
		}
		p.addIfChanged(fsys, ch)
	}
	return nil
}

// NodeChange is what a run changes in one node's bundle, and so what 'hardway launch' will do
// there once the node has the new bundle.
type NodeChange struct {
	Node    string   `json:"node"`
	Archive string   `json:"archive"` // the bundle to copy to the node, relative to the cluster directory
	New     bool     `json:"new,omitempty"`
	Files   []string `json:"files"`             // node paths that change
	Start   []string `json:"start,omitempty"`   // units launch starts (new to the node)
	Restart []string `json:"restart,omitempty"` // units launch restarts
}

// addNodeChange records what node's new manifest changes against the one in fsys, if anything.
func (p *Plan) addNodeChange(fsys fs.FS, node string, manifest []byte) error {
	m, err := bundle.DecodeManifest(manifest)
	if err != nil {
		return fmt.Errorf("bundle for %s: %w", node, err)
	}
	var old *bundle.Manifest
	if data, err := fs.ReadFile(fsys, path.Join(BundleDir, node, bundle.ManifestName)); err == nil {
		// One that does not decode is replaced as a whole: every unit counts as new.
		old, _ = bundle.DecodeManifest(data)
	}
	files, start, restart := m.Diff(old)
	if len(files) == 0 && len(start) == 0 && len(restart) == 0 {
		return nil
	}
	p.Nodes = append(p.Nodes, NodeChange{Node: node, Archive: path.Join(BundleDir, node) + ".tar.gz", New: old == nil, Files: files, Start: start, Restart: restart})
	return nil
}

// clusterFiles are the files of node's bundle in the cluster directory: its directory
// (nodes/<node>/, the node's paths beneath it beside manifest.json and its signature) and its
// archive (nodes/<node>.tar.gz). Data is nil where b has none (a bundle composed to check one).
func (b nodeBundle) clusterFiles(node string) []atomicfile.File {
	base := path.Join(BundleDir, node)
	var out []atomicfile.File
	for _, f := range b.files {
		if f.Kind == bundle.KindDirectory || f.Artifact != nil {
			continue // the manifest lists it; there is nothing to copy (an artifact is in the store)
		}
		out = append(out, atomicfile.File{Path: base + f.Path, Data: f.Data, Mode: f.Mode})
	}
	return append(out,
		atomicfile.File{Path: base + "/" + bundle.ManifestName, Data: b.manifest, Mode: pki.ModePublic},
		atomicfile.File{Path: base + "/" + bundle.SignatureName, Data: b.sig, Mode: pki.ModePublic},
		atomicfile.File{Path: base + ".tar.gz", Data: b.tgz, Mode: pki.ModeSecret})
}
