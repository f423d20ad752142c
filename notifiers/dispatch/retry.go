package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// send makes attempts (each bounded by the notifier's timeout) until one
// succeeds, an error is permanent, the next wait would pass MaxElapsedTime, or
// ctx ends. Waits follow exponential backoff with jitter, except after a
// RetryAfter error, whose delay is used as given.
//
// Once a notifier has used up its retries for one alert, its next alerts get
// one attempt each until one succeeds: alerts are handed on one after another,
// so a notifier that is down would otherwise hold each later alert of a log
// for MaxElapsedTime before the other notifiers see it. Their messages come
// back for that notifier alone.
func (d *Dispatcher) send(ctx context.Context, n notifiers.Notifier, a *alert.Alert, note string, late func(error)) error {
	p := d.retry
	b := &backoff.ExponentialBackOff{
		InitialInterval:     p.InitialInterval,
		RandomizationFactor: p.RandomizationFactor,
		Multiplier:          p.Multiplier,
		MaxInterval:         p.MaxInterval,
	}
	b.Reset()
	start := time.Now()
	name := n.Name()
	for attempt := 1; ; attempt++ {
		err := d.iso.notify(ctx, n, a, note, late)
		if err == nil {
			if d.iso.setFailing(name, false) {
				d.log.InfoContext(ctx, "notifier delivers again; failed alerts are retried again", "notifier", name)
			}
			return nil
		}
		// A stuck notifier is not retried here: waiting for it would hold up
		// the alert's other notifiers and the log's other alerts.
		if notifiers.IsPermanent(err) || errors.Is(err, ErrStuck) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (stopped: %w)", err, context.Cause(ctx))
		}
		if d.iso.failing(name) {
			return fmt.Errorf("not retried: the notifier gave up on an earlier alert and has not delivered since: %w", err)
		}
		wait := b.NextBackOff()
		if after, ok := notifiers.RetryDelay(err); ok {
			wait = after
		}
		if time.Since(start)+wait > p.MaxElapsedTime {
			if !d.iso.setFailing(name, true) {
				d.log.WarnContext(ctx, "notifier keeps failing: its next alerts get one attempt each until one is delivered",
					"notifier", name, "err", err)
			}
			return fmt.Errorf("gave up after %d attempts in %s: %w", attempt, time.Since(start).Round(time.Millisecond), err)
		}
		d.obs.Retried(n.Name())
		d.log.WarnContext(ctx, "notification failed; will retry", "notifier", n.Name(),
			"rule_id", a.RuleID, "event_id", a.EventID, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (stopped: %w)", err, context.Cause(ctx))
		}
	}
}

// sendStage sends to one notifier, retrying as the RetryPolicy allows.
type sendStage struct{ d *Dispatcher }

func (s sendStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	// A call given up on that delivers after all is marked delivered then.
	late := func(err error) {
		if err == nil {
			_, _ = markDeliveredStage(s).exec(context.WithoutCancel(ctx), dl)
		}
	}
	if err := s.d.send(ctx, dl.notifier, dl.alert, dl.note, late); err != nil {
		return nil, err
	}
	return dl, nil
}
