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
	// BeforeWrite, when set, is called before each file is written; an error stops the run
	// there (tests use it to stop a run at every possible point).
	BeforeWrite func(path string) error
}

// Apply writes the plan's changes into dir in order. Each file is written atomically; each
// file it replaces is first copied to backup/<timestamp>/ with its mode.
func Apply(dir string, p *Plan, opt ApplyOptions) (Result, error) {
	var res Result
	if opt.Now.IsZero() {
		return res, errors.New("apply: ApplyOptions.Now is not set")
	}
	stamp := opt.Now.UTC().Format("20060102T150405Z")
	for _, ch := range p.Changes {
		if err := validRel(ch.Path); err != nil {
			return res, err
		}
		target := filepath.Join(dir, filepath.FromSlash(ch.Path))
		if opt.BeforeWrite != nil {
			if err := opt.BeforeWrite(ch.Path); err != nil {
				return res, err
			}
		}
		if err := mkdirs(dir, path.Dir(ch.Path)); err != nil {
			return res, err
		}
		if ch.Action == pki.Update {
			if err := backup(dir, stamp, ch.Path); err != nil {
				return res, err
			}
			res.BackupDir = path.Join("backup", stamp)
		}
		if err := atomicfile.Write(target, ch.Data, ch.Mode); err != nil {
			return res, err
		}
		res.Written = append(res.Written, ch.Path)
	}
	return res, nil
}

func backup(dir, stamp, rel string) error {
	src := filepath.Join(dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("%s: backing up before replacing: %w", src, err)
	}
	dst := path.Join("backup", stamp, rel)
	if err := mkdirs(dir, path.Dir(dst)); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, filepath.FromSlash(dst)), data, fi.Mode().Perm())
}

// mkdirs creates rel (under dir) and its parents, each with the mode its place calls for.
func mkdirs(dir, rel string) error {
	if rel == "." || rel == "" {
		return nil
	}
	if err := mkdirs(dir, path.Dir(rel)); err != nil {
		return err
	}
	return atomicfile.MkdirAll(filepath.Join(dir, filepath.FromSlash(rel)), dirMode(rel))
}

func validRel(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || len(p) > 2 && p[:3] == "../" {
		return fmt.Errorf("plan: %q is not a clean relative path", p)
	}
	return nil
}
