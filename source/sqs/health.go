package sqs

import (
	"context"
	"errors"
)

var (
	// ErrNotStarted is what Healthy says before Run has reached the queue.
	ErrNotStarted = errors.New("sqs consumer has not reached the queue yet")
	// ErrStopped is what Healthy says once Run is shutting down.
	ErrStopped = errors.New("sqs consumer stopped")
)

type healthState struct{ err error }

// Healthy returns nil while the consumer reaches the queue: the latest
// receive (or, at start, the read of the queue's attributes) succeeded. It
// returns that call's error while receiving fails, ErrNotStarted before Run
// reached the queue and ErrStopped once Run is shutting down. For /readyz.
func (c *Consumer) Healthy() error { return c.health.Load().err }

func (c *Consumer) setHealth(err error) {
	if cur := c.health.Load(); cur.err != err { //nolint:errorlint // identity: store only when the value changes
		c.health.Store(&healthState{err})
	}
}

// InFlight is the number of messages being handled now.
func (c *Consumer) InFlight() int { return int(c.busy.Load()) }

// Ping checks that the queue answers, with GetQueueAttributes.
func (c *Consumer) Ping(ctx context.Context) error {
	_, err := c.queueVisibility(ctx)
	return err
}
