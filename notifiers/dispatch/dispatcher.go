// Package dispatch takes alerts from the engine to the notifiers: it suppresses,
// deduplicates, routes, and delivers with retries, once per alert and notifier
// even when an at-least-once input hands it the same alert again.
//
// For each alert, Dispatch
//  1. routes it (no matching route: nothing to do),
//  2. drops it if a Suppression matches,
//  3. holds it back if the dedup window saw a similar alert (counting it, for the
//     next alert sent or a summary),
//  4. delivers it to every routed notifier concurrently: claim the delivery in
//     State, send with retries, mark it delivered (or release the claim).
//
// The result tells the caller what to do with the input message: nil, ack it;
// an error, leave it to come back — unless notifiers.IsPermanent(err), when no
// retry can help and it should be acknowledged after logging.
package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	deliveredTTL time.Duration
	claimTTL     time.Duration
	pendingTTL   time.Duration
	flushEvery   time.Duration
	log          *slog.Logger
	obs          Observer
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
		deliveredTTL: or(cfg.DeliveredTTL, 24*time.Hour),
		pendingTTL:   or(cfg.PendingTTL, 24*time.Hour),
		flushEvery:   or(cfg.FlushInterval, time.Minute),
		log:          cfg.Logger,
		obs:          cfg.Observer,
		now:          cfg.Now,
	}
	d.claimTTL = or(cfg.ClaimTTL, d.retry.MaxElapsedTime+d.retry.AttemptTimeout+30*time.Second)
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
	for _, s := range d.suppressions {
		if s.expired(d.now()) {
			s.warnExpired(context.Background(), d.log)
		}
	}
	return d, nil
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// hash keeps State keys short and free of whatever the parts contain.
func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// group is a's dedup group: its DedupKey scoped to its rule, or the configured
// fields.
func (d *Dispatcher) group(a *alert.Alert) string {
	if a.DedupKey != "" {
		return hash("rule_id", a.RuleID, "dedup_key", a.DedupKey)
	}
	parts := make([]string, 0, 2*len(d.dedupKey))
	for _, f := range d.dedupKey {
		v, _ := a.Field(f)
		parts = append(parts, f, v)
	}
	return hash(parts...)
}

// Dispatch delivers a to its routed notifiers (see the package comment). It
// returns nil when every routed notifier sent it, had sent it before, or it was
// suppressed or held back; otherwise an *Error (wrapped in notifiers.Permanent
// when every failure was permanent).
func (d *Dispatcher) Dispatch(ctx context.Context, a *alert.Alert) error {
	targets := d.route(a)
	log := d.log.With("rule_id", a.RuleID, "event_id", a.EventID)
	if len(targets) == 0 {
		log.DebugContext(ctx, "alert matches no route")
		return nil
	}
	if s := d.suppressedBy(ctx, a); s != nil {
		log.InfoContext(ctx, "alert suppressed", "reason", s.Reason, "owner", s.Owner)
		d.observe(targets, OutcomeSuppressed)
		return nil
	}
	var note string
	if d.dedupWindow > 0 {
		body, err := json.Marshal(a)
		if err != nil {
			return notifiers.Permanent(fmt.Errorf("dispatch: encode alert: %w", err))
		}
		v, err := d.state.Observe(ctx, state.Occurrence{
			Group: d.group(a), AlertKey: hash(a.Key()), Alert: body,
			Now: d.now(), Window: d.dedupWindow, PendingTTL: d.pendingTTL,
		})
		if err != nil {
			d.observe(targets, OutcomeFailed)
			return fmt.Errorf("dispatch alert %s %s: %w", a.RuleID, a.EventID, err)
		}
		if !v.Lead {
			log.DebugContext(ctx, "alert held back by the dedup window")
			d.observe(targets, OutcomeDeduplicated)
			return nil
		}
		if v.Suppressed > 0 {
			note = fmt.Sprintf("%d similar %s suppressed by the %s dedup window since %s",
				v.Suppressed, plural(v.Suppressed), fmtDuration(d.dedupWindow), v.Since.UTC().Format(time.RFC3339))
		}
	}
	return d.deliver(ctx, a, note, "alert "+a.RuleID+" "+a.EventID, hash("alert", a.Key()), targets)
}

func plural(n int) string {
	if n == 1 {
		return "alert"
	}
	return "alerts"
}

// fmtDuration prints 1h rather than 1h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}

func (d *Dispatcher) observe(targets []notifiers.Notifier, o Outcome) {
	for _, n := range targets {
		d.obs.Notified(n.Name(), o)
	}
}

// deliver sends a to every target concurrently; identity names this delivery
// (an alert, or a summary) in State, together with each notifier's name.
func (d *Dispatcher) deliver(ctx context.Context, a *alert.Alert, note, what, identity string, targets []notifiers.Notifier) error {
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, n := range targets {
		wg.Go(func() { errs[i] = d.deliverOne(ctx, n, a, note, hash(identity, n.Name())) })
	}
	wg.Wait()

	e := &Error{What: what}
	permanent := true
	for i, err := range errs {
		if err != nil {
			e.Failures = append(e.Failures, Failure{Notifier: targets[i].Name(), Err: err})
			permanent = permanent && notifiers.IsPermanent(err)
		}
	}
	switch {
	case len(e.Failures) == 0:
		return nil
	case permanent:
		return notifiers.Permanent(e)
	default:
		return e
	}
}

// stateTimeout bounds State updates made after ctx may have ended: recording a
// delivery that happened matters even during shutdown.
const stateTimeout = 5 * time.Second

func (d *Dispatcher) deliverOne(ctx context.Context, n notifiers.Notifier, a *alert.Alert, note, key string) error {
	log := d.log.With("notifier", n.Name(), "rule_id", a.RuleID, "event_id", a.EventID)
	c, err := d.state.Claim(ctx, key, d.claimTTL)
	if err != nil {
		// Without the claim we cannot promise "once"; fail so the message returns.
		d.obs.Notified(n.Name(), OutcomeFailed)
		log.ErrorContext(ctx, "cannot claim delivery", "err", err)
		return fmt.Errorf("claim delivery: %w", err)
	}
	switch c.Status {
	case state.Delivered:
		log.DebugContext(ctx, "already delivered; skipping")
		d.obs.Notified(n.Name(), OutcomeAlreadyDelivered)
		return nil
	case state.InFlight:
		log.InfoContext(ctx, "delivery in progress elsewhere; deferring")
		d.obs.Notified(n.Name(), OutcomeInFlight)
		return ErrInFlight
	}

	err = d.send(ctx, n, a, note)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateTimeout)
	defer cancel()
	if err == nil {
		if merr := d.state.MarkDelivered(sctx, key, d.deliveredTTL); merr != nil {
			// The claim still holds it for ClaimTTL; after that a redelivery could
			// send it again. Sending twice beats reporting a sent alert as failed.
			log.WarnContext(ctx, "sent, but could not record the delivery", "err", merr)
		}
		d.obs.Notified(n.Name(), OutcomeSent)
		log.DebugContext(ctx, "alert sent")
		return nil
	}
	if rerr := d.state.Release(sctx, key, c.Token); rerr != nil {
		log.WarnContext(ctx, "could not release the delivery claim; a retry must wait for it to expire",
			"err", rerr, "claim_ttl", d.claimTTL)
	}
	d.obs.Notified(n.Name(), OutcomeFailed)
	log.ErrorContext(ctx, "alert not delivered", "permanent", notifiers.IsPermanent(err), "err", err)
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
