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

// send makes attempts (each bounded by the notifier's timeout) until one succeeds, an error is permanent, the next wait
// would pass MaxElapsedTime, or ctx ends. Waits follow exponential backoff with
// jitter, except after a RetryAfter error, whose delay is used as given.
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
	for attempt := 1; ; attempt++ {
		err := d.iso.notify(ctx, n, a, note, late)
		if err == nil {
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
		wait := b.NextBackOff()
		if after, ok := notifiers.RetryDelay(err); ok {
			wait = after
		}
		if time.Since(start)+wait > p.MaxElapsedTime {
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
