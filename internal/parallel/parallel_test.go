package parallel

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestDoCallsEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 100} {
		seen := make([]atomic.Int32, 50)
		var running, peak atomic.Int32
		Do(len(seen), workers, func(i int) {
			r := running.Add(1)
			for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
			}
			seen[i].Add(1)
			running.Add(-1)
		})
		for i := range seen {
			if n := seen[i].Load(); n != 1 {
				t.Fatalf("workers=%d: index %d called %d times", workers, i, n)
			}
		}
		if limit := int32(max(workers, 1)); peak.Load() > limit {
			t.Errorf("workers=%d: %d ran at once", workers, peak.Load())
		}
	}
	Do(0, 4, func(int) { t.Fatal("called for n=0") })
}

// Do really runs workers calls at once: the first calls each wait until all workers are
// inside f, which only happens if Do started that many goroutines.
func TestDoRunsWorkersAtOnce(t *testing.T) {
	const workers = 3
	var inside atomic.Int32
	timedOut := make(chan int, workers)
	Do(10, workers, func(i int) {
		inside.Add(1)
		if i >= workers {
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for inside.Load() < workers {
			if time.Now().After(deadline) {
				timedOut <- i
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	close(timedOut)
	for i := range timedOut {
		t.Errorf("call %d waited 10s for %d calls to run at once; %d did", i, workers, inside.Load())
	}
}
