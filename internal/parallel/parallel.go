package parallel

import "sync"

// Do calls f(0) ... f(n-1) on up to workers goroutines (at least one) and returns when all
// are done. f must be safe to run concurrently; it records its own results by index.
func Do(n, workers int, f func(i int)) {
	if workers < 1 {
		workers = 1
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers && w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
