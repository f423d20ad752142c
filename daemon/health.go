package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/internal/wait"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// What /readyz looks at while the daemon runs, beside the start-up checks
// (which only a periodic check repeats): the deliveries themselves, the state
// store's calls and probes, and the evaluations.
const (
	// lastAttempts: a notifier whose last lastAttempts sends all failed (or
	// whose last send failed permanently, a configuration problem) is named.
	lastAttempts = 5
	// sendStuckAfter: a send still waiting after this is named; the
	// dispatcher's attempt timeout ends it later.
	sendStuckAfter = 20 * time.Second
	// slowRuleWindow: a rule cut short by rules.eval_timeout is named until
	// it went this long without another timeout.
	slowRuleWindow = 30 * time.Second
	// stateProbeEvery: how often the state store is probed (Redis PING), so
	// that an outage shows, and its end too, whether or not alerts flow.
	stateProbeEvery   = 5 * time.Second
	stateProbeTimeout = 2 * time.Second
)

// health follows what happens at run time, for /readyz. It is safe for
// concurrent use.
type health struct {
	now      func() time.Time
	overruns *engine.Overruns

	mu        sync.Mutex
	notifiers map[string]*sendLog
	stateErr  error
	slowRules map[string]slowRule
}

type sendLog struct {
	results   []error // the last lastAttempts outcomes, oldest first
	inFlight  map[*int]time.Time
	permanent error // the last send's error when it was permanent, else nil
}

type slowRule struct {
	last  time.Time
	count int
}

func newHealth() *health {
	return &health{now: time.Now, overruns: &engine.Overruns{}, notifiers: map[string]*sendLog{}, slowRules: map[string]slowRule{}}
}

func (h *health) sendLog(name string) *sendLog {
	l := h.notifiers[name]
	if l == nil {
		l = &sendLog{inFlight: map[*int]time.Time{}}
		h.notifiers[name] = l
	}
	return l
}

// sending records the start of one send; the function it returns records its
// outcome.
func (h *health) sending(name string) func(error) {
	token := new(int)
	h.mu.Lock()
	h.sendLog(name).inFlight[token] = h.now()
	h.mu.Unlock()
	return func(err error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		l := h.sendLog(name)
		delete(l.inFlight, token)
		if len(l.results) == lastAttempts {
			l.results = l.results[1:]
		}
		l.results = append(l.results, err)
		l.permanent = nil
		if err != nil && notifiers.IsPermanent(err) {
			l.permanent = err
		}
	}
}

// stateResult records the outcome of a state store call or probe: an error
// stays on /readyz until a later one succeeds.
func (h *health) stateResult(err error) {
	if errors.Is(err, context.Canceled) {
		return // our side gave up (shutdown), not the store
	}
	h.mu.Lock()
	h.stateErr = err
	h.mu.Unlock()
}

// ruleTimedOut records that rule id ran past the evaluation budget.
func (h *health) ruleTimedOut(id string) {
	h.mu.Lock()
	r := h.slowRules[id]
	h.slowRules[id] = slowRule{last: h.now(), count: r.count + 1}
	h.mu.Unlock()
}

// problems lists what goes wrong now, sorted.
func (h *health) problems() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	var out []string
	for name, l := range h.notifiers {
		switch {
		case l.permanent != nil:
			out = append(out, fmt.Sprintf("notifiers: %s: the last send failed permanently: %v", name, l.permanent))
		case len(l.results) == lastAttempts && !slices.Contains(l.results, nil):
			out = append(out, fmt.Sprintf("notifiers: %s: the last %d sends failed, the last with: %v", name, lastAttempts, l.results[lastAttempts-1]))
		}
		var oldest time.Time
		for _, t := range l.inFlight {
			if oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
		if !oldest.IsZero() && now.Sub(oldest) > sendStuckAfter {
			out = append(out, fmt.Sprintf("notifiers: %s: a send has been waiting for %s", name, now.Sub(oldest).Round(time.Second)))
		}
	}
	if h.stateErr != nil {
		out = append(out, "state: "+h.stateErr.Error())
	}
	for id, r := range h.slowRules {
		if now.Sub(r.last) > slowRuleWindow {
			delete(h.slowRules, id) // counted afresh when it comes back
			continue
		}
		out = append(out, fmt.Sprintf("rules: %s exceeded rules.eval_timeout %d times, the last %s ago", id, r.count, now.Sub(r.last).Round(time.Second)))
	}
	if n := h.overruns.Running(); n > 0 {
		out = append(out, fmt.Sprintf("rules: %d evaluations still running past rules.eval_timeout (a builtin that ignores cancellation)", n))
	}
	slices.Sort(out)
	return out
}

// probeState checks the state store every stateProbeEvery until ctx ends.
func (h *health) probeState(ctx context.Context, c notifiers.Checker) {
	// Each wait starts at the probe's end: a slow store is not probed back
	// to back.
	for wait.Sleep(ctx, stateProbeEvery) {
		pctx, cancel := context.WithTimeout(ctx, stateProbeTimeout)
		err := c.Check(pctx)
		cancel()
		if ctx.Err() == nil {
			h.stateResult(err)
		}
	}
}

// watchedNotifier tells health about each send.
type watchedNotifier struct {
	notifiers.Notifier
	h *health
}

func (w watchedNotifier) Notify(ctx context.Context, a *alert.Alert, note string) error {
	done := w.h.sending(w.Name())
	err := w.Notifier.Notify(ctx, a, note)
	seen := err
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		seen = nil // shutdown, not the peer
	}
	done(seen)
	return err
}

// Check keeps the start-up check of the notifier wrapped, if it has one.
func (w watchedNotifier) Check(ctx context.Context) error {
	if c, ok := w.Notifier.(notifiers.Checker); ok {
		return c.Check(ctx)
	}
	return nil
}

// watchNotifiers wraps each notifier so that h follows its sends.
func watchNotifiers(ns []notifiers.Notifier, h *health) []notifiers.Notifier {
	out := make([]notifiers.Notifier, len(ns))
	for i, n := range ns {
		out[i] = watchedNotifier{n, h}
	}
	return out
}

// watchedState tells health about each state store call.
type watchedState struct {
	state.State
	h *health
}

func (w watchedState) Claim(ctx context.Context, key string, ttl time.Duration) (state.Claim, error) {
	c, err := w.State.Claim(ctx, key, ttl)
	w.h.stateResult(err)
	return c, err
}

func (w watchedState) MarkDelivered(ctx context.Context, key string, ttl time.Duration) error {
	err := w.State.MarkDelivered(ctx, key, ttl)
	w.h.stateResult(err)
	return err
}

func (w watchedState) Release(ctx context.Context, key, token string) error {
	err := w.State.Release(ctx, key, token)
	w.h.stateResult(err)
	return err
}

func (w watchedState) Observe(ctx context.Context, o state.Occurrence) (state.Verdict, error) {
	v, err := w.State.Observe(ctx, o)
	w.h.stateResult(err)
	return v, err
}

func (w watchedState) TakePending(ctx context.Context, now time.Time, includeOpen bool) ([]state.Pending, error) {
	p, err := w.State.TakePending(ctx, now, includeOpen)
	w.h.stateResult(err)
	return p, err
}

func (w watchedState) Requeue(ctx context.Context, p state.Pending, now time.Time, ttl time.Duration) error {
	err := w.State.Requeue(ctx, p, now, ttl)
	w.h.stateResult(err)
	return err
}

// Check keeps the start-up check of the store, if it has one.
func (w watchedState) Check(ctx context.Context) error {
	if c, ok := w.State.(notifiers.Checker); ok {
		return c.Check(ctx)
	}
	return nil
}
