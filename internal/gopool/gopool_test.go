package gopool

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// Goroutines are reused: after a first round of work, a second round of the
// same size starts no new goroutine.
func TestGoReusesGoroutines(t *testing.T) {
	const n = 8
	round := func() {
		var wg sync.WaitGroup
		wg.Add(n)
		for range n {
			Go(wg.Done)
		}
		wg.Wait()
	}
	round()
	deadline := time.Now().Add(5 * time.Second)
	for Idle() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if Idle() < n {
		t.Fatalf("%d goroutines idle after the first round, want %d", Idle(), n)
	}
	before := runtime.NumGoroutine()
	round()
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines went from %d to %d: the second round started new ones", before, after)
	}
}
