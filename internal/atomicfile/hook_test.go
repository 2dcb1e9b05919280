package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recordSteps installs a test hook that records every step with what is at its target at that
// moment, and removes it when the test ends.
func recordSteps(t *testing.T) func() []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	SetTestHook(func(s Step, path string) {
		data, err := os.ReadFile(path)
		content := string(data)
		if err != nil {
			content = "absent"
		}
		mu.Lock()
		got = append(got, fmt.Sprintf("%s %s=%s", s, filepath.Base(path), content))
		mu.Unlock()
	})
	t.Cleanup(func() { SetTestHook(nil) })
	return func() []string { mu.Lock(); defer mu.Unlock(); return got }
}

// The hook sees each write at its steps: the target untouched before the rename, whole after.
func TestTestHookSteps(t *testing.T) {
	dir := t.TempDir()
	steps := recordSteps(t)
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(a, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(a, []byte("new"), ModePublic); err != nil {
		t.Fatal(err)
	}
	var b Batch
	if err := b.StageAll([]File{{filepath.Join(dir, "b"), []byte("B"), ModePublic}, {filepath.Join(dir, "c"), []byte("C"), ModePublic}}, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	got := steps()
	staged := got[2:4] // staged concurrently: either order
	if !(staged[0] == "staged b=absent" && staged[1] == "staged c=absent" || staged[0] == "staged c=absent" && staged[1] == "staged b=absent") {
		t.Errorf("staging steps: %q", staged)
	}
	got = append(got[:2], got[4:]...)
	want := []string{
		"before-rename a=old", "after-rename a=new",
		"before-rename b=absent", "after-rename b=B", "before-rename c=absent", "after-rename c=C",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	SetTestHook(nil)
	if err := Write(a, []byte("newer"), ModePublic); err != nil || len(steps()) != 8 {
		t.Errorf("a removed hook still runs: %d steps, %v", len(steps()), err)
	}
}
