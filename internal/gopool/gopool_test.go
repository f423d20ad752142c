package gopool

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// Goroutines are reused: after a first round of work, more rounds of the same
// size start (almost) no new goroutine. Without reuse each round would leave n
// more behind, idle for a minute; a goroutine that has just finished its work
// but is not yet waiting again can make a round start one, hence the slack.
func TestGoReusesGoroutines(t *testing.T) {
	const n, rounds = 8, 10
	// Each function waits until all n were handed over, so a round needs n
	// goroutines at once: none can finish early and take the next one.
	round := func() {
		var wg sync.WaitGroup
		release := make(chan struct{})
		wg.Add(n)
		for range n {
			Go(func() { <-release; wg.Done() })
		}
		close(release)
		wg.Wait()
	}
	settle := func() {
		deadline := time.Now().Add(5 * time.Second)
		for Idle() < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond) // let the last ones reach their wait
	}
	round()
	settle()
	if Idle() < n {
		t.Fatalf("%d goroutines idle after the first round, want %d", Idle(), n)
	}
	before := runtime.NumGoroutine()
	for range rounds {
		round()
		settle()
	}
	if grew := runtime.NumGoroutine() - before; grew >= n {
		t.Errorf("%d rounds of %d functions left %d more goroutines: they were not reused", rounds, n, grew)
	}
}
