package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hardway-dev/hardway/internal/atomicfile"
)

// Root is an open directory that node paths resolve beneath.
type Root struct {
	dir  *os.File
	name string // as given, for messages
}

// Open opens dir as a root. An empty dir is an error, not the real "/".
func Open(dir string) (*Root, error) {
	if dir == "" {
		return nil, errors.New(`root: empty path; give "/" for the real filesystem`)
	}
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, err)
	}
	return &Root{dir: f, name: dir}, nil
}

// Close releases the root.
func (r *Root) Close() error { return r.dir.Close() }

// Name is the root's path as it was opened.
func (r *Root) Name() string { return r.name }

// HostPath is where node path p lives on this machine, for messages.
func (r *Root) HostPath(p string) string {
	return strings.TrimSuffix(r.name, "/") + "/" + strings.TrimPrefix(p, "/")
}

// rel checks p (a clean absolute node path, or relative to the root) and returns it relative
// to the root; "." for the root itself.
func rel(p string) (string, error) {
	r := strings.TrimPrefix(p, "/")
	if r == "" {
		return ".", nil
	}
	if path.Clean(r) != r || r == ".." || strings.HasPrefix(r, "../") || strings.Contains(r, "\x00") {
		return "", fmt.Errorf("%q: not a clean path under the root", p)
	}
	return r, nil
}

// openat2Works is false once the kernel said it has no openat2.
var openat2Works = true

// open opens p beneath the root with flags, following no link on the way.
func (r *Root) open(p string, flags int, mode fs.FileMode) (*os.File, error) {
	relp, err := rel(p)
	if err != nil {
		return nil, err
	}
	flags |= unix.O_CLOEXEC | unix.O_NOFOLLOW
	if openat2Works {
		fd, err := unix.Openat2(int(r.dir.Fd()), relp, &unix.OpenHow{
			Flags:   uint64(flags),
			Mode:    uint64(mode.Perm()),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), r.HostPath(p)), nil
		case errors.Is(err, unix.ENOSYS): // before Linux 5.6
			openat2Works = false
		default:
			return nil, r.pathError("open", p, err)
		}
	}
	return r.walk(p, relp, flags, mode)
}

// walk opens relp one component at a time, each directory with O_NOFOLLOW|O_DIRECTORY.
func (r *Root) walk(p, relp string, flags int, mode fs.FileMode) (*os.File, error) {
	dirfd, err := unix.Dup(int(r.dir.Fd()))
	if err != nil {
		return nil, err
	}
	parts := strings.Split(relp, "/")
	for i, part := range parts {
		last := i == len(parts)-1
		f, m := unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(0)
		if last {
			f, m = flags, uint32(mode.Perm())
		}
		fd, err := unix.Openat(dirfd, part, f, m)
		unix.Close(dirfd)
		if err != nil {
			return nil, r.pathError("open", p, err)
		}
		dirfd = fd
	}
	return os.NewFile(uintptr(dirfd), r.HostPath(p)), nil
}

// pathError says which node path failed and, for a link or a file on the way, what it is.
func (r *Root) pathError(op, p string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOTDIR) {
		return r.obstacle(p)
	}
	return &fs.PathError{Op: op, Path: r.HostPath(p), Err: err}
}

// obstacle names what stops the way to p: the first link, or a file where a directory should
// be. It looks with lstat, for the message only; the refusal came from the kernel.
func (r *Root) obstacle(p string) error {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := range parts {
		sub := "/" + strings.Join(parts[:i+1], "/")
		fi, err := os.Lstat(r.HostPath(sub))
		switch {
		case err != nil:
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s: a symbolic link on the way to %s; nothing under the root %s is reached through a link: move it away", r.HostPath(sub), p, r.name)
		case !fi.IsDir() && i < len(parts)-1:
			return fmt.Errorf("%s: a file where a directory on the way to %s should be: move it away", r.HostPath(sub), p)
		}
	}
	return fmt.Errorf("%s: not reachable beneath the root %s without following a link", r.HostPath(p), r.name)
}

// OpenDir opens the directory p beneath the root.
func (r *Root) OpenDir(p string) (*os.File, error) {
	return r.open(p, unix.O_RDONLY|unix.O_DIRECTORY, 0)
}

// Lstat describes p itself (a link is reported as a link, not followed); a missing p is an
// error wrapping fs.ErrNotExist.
func (r *Root) Lstat(p string) (fs.FileInfo, error) {
	f, err := r.open(p, unix.O_PATH, 0)
	if err != nil {
		// O_NOFOLLOW on the last component refuses a link with ELOOP: describe the link.
		if d, derr := r.OpenDir(path.Dir("/" + strings.TrimPrefix(p, "/"))); derr == nil {
			defer d.Close()
			var st unix.Stat_t
			if unix.Fstatat(int(d.Fd()), path.Base(p), &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
				return statInfo(path.Base(p), &st), nil
			}
		}
		return nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	return statInfo(path.Base(p), &st), nil
}

// ReadFile reads the regular file p, at most limit bytes; links, FIFOs, devices and longer
// files are refused.
func (r *Root) ReadFile(p string, limit int64) ([]byte, error) {
	f, err := r.open(p, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", r.HostPath(p), fi.Mode().Type())
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", r.HostPath(p), fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("%s: grew past %d bytes while read", r.HostPath(p), limit)
	}
	return data, err
}

// MkdirAll creates p and its missing parents beneath the root: parents with parentMode, p with
// mode. Existing directories keep their mode; a link or a file on the way is an error.
func (r *Root) MkdirAll(p string, mode, parentMode fs.FileMode) error {
	relp, err := rel(p)
	if err != nil || relp == "." {
		return err
	}
	parts := strings.Split(relp, "/")
	for i := range parts {
		sub := "/" + strings.Join(parts[:i+1], "/")
		m := parentMode
		if i == len(parts)-1 {
			m = mode
		}
		d, err := r.OpenDir(path.Dir(sub))
		if err != nil {
			return err
		}
		err = unix.Mkdirat(int(d.Fd()), parts[i], uint32(m.Perm()))
		d.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return r.pathError("mkdir", sub, err)
		}
		if err == nil {
			// Past the umask, on the directory itself: reopened without following a link, so
			// one swapped in since the mkdir is refused rather than chmodded.
			nd, err := r.OpenDir(sub)
			if err != nil {
				return err
			}
			err = unix.Fchmod(int(nd.Fd()), uint32(m.Perm()))
			nd.Close()
			if err != nil {
				return r.pathError("chmod", sub, err)
			}
		}
		if fi, err := r.Lstat(sub); err != nil {
			return err
		} else if fi.Mode()&fs.ModeSymlink != 0 {
			return r.obstacle(sub)
		} else if !fi.IsDir() {
			return fmt.Errorf("%s: exists and is not a directory: move it away", r.HostPath(sub))
		}
	}
	return nil
}

// Chmod sets the mode of p, a regular file or a directory (never through a link).
func (r *Root) Chmod(p string, mode fs.FileMode) error {
	return r.withNode(p, func(fd int) error { return unix.Fchmod(fd, uint32(mode.Perm())) })
}

// Chown sets the owner of p, a regular file or a directory (never through a link).
func (r *Root) Chown(p string, uid, gid int) error {
	return r.withNode(p, func(fd int) error { return unix.Fchown(fd, uid, gid) })
}

// withNode runs do on a descriptor of p once it is known to be a regular file or a directory.
func (r *Root) withNode(p string, do func(fd int) error) error {
	f, err := r.open(p, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return fmt.Errorf("%s: not a regular file or a directory (%s)", r.HostPath(p), fi.Mode().Type())
	}
	if err := do(int(f.Fd())); err != nil {
		return &fs.PathError{Op: "chmod/chown", Path: r.HostPath(p), Err: err}
	}
	return nil
}

type fileInfo struct {
	name string
	st   *unix.Stat_t
}

func statInfo(name string, st *unix.Stat_t) fs.FileInfo { return fileInfo{name, st} }

func (s fileInfo) Name() string       { return s.name }
func (s fileInfo) Size() int64        { return s.st.Size }
func (s fileInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s fileInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s fileInfo) Sys() any           { return s.st }
func (s fileInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	if s.st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// WriteFile replaces the file p beneath the root with data and mode, atomically
// (internal/atomicfile.WriteAt in p's directory, reached without following a link); anything
// but a regular file at p is refused.
func (r *Root) WriteFile(p string, data []byte, mode fs.FileMode) error {
	dir, err := r.OpenDir(path.Dir("/" + strings.TrimPrefix(p, "/")))
	if err != nil {
		return err
	}
	defer dir.Close()
	return atomicfile.WriteAt(dir, path.Base(p), data, mode)
}

// Open opens the regular file p beneath the root for reading, for a caller that streams it (a
// program too large to read in memory); links, FIFOs and devices are refused.
func (r *Root) Open(p string) (*os.File, error) {
	f, err := r.open(p, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file (%s)", r.HostPath(p), fi.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// WriteFileFrom is WriteFile for content read from src as it arrives
// (internal/atomicfile.WriteStreamAt): commit, when not nil, approves the whole content before
// it replaces p, and its error leaves p as it was.
func (r *Root) WriteFileFrom(p string, src io.Reader, mode fs.FileMode, commit func() error) (int64, error) {
	dir, err := r.OpenDir(path.Dir("/" + strings.TrimPrefix(p, "/")))
	if err != nil {
		return 0, err
	}
	defer dir.Close()
	return atomicfile.WriteStreamAt(dir, path.Base(p), src, mode, commit)
}
