package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// stateTimeout bounds State updates made after ctx may have ended: recording a
// delivery that happened matters even during shutdown.
const stateTimeout = 5 * time.Second

// claimStage reserves one notifier's delivery in State, so that of two replicas
// (or two redeliveries) handling the same alert only one sends it, and runs the
// rest of that notifier's stages while holding the claim. It brackets them
// rather than preceding them because the claim must be given back when they
// fail (so a redelivery may try again) or stop without sending.
type claimStage struct {
	d    *Dispatcher
	then stage // ends by marking the delivery done, or fails
}

func (s claimStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	d, name := s.d, dl.notifier.Name()
	c, err := d.state.Claim(ctx, dl.key, d.claimTTL)
	if err != nil {
		// Without the claim we cannot promise "once"; fail so the message returns.
		d.notified(dl, name, OutcomeFailed)
		dl.log.ErrorContext(ctx, "cannot claim delivery", "err", err)
		return nil, fmt.Errorf("claim delivery: %w", err)
	}
	switch c.Status {
	case state.Delivered:
		dl.log.DebugContext(ctx, "already delivered; skipping")
		d.notified(dl, name, OutcomeAlreadyDelivered)
		return nil, nil
	case state.InFlight:
		dl.log.InfoContext(ctx, "delivery in progress elsewhere; deferring")
		d.notified(dl, name, OutcomeInFlight)
		return nil, ErrInFlight
	}

	out, err := s.then.exec(ctx, dl)
	if err == nil && out != nil {
		return out, nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateTimeout)
	defer cancel()
	if rerr := d.state.Release(sctx, dl.key, c.Token); rerr != nil {
		dl.log.WarnContext(ctx, "could not release the delivery claim; a retry must wait for it to expire",
			"err", rerr, "claim_ttl", d.claimTTL)
	}
	if err == nil {
		return nil, nil // a stage chose not to send; it reported why
	}
	d.notified(dl, name, OutcomeFailed)
	dl.log.ErrorContext(ctx, "alert not delivered", "permanent", notifiers.IsPermanent(err), "err", err)
	return nil, err
}
