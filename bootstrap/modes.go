package bootstrap

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/pki"
)

// dirMode is the mode of a folder of the cluster directory: private where secrets live, which
// is every folder init makes.
func dirMode(dir string) fs.FileMode {
	top, _, _ := strings.Cut(path.Clean(dir), "/")
	switch top {
	case ".", "":
		return 0o700
	case "pki", "kubeconfigs", "nodes", "backup", "signing", pki.RetiredDir:
		return 0o700
	}
	return 0o755
}

// ownFiles are the files of the cluster directory the plan writes besides the PKI's and the
// bundles, with their modes.
var ownFiles = []pki.ManagedFile{
	{Path: ClusterFile, Mode: pki.ModePublic},
	{Path: SigningKey, Mode: pki.ModeSecret},
	{Path: SigningPub, Mode: pki.ModePublic},
	{Path: SigningEndorsements, Mode: pki.ModePublic},
}

// tree is what a walk of the cluster directory found that no single file's check sees.
type tree struct {
	links []link            // symbolic links: never followed
	dirs  []pki.ManagedFile // every folder with its mode, parents first
	temps []string          // temporary files a killed run left behind
}

// link is a symbolic link found in the cluster directory.
type link struct{ Path, Target string }

// Unmanaged are the top-level directories of a cluster directory that init neither reads nor
// writes: `hardway up`'s node root (its components' state: containerd's snapshots hold links
// and modes of their own), its run files and the components' logs.
var Unmanaged = []string{"root", "run", "logs"}

// inspectTree walks the cluster directory fsys without following links, except the Unmanaged
// directories. A directory that does not exist yet is empty.
func inspectTree(fsys fs.FS) (tree, error) {
	var t tree
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() && slices.Contains(Unmanaged, p) {
			return fs.SkipDir
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				target = "?"
			}
			t.links = append(t.links, link{p, target})
		case d.IsDir():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			t.dirs = append(t.dirs, pki.ManagedFile{Path: p, Mode: fi.Mode()})
		case atomicfile.IsTemp(d.Name()):
			t.temps = append(t.temps, p)
		}
		return nil
	})
	return t, err
}

// linksError refuses a cluster directory that holds links: hardway would follow them to write
// keys, or to change the mode of a folder, elsewhere.
func (t tree) linksError() error {
	if len(t.links) == 0 {
		return nil
	}
	var ls []string
	for _, l := range t.links {
		ls = append(ls, l.Path+" -> "+l.Target)
	}
	return fmt.Errorf("the cluster directory holds symbolic links, and hardway never follows a link inside it (it would write keys or change modes wherever the link points): %s; replace each with the file or folder it points to", strings.Join(ls, ", "))
}

// drift is a file or folder whose mode is wider than the plan's.
type drift struct {
	Path       string
	Have, Want fs.FileMode
	Dir        bool
}

// special are the mode bits besides the permissions that a managed file never has.
const special = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// wider reports whether have allows anything want does not.
func wider(have, want fs.FileMode) bool {
	return (have&(fs.ModePerm|special))&^want.Perm() != 0
}

// String says what the wider mode lets others do, and the mode it should have.
func (d drift) String() string {
	extra := d.Have.Perm() &^ d.Want.Perm()
	var who []string
	if extra&0o070 != 0 {
		who = append(who, "its group")
	}
	if extra&0o007 != 0 {
		who = append(who, "everyone")
	}
	what := "mode %04o"
	if len(who) > 0 {
		verb := "read"
		if d.Dir {
			verb = "list"
		}
		if extra&0o222 != 0 {
			verb += " or write"
		}
		what += " lets " + strings.Join(who, " and ") + " " + verb + " it"
	}
	if d.Have&special != 0 {
		what += " (" + strings.TrimSpace(strings.ReplaceAll((d.Have&special).String(), "-", "")) + " set)"
	}
	return fmt.Sprintf(what+"; it should be %04o", d.Have.Perm(), d.Want.Perm())
}

// drifted returns the folders of t and the managed files (but those in skip) whose modes are
// wider than they should be, folders first, parents before children.
func drifted(fsys fs.FS, t tree, managed []pki.ManagedFile, skip map[string]bool) ([]drift, error) {
	var out []drift
	for _, d := range t.dirs {
		if want := dirMode(d.Path); wider(d.Mode, want) {
			out = append(out, drift{Path: d.Path, Have: d.Mode, Want: want, Dir: true})
		}
	}
	for _, f := range managed {
		if skip[f.Path] {
			continue
		}
		fi, err := fs.Lstat(fsys, f.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if fi.Mode().IsRegular() && wider(fi.Mode(), f.Mode) {
			out = append(out, drift{Path: f.Path, Have: fi.Mode(), Want: f.Mode})
		}
	}
	return out, nil
}

// restoreModes puts in front of the plan a chmod for every file and folder whose mode drifted
// wider than the plan's since it was written (a key made readable by its group, a folder
// opened to everyone): they are narrowed back before anything is written.
func (p *Plan) restoreModes(fsys fs.FS, t tree, managed []pki.ManagedFile) error {
	skip := map[string]bool{}
	for _, ch := range p.Changes {
		skip[ch.Path] = true
	}
	ds, err := drifted(fsys, t, managed, skip)
	if err != nil || len(ds) == 0 {
		return err
	}
	chmods := make([]pki.Change, len(ds))
	for i, d := range ds {
		chmods[i] = pki.Change{File: atomicfile.File{Path: d.Path, Mode: d.Want}, Action: pki.Chmod, Reason: d.String() + ": restored"}
	}
	p.Changes = append(chmods, p.Changes...)
	return nil
}
