package fslock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Lock is a held lock; Unlock releases it.
type Lock struct{ f *os.File }

// ErrLocked is returned when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// TryLock takes the lock on path exclusively (created 0600 if missing; never through a link)
// without waiting.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l, err := take(f, path, unix.LOCK_EX)
	if err != nil {
		f.Close()
	}
	return l, err
}

// TryLockShared takes the lock on path shared (created 0600 if missing) without waiting: other
// shared holders may hold it too, an exclusive holder may not.
func TryLockShared(path string) (*Lock, error) {
	f, err := openShared(path)
	if err != nil {
		return nil, err
	}
	l, err := take(f, path, unix.LOCK_SH)
	if err != nil {
		f.Close()
	}
	return l, err
}

// pollEvery is how often LockShared tries again while a writer holds the lock.
const pollEvery = 50 * time.Millisecond

// LockShared takes the lock on path shared, waiting while an exclusive holder has it, until ctx
// ends. waiting, when not nil, is called once if it has to wait.
func LockShared(ctx context.Context, path string, waiting func()) (*Lock, error) {
	f, err := openShared(path)
	if err != nil {
		return nil, err
	}
	for told := false; ; {
		l, err := take(f, path, unix.LOCK_SH)
		if !errors.Is(err, ErrLocked) {
			if err != nil {
				f.Close()
			}
			return l, err
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("%s: waiting for the lock: %w", path, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// openShared opens path for a shared lock: read-only, created when the directory lets us, so a
// reader that may not write the directory still locks an existing lock file.
func openShared(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, unix.EROFS) {
		f, err = os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// take flocks f with how (LOCK_EX or LOCK_SH) without waiting. On failure f stays open: the
// caller closes it or tries again.
func take(f *os.File, path string, how int) (*Lock, error) {
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w; wait for the other hardway run to finish", path, ErrLocked)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
	l.f = nil
	return err
}
