package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DirFS is the file system under dir on this machine, for Sources and Options.FS. Like
// os.DirFS it follows symbolic links (a node's /lib is often a link to /usr/lib, `systemctl
// link` makes absolute ones, and systemd and the kubelet follow them too), but Open never
// blocks and never opens a device: each path is first opened with O_PATH, which does neither,
// and only a directory or a regular file is then opened for reading, through that same
// descriptor (/proc/self/fd), so nothing can be swapped in between. A FIFO, device or socket
// comes back as a file that Stat describes and Read refuses, and readFile names it.
//
// When dir is not "/", a path that resolves (through a link or "..") outside dir is refused:
// inspect --root DIR reads the node's files, never the host's.
func DirFS(dir string) (fs.FS, error) {
	if dir == "" {
		return nil, errors.New(`empty directory; give "/" for the whole file system`)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	real, err := fdPath(fd)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return &dirFS{dir: dir, real: real}, nil
}

type dirFS struct {
	dir  string // as given
	real string // dir with every link resolved: what an opened path must be under
}

// openPath opens name with O_PATH (following links) and checks it is under the root.
func (d *dirFS) openPath(op, name string) (int, string, error) {
	if !fs.ValidPath(name) {
		return -1, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	full := path.Join(d.dir, name)
	fd, err := unix.Open(full, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", &fs.PathError{Op: op, Path: name, Err: err}
	}
	if d.real != "/" {
		got, err := fdPath(fd)
		if err == nil && got != d.real && !strings.HasPrefix(got, d.real+"/") {
			err = fmt.Errorf("leads to %s, outside %s: links are followed only within the root", got, d.dir)
		}
		if err != nil {
			unix.Close(fd)
			return -1, "", &fs.PathError{Op: op, Path: name, Err: err}
		}
	}
	return fd, full, nil
}

// Open opens a directory or a regular file for reading; anything else for Stat only.
func (d *dirFS) Open(name string) (fs.File, error) {
	fd, full, err := d.openPath("open", name)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var flags int
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		// O_NONBLOCK: a regular file that is really a kernel interface (/proc/kmsg) answers
		// EAGAIN instead of waiting.
		flags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY
	case unix.S_IFDIR:
		flags = unix.O_RDONLY | unix.O_DIRECTORY
	default:
		// An O_PATH descriptor: Stat works, Read fails (EBADF); it was never opened for I/O.
		return os.NewFile(uintptr(fd), full), nil
	}
	rfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), flags|unix.O_CLOEXEC, 0)
	unix.Close(fd)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(rfd), full), nil
}

// Stat describes name (a link's target) without opening it for reading.
func (d *dirFS) Stat(name string) (fs.FileInfo, error) {
	fd, full, err := d.openPath("stat", name)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), full)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return st, nil
}

// fdPath is the path the kernel has for an open descriptor, every link resolved.
func fdPath(fd int) (string, error) {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", fmt.Errorf("resolving the path needs /proc: %w", err)
	}
	return p, nil
}
