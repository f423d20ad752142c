package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
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

// queueVisibility reads the queue's VisibilityTimeout attribute.
func (c *Consumer) queueVisibility(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	out, err := c.client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(c.cfg.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout},
	})
	if err != nil {
		return 0, fmt.Errorf("get attributes of queue %s: %w", c.cfg.QueueURL, err)
	}
	v := out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)]
	secs, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("queue %s: VisibilityTimeout attribute %q: %w", c.cfg.QueueURL, v, err)
	}
	return time.Duration(secs) * time.Second, nil
}
