package supervise

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// NamespaceOptions configure SetupNamespace.
type NamespaceOptions struct {
	// Mounts are made in order (see Mounts).
	Mounts []Mount
	// Scratch is a host directory that gets a private tmpfs: the upper layers of the overlays
	// of parents the host lacks a target in, and the sysctl shadows.
	Scratch string
	// Sysctls shadows machine-wide sysctls ("vm.overcommit_memory": "1"): a file holding the
	// value is bound over its /proc/sys entry, so a process that sets it (the kubelet) changes
	// nothing of the machine's.
	Sysctls map[string]string
}

// SetupNamespace makes the supervised node's view in the calling process's mount namespace,
// which must be its own (CLONE_NEWNS) and, for the /proc it mounts to be right, PID 1 of its
// own PID namespace: every mount is made private first, so nothing propagates to the host.
// It locks the calling goroutine to its thread (mounts are per process, but the file
// descriptors it opens are used from it).
func SetupNamespace(o NamespaceOptions) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	// Sources are opened before any mount: a source under a parent that gets overlaid must
	// still be the host's directory, not the overlay's copy.
	fds := make([]int, len(o.Mounts))
	for i, m := range o.Mounts {
		fd, err := unix.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("bind source %s for %s: %w", m.Source, m.Target, err)
		}
		fds[i] = fd
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	if err := os.MkdirAll(o.Scratch, 0o700); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", o.Scratch, "tmpfs", 0, "mode=0700"); err != nil {
		return fmt.Errorf("tmpfs at %s: %w", o.Scratch, err)
	}
	// The scratch tmpfs by descriptor: its path may be under a parent overlaid below.
	scratchFD, err := unix.Open(o.Scratch, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(scratchFD)
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc of the PID namespace: %w", err)
	}
	scratch := "/proc/self/fd/" + strconv.Itoa(scratchFD)
	if err := shadowSysctls(scratch, o.Sysctls); err != nil {
		return err
	}
	var ours, overlaid []string // targets bound so far; parents overlaid
	for i, m := range o.Mounts {
		if _, err := os.Lstat(m.Target); err != nil {
			parent := filepath.Dir(m.Target)
			for {
				if _, err := os.Lstat(parent); err == nil {
					break
				}
				parent = filepath.Dir(parent)
			}
			under := func(dirs []string) bool {
				return slices.ContainsFunc(dirs, func(d string) bool { return parent == d || strings.HasPrefix(parent, d+"/") })
			}
			if !under(ours) && !under(overlaid) {
				if parent == "/" {
					return fmt.Errorf("%s: cannot overlay /", m.Target)
				}
				n := strconv.Itoa(len(overlaid))
				up, work := filepath.Join(scratch, "overlay", n, "upper"), filepath.Join(scratch, "overlay", n, "work")
				for _, d := range []string{up, work} {
					if err := os.MkdirAll(d, 0o755); err != nil {
						return err
					}
				}
				opts := "lowerdir=" + parent + ",upperdir=" + up + ",workdir=" + work
				if err := unix.Mount("overlay", parent, "overlay", 0, opts); err != nil {
					return fmt.Errorf("overlay of %s (for %s): %w", parent, m.Target, err)
				}
				overlaid = append(overlaid, parent)
			}
			if m.File {
				if err := os.MkdirAll(filepath.Dir(m.Target), 0o755); err != nil {
					return err
				}
				f, err := os.OpenFile(m.Target, os.O_CREATE|os.O_WRONLY, 0o644)
				if err != nil {
					return err
				}
				f.Close()
			} else if err := os.MkdirAll(m.Target, 0o755); err != nil {
				return err
			}
		}
		if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(fds[i]), m.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("binding %s at %s: %w", m.Source, m.Target, err)
		}
		ours = append(ours, m.Target)
	}
	return nil
}

// shadowSysctls binds a file holding each value over its /proc/sys entry.
func shadowSysctls(scratch string, sysctls map[string]string) error {
	if len(sysctls) > 0 {
		dir := filepath.Join(scratch, "sysctl")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, key := range slices.Sorted(maps.Keys(sysctls)) {
			target := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
			if _, err := os.Stat(target); err != nil {
				return fmt.Errorf("sysctl %s: %w", key, err)
			}
			src := filepath.Join(dir, key)
			if err := os.WriteFile(src, []byte(sysctls[key]+"\n"), 0o644); err != nil {
				return err
			}
			if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("shadowing sysctl %s: %w", key, err)
			}
		}
	}
	return nil
}

// KubeletSysctls are the machine-wide settings the kubelet writes at start (or, with
// protectKernelDefaults, requires), with the values it wants: shadowed, never set.
var KubeletSysctls = map[string]string{
	"vm.overcommit_memory":      "1",
	"vm.panic_on_oom":           "0",
	"kernel.panic":              "10",
	"kernel.panic_on_oops":      "1",
	"kernel.keys.root_maxkeys":  "1000000",
	"kernel.keys.root_maxbytes": "25000000",
}
