package parallel

import (
	"sync/atomic"
	"testing"
)

func TestDoCallsEveryIndexOnce(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 100} {
		seen := make([]int32, 50)
		var running, peak int32
		Do(len(seen), workers, func(i int) {
			if r := atomic.AddInt32(&running, 1); r > atomic.LoadInt32(&peak) {
				atomic.StoreInt32(&peak, r)
			}
			atomic.AddInt32(&seen[i], 1)
			atomic.AddInt32(&running, -1)
		})
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("workers=%d: index %d called %d times", workers, i, n)
			}
		}
		if max := int32(max(workers, 1)); peak > max {
			t.Errorf("workers=%d: %d ran at once", workers, peak)
		}
	}
	Do(0, 4, func(int) { t.Fatal("called for n=0") })
}
