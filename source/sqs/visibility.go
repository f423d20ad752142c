package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
)

// abandonWait is how long a handler whose context was cancelled at the end
// of the shutdown grace gets to return before its result is ignored.
const abandonWait = time.Second

// pollEndMargin covers the clock and network difference between the
// server's end of a long poll and ours.
const pollEndMargin = 500 * time.Millisecond

// ErrHeldTooLong is the cause given to a handler's context when its message
// was held for the configuration's max_hold: its work is abandoned and the
// message left to come back (or reach the dead-letter queue).
var ErrHeldTooLong = errors.New("message held for source.sqs.max_hold; its work is abandoned")

// extendUntil keeps m invisible to other receivers until its handler's
// result arrives on done, and returns that result. interrupted is true when
// the shutdown grace ran out first (hctx was cancelled): the result is then
// what the handler returned within abandonWait, or an error saying it did not.
// Once m was held for the configuration's MaxHold (0: no bound) the extensions
// stop and abandon is called (it cancels the handler's context): the result is
// then ErrHeldTooLong with what the handler returned within abandonWait.
func (c *Consumer) extendUntil(base, hctx context.Context, m *Message, vt time.Duration, done <-chan error, log *slog.Logger, abandon func()) (err error, interrupted bool) {
	// Extend at half the visibility timeout, each time by a whole timeout
	// from now: a late or failed extension still leaves half a timeout of
	// slack before SQS could hand m to another consumer.
	ticker := time.NewTicker(vt / 2)
	defer ticker.Stop()
	var held <-chan time.Time
	if c.cfg.MaxHold > 0 {
		// From the receive, when SQS started m's visibility timeout.
		t := time.NewTimer(time.Until(m.ReceivedAt.Add(c.cfg.MaxHold)))
		defer t.Stop()
		held = t.C
	}
	for {
		select {
		case err = <-done:
			return err, false
		case <-held:
			// A rule or a peer that never finishes must not keep the message,
			// and a worker, forever: let it come back and, after the queue's
			// maxReceiveCount, reach the dead-letter queue where people see it.
			c.deps.Observer.HeldTooLong(m)
			log.Error("message held for source.sqs.max_hold; its work is abandoned and the message left to come back",
				"max_hold", c.cfg.MaxHold, "running_for", time.Since(m.ReceivedAt).Round(time.Millisecond))
			abandon()
			if err = awaitCancelled(done); err == nil {
				// It finished just then; still, m was not extended past the
				// bound, so another receiver may already have it: not deleting
				// it is the safe choice (the delivery claims stop a repeat).
				err = errors.New("handler finished only after the bound")
			}
			return fmt.Errorf("%w: %w", ErrHeldTooLong, err), false
		case <-ticker.C:
			if c.changeVisibility(base, m, vt) {
				c.deps.Observer.VisibilityExtended(m)
				log.Debug("extended message visibility", "by", vt, "running_for", time.Since(m.ReceivedAt).Round(time.Millisecond))
			}
		case <-hctx.Done():
			// The shutdown grace is over and the handler's context is
			// cancelled. A handler that honours it returns at once.
			return awaitCancelled(done), true
		}
	}
}

// awaitCancelled is what a handler whose context was cancelled returns on
// done within abandonWait, or an error saying it did not return.
func awaitCancelled(done <-chan error) error {
	t := time.NewTimer(abandonWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errors.New("handler did not return after its context was cancelled")
	}
}

// release makes m visible at once, so that another replica receives it now
// rather than after the rest of its visibility timeout. It first waits for
// the long poll that shutdown cut short to end on the server: SQS (and
// fauxqs) do not notice a client that went away, and a poll still pending
// there would take the released message and hide it for a whole visibility
// timeout. The interrupted handler already used up ShutdownGrace, so with
// ShutdownGrace >= WaitTime (the defaults) there is nothing left to wait.
func (c *Consumer) release(base context.Context, m *Message) {
	if d := time.Until(time.Unix(0, c.pollEnd.Load())); d > 0 {
		time.Sleep(d)
	}
	c.changeVisibility(base, m, 0)
}

// changeVisibility makes m invisible for d from now (0: visible at once)
// and reports whether SQS accepted it.
func (c *Consumer) changeVisibility(base context.Context, m *Message, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(base, apiTimeout)
	defer cancel()
	secs := int32(min(d, 12*time.Hour).Round(time.Second) / time.Second)
	_, err := c.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(c.cfg.QueueURL),
		ReceiptHandle:     aws.String(m.ReceiptHandle),
		VisibilityTimeout: secs,
	})
	if err != nil {
		err = fmt.Errorf("change visibility of message %s to %ds: %w", m.ID, secs, err)
		c.deps.Observer.CallError("ChangeMessageVisibility", m, err)
		c.deps.Logger.Warn("cannot change message visibility", "message_id", m.ID, "error", err)
		return false
	}
	return true
}
