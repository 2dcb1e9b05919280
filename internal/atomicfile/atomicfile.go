package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
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
	dir, err := os.OpenFile(filepath.Dir(path), os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer dir.Close()
	return WriteAt(dir, filepath.Base(path), data, mode)
}

// WriteAt replaces the file name inside the open directory dir with data and mode atomically:
// a temporary file ".<name>.tmp-<digits>" is created beside it (never through a link), made
// mode before any byte is written, filled, fsynced and renamed over name, and dir is fsynced.
// It is the one write primitive: Write and every root-confined installer go through it. Like
// Write, it refuses to replace anything but a regular file.
func WriteAt(dir *os.File, name string, data []byte, mode fs.FileMode) error {
	_, err := writeAt(dir, name, mode, func(f *os.File) (int64, error) {
		n, err := f.Write(data)
		return int64(n), err
	}, nil)
	return err
}

// WriteStream is Write for content read from r, so a file of any size is written without
// holding it in memory: the bytes go to the temporary file as they arrive. commit, when not
// nil, runs once the last byte is written and fsynced and before the rename; its error (a
// checksum that does not match what was read) leaves path as it was and removes the
// temporary file, as does an error reading r. It returns the number of bytes read from r.
func WriteStream(path string, r io.Reader, mode fs.FileMode, commit func() error) (int64, error) {
	dir, err := os.OpenFile(filepath.Dir(path), os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	defer dir.Close()
	return WriteStreamAt(dir, filepath.Base(path), r, mode, commit)
}

// WriteStreamAt is WriteAt for content read from r, with WriteStream's commit check.
func WriteStreamAt(dir *os.File, name string, r io.Reader, mode fs.FileMode, commit func() error) (int64, error) {
	return writeAt(dir, name, mode, func(f *os.File) (int64, error) { return io.Copy(f, r) }, commit)
}

// writeAt is WriteAt and WriteStreamAt: fill writes the content to the temporary file, commit
// (optional) approves it before the rename.
func writeAt(dir *os.File, name string, mode fs.FileMode, fill func(*os.File) (int64, error), commit func() error) (int64, error) {
	display := filepath.Join(dir.Name(), name)
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return 0, fmt.Errorf("%s: not a file name", display)
	}
	dfd := int(dir.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, fmt.Errorf("%s: refusing to replace a %s; move it away and run again", display, describe(fileMode(st.Mode)))
	} else if err != nil && !errors.Is(err, unix.ENOENT) {
		return 0, fmt.Errorf("%s: %w", display, err)
	}
	tmp, fd, err := createTemp(dfd, name)
	if err != nil {
		return 0, fmt.Errorf("%s: creating a temporary file: %w", display, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(dir.Name(), tmp))
	ok := false
	defer func() {
		if !ok {
			f.Close()
			unix.Unlinkat(dfd, tmp, 0)
		}
	}()
	// chmod before any byte is written: a secret is never readable by others, not even briefly.
	if err := f.Chmod(mode); err != nil {
		return 0, fmt.Errorf("%s: %w", display, err)
	}
	n, err := fill(f)
	if err != nil {
		return n, fmt.Errorf("%s: %w", display, err)
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("%s: fsync: %w", display, err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("%s: %w", display, err)
	}
	if commit != nil {
		if err := commit(); err != nil {
			return n, err
		}
	}
	step(BeforeRename, display)
	if err := unix.Renameat(dfd, tmp, dfd, name); err != nil {
		return n, fmt.Errorf("%s: %w", display, err)
	}
	ok = true
	step(AfterRename, display)
	if err := dir.Sync(); err != nil {
		return n, fmt.Errorf("%s: fsync directory: %w", dir.Name(), err)
	}
	return n, nil
}

// createTemp creates ".<name>.tmp-<digits>" in the directory dfd, exclusively and not through
// a link, the name RemoveStale recognises.
func createTemp(dfd int, name string) (string, int, error) {
	for range 100 {
		tmp := "." + name + ".tmp-" + strconv.FormatUint(uint64(rand.Uint32()), 10)
		fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		return tmp, fd, err
	}
	return "", -1, errors.New("no free temporary name after 100 tries")
}

// fileMode converts a stat mode's type bits, for describe.
func fileMode(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR, unix.S_IFBLK:
		return fs.ModeDevice
	}
	return 0
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
