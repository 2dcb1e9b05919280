package bootstrap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/hardway-dev/hardway/internal/atomicfile"
	"github.com/hardway-dev/hardway/internal/fslock"
	"github.com/hardway-dev/hardway/pki"
)

// LockFile keeps two hardway runs off one cluster directory.
const LockFile = ".hardway.lock"

// Lock creates dir (0700) if needed and takes its lock.
func Lock(dir string) (*fslock.Lock, error) {
	if err := atomicfile.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return fslock.TryLock(filepath.Join(dir, LockFile))
}

// Result of Apply.
type Result struct {
	Written   []string
	BackupDir string // relative to the cluster directory; "" when nothing was replaced
}

// ApplyOptions steer Apply.
type ApplyOptions struct {
	Now time.Time
	// BeforeWrite, when set, is called before each file is put in place; an error stops the
	// run there, as a crash would (tests use it to stop a run at every possible point).
	BeforeWrite func(path string) error
}

// Apply writes the plan's changes into dir, in order. Each file is replaced atomically (see
// atomicfile.Batch: all the new contents are made durable, then renamed into place, then the
// renames are made durable); each file it replaces is first copied to backup/<timestamp>/ with
// its mode, and those copies are in place before anything is replaced.
func Apply(dir string, p *Plan, opt ApplyOptions) (Result, error) {
	var res Result
	if opt.Now.IsZero() {
		return res, errors.New("apply: ApplyOptions.Now is not set")
	}
	stamp := opt.Now.UTC().Format("20060102T150405Z")
	if err := atomicfile.RemoveStale(dir); err != nil {
		return res, err
	}
	var backups, files atomicfile.Batch
	defer backups.Abort()
	defer files.Abort()
	made := map[string]bool{}
	items := make([]atomicfile.File, 0, len(p.Changes))
	for _, ch := range p.Changes {
		if err := validRel(ch.Path); err != nil {
			return res, err
		}
		if err := mkdirs(dir, path.Dir(ch.Path), made); err != nil {
			return res, err
		}
		if ch.Action == pki.Update {
			ok, err := stageBackup(&backups, dir, stamp, ch.Path, made)
			if err != nil {
				return res, err
			}
			if ok {
				res.BackupDir = path.Join("backup", stamp)
			}
		}
		items = append(items, atomicfile.File{Path: filepath.Join(dir, filepath.FromSlash(ch.Path)), Data: ch.Data, Mode: ch.Mode})
	}
	if err := files.StageAll(items, stageWorkers); err != nil {
		return res, err
	}
	if _, err := backups.Commit(nil); err != nil {
		return res, err
	}
	rel := func(target string) string {
		r, _ := filepath.Rel(dir, target)
		return filepath.ToSlash(r)
	}
	var hook func(string) error
	if opt.BeforeWrite != nil {
		hook = func(target string) error { return opt.BeforeWrite(rel(target)) }
	}
	done, err := files.Commit(hook)
	for _, t := range done {
		res.Written = append(res.Written, rel(t))
	}
	if serr := atomicfile.Sync(dir); err == nil {
		err = serr
	}
	return res, err
}

// stageBackup stages a copy of rel under backup/<stamp>/, reporting whether there was a file.
func stageBackup(b *atomicfile.Batch, dir, stamp, rel string, made map[string]bool) (bool, error) {
	src := filepath.Join(dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return false, fmt.Errorf("%s: backing up before replacing: %w", src, err)
	}
	dst := path.Join("backup", stamp, rel)
	if err := mkdirs(dir, path.Dir(dst), made); err != nil {
		return false, err
	}
	return true, b.Stage(filepath.Join(dir, filepath.FromSlash(dst)), data, fi.Mode().Perm())
}

// stageWorkers is how many files are created at once.
const stageWorkers = 8

// mkdirs creates rel (under dir) and its parents, each with the mode its place calls for;
// made remembers what this run already made.
func mkdirs(dir, rel string, made map[string]bool) error {
	if rel == "." || rel == "" || made[rel] {
		return nil
	}
	if err := mkdirs(dir, path.Dir(rel), made); err != nil {
		return err
	}
	if err := atomicfile.MkdirAll(filepath.Join(dir, filepath.FromSlash(rel)), dirMode(rel)); err != nil {
		return err
	}
	made[rel] = true
	return nil
}

func validRel(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || len(p) > 2 && p[:3] == "../" {
		return fmt.Errorf("plan: %q is not a clean relative path", p)
	}
	return nil
}
