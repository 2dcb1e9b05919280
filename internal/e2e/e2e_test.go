package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardway-dev/hardway/internal/fslock"
)

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		n, max int
		want   []int
	}{
		{0, 5, nil},
		{3, 5, []int{0, 1, 2}},
		{10, 1, []int{0}},
		{10, 2, []int{0, 9}},
		{10, 4, []int{0, 3, 6, 9}},
		{101, 5, []int{0, 25, 50, 75, 100}},
	} {
		if got := Spread(c.n, c.max); !slices.Equal(got, c.want) {
			t.Errorf("Spread(%d, %d) = %v, want %v", c.n, c.max, got, c.want)
		}
	}
	for n := 1; n < 200; n++ {
		got := Spread(n, 7)
		if len(got) != min(n, 7) || got[0] != 0 || got[len(got)-1] != n-1 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("Spread(%d, 7) = %v", n, got)
		}
	}
}

// The lock excludes every other holder of the file (another open file description, as another
// process has), is shared by the tests of this process that hold it, and is released when the
// last of them ends.
func TestLockMachine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e2e.lock")
	t.Run("held", func(t *testing.T) {
		lockMachine(t, path)
		t.Run("nested", func(t *testing.T) { lockMachine(t, path) }) // does not wait for itself
		if l, err := fslock.TryLock(path); !errors.Is(err, fslock.ErrLocked) {
			l.Unlock()
			t.Fatalf("another holder took the lock: %v", err)
		}
	})
	l, err := fslock.TryLock(path)
	if err != nil {
		t.Fatalf("the lock outlived its tests: %v", err)
	}
	l.Unlock()
}

func TestFindKubeComponents(t *testing.T) {
	t.Setenv("HARDWAY_KUBE_SCHEDULER", "")
	if _, err := Find("kube-scheduler"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unset: %v", err)
	}
	dir := t.TempDir()
	t.Setenv("HARDWAY_KUBE_SCHEDULER", dir)
	if _, err := Find("kube-scheduler"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("a directory: %v, want an error that is not a skip", err)
	}
	bin := filepath.Join(dir, "kube-scheduler")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HARDWAY_KUBE_SCHEDULER", bin)
	if p, err := Find("kube-scheduler"); p != bin || err != nil {
		t.Errorf("Find = %q, %v", p, err)
	}
	t.Setenv("HARDWAY_COREDNS", "")
	if _, err := Find("coredns"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "scripts/build-coredns.sh") {
		t.Errorf("coredns unset: %v, want ErrNotFound naming scripts/build-coredns.sh", err)
	}
	if _, err := Find("no-such-program-hardway"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing on PATH: %v", err)
	}
}
