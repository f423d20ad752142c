package dispatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// stuckGrace is how long a call that reached its timeout is given to return
// before it counts as stuck: a notifier that honours its context returns
// within moments, and is then not stuck.
const stuckGrace = 250 * time.Millisecond

// isolator runs each Notify call in a goroutine of its own, bounded by the
// notifier's timeout, so that a notifier whose call never returns fails its
// own deliveries only: the fan-out waits for every target of an alert, and
// one call blocked for good would hold up every alert and so every notifier.
// The calls' goroutines are owned by the dispatcher and waited for by Close.
type isolator struct {
	timeouts map[string]time.Duration // by notifier name; default fallback
	fallback time.Duration
	mu       sync.Mutex
	stuck    map[string]*atomic.Int32 // calls past their timeout still running, by name
	down     map[string]bool          // notifiers that gave up on an alert and have not delivered since, with mu
	running  int                      // calls not returned, with mu
	idle     chan struct{}            // closed when running drops to 0, with mu
}

// A sync.WaitGroup will not do: Close may wait while calls start.
func (s *isolator) started() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == 0 {
		s.idle = make(chan struct{})
	}
	s.running++
}

func (s *isolator) returned() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	if s.running == 0 {
		close(s.idle)
	}
}

// allReturned is closed once no call is running.
func (s *isolator) allReturned() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.idle
}

func newIsolator(timeouts map[string]time.Duration, fallback time.Duration) *isolator {
	return &isolator{timeouts: timeouts, fallback: fallback, stuck: map[string]*atomic.Int32{}, down: map[string]bool{}}
}

// failing says whether the named notifier gave up on an alert and has not
// delivered since (see Dispatcher.send).
func (s *isolator) failing(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down[name]
}

// setFailing records whether the named notifier is failing, and returns what
// was recorded before.
func (s *isolator) setFailing(name string, down bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.down[name]
	if down {
		s.down[name] = true
	} else {
		delete(s.down, name)
	}
	return was
}

func (s *isolator) timeout(name string) time.Duration {
	if t := s.timeouts[name]; t > 0 {
		return t
	}
	return s.fallback
}

func (s *isolator) counter(name string) *atomic.Int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.stuck[name]
	if !ok {
		c = &atomic.Int32{}
		s.stuck[name] = c
	}
	return c
}

// Call states, for the race between a call returning and its caller giving
// up on it.
const (
	callRunning int32 = iota
	callReturned
	callAbandoned
)

// notify makes one attempt: n.Notify in its own goroutine, given up on after
// the notifier's timeout. late, if not nil, is told how a call given up on
// ended, when it does (a write that went through after all is recorded, so
// the redelivery does not repeat it).
func (s *isolator) notify(ctx context.Context, n notifiers.Notifier, a *alert.Alert, note string, late func(error)) error {
	name := n.Name()
	stuck := s.counter(name)
	if stuck.Load() > 0 {
		return fmt.Errorf("%w", ErrStuck)
	}
	timeout := s.timeout(name)
	actx, cancel := context.WithTimeout(ctx, timeout)
	var state atomic.Int32
	done := make(chan error, 1)
	s.started()
	go func() {
		defer s.returned()
		defer cancel()
		err := n.Notify(actx, a, note)
		done <- err
		if !state.CompareAndSwap(callRunning, callReturned) {
			stuck.Add(-1) // abandoned by its caller, and now back
			if late != nil {
				late(err)
			}
		}
	}()
	select {
	case err := <-done:
		return err
	case <-actx.Done():
	}
	grace := time.NewTimer(stuckGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return err
	case <-grace.C:
	}
	stuck.Add(1)
	if !state.CompareAndSwap(callRunning, callAbandoned) {
		stuck.Add(-1)
		return <-done
	}
	if ctx.Err() != nil {
		return fmt.Errorf("notify did not return after its context ended: %w", context.Cause(ctx))
	}
	return fmt.Errorf("no answer within the notifier's timeout %s; %w", timeout, ErrStuck)
}

// Close waits until every Notify call has returned, or ctx ends; it says how
// many were still running then. Call it once nothing dispatches any more.
func (d *Dispatcher) Close(ctx context.Context) error {
	select {
	case <-d.iso.allReturned():
		return nil
	case <-ctx.Done():
	}
	n := int32(0)
	d.iso.mu.Lock()
	for _, c := range d.iso.stuck {
		n += c.Load()
	}
	d.iso.mu.Unlock()
	return fmt.Errorf("dispatch: %d notifier calls still stuck at shutdown: %w", n, context.Cause(ctx))
}
