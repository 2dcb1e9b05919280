package pki

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/atomicfile"
)

// RetiredDir is where the credentials of a node the cluster no longer has (or no longer gives
// them) are moved: retired/<node>/<timestamp>/, beside a record of what they can still do
// (RetiredRecord). They are moved, not deleted: without a revocation list they stay valid
// until they expire, and the record says so.
const RetiredDir = "retired"

// RetiredRecord is the name of the record in each retired folder.
const RetiredRecord = "retired.json"

// Retirement is the record of one retired folder: which node's files were moved there, when,
// why, and what the certificates among them could still do.
type Retirement struct {
	Node    string    `json:"node"`
	Retired time.Time `json:"retired"`
	Reason  string    `json:"reason"`
	// Certificates are the retired certificates: each stays valid until NotAfter.
	Certificates []RetiredCert `json:"certificates"`
	// Files are the moved files, by their paths before the move; each is now at the same path
	// under the retired folder.
	Files []string `json:"files"`
	Note  string   `json:"note"`
}

// RetiredCert is a retired certificate: what it names, who signed it and until when it is valid.
type RetiredCert struct {
	Name     string    `json:"name"` // the instance ID it had
	Path     string    `json:"path"` // where it is now, relative to the cluster directory
	Subject  string    `json:"subject"`
	CA       string    `json:"ca"`
	NotAfter time.Time `json:"notAfter"`
}

// Leftovers are files of a node's the caller owns (bootstrap: its bundle) that go with its
// retirement: Move is moved into the retired folder, Remove only removed (copies of what is moved,
// folders last, deepest first).
type Leftovers struct {
	Move   []string
	Remove []string
}

// RetiredFolder is where node's files retired at now go.
func RetiredFolder(node string, now time.Time) string {
	return path.Join(RetiredDir, node, now.UTC().Format("20060102T150405Z"))
}

// Retire plans moving aside the per-node credentials in fsys that cluster c no longer asks for:
// the certificates, keys and kubeconfigs of the catalogue's per-node specs for a node that left
// the cluster file or lost the role that needed them, with extra (by node) the caller's own
// leftovers. Each file is copied to RetiredFolder(node, now) and the original removed; the
// folder gets a Retirement record. It returns the changes (copies and records first, then the
// removals) and a note per node for the user.
func Retire(fsys fs.FS, c *configs.Cluster, now time.Time, extra map[string]Leftovers) ([]Change, []string, error) {
	want := map[string]bool{}
	for _, in := range Instances(c) {
		want[in.CertPath()], want[in.KeyPath()] = true, true
		if in.Kubeconfig != "" {
			want[in.KubeconfigPath()] = true
		}
	}
	stale := map[string][]staleFile{}
	for k := range Catalogue {
		s := &Catalogue[k]
		if s.Scope == ScopeCluster {
			continue
		}
		patterns := []string{"pki/" + s.BaseName + ".crt", "pki/" + s.BaseName + ".key"}
		if s.Kubeconfig != nil {
			patterns = append(patterns, "kubeconfigs/"+s.Kubeconfig.Name+".kubeconfig")
		}
		for _, pat := range patterns {
			prefix, suffix, _ := strings.Cut(pat, "{node}")
			matches, err := fs.Glob(fsys, strings.ReplaceAll(pat, "{node}", "*"))
			if err != nil {
				return nil, nil, err
			}
			for _, m := range matches {
				node := strings.TrimSuffix(strings.TrimPrefix(m, prefix), suffix)
				if want[m] || node == "" || strings.Contains(node, "/") {
					continue
				}
				stale[node] = append(stale[node], staleFile{path: m, spec: s, id: strings.ReplaceAll(s.BaseName, "{node}", node)})
			}
		}
	}
	for node := range extra {
		if _, ok := stale[node]; !ok {
			stale[node] = nil
		}
	}
	nodes := make([]string, 0, len(stale))
	for n := range stale {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	var moves, removes []Change
	var notes []string
	for _, node := range nodes {
		folder := RetiredFolder(node, now)
		rec := Retirement{Node: node, Retired: now.UTC().Truncate(time.Second), Reason: retireReason(c, node)}
		move := func(p, id string) error {
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return fmt.Errorf("%s: cannot read it to retire it: %w; fix its permissions or move it away", p, err)
			}
			mode := ModeSecret // keys, kubeconfigs, bundle archives
			if strings.HasSuffix(p, ".crt") || strings.HasSuffix(p, ".pub") {
				mode = ModePublic
			}
			moves = append(moves, Change{File: atomicfile.File{Path: folder + "/" + p, Data: data, Mode: mode}, Action: Create, Reason: "retired: " + rec.Reason, ID: id})
			removes = append(removes, Change{File: atomicfile.File{Path: p}, Action: Remove, Reason: "retired to " + folder + "/", ID: id})
			rec.Files = append(rec.Files, p)
			return nil
		}
		for _, f := range stale[node] {
			if err := move(f.path, f.id); err != nil {
				return nil, nil, err
			}
			if strings.HasSuffix(f.path, ".crt") && f.spec.Kind == KindLeaf {
				data, _ := fs.ReadFile(fsys, f.path)
				rc := RetiredCert{Name: f.id, Path: folder + "/" + f.path, CA: f.spec.CA}
				if cert, err := ParseCert(data); err == nil {
					rc.Subject, rc.NotAfter = subjectString(subjectOf(cert)), cert.NotAfter.UTC()
				}
				rec.Certificates = append(rec.Certificates, rc)
			}
		}
		for _, p := range extra[node].Move {
			if err := move(p, "retired/"+node); err != nil {
				return nil, nil, err
			}
		}
		for _, p := range extra[node].Remove {
			removes = append(removes, Change{File: atomicfile.File{Path: p}, Action: Remove, Reason: "retired: " + rec.Reason, ID: "retired/" + node})
		}
		rec.Note = retireNote(rec)
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return nil, nil, err
		}
		moves = append(moves, Change{File: atomicfile.File{Path: folder + "/" + RetiredRecord, Data: append(data, '\n'), Mode: ModePublic},
			Action: Create, Reason: "what the retired credentials of " + node + " can still do", ID: "retired/" + node})
		notes = append(notes, fmt.Sprintf("%s: %s; its files move to %s/. %s", node, rec.Reason, folder, rec.Note))
	}
	return append(moves, removes...), notes, nil
}

type staleFile struct {
	path string
	spec *Spec
	id   string
}

func retireReason(c *configs.Cluster, node string) string {
	for _, n := range c.Nodes {
		if n.Name == node {
			return fmt.Sprintf("node %s no longer has a role that uses them (roles %v)", node, n.Roles)
		}
	}
	return "node " + node + " is no longer in the cluster file"
}

// retireNote says what the retired certificates can still do and how to end that sooner.
func retireNote(r Retirement) string {
	if len(r.Certificates) == 0 {
		return "It held no certificate of its own."
	}
	last := r.Certificates[0].NotAfter
	cas := map[string]bool{}
	var names []string
	for _, c := range r.Certificates {
		if c.NotAfter.After(last) {
			last = c.NotAfter
		}
		cas[c.CA] = true
		names = append(names, c.Name)
	}
	var caNames []string
	for ca := range cas {
		caNames = append(caNames, ca)
	}
	slices.Sort(caNames)
	return fmt.Sprintf("Its certificates (%s) stay valid until %s: there is no revocation list, so whoever holds their keys can still authenticate as them. "+
		"To end that sooner, rotate the CA that signed them (%s): 'hardway certs renew %s --new-key', then 'hardway init' and 'hardway launch' on every node.",
		strings.Join(names, ", "), last.Format(time.DateOnly), strings.Join(caNames, ", "), strings.Join(caNames, " "))
}

// Retired reads every retirement record under RetiredDir in fsys, oldest first; a record that
// cannot be read is returned with its error in Reason, for the inventory to show.
func Retired(fsys fs.FS) []Retirement {
	matches, _ := fs.Glob(fsys, RetiredDir+"/*/*/"+RetiredRecord)
	var out []Retirement
	for _, m := range matches {
		var r Retirement
		data, err := fs.ReadFile(fsys, m)
		if err == nil {
			err = json.Unmarshal(data, &r)
		}
		if err != nil {
			r = Retirement{Node: path.Base(path.Dir(path.Dir(m))), Reason: fmt.Sprintf("%s: %v", m, err)}
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Retirement) int { return a.Retired.Compare(b.Retired) })
	return out
}
