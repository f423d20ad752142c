package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// Flush reports the counts the dedup window held back, for groups whose window
// has ended without a new alert to carry the count: one summary per group, sent
// as the latest held-back alert with a note, routed like it. A summary that
// cannot be delivered (retryably) is put back for the next Flush. Run calls
// Flush periodically; with a shared State any replica may report a group, and
// only one does.
func (d *Dispatcher) Flush(ctx context.Context) error { return d.flush(ctx, false) }

// Drain is Flush for shutdown with a State of its own (in memory): it also
// reports counts of windows still open, which would otherwise be lost with the
// process. With a shared State, Flush is enough: the other replicas, or the next
// start, report them.
func (d *Dispatcher) Drain(ctx context.Context) error { return d.flush(ctx, true) }

// Run calls Flush every Config.FlushInterval until ctx ends. Errors are logged.
// Without a dedup window it just waits for ctx.
func (d *Dispatcher) Run(ctx context.Context) {
	if d.dedupWindow == 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(d.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.Flush(ctx); err != nil && ctx.Err() == nil {
				d.log.WarnContext(ctx, "dedup summaries not all delivered; will retry", "err", err)
			}
		}
	}
}

func (d *Dispatcher) flush(ctx context.Context, includeOpen bool) error {
	if d.dedupWindow == 0 {
		return nil
	}
	ps, err := d.state.TakePending(ctx, d.now(), includeOpen)
	errs := []error{err}
	for _, p := range ps {
		err := d.summarize(ctx, p)
		if err == nil {
			continue
		}
		errs = append(errs, err)
		if notifiers.IsPermanent(err) {
			continue // logged per notifier; putting it back would fail again
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateTimeout)
		if rerr := d.state.Requeue(sctx, p, d.now(), d.pendingTTL); rerr != nil {
			d.log.ErrorContext(ctx, "dedup summary could not be delivered or put back; count lost",
				"group", p.Group, "count", p.Count, "first", p.First, "last", p.Last, "err", rerr)
		}
		cancel()
	}
	return errors.Join(errs...)
}

// summarize sends p's summary through the dispatcher's stages, as its latest
// held-back alert with a note (the dedup stage writes it).
func (d *Dispatcher) summarize(ctx context.Context, p state.Pending) error {
	var a alert.Alert
	if err := json.Unmarshal(p.Alert, &a); err != nil {
		d.log.ErrorContext(ctx, "dedup summary unreadable; count lost", "group", p.Group, "count", p.Count, "err", err)
		return notifiers.Permanent(fmt.Errorf("decode held-back alert: %w", err))
	}
	_, err := d.exec(ctx, &delivery{
		kind: kindSummary, alert: &a, pending: p,
		subject: "dedup summary", what: fmt.Sprintf("summary for %s (%d alerts)", a.RuleID, p.Count),
		// A summary's identity is its group and first held-back alert: a requeued
		// summary keeps it, so notifiers that already got it are skipped.
		identity: hash("summary", p.Group, strconv.FormatInt(p.First.UnixMilli(), 10)),
		log:      d.log.With("rule_id", a.RuleID, "count", p.Count),
	})
	return err
}
