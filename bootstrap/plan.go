package bootstrap

import (
	"github.com/hardway-dev/hardway/internal/atomicfile"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/pki"
)

// ClusterFile is where init keeps the resolved cluster model, so later commands that work on a
// cluster directory (certs, units, launch) need no --config.
const ClusterFile = "cluster.yaml"

// Plan is every file a run would write, in write order.
type Plan struct {
	Changes   []pki.Change
	Unchanged int
	Notes     []string
	// Artifacts are the programs Apply copies into the artifact store (init --with-binaries),
	// before it writes anything else, so no manifest names an artifact the store lacks.
	Artifacts []ArtifactCopy
	// HandEdits are the files of the bundle folders that someone changed since hardway wrote
	// them; the plan replaces them, and Apply keeps the edited copies in its backup folder.
	HandEdits []HandEdit
	// Nodes are the nodes whose bundles the plan changes, in the cluster file's order, with
	// what launch will start and restart there.
	Nodes []NodeChange
	// managed is every file the plan keeps, with its mode, written or not.
	managed []pki.ManagedFile
}

// Empty reports whether the plan writes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 && len(p.Artifacts) == 0 }

// Options for Build.
type Options struct {
	Now      time.Time
	Rand     io.Reader
	Force    bool
	Renew    map[string]bool
	NewKey   bool
	Workers  int
	Progress func(done, total int)
	// RotateSigningKey replaces the bundle signing key with a new one that the old one endorses,
	// so nodes that trust the old key accept bundles signed by the new.
	RotateSigningKey bool
	// WithBinaries is a directory of programs the bundles carry (kube-apiserver, kubelet ...
	// by those names): each is kept once in the artifact store and referenced by hash from the
	// bundles of the nodes whose units run it. Empty keeps what ArtifactsIndex records.
	WithBinaries string
}

// Build plans what the cluster directory fsys needs for cluster c.
//
// A cluster directory that holds a symbolic link is refused. The plan restores the modes of the
// files and folders it keeps that drifted wider (see restoreModes), and ends with what the PKI
// plan says must come last (pki.Plan.Finally).
func Build(fsys fs.FS, c *configs.Cluster, opt Options) (*Plan, error) {
	t, err := inspectTree(fsys)
	if err != nil {
		return nil, err
	}
	if err := t.linksError(); err != nil {
		return nil, err
	}
	pp, err := pki.Reconcile(fsys, c, pki.Options{
		Now: opt.Now, Force: opt.Force, Renew: opt.Renew, NewKey: opt.NewKey,
		Rand: opt.Rand, Workers: opt.Workers, Progress: opt.Progress,
	})
	if err != nil {
		return nil, err
	}
	p := &Plan{Changes: pp.Changes, Unchanged: pp.Unchanged, Notes: pp.Notes}
	data, err := RenderCluster(c)
	if err != nil {
		return nil, err
	}
	p.addIfChanged(fsys, pki.Change{File: atomicfile.File{Path: ClusterFile, Data: data, Mode: pki.ModePublic}, Reason: "the resolved cluster model"})
	s, err := p.planSigning(fsys, opt.Rand, opt.RotateSigningKey)
	if err != nil {
		return nil, err
	}
	bins, err := p.planBinaries(fsys, opt.WithBinaries)
	if err != nil {
		return nil, err
	}
	if err := p.addBundles(fsys, c, p.finalContent(fsys), s, bins); err != nil {
		return nil, err
	}
	if bins != nil {
		p.managed = append(p.managed, pki.ManagedFile{Path: ArtifactsIndex, Mode: pki.ModePublic})
	}
	for _, a := range bins {
		p.managed = append(p.managed, pki.ManagedFile{Path: storePath(a), Mode: pki.ModePublic})
	}
	if err := p.retire(fsys, c, opt.Now); err != nil {
		return nil, err
	}
	p.Changes = append(p.Changes, pp.Finally...)
	p.managed = append(p.managed, pki.Managed(c)...)
	p.managed = append(p.managed, ownFiles...)
	if err := p.restoreModes(fsys, t, p.managed); err != nil {
		return nil, err
	}
	return p, nil
}

// addIfChanged adds ch unless fsys already holds exactly its bytes.
func (p *Plan) addIfChanged(fsys fs.FS, ch pki.Change) {
	old, err := fs.ReadFile(fsys, ch.Path)
	switch {
	case err == nil && string(old) == string(ch.Data):
		p.Unchanged++
		return
	case err == nil:
		ch.Action = pki.Update
		if ch.Reason == "" {
			ch.Reason = "content changed"
		}
	default:
		ch.Action = pki.Create
	}
	p.Changes = append(p.Changes, ch)
}

// finalContent returns a reader of cluster-directory files as they will be once the plan is
// applied: planned content first, else what is on disk.
func (p *Plan) finalContent(fsys fs.FS) func(string) ([]byte, error) {
	planned := map[string][]byte{}
	for _, ch := range p.Changes {
		planned[ch.Path] = ch.Data
	}
	return func(rel string) ([]byte, error) {
		if b, ok := planned[rel]; ok {
			return b, nil
		}
		return fs.ReadFile(fsys, rel)
	}
}

// RenderCluster returns the defaulted cluster model as YAML, durations written as "8760h0m0s".
func RenderCluster(c *configs.Cluster) ([]byte, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	// Kept as time.Duration writes them, so files written before the days form stay unchanged.
	m["validity"] = map[string]string{
		"ca":          time.Duration(c.Validity.CA).String(),
		"leaf":        time.Duration(c.Validity.Leaf).String(),
		"renewBefore": time.Duration(c.Validity.RenewBefore).String(),
	}
	body, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append([]byte("# Written by hardway init: the resolved cluster model. Edit the source file and run init again.\n"), body...), nil
}

// Describe writes the plan for a person: one line per file with its action and reason.
func (p *Plan) Describe(w io.Writer) {
	p.describeArtifacts(w)
	for _, ch := range p.Changes {
		fmt.Fprintf(w, "%-6s %s (%s)\n", ch.Action, ch.Path, ch.Reason)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// Summarize writes the plan in a few lines, for a plan too long to read file by file: each
// action and reason with how many files it covers, the node bundles counted together.
func (p *Plan) Summarize(w io.Writer) {
	type key struct {
		action pki.Action
		reason string
	}
	p.describeArtifacts(w)
	counts := map[key]int{}
	var order []key
	for _, ch := range p.Changes {
		reason := ch.Reason
		if strings.HasPrefix(ch.Path, BundleDir+"/") {
			reason = "node bundles"
		}
		k := key{ch.Action, reason}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, k := range order {
		fmt.Fprintf(w, "%-6s %6d file(s): %s\n", k.action, counts[k], k.reason)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func (p *Plan) describeArtifacts(w io.Writer) {
	for _, a := range p.Artifacts {
		fmt.Fprintf(w, "%-6s %s (%s from %s, %d bytes)\n", pki.Create, a.Path(), a.Program, a.Source, a.Artifact.Size)
	}
}

// osFS is the cluster directory as an fs.FS.
func osFS(dir string) fs.FS { return os.DirFS(dir) }

// retire moves aside what nodes the cluster no longer has (or no longer gives them) left in the
// cluster directory (pki.Retire): their certificates, keys and kubeconfigs, and, for a node no
// longer in the cluster file, its bundle archive; its bundle folder, which the archive holds, is
// removed.
func (p *Plan) retire(fsys fs.FS, c *configs.Cluster, now time.Time) error {
	extra := map[string]pki.Leftovers{}
	entries, err := fs.ReadDir(fsys, BundleDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		node := strings.TrimSuffix(e.Name(), ".tar.gz")
		if slices.ContainsFunc(c.Nodes, func(n configs.Node) bool { return n.Name == node }) {
			continue
		}
		l := extra[node]
		rel := path.Join(BundleDir, e.Name())
		if !e.IsDir() {
			l.Move = append(l.Move, rel)
		} else {
			var dirs []string
			err := fs.WalkDir(fsys, rel, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					dirs = append(dirs, p)
				} else {
					l.Remove = append(l.Remove, p)
				}
				return nil
			})
			if err != nil {
				return err
			}
			slices.Reverse(dirs) // deepest first: each is empty when its turn comes
			l.Remove = append(l.Remove, dirs...)
		}
		extra[node] = l
	}
	changes, notes, err := pki.Retire(fsys, c, now, extra)
	if err != nil {
		return err
	}
	p.Changes = append(p.Changes, changes...)
	p.Notes = append(p.Notes, notes...)
	return nil
}
