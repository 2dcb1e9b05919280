package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockName is the run lock in the cluster directory: flocked by the running `hardway up`, and
// holding its PID.
const LockName = "up.lock"

// RunLock is a held run lock.
type RunLock struct{ f *os.File }

// ErrRunning is returned by Lock when another process holds DIR's run lock.
type ErrRunning struct {
	Dir string
	PID int // 0 when the lock file does not say
}

func (e *ErrRunning) Error() string {
	return fmt.Sprintf("%s is already running (`hardway up` pid %d holds %s); stop it with `hardway down --dir %s` or use another --dir", e.Dir, e.PID, filepath.Join(e.Dir, LockName), e.Dir)
}

// Lock takes dir's run lock without waiting and writes this process's PID into it.
func Lock(dir string) (*RunLock, error) {
	p := filepath.Join(dir, LockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			pid, _ := readPID(p)
			return nil, &ErrRunning{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, err
	}
	return &RunLock{f: f}, nil
}

// Unlock releases the lock.
func (l *RunLock) Unlock() error {
	_ = l.f.Truncate(0)
	return l.f.Close()
}

// Holder returns the PID of the `hardway up` running on dir, or 0 when none runs (the lock is
// free).
func Holder(dir string) (int, error) {
	p := filepath.Join(dir, LockName)
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		return 0, nil // free: nothing runs
	} else if !errors.Is(err, unix.EWOULDBLOCK) {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	pid, err := readPID(p)
	if err != nil || pid == 0 {
		return 0, fmt.Errorf("%s is held but names no PID: %v", p, err)
	}
	return pid, nil
}

func readPID(p string) (int, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
