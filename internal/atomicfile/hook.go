package atomicfile

import "sync/atomic"

// Step is a point of a write at which a crash test can stop the process.
type Step int

const (
	// Staged: Batch.Stage has written a temporary file beside the target; the target is
	// untouched and the temporary file is not durable yet.
	Staged Step = iota + 1
	// BeforeRename: the temporary file is whole (durable, for Write and Commit alike); the
	// target still holds its old content, or is absent.
	BeforeRename
	// AfterRename: the target holds its new content; the rename is not synced yet.
	AfterRename
)

func (s Step) String() string {
	switch s {
	case Staged:
		return "staged"
	case BeforeRename:
		return "before-rename"
	case AfterRename:
		return "after-rename"
	}
	return "unknown"
}

var testHook atomic.Pointer[func(Step, string)]

// SetTestHook installs f, called at each Step of every write this process makes with the
// target's path (nil removes it). It is for crash tests only: cmd/hardway's tests re-run their
// test binary as the CLI with a hook that SIGKILLs the process at its N-th step, so a crash
// lands at a chosen point of the write instead of at a moment guessed with sleeps. Batch calls
// f from several goroutines at once while staging.
func SetTestHook(f func(Step, string)) {
	if f == nil {
		testHook.Store(nil)
		return
	}
	testHook.Store(&f)
}

// step calls the test hook, if any.
func step(s Step, path string) {
	if f := testHook.Load(); f != nil {
		(*f)(s, path)
	}
}
