// Package rootfs is a directory tree that node paths are installed under and read from without
// ever leaving it: every path component is resolved without following symbolic links
// (openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where the kernel has it, Linux 5.6 and
// later; otherwise a walk that opens one component at a time with O_NOFOLLOW), so a link
// planted anywhere under the root (ROOT/etc -> /elsewhere, or a relative link that climbs out)
// stops the operation instead of redirecting it. Reads take regular files only, bounded in size
// and never blocking on a FIFO; writes go through internal/atomicfile's directory-relative
// writer. `hardway launch --root` installs through it; a root of "/" is the real filesystem,
// with the same rules.
package rootfs
