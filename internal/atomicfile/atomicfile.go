package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Named modes for the files hardway manages.
const (
	ModeSecret  fs.FileMode = 0o600 // private keys, kubeconfigs, encryption config
	ModePublic  fs.FileMode = 0o644 // certificates, units, public config
	ModeExec    fs.FileMode = 0o755 // scripts and binaries
	ModeDirPriv fs.FileMode = 0o700 // directories that hold secrets
	ModeDirPub  fs.FileMode = 0o755
)

// Write replaces path with data and mode atomically. It refuses to replace anything that is
// not a regular file (a symlink, a directory, a device), so a planted link cannot redirect a key.
// The parent directory must exist.
func Write(path string, data []byte, mode fs.FileMode) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: refusing to replace a %s; move it away and run again", path, describe(fi.Mode()))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s: creating a temporary file: %w", path, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	// chmod before any byte is written: a secret is never readable by others, not even briefly.
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	step(BeforeRename, path)
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	ok = true
	step(AfterRename, path)
	return syncDir(dir)
}

// WriteIfChanged writes only when the content or the mode differs from what is on disk and
// reports whether it wrote.
func WriteIfChanged(path string, data []byte, mode fs.FileMode) (bool, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() == mode.Perm() {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return false, nil
		}
	}
	return true, Write(path, data, mode)
}

// MkdirAll creates dir and its missing parents with mode, and tightens dir itself to mode
// when it already exists more open than that.
func MkdirAll(dir string, mode fs.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if fi.Mode().Perm()&^mode.Perm() != 0 {
		if err := os.Chmod(dir, mode); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("%s: fsync directory: %w", dir, err)
	}
	return nil
}

func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m.IsDir():
		return "directory"
	default:
		return "non-regular file"
	}
}
