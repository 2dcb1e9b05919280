// Package fslock holds an advisory lock (flock(2)) on a file, so two hardway runs never work on
// one cluster directory at once: a run that writes holds it exclusively (TryLock), a run that
// only reads holds it shared (LockShared), so readers run together but never beside a writer.
package fslock
