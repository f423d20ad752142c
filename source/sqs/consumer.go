// Package sqs consumes an SQS queue with at-least-once delivery.
//
// A [Consumer] long-polls the queue, hands each message to a handler on a
// bounded pool of workers and deletes the message only after the handler
// returned nil. Everything else leaves the message in the queue, so SQS
// delivers it again and, after the queue's maxReceiveCount, moves it to the
// dead-letter queue: a failed handler, a panic, a shutdown that interrupts
// the handler, a failed DeleteMessage. Nothing is lost; a message may be
// handled more than once, which is why alerts carry a stable dedup key.
//
// While a handler works, the consumer keeps extending the message's
// visibility timeout, so a slow message is not delivered to a second
// replica meanwhile; but for MaxHold at most (config source.sqs.max_hold):
// then the handler's context is cancelled and the message left to come back,
// so work that never ends reaches the dead-letter queue instead of holding a
// worker and the message forever.
//
// One job a file: options.go (what the daemon supplies beside the
// configuration), health.go (Healthy, Ping), receive.go (the receive loop and
// a message's life), visibility.go (the visibility heartbeat and release),
// delete.go (batched deletes), observer.go (what metrics are told).
package sqs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/gopool"
	"github.com/trailguard/trailguard/source/internal/awsconf"
)

// Message is one received SQS message.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          []byte
	// ReceiveCount is SQS's ApproximateReceiveCount: 1 on the first
	// delivery. It can lag by one under load, as SQS documents.
	ReceiveCount int
	// SentTimestamp is when the message was sent to the queue.
	SentTimestamp time.Time
	// ReceivedAt is when this consumer received it.
	ReceivedAt time.Time
}

// Handler processes one message. Returning nil deletes the message; an error
// leaves it to come back. ctx is cancelled when the shutdown grace period
// runs out, not when Run's context is cancelled.
type Handler func(ctx context.Context, m *Message) error

// api is the part of *awssqs.Client a Consumer uses.
type api interface {
	ReceiveMessage(context.Context, *awssqs.ReceiveMessageInput, ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *awssqs.DeleteMessageBatchInput, ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *awssqs.ChangeMessageVisibilityInput, ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(context.Context, *awssqs.GetQueueAttributesInput, ...func(*awssqs.Options)) (*awssqs.GetQueueAttributesOutput, error)
}

// Consumer receives messages from one queue. Create it with New.
type Consumer struct {
	cfg       config.SQS
	deps      Deps
	client    api
	closeIdle func() // closes the HTTP client's idle connections
	running   atomic.Bool
	health    atomic.Pointer[healthState]
	busy      atomic.Int64
	// pollEnd is when (unix nanoseconds) the latest long poll ends on the
	// server, even if this side gave up on it earlier; see release.
	pollEnd atomic.Int64
}

// apiTimeout bounds each call other than the long poll.
const apiTimeout = 10 * time.Second

// New builds a Consumer of the queue cfg names, with the AWS SDK's default
// credential chain. cfg is taken as it is: the config package validated it.
// A zero VisibilityTimeout means the queue's own attribute, read when Run
// starts. New makes no network call.
func New(ctx context.Context, cfg config.SQS, deps Deps) (*Consumer, error) {
	ac, err := awsconf.Load(ctx, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("sqs: %w", err)
	}
	if ac.Region == "" {
		ac.Region = regionFromQueueURL(cfg.QueueURL)
	}
	if ac.Region == "" {
		if cfg.Endpoint == "" {
			return nil, fmt.Errorf("sqs: no region for queue %s: set source.sqs.region or AWS_REGION", cfg.QueueURL)
		}
		ac.Region = "us-east-1"
	}
	client := awssqs.NewFromConfig(ac.Config, func(o *awssqs.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	c := newConsumer(client, cfg, deps)
	c.closeIdle = ac.CloseIdleConnections
	return c, nil
}

func newConsumer(client api, cfg config.SQS, deps Deps) *Consumer {
	// SQS counts visibility in whole seconds.
	cfg.VisibilityTimeout = cfg.VisibilityTimeout.Truncate(time.Second)
	deps.setDefaults()
	deps.Logger = deps.Logger.With("queue", cfg.QueueURL)
	c := &Consumer{cfg: cfg, deps: deps, client: client, closeIdle: func() {}}
	c.health.Store(&healthState{ErrNotStarted})
	return c
}

// Run receives and handles messages until ctx is cancelled, then stops
// receiving, gives in-flight handlers ShutdownGrace to finish and returns
// nil. Messages whose handlers did not finish are not deleted: their
// visibility is set to zero so that another replica receives them at once
// instead of after the visibility timeout. Run returns at most about
// max(ShutdownGrace + 1s, WaitTime) + the time of those last calls after
// ctx is done; a handler that ignores its context is abandoned and its
// result ignored.
//
// Receive errors never end Run: it logs them, backs off and retries until
// ctx is done. Run may be called once at a time. When it returns, no
// goroutine of the consumer is left but an abandoned handler's, and the idle
// connections to SQS are closed.
func (c *Consumer) Run(ctx context.Context, handler Handler) error {
	if handler == nil {
		return errors.New("sqs: nil handler")
	}
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("sqs: Run called twice")
	}
	defer c.running.Store(false)
	defer c.closeIdle()

	// Handlers and the calls that settle their messages outlive ctx: they
	// run on a context that keeps ctx's values but is cancelled only when
	// the shutdown grace runs out.
	base := context.WithoutCancel(ctx)
	hctx, hcancel := context.WithCancel(base)
	defer hcancel()

	// Handled messages are deleted in batches by a few goroutines of their
	// own (see deleteLoop); they are stopped after the last handler is done.
	dels := make(chan deletion, c.cfg.Workers)
	var delWG sync.WaitGroup
	for range deleters(c.cfg.Workers) {
		delWG.Add(1)
		gopool.Go(func() {
			defer delWG.Done()
			c.deleteLoop(base, dels)
		})
	}
	defer func() {
		close(dels)
		delWG.Wait()
	}()

	var wg sync.WaitGroup
	c.receiveLoop(ctx, base, hctx, handler, dels, &wg)

	c.setHealth(ErrStopped)
	if n := c.InFlight(); n > 0 {
		c.deps.Logger.Info("stopping: waiting for in-flight messages", "in_flight", n, "grace", c.deps.ShutdownGrace)
	}
	grace := time.AfterFunc(c.deps.ShutdownGrace, hcancel)
	wg.Wait()
	grace.Stop()
	return nil
}
