package fslock

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestTryLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".lock")
	l, err := TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(p); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := TryLock(p)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	l2.Unlock()
}

// Readers share the lock; a writer excludes them and they exclude it; a waiting reader gets
// the lock when the writer lets go, and gives up when its context ends.
func TestSharedLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".lock")
	r1, err := TryLockShared(p)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := TryLockShared(p)
	if err != nil {
		t.Fatalf("a second reader: %v", err)
	}
	if _, err := TryLock(p); !errors.Is(err, ErrLocked) {
		t.Fatalf("a writer beside readers: %v", err)
	}
	r1.Unlock()
	r2.Unlock()

	w, err := TryLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLockShared(p); !errors.Is(err, ErrLocked) {
		t.Fatalf("a reader beside a writer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*pollEvery)
	defer cancel()
	waited := false
	if _, err := LockShared(ctx, p, func() { waited = true }); !errors.Is(err, context.DeadlineExceeded) || !waited {
		t.Fatalf("a reader waiting for a writer that stays: waited %v, %v", waited, err)
	}
	got := make(chan error)
	go func() {
		l, err := LockShared(context.Background(), p, nil)
		l.Unlock()
		got <- err
	}()
	time.Sleep(2 * pollEvery)
	w.Unlock()
	if err := <-got; err != nil {
		t.Fatalf("a reader after the writer left: %v", err)
	}
}
