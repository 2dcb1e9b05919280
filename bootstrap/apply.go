package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/fslock"
	"github.com/hardway-dev/hardway/internal/rootfs"
	"github.com/hardway-dev/hardway/pki"
	"github.com/hardway-dev/hardway/units/bundle"
)

// LockFile keeps two hardway runs off one cluster directory.
const LockFile = ".hardway.lock"

// Lock takes the lock of a run that writes the cluster directory dir: exclusively, without
// waiting, creating dir (0700) if needed. Holding it, it removes the temporary files runs
// killed in the middle of a write left behind (some hold keys), on every run, whether or not
// the run has anything else to write, and returns their paths.
func Lock(dir string) (*fslock.Lock, []string, error) {
	if err := mkdirRoot(dir); err != nil {
		return nil, nil, err
	}
	l, err := fslock.TryLock(filepath.Join(dir, LockFile))
	if err != nil {
		return nil, nil, err
	}
	removed, err := atomicfile.RemoveStale(dir)
	if err != nil {
		l.Unlock()
		return nil, nil, err
	}
	return l, removed, nil
}

// mkdirRoot creates the cluster directory dir (0700) and its parents when it does not exist.
// An existing one keeps its mode: a plan restores a mode that drifted, and says so.
func mkdirRoot(dir string) error {
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.MkdirAll(dir, dirMode("."))
}

// Result of Apply.
type Result struct {
	Written   []string
	Restored  []string // files and folders whose mode was narrowed back
	Removed   []string
	BackupDir string // relative to the cluster directory; "" when nothing was replaced
}

// ApplyOptions steer Apply.
type ApplyOptions struct {
	Now time.Time
	// BeforeWrite, when set, is called before each file is put in place or removed; an error
	// stops the run there, as a crash would (tests use it to stop a run at every possible point).
	BeforeWrite func(path string) error
}

// Apply makes the plan's changes in dir, in order: first the modes it restores (folders before
// what they hold), then the files it writes, then the files it removes. Each file is replaced
// atomically (see atomicfile.Batch: all the new contents are made durable, then renamed into
// place, then the renames are made durable); a change marked Barrier is durable before any
// later one lands. Each file it replaces is first copied to a backup folder of its own,
// backup/<timestamp>[-N]/, with its mode; those copies are in place before anything is
// replaced, and no backup ever replaces another. No folder of dir is reached through a link.
func Apply(dir string, p *Plan, opt ApplyOptions) (Result, error) {
	var res Result
	if opt.Now.IsZero() {
		return res, errors.New("apply: ApplyOptions.Now is not set")
	}
	if err := mkdirRoot(dir); err != nil {
		return res, err
	}
	root, err := rootfs.Open(dir)
	if err != nil {
		return res, err
	}
	defer root.Close()
	a := &applier{dir: dir, root: root, made: map[string]bool{}, stamp: opt.Now.UTC().Format("20060102T150405Z")}
	// The artifacts first: a manifest written below may name them.
	if len(p.Artifacts) > 0 {
		if err := a.mkdirs(path.Join(bundle.ArtifactsDir, "sha256")); err != nil {
			return res, err
		}
	}
	for _, c := range p.Artifacts {
		if opt.BeforeWrite != nil {
			if err := opt.BeforeWrite(c.Path()); err != nil {
				return res, err
			}
		}
		wrote, err := bundle.StoreFor(dir).Add(context.Background(), c.Source, c.Artifact)
		if err != nil {
			return res, fmt.Errorf("--with-binaries: %s: %w", c.Program, err)
		}
		if wrote {
			res.Written = append(res.Written, c.Path())
		}
	}
	rel := func(target string) string {
		r, _ := filepath.Rel(dir, target)
		return filepath.ToSlash(r)
	}
	var hook func(string) error
	if opt.BeforeWrite != nil {
		hook = func(target string) error { return opt.BeforeWrite(rel(target)) }
	}

	// The files to write, in segments that each end with a barrier, and their backups.
	var backups atomicfile.Batch
	defer backups.Abort()
	segments := []*segment{{}}
	defer func() {
		for _, s := range segments {
			s.batch.Abort()
		}
	}()
	var chmods, removes []pki.Change
	for _, ch := range p.Changes {
		if err := validRel(ch.Path); err != nil {
			return res, err
		}
		switch ch.Action {
		case pki.Chmod:
			chmods = append(chmods, ch)
			continue
		case pki.Remove:
			removes = append(removes, ch)
			continue
		}
		if err := a.mkdirs(path.Dir(ch.Path)); err != nil {
			return res, err
		}
		if ch.Action == pki.Update {
			if err := a.stageBackup(&backups, ch.Path); err != nil {
				return res, err
			}
		}
		s := segments[len(segments)-1]
		s.files = append(s.files, atomicfile.File{Path: filepath.Join(dir, filepath.FromSlash(ch.Path)), Data: ch.Data, Mode: ch.Mode})
		if ch.Barrier {
			segments = append(segments, &segment{})
		}
	}
	res.BackupDir = a.backupDir

	// Modes first: a folder that others can read is closed before secrets are written into it.
	for _, ch := range chmods {
		if err := root.Chmod(ch.Path, ch.Mode); err != nil {
			return res, err
		}
		res.Restored = append(res.Restored, ch.Path)
	}
	for _, s := range segments {
		if err := s.batch.StageAll(s.files, stageWorkers); err != nil {
			return res, err
		}
	}
	if _, err := backups.Commit(nil); err != nil {
		return res, err
	}
	for i, s := range segments {
		done, err := s.batch.Commit(hook)
		for _, t := range done {
			res.Written = append(res.Written, rel(t))
		}
		if err != nil {
			return res, err
		}
		if i < len(segments)-1 || len(removes) > 0 {
			// What follows a barrier, or a removal, waits until the writes before it are durable.
			if err := atomicfile.Sync(dir); err != nil {
				return res, err
			}
		}
	}
	for _, ch := range removes {
		target := filepath.Join(dir, filepath.FromSlash(ch.Path))
		if hook != nil {
			if err := hook(target); err != nil {
				return res, err
			}
		}
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("%s: %w", target, err)
		}
		res.Removed = append(res.Removed, ch.Path)
	}
	return res, atomicfile.Sync(dir)
}

// segment is files written together: all staged before any is renamed.
type segment struct {
	files []atomicfile.File
	batch atomicfile.Batch
}

// applier is one Apply's state: the folders it made and the backup folder it chose.
type applier struct {
	dir       string
	root      *rootfs.Root
	made      map[string]bool
	stamp     string
	backupDir string // chosen on the first backup, relative to dir
}

// stageBackup stages a copy of rel in this run's backup folder, when rel exists.
func (a *applier) stageBackup(b *atomicfile.Batch, rel string) error {
	src := filepath.Join(a.dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (%s); move it away and run again", src, fi.Mode().Type())
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("%s: backing up before replacing: %w", src, err)
	}
	if a.backupDir == "" {
		if a.backupDir, err = a.newBackupDir(); err != nil {
			return err
		}
	}
	dst := path.Join(a.backupDir, rel)
	if err := a.mkdirs(path.Dir(dst)); err != nil {
		return err
	}
	return b.StageNew(filepath.Join(a.dir, filepath.FromSlash(dst)), data, fi.Mode().Perm())
}

// newBackupDir creates this run's backup folder: backup/<timestamp>, or, when a run in the same
// second made that one, backup/<timestamp>-2, -3 ... Creating it is what claims it, so two runs
// never share a backup folder.
func (a *applier) newBackupDir() (string, error) {
	if err := a.mkdirs("backup"); err != nil {
		return "", err
	}
	for n := 1; ; n++ {
		name := a.stamp
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		rel := path.Join("backup", name)
		err := os.Mkdir(filepath.Join(a.dir, filepath.FromSlash(rel)), dirMode(rel))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			err = a.root.Chmod(rel, dirMode(rel)) // past the umask
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", filepath.Join(a.dir, rel), err)
		}
		a.made[rel] = true
		return rel, nil
	}
}

// stageWorkers is how many files are created at once.
const stageWorkers = 8

// mkdirs creates rel (under the cluster directory) and its parents, each with the mode its
// place calls for; a link or a file on the way is an error (rootfs), never followed.
func (a *applier) mkdirs(rel string) error {
	if rel == "." || rel == "" || a.made[rel] {
		return nil
	}
	if err := a.mkdirs(path.Dir(rel)); err != nil {
		return err
	}
	if err := a.root.MkdirAll(rel, dirMode(rel), dirMode(rel)); err != nil {
		return err
	}
	a.made[rel] = true
	return nil
}

func validRel(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || len(p) > 2 && p[:3] == "../" {
		return fmt.Errorf("plan: %q is not a clean relative path", p)
	}
	return nil
}
