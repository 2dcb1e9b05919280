package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hardway-dev/hardway/internal/fslock"
)

// LockPath is the machine-wide lock file of the tests that start clusters.
var LockPath = filepath.Join(os.TempDir(), "hardway-e2e.lock")

// machine is this process's hold on the lock: taken by the first LockMachine, released when
// the last test holding it ends. A test that starts several sandboxes, or a subtest of a test
// that holds it, does not wait for itself.
var machine struct {
	sync.Mutex
	holders int
	lock    *fslock.Lock
}

// LockMachine holds the machine-wide end-to-end lock (an flock on LockPath) until the test
// ends, waiting while another process holds it. Every test that starts a cluster (a real
// kube-apiserver, an etcd cluster, a sandboxed systemd) takes it before starting anything, so
// that `go test ./...`, which runs packages in parallel, never runs two packages' clusters at
// once on this 2-core machine. Tests of one package that hold it share it: whether they run
// at the same time is t.Parallel's business.
func LockMachine(t testing.TB) { lockMachine(t, LockPath) }

func lockMachine(t testing.TB, path string) {
	t.Helper()
	machine.Lock()
	defer machine.Unlock()
	if machine.holders == 0 {
		machine.lock = waitLock(t, path)
	}
	machine.holders++
	t.Cleanup(func() {
		machine.Lock()
		defer machine.Unlock()
		if machine.holders--; machine.holders == 0 {
			if err := machine.lock.Unlock(); err != nil {
				t.Errorf("releasing %s: %v", path, err)
			}
			machine.lock = nil
		}
	})
}

// waitLock takes the flock on path, polling while another process holds it.
func waitLock(t testing.TB, path string) *fslock.Lock {
	t.Helper()
	start := time.Now()
	for logged := false; ; {
		l, err := fslock.TryLock(path)
		if err == nil {
			if logged {
				t.Logf("took %s after %s", path, time.Since(start).Round(time.Second))
			}
			return l
		}
		if !errors.Is(err, fslock.ErrLocked) {
			t.Fatalf("the end-to-end machine lock: %v", err)
		}
		if !logged {
			t.Logf("waiting for %s: another package's end-to-end test is running a cluster", path)
			logged = true
		}
		time.Sleep(200 * time.Millisecond)
	}
}
