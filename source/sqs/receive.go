package sqs

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cenkalti/backoff/v5"

	"github.com/trailguard/trailguard/internal/gopool"
	"github.com/trailguard/trailguard/internal/wait"
)

// receiveLoop receives messages while ctx lasts and starts a goroutine (on
// wg) for each; it returns once ctx is done, without waiting for them.
func (c *Consumer) receiveLoop(ctx, base, hctx context.Context, handler Handler, dels chan<- deletion, wg *sync.WaitGroup) {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     c.deps.ErrorBackoffMin,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         c.deps.ErrorBackoffMax,
	}
	bo.Reset()
	failures := 0
	fail := func(err error) bool {
		failures++
		c.setHealth(err)
		c.deps.Observer.ReceiveError(err)
		delay := bo.NextBackOff()
		c.deps.Logger.Warn("cannot receive from queue; retrying", "error", err, "failures", failures, "retry_in", delay.Round(time.Millisecond))
		return wait.Sleep(ctx, delay)
	}
	succeed := func() {
		if failures > 0 {
			c.deps.Logger.Info("receiving from queue again", "after_failures", failures)
		}
		failures = 0
		bo.Reset()
		c.setHealth(nil)
	}

	// The extension schedule needs the visibility timeout, so learn it
	// first; this also tells Healthy early that the queue answers.
	vt := c.cfg.VisibilityTimeout
	for ctx.Err() == nil {
		v, err := c.queueVisibility(ctx)
		if err == nil {
			if vt == 0 {
				vt = max(v, 2*time.Second)
			}
			succeed()
			break
		}
		if ctx.Err() != nil || !fail(err) {
			return
		}
	}

	// A token in slots is a busy worker. A receive asks for no more
	// messages than there are free workers: a received message's
	// visibility timer is already running, so it must not wait in line.
	slots := make(chan struct{}, c.cfg.Workers)
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
	fill:
		for n < c.cfg.MaxMessages {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break fill
			}
		}
		msgs, err := c.receive(ctx, n, vt)
		for range n - len(msgs) {
			<-slots
		}
		if err != nil {
			// A long poll cut short by cancellation is no failure. Any
			// message SQS had already handed out then comes back after
			// the visibility timeout.
			if ctx.Err() != nil || !fail(err) {
				return
			}
			continue
		}
		succeed()
		if len(msgs) > 0 {
			c.deps.Observer.Received(len(msgs))
		}
		for _, m := range msgs {
			wg.Add(1)
			gopool.Go(func() {
				defer wg.Done()
				// The slot is freed once m is settled: deleted, or left in the
				// queue. Until then SQS counts it in flight.
				c.process(base, hctx, handler, m, vt, dels, func() { <-slots })
			})
		}
	}
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

// receive asks for up to n messages, hidden for vt once received.
func (c *Consumer) receive(ctx context.Context, n int, vt time.Duration) ([]*Message, error) {
	// The long poll answers within WaitTime; a connection that hangs
	// beyond that is dead.
	ctx, cancel := context.WithTimeout(ctx, c.cfg.WaitTime+apiTimeout)
	defer cancel()
	c.pollEnd.Store(time.Now().Add(c.cfg.WaitTime + pollEndMargin).UnixNano())
	out, err := c.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
		QueueUrl:            aws.String(c.cfg.QueueURL),
		MaxNumberOfMessages: int32(n),
		WaitTimeSeconds:     int32(c.cfg.WaitTime / time.Second),
		VisibilityTimeout:   int32(vt / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from queue %s: %w", c.cfg.QueueURL, err)
	}
	now := time.Now()
	msgs := make([]*Message, 0, len(out.Messages))
	for _, sm := range out.Messages {
		m := &Message{
			ID:            aws.ToString(sm.MessageId),
			ReceiptHandle: aws.ToString(sm.ReceiptHandle),
			Body:          []byte(aws.ToString(sm.Body)),
			ReceivedAt:    now,
		}
		m.ReceiveCount, _ = strconv.Atoi(sm.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(sm.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			m.SentTimestamp = time.UnixMilli(ms)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// process runs the handler for m while its visibility is kept extended, then
// hands m to dels to be deleted, or leaves it in the queue. base is the
// context for the calls that settle m; hctx is the handler's.
func (c *Consumer) process(base, hctx context.Context, handler Handler, m *Message, vt time.Duration, dels chan<- deletion, settled func()) {
	c.busy.Add(1)
	defer c.busy.Add(-1)
	log := c.deps.Logger.With("message_id", m.ID, "receive_count", m.ReceiveCount)

	done := make(chan error, 1)
	mctx, abandon := context.WithCancelCause(hctx)
	defer abandon(nil)
	gopool.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
			}
		}()
		done <- handler(mctx, m)
	})
	err, interrupted := c.extendUntil(base, hctx, m, vt, done, log, func() { abandon(ErrHeldTooLong) })

	if err == nil {
		dels <- deletion{m, settled}
		return
	}
	defer settled()
	err = fmt.Errorf("message %s: %w", m.ID, err)
	c.deps.Observer.Failed(m, err)
	if interrupted {
		c.release(base, m)
		log.Warn("shutdown interrupted the handler; message released to the queue", "error", err)
		return
	}
	delay := c.deps.RetryDelay(m.ReceiveCount)
	if delay >= 0 && c.changeVisibility(base, m, delay) {
		log.Error("handler failed; message left in the queue", "error", err, "retry_in", delay)
		return
	}
	log.Error("handler failed; message left in the queue until its visibility timeout", "error", err)
}
