package systemd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hardway-dev/hardway/internal/atomicfile"
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
func PlanFiles(root string, files []File) ([]FileChange, error) {
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

func planFile(host string, f File) (Action, error) {
	fi, err := os.Lstat(host)
	if errors.Is(err, fs.ErrNotExist) {
		return Create, nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", host, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: exists and is not a regular file; move it away and launch again", host)
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

// Install writes every file of the bundle under root that differs in bytes or mode, atomically
// (internal/atomicfile), creating missing directories 0755. It returns the node paths it
// changed, in bundle order; a second call with the same files changes nothing.
func Install(root string, files []File) ([]string, error) {
	var changed []string
	for _, f := range files {
		host := HostPath(root, f.Path)
		if err := mkdirMissing(filepath.Dir(host)); err != nil {
			return changed, err
		}
		did, err := atomicfile.WriteIfChanged(host, f.Data, f.Mode)
		if err != nil {
			return changed, err
		}
		if did {
			changed = append(changed, f.Path)
		}
	}
	return changed, nil
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
