package dispatch

import "context"

// markDeliveredStage records a sent delivery in State, so that a redelivered
// alert is not sent again, and reports it sent.
type markDeliveredStage struct{ d *Dispatcher }

func (s markDeliveredStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	d := s.d
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateTimeout)
	defer cancel()
	if err := d.state.MarkDelivered(sctx, dl.key, d.deliveredTTL); err != nil {
		// The claim still holds it for ClaimTTL; after that a redelivery could
		// send it again. Sending twice beats reporting a sent alert as failed.
		dl.log.WarnContext(ctx, "sent, but could not record the delivery", "err", err)
	}
	d.notified(dl, dl.notifier.Name(), OutcomeSent)
	dl.log.DebugContext(ctx, "alert sent")
	return dl, nil
}
