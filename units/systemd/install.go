package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/units/bundle"
)

// Action says what installing a file does.
type Action string

const (
	Create    Action = "create"
	Update    Action = "update"
	Chmod     Action = "chmod" // same bytes, different mode
	Unchanged Action = "unchanged"
)

// FileChange is the plan for one file.
type FileChange struct {
	Path   string // node path
	Action Action
	Mode   fs.FileMode
}

// HostPath is where a node path lives under root ("/" or "" for the real filesystem).
func HostPath(root, nodePath string) string {
	if root == "" {
		root = "/"
	}
	return filepath.Join(root, filepath.FromSlash(nodePath))
}

// PlanFiles compares the bundle's files with what is under root. It writes nothing.
func PlanFiles(root string, files []bundle.File) ([]FileChange, error) {
	var out []FileChange
	for _, f := range files {
		a, err := planFile(HostPath(root, f.Path), f)
		if err != nil {
			return nil, err
		}
		out = append(out, FileChange{Path: f.Path, Action: a, Mode: f.Mode})
	}
	return out, nil
}

func planFile(host string, f bundle.File) (Action, error) {
	fi, err := os.Lstat(host)
	if errors.Is(err, fs.ErrNotExist) {
		return Create, nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", host, err)
	}
	if f.Kind == bundle.KindDirectory {
		switch {
		case !fi.IsDir():
			return "", fmt.Errorf("%s: exists and is not a directory; move it away and launch again", host)
		case fi.Mode().Perm() != f.Mode.Perm():
			return Chmod, nil
		}
		return Unchanged, nil
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: exists and is not a regular file; move it away and launch again", host)
	}
	if f.Kind == bundle.KindIfAbsent {
		return Unchanged, nil // its component owns it now
	}
	old, err := os.ReadFile(host)
	if err != nil {
		return "", fmt.Errorf("%s: %w", host, err)
	}
	switch {
	case !bytes.Equal(old, f.Data):
		return Update, nil
	case fi.Mode().Perm() != f.Mode.Perm():
		return Chmod, nil
	}
	return Unchanged, nil
}

// Install brings every entry of the bundle under root to its planned state, atomically
// (internal/atomicfile) and only where its bytes or mode differ: files are written, directories
// created or chmodded to their mode, "if-absent" files written only when missing; missing
// parents are created 0755. It returns the node paths it changed, in bundle order; a second
// call with the same files changes nothing.
func Install(root string, files []bundle.File) ([]string, error) {
	var changed []string
	for _, f := range files {
		host := HostPath(root, f.Path)
		a, err := planFile(host, f)
		if err != nil {
			return changed, err
		}
		if a == Unchanged {
			continue
		}
		if f.Kind == bundle.KindDirectory {
			if err := mkdirMissing(filepath.Dir(host)); err != nil {
				return changed, err
			}
			if err := os.Mkdir(host, f.Mode.Perm()); err != nil && !errors.Is(err, fs.ErrExist) {
				return changed, err
			}
			if err := os.Chmod(host, f.Mode.Perm()); err != nil { // past the umask, or tightened
				return changed, err
			}
		} else {
			if err := mkdirMissing(filepath.Dir(host)); err != nil {
				return changed, err
			}
			if err := atomicfile.Write(host, f.Data, f.Mode); err != nil {
				return changed, err
			}
		}
		if err := chown(host, f.Owner); err != nil {
			return changed, err
		}
		changed = append(changed, f.Path)
	}
	return changed, nil
}

// chown gives host to owner ("user:group") when launch runs as root; root:root is what a
// root-run writer creates anyway.
func chown(host, owner string) error {
	if owner == "" || owner == bundle.DefaultOwner || os.Geteuid() != 0 {
		return nil
	}
	userName, groupName, _ := strings.Cut(owner, ":")
	u, err := user.Lookup(userName)
	if err != nil {
		return fmt.Errorf("%s: owner %s: %w; create the user, or fix the cluster file", host, owner, err)
	}
	g, err := user.LookupGroup(groupName)
	if err != nil {
		return fmt.Errorf("%s: owner %s: %w; create the group, or fix the cluster file", host, owner, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return os.Lchown(host, uid, gid)
}

// mkdirMissing creates dir and its missing parents 0755. Unlike atomicfile.MkdirAll it never
// changes the mode of a directory that exists: a launch root may sit in /tmp.
func mkdirMissing(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: exists and is not a directory", dir)
		}
		return nil
	}
	if err := os.MkdirAll(dir, atomicfile.ModeDirPub); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}
