// Package dispatch takes alerts from the engine to the notifiers: it routes,
// suppresses, deduplicates, and delivers with retries, once per alert and
// notifier even when an at-least-once input hands it the same alert again.
//
// The dispatcher is a list of stages, composed like Alertmanager's notify
// package (Stage, MultiStage, FanoutStage). Each alert, and each dedup summary
// (see Flush), goes through the same list:
//  1. stateful: count a stateful rule's candidate (every one, routed or not)
//     and go on only with the stateful alert it makes fire, if any,
//  2. route: pick the notifiers (no matching route: nothing to do),
//  3. suppress: drop it if a Suppression matches,
//  4. dedup: hold an alert back if the dedup window saw a similar one (counting
//     it, for the next alert sent or a summary); write the note,
//  5. fan out to every routed notifier concurrently, each: claim the delivery
//     in State, send with retries, mark it delivered (or release the claim).
//
// A new step is a new stage: one file, and one line in the list in New.
//
// The result tells the caller what to do with the input message: nil, ack it;
// an error, leave it to come back — unless notifiers.IsPermanent(err), when no
// retry can help and it should be acknowledged after logging.
package dispatch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// Dispatcher delivers alerts. It is safe for concurrent use.
type Dispatcher struct {
	notifiers    []notifiers.Notifier
	routes       []route
	suppressions []*suppression
	dedupWindow  time.Duration
	dedupKey     []string
	retry        RetryPolicy
	state        state.State
	stateful     state.Stateful
	deliveredTTL time.Duration
	claimTTL     time.Duration
	pendingTTL   time.Duration
	flushEvery   time.Duration
	stages       stages // what Dispatch and Flush run; see New
	iso          *isolator
	log          *slog.Logger
	obs          Observer
	seen         func(*alert.Alert)
	history      Recorder
	now          func() time.Time
}

// New validates cfg and returns a Dispatcher.
func New(cfg Config) (*Dispatcher, error) {
	d := &Dispatcher{
		notifiers:    cfg.Notifiers,
		dedupWindow:  cfg.Dedup.Window,
		dedupKey:     cfg.Dedup.Key,
		retry:        cfg.Retry.withDefaults(),
		state:        cfg.State,
		deliveredTTL: cmp.Or(cfg.DeliveredTTL, 24*time.Hour),
		pendingTTL:   cmp.Or(cfg.PendingTTL, 24*time.Hour),
		flushEvery:   cmp.Or(cfg.FlushInterval, time.Minute),
		log:          cfg.Logger,
		obs:          cfg.Observer,
		seen:         cfg.Seen,
		history:      cfg.History,
		now:          cfg.Now,
	}
	d.iso = newIsolator(cfg.Timeouts, d.retry.AttemptTimeout)
	longest := d.retry.AttemptTimeout
	for name, t := range cfg.Timeouts {
		if t < 0 {
			return nil, fmt.Errorf("dispatch: notifier %q: timeout %s is negative", name, t)
		}
		longest = max(longest, t)
	}
	d.claimTTL = cmp.Or(cfg.ClaimTTL, d.retry.MaxElapsedTime+longest+30*time.Second)
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.obs == nil {
		d.obs = nopObserver{}
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.state == nil {
		d.state = state.NewMemory(state.MemoryOptions{})
	}
	// Stateful rules keep their records beside the rest of the state when the
	// backend can (SQLite, Redis), else in memory.
	d.stateful.R = cfg.Records
	if r, ok := d.state.(state.Records); ok && d.stateful.R == nil {
		d.stateful.R = r
	}
	if d.stateful.R == nil {
		d.stateful.R = state.NewMemoryRecords()
	}

	index := map[string]int{}
	for i, n := range cfg.Notifiers {
		if n == nil || n.Name() == "" {
			return nil, fmt.Errorf("dispatch: notifier %d has no name", i)
		}
		if _, dup := index[n.Name()]; dup {
			return nil, fmt.Errorf("dispatch: two notifiers named %q", n.Name())
		}
		index[n.Name()] = i
	}
	var err error
	if d.routes, err = compileRoutes(cfg.Routes, index); err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	if d.suppressions, err = compileSuppressions(cfg.Suppressions); err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	// The configuration reports suppressions that expired before the start,
	// with their file and line; only those that expire while running are
	// warned about here, once each.
	now := d.now()
	for _, s := range d.suppressions {
		if s.expired(now) {
			s.warned.Store(true)
		}
	}
	for _, v := range []struct {
		name string
		d    time.Duration
	}{
		{"dedup window", cfg.Dedup.Window}, {"delivered TTL", cfg.DeliveredTTL}, {"claim TTL", cfg.ClaimTTL},
		{"pending TTL", cfg.PendingTTL}, {"flush interval", cfg.FlushInterval},
	} {
		if v.d < 0 {
			return nil, fmt.Errorf("dispatch: %s %s is negative", v.name, v.d)
		}
	}

	// The dispatcher. To add a step, write its stage in a file of its own and
	// add it here; it sees alerts and summaries alike (delivery.kind).
	// Stateful rules count first: every candidate, whether routed or not. The
	// history brackets the list (see exec), as the claim brackets the sending:
	// it records what the list decided.
	d.stages = stages{
		statefulStage{d},
		routeStage{d},
		suppressStage{d},
		dedupStage{d},
		fanoutStage{d, claimStage{d, stages{
			threadStage{d, sendStage{d}},
			markDeliveredStage{d},
		}}},
	}
	return d, nil
}

// StatefulRecords is how many records stateful rules keep (one per rule and
// group), for the state-size metric.
func (d *Dispatcher) StatefulRecords(ctx context.Context) (int, error) { return d.stateful.R.Size(ctx) }

// hash keeps State keys short and free of whatever the parts contain.
func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Dispatch delivers a to its routed notifiers (see the package comment). It
// returns nil when every routed notifier sent it, had sent it before, or it was
// suppressed or held back; otherwise an *Error (wrapped in notifiers.Permanent
// when every failure was permanent).
func (d *Dispatcher) Dispatch(ctx context.Context, a *alert.Alert) error {
	_, err := d.exec(ctx, &delivery{
		kind: kindAlert, alert: a, subject: "alert", what: "alert " + a.RuleID + " " + a.EventID,
		identity: hash("alert", a.Key()),
		log:      d.log.With("rule_id", a.RuleID, "event_id", a.EventID),
	})
	return err
}

// Ready runs every notifier's Check (and State's, when it has one), concurrently,
// and reports all failures. Use it at start-up: a permanent error means the
// configuration is wrong.
func (d *Dispatcher) Ready(ctx context.Context) error {
	type named struct {
		name string
		c    notifiers.Checker
	}
	var checks []named
	for _, n := range d.notifiers {
		if c, ok := n.(notifiers.Checker); ok {
			checks = append(checks, named{n.Name(), c})
		}
	}
	if c, ok := d.state.(notifiers.Checker); ok {
		checks = append(checks, named{"state", c})
	}
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			if err := c.c.Check(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", c.name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
