package systemd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path"
	"strconv"
	"strings"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/rootfs"
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

// MaxInstalledFileBytes bounds what planning reads back of an installed file to compare it.
const MaxInstalledFileBytes = 64 << 20

// PlanFiles compares the bundle's files with what is under root. It writes nothing. An
// artifact (a program the bundle references by hash) is compared by streaming the installed
// file's hash; one to install is read through from store first, so an artifact that is
// missing or not what the manifest says stops the launch before anything is written.
func PlanFiles(ctx context.Context, root *rootfs.Root, files []bundle.File, store *bundle.Store) ([]FileChange, error) {
	var out []FileChange
	for _, f := range files {
		a, err := planFile(ctx, root, f)
		if err != nil {
			return nil, err
		}
		if f.Artifact != nil && (a == Create || a == Update) {
			if err := checkArtifact(ctx, store, f); err != nil {
				return nil, err
			}
		}
		out = append(out, FileChange{Path: f.Path, Action: a, Mode: f.Mode})
	}
	return out, nil
}

// checkArtifact checks that store holds f's artifact, whole.
func checkArtifact(ctx context.Context, store *bundle.Store, f bundle.File) error {
	if store == nil {
		return fmt.Errorf("%s: the bundle references it as artifact %s, and no artifact store came with the bundle; copy the cluster directory's %s/ beside the bundle, or give it with --artifacts", f.Path, f.Artifact, bundle.ArtifactsDir)
	}
	if err := store.Check(ctx, *f.Artifact); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return nil
}

// sameArtifact reports whether the regular file p under root is artifact a, by streaming it.
func sameArtifact(ctx context.Context, root *rootfs.Root, p string, a bundle.Artifact) (bool, error) {
	f, err := root.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != a.Size {
		return false, err
	}
	r, check := bundle.Verifying(f, a, root.HostPath(p))
	if _, err := io.Copy(io.Discard, r); err != nil {
		return false, fmt.Errorf("%s: %w", root.HostPath(p), err)
	}
	return check() == nil, ctx.Err()
}

func planFile(ctx context.Context, root *rootfs.Root, f bundle.File) (Action, error) {
	fi, err := root.Lstat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Create, nil
	}
	if err != nil {
		return "", err
	}
	host := root.HostPath(f.Path)
	if fi.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("%s: a symbolic link where the bundle installs a %s; nothing under the root is written through a link: move it away and launch again", host, f.Kind)
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
	var same bool
	if f.Artifact != nil {
		var err error
		if same, err = sameArtifact(ctx, root, f.Path, *f.Artifact); err != nil {
			return "", err
		}
	} else {
		old, err := root.ReadFile(f.Path, MaxInstalledFileBytes)
		if err != nil {
			return "", err
		}
		same = bytes.Equal(old, f.Data)
	}
	switch {
	case !same:
		return Update, nil
	case fi.Mode().Perm() != f.Mode.Perm():
		return Chmod, nil
	}
	return Unchanged, nil
}

// Install brings every entry of the bundle under root to its planned state, atomically
// (internal/atomicfile) and only where its bytes or mode differ: files are written, directories
// created or chmodded to their mode, "if-absent" files written only when missing; missing
// parents are created 0755. Every path is resolved beneath root without following a link
// (internal/rootfs). It returns the node paths it changed, in bundle order; a second call with
// the same files changes nothing.
func Install(ctx context.Context, root *rootfs.Root, files []bundle.File, store *bundle.Store) ([]string, error) {
	plan, err := PlanFiles(ctx, root, files, store)
	if err != nil {
		return nil, err
	}
	return installPlanned(ctx, root, files, store, plan)
}

// installPlanned carries out plan, PlanFiles' answer for files, without reading the files
// again. An artifact is streamed from store to its node path and checked on the way: if it
// changed since it was planned, the node path keeps what it had.
func installPlanned(ctx context.Context, root *rootfs.Root, files []bundle.File, store *bundle.Store, plan []FileChange) ([]string, error) {
	var changed []string
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return changed, err
		}
		if plan[i].Action == Unchanged {
			continue
		}
		if f.Kind == bundle.KindDirectory {
			if err := root.MkdirAll(f.Path, f.Mode, atomicfile.ModeDirPub); err != nil {
				return changed, err
			}
			if err := root.Chmod(f.Path, f.Mode); err != nil { // an existing directory, tightened
				return changed, err
			}
		} else {
			if err := root.MkdirAll(path.Dir(f.Path), atomicfile.ModeDirPub, atomicfile.ModeDirPub); err != nil {
				return changed, err
			}
			if err := writeFile(root, f, store); err != nil {
				return changed, err
			}
		}
		if err := chown(root, f); err != nil {
			return changed, err
		}
		changed = append(changed, f.Path)
	}
	return changed, nil
}

// writeFile writes f under root: its data, or its artifact streamed from store.
func writeFile(root *rootfs.Root, f bundle.File, store *bundle.Store) error {
	if f.Artifact == nil {
		return root.WriteFile(f.Path, f.Data, f.Mode)
	}
	if store == nil {
		return fmt.Errorf("%s: artifact %s: no artifact store", root.HostPath(f.Path), f.Artifact)
	}
	src, err := store.Open(*f.Artifact)
	if err != nil {
		return fmt.Errorf("%s: %w", root.HostPath(f.Path), err)
	}
	defer src.Close()
	r, check := bundle.Verifying(src, *f.Artifact, store.Path(*f.Artifact))
	if _, err := root.WriteFileFrom(f.Path, r, f.Mode, check); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return nil
}

// chown gives f to its owner ("user:group") when launch runs as root; root:root is what a
// root-run writer creates anyway.
func chown(root *rootfs.Root, f bundle.File) error {
	if f.Owner == "" || f.Owner == bundle.DefaultOwner || os.Geteuid() != 0 {
		return nil
	}
	userName, groupName, _ := strings.Cut(f.Owner, ":")
	u, err := user.Lookup(userName)
	if err != nil {
		return fmt.Errorf("%s: owner %s: %w; create the user, or fix the cluster file", root.HostPath(f.Path), f.Owner, err)
	}
	g, err := user.LookupGroup(groupName)
	if err != nil {
		return fmt.Errorf("%s: owner %s: %w; create the group, or fix the cluster file", root.HostPath(f.Path), f.Owner, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return root.Chown(f.Path, uid, gid)
}
