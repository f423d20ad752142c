// Package sqssource consumes an SQS queue with at-least-once delivery.
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
// replica meanwhile.
package sqssource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cenkalti/backoff/v5"

	"github.com/trailguard/trailguard/internal/gopool"
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

// Defaults for Options.
const (
	DefaultWaitTime        = 20 * time.Second
	DefaultMaxMessages     = 10
	DefaultWorkers         = 16
	DefaultShutdownGrace   = 20 * time.Second
	DefaultErrorBackoffMin = time.Second
	DefaultErrorBackoffMax = 30 * time.Second
)

// Options configure a Consumer.
type Options struct {
	// QueueURL is the queue's URL, as CreateQueue or GetQueueUrl return it.
	QueueURL string
	// Region of the queue. Empty: the SDK's default chain, else the region
	// in QueueURL's host (sqs.REGION.amazonaws.com), else, with a custom
	// Endpoint, us-east-1.
	Region string
	// Endpoint overrides the SQS endpoint (an emulator in tests).
	Endpoint string
	// WaitTime is the long-poll wait of one ReceiveMessage, 1s to 20s.
	// Zero means DefaultWaitTime.
	WaitTime time.Duration
	// MaxMessages is the most messages one ReceiveMessage asks for, 1 to
	// 10; fewer are asked for when fewer workers are free. Zero means
	// DefaultMaxMessages.
	MaxMessages int
	// VisibilityTimeout is set on every receive and is the length of each
	// extension. Zero means the queue's own VisibilityTimeout attribute,
	// read when Run starts. Whole seconds; at least 2s.
	VisibilityTimeout time.Duration
	// Workers is how many messages are handled at once. Zero means
	// DefaultWorkers.
	Workers int
	// ShutdownGrace is how long in-flight handlers may go on after Run's
	// context is cancelled. Zero means DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// RetryDelay says, for a message whose handler failed, how long until
	// SQS may deliver it again, from its ReceiveCount; nil means
	// DefaultRetryDelay. A negative delay leaves the visibility timeout as
	// it is, so the message returns when it expires.
	RetryDelay func(receiveCount int) time.Duration
	// ErrorBackoffMin and ErrorBackoffMax bound the jittered exponential
	// wait between failed receives. Zero means the defaults.
	ErrorBackoffMin, ErrorBackoffMax time.Duration
	// Logger receives the consumer's logs; nil means slog.Default().
	Logger *slog.Logger
	// Observer is told about what happens, for metrics; nil means none.
	Observer Observer
}

// DefaultRetryDelay backs off exponentially with the receive count: 5s
// after the first failure, then 10s, 20s, … up to 5 minutes. A failure that
// is about to send the message to the dead-letter queue thus still gets a
// few quick retries for transient trouble (a throttled S3, a Slack outage),
// without waiting a whole visibility timeout each time.
func DefaultRetryDelay(receiveCount int) time.Duration {
	const base, limit = 5 * time.Second, 5 * time.Minute
	if receiveCount < 1 {
		receiveCount = 1
	}
	if receiveCount > 7 { // 5s<<6 is already past the limit
		return limit
	}
	return min(base<<(receiveCount-1), limit)
}

// Observer is told what the consumer does, to count it. Calls come from
// many goroutines at once. Embed NopObserver to implement only some.
type Observer interface {
	// Received is called with the number of messages one receive returned.
	Received(count int)
	// Deleted is called when m was handled and deleted, took after it was
	// received.
	Deleted(m *Message, took time.Duration)
	// Failed is called when m's handler returned err (or panicked, or was
	// cut short by shutdown) and m was left in the queue.
	Failed(m *Message, err error)
	// VisibilityExtended is called after each extension of m's visibility.
	VisibilityExtended(m *Message)
	// ReceiveError is called when receiving (or reading the queue's
	// attributes at start) failed; the consumer backs off and tries again.
	ReceiveError(err error)
	// CallError is called when a call about m failed: op is
	// "DeleteMessage" (sent in a DeleteMessageBatch) or
	// "ChangeMessageVisibility".
	CallError(op string, m *Message, err error)
}

// NopObserver ignores everything.
type NopObserver struct{}

func (NopObserver) Received(int)                      {}
func (NopObserver) Deleted(*Message, time.Duration)   {}
func (NopObserver) Failed(*Message, error)            {}
func (NopObserver) VisibilityExtended(*Message)       {}
func (NopObserver) ReceiveError(error)                {}
func (NopObserver) CallError(string, *Message, error) {}

var (
	// ErrNotStarted is what Healthy says before Run has reached the queue.
	ErrNotStarted = errors.New("sqs consumer has not reached the queue yet")
	// ErrStopped is what Healthy says once Run is shutting down.
	ErrStopped = errors.New("sqs consumer stopped")
)

// api is the part of *sqs.Client a Consumer uses.
type api interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Consumer receives messages from one queue. Create it with New.
type Consumer struct {
	opts    Options
	client  api
	log     *slog.Logger
	obs     Observer
	running atomic.Bool
	health  atomic.Pointer[healthState]
	busy    atomic.Int64
	// pollEnd is when (unix nanoseconds) the latest long poll ends on the
	// server, even if this side gave up on it earlier; see release.
	pollEnd atomic.Int64
}

type healthState struct{ err error }

// apiTimeout bounds each call other than the long poll.
const apiTimeout = 10 * time.Second

// abandonWait is how long a handler whose context was cancelled at the end
// of the shutdown grace gets to return before its result is ignored.
const abandonWait = time.Second

// New checks opts and builds a Consumer with the AWS SDK's default
// credential chain. It makes no network call.
func New(ctx context.Context, opts Options) (*Consumer, error) {
	if err := normalize(&opts); err != nil {
		return nil, fmt.Errorf("sqssource: %w", err)
	}
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("sqssource: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = regionFromQueueURL(opts.QueueURL)
	}
	if cfg.Region == "" {
		if opts.Endpoint == "" {
			return nil, fmt.Errorf("sqssource: no region for queue %s: set the region option or AWS_REGION", opts.QueueURL)
		}
		cfg.Region = "us-east-1"
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	return newConsumer(client, opts), nil
}

func newConsumer(client api, opts Options) *Consumer {
	c := &Consumer{opts: opts, client: client, log: opts.Logger, obs: opts.Observer}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("queue", opts.QueueURL)
	if c.obs == nil {
		c.obs = NopObserver{}
	}
	c.health.Store(&healthState{ErrNotStarted})
	return c
}

func normalize(o *Options) error {
	u, err := url.Parse(o.QueueURL)
	if o.QueueURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("queue URL %q is not an absolute URL", o.QueueURL)
	}
	switch {
	case o.WaitTime == 0:
		o.WaitTime = DefaultWaitTime
	case o.WaitTime < time.Second || o.WaitTime > 20*time.Second:
		return fmt.Errorf("wait time %s is not between 1s and 20s", o.WaitTime)
	}
	switch {
	case o.MaxMessages == 0:
		o.MaxMessages = DefaultMaxMessages
	case o.MaxMessages < 1 || o.MaxMessages > 10:
		return fmt.Errorf("max messages %d is not between 1 and 10", o.MaxMessages)
	}
	if o.VisibilityTimeout != 0 && (o.VisibilityTimeout < 2*time.Second || o.VisibilityTimeout > 12*time.Hour) {
		return fmt.Errorf("visibility timeout %s is not between 2s and 12h", o.VisibilityTimeout)
	}
	o.VisibilityTimeout = o.VisibilityTimeout.Truncate(time.Second)
	switch {
	case o.Workers == 0:
		o.Workers = DefaultWorkers
	case o.Workers < 0:
		return fmt.Errorf("negative worker count %d", o.Workers)
	}
	switch {
	case o.ShutdownGrace == 0:
		o.ShutdownGrace = DefaultShutdownGrace
	case o.ShutdownGrace < 0:
		return fmt.Errorf("negative shutdown grace %s", o.ShutdownGrace)
	}
	if o.RetryDelay == nil {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.ErrorBackoffMin <= 0 {
		o.ErrorBackoffMin = DefaultErrorBackoffMin
	}
	if o.ErrorBackoffMax <= 0 {
		o.ErrorBackoffMax = DefaultErrorBackoffMax
	}
	o.ErrorBackoffMax = max(o.ErrorBackoffMax, o.ErrorBackoffMin)
	return nil
}

// regionFromQueueURL reads REGION from https://sqs.REGION.amazonaws.com/…
// (and the legacy https://REGION.queue.amazonaws.com/…).
func regionFromQueueURL(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 4 && parts[0] == "sqs" && parts[2] == "amazonaws" {
		return parts[1]
	}
	if len(parts) >= 4 && parts[1] == "queue" && parts[2] == "amazonaws" {
		return parts[0]
	}
	return ""
}

// Healthy returns nil while the consumer reaches the queue: the latest
// receive (or, at start, the read of the queue's attributes) succeeded. It
// returns that call's error while receiving fails, ErrNotStarted before Run
// reached the queue and ErrStopped once Run is shutting down. For /readyz.
func (c *Consumer) Healthy() error { return c.health.Load().err }

// InFlight is the number of messages being handled now.
func (c *Consumer) InFlight() int { return int(c.busy.Load()) }

// Ping checks that the queue answers, with GetQueueAttributes.
func (c *Consumer) Ping(ctx context.Context) error {
	_, err := c.queueVisibility(ctx)
	return err
}

func (c *Consumer) queueVisibility(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	out, err := c.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(c.opts.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout},
	})
	if err != nil {
		return 0, fmt.Errorf("get attributes of queue %s: %w", c.opts.QueueURL, err)
	}
	v := out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)]
	secs, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("queue %s: VisibilityTimeout attribute %q: %w", c.opts.QueueURL, v, err)
	}
	return time.Duration(secs) * time.Second, nil
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
// ctx is done. Run may be called once at a time.
func (c *Consumer) Run(ctx context.Context, handler Handler) error {
	if handler == nil {
		return errors.New("sqssource: nil handler")
	}
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("sqssource: Run called twice")
	}
	defer c.running.Store(false)

	// Handlers and the calls that settle their messages outlive ctx: they
	// run on a context that keeps ctx's values but is cancelled only when
	// the shutdown grace runs out.
	base := context.WithoutCancel(ctx)
	hctx, hcancel := context.WithCancel(base)
	defer hcancel()

	// Handled messages are deleted in batches by a few goroutines of their
	// own (see deleteLoop); they are stopped after the last handler is done.
	dels := make(chan deletion, c.opts.Workers)
	var delWG sync.WaitGroup
	for range deleters(c.opts.Workers) {
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
		c.log.Info("stopping: waiting for in-flight messages", "in_flight", n, "grace", c.opts.ShutdownGrace)
	}
	grace := time.AfterFunc(c.opts.ShutdownGrace, hcancel)
	wg.Wait()
	grace.Stop()
	return nil
}

func (c *Consumer) receiveLoop(ctx, base, hctx context.Context, handler Handler, dels chan<- deletion, wg *sync.WaitGroup) {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     c.opts.ErrorBackoffMin,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         c.opts.ErrorBackoffMax,
	}
	bo.Reset()
	failures := 0
	fail := func(err error) bool {
		failures++
		c.setHealth(err)
		c.obs.ReceiveError(err)
		wait := bo.NextBackOff()
		c.log.Warn("cannot receive from queue; retrying", "error", err, "failures", failures, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	succeed := func() {
		if failures > 0 {
			c.log.Info("receiving from queue again", "after_failures", failures)
		}
		failures = 0
		bo.Reset()
		c.setHealth(nil)
	}

	// The extension schedule needs the visibility timeout, so learn it
	// first; this also tells Healthy early that the queue answers.
	vt := c.opts.VisibilityTimeout
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
	slots := make(chan struct{}, c.opts.Workers)
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
	fill:
		for n < c.opts.MaxMessages {
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
			c.obs.Received(len(msgs))
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

func (c *Consumer) setHealth(err error) {
	if cur := c.health.Load(); cur.err != err { //nolint:errorlint // identity: store only when the value changes
		c.health.Store(&healthState{err})
	}
}

func (c *Consumer) receive(ctx context.Context, n int, vt time.Duration) ([]*Message, error) {
	// The long poll answers within WaitTime; a connection that hangs
	// beyond that is dead.
	ctx, cancel := context.WithTimeout(ctx, c.opts.WaitTime+apiTimeout)
	defer cancel()
	c.pollEnd.Store(time.Now().Add(c.opts.WaitTime + pollEndMargin).UnixNano())
	out, err := c.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(c.opts.QueueURL),
		MaxNumberOfMessages: int32(n),
		WaitTimeSeconds:     int32(c.opts.WaitTime / time.Second),
		VisibilityTimeout:   int32(vt / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from queue %s: %w", c.opts.QueueURL, err)
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

// process runs the handler for m, extends m's visibility while it runs and
// then hands m to dels to be deleted, or leaves it in the queue. base is the
// context for the calls that settle m; hctx is the handler's.
func (c *Consumer) process(base, hctx context.Context, handler Handler, m *Message, vt time.Duration, dels chan<- deletion, settled func()) {
	c.busy.Add(1)
	defer c.busy.Add(-1)
	log := c.log.With("message_id", m.ID, "receive_count", m.ReceiveCount)

	done := make(chan error, 1)
	gopool.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
			}
		}()
		done <- handler(hctx, m)
	})

	// Extend at half the visibility timeout, each time by a whole timeout
	// from now: a late or failed extension still leaves half a timeout of
	// slack before SQS could hand m to another consumer.
	ticker := time.NewTicker(vt / 2)
	defer ticker.Stop()
	var err error
	interrupted := false
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-ticker.C:
			if c.changeVisibility(base, m, vt) {
				c.obs.VisibilityExtended(m)
				log.Debug("extended message visibility", "by", vt, "running_for", time.Since(m.ReceivedAt).Round(time.Millisecond))
			}
		case <-hctx.Done():
			// The shutdown grace is over and the handler's context is
			// cancelled. A handler that honours it returns at once.
			interrupted = true
			select {
			case err = <-done:
			case <-time.After(abandonWait):
				err = errors.New("handler did not return after its context was cancelled")
			}
			break wait
		}
	}
	ticker.Stop()

	if err == nil {
		dels <- deletion{m, settled}
		return
	}
	defer settled()
	err = fmt.Errorf("message %s: %w", m.ID, err)
	c.obs.Failed(m, err)
	if interrupted {
		c.release(base, m)
		log.Warn("shutdown interrupted the handler; message released to the queue", "error", err)
		return
	}
	delay := c.opts.RetryDelay(m.ReceiveCount)
	if delay >= 0 && c.changeVisibility(base, m, delay) {
		log.Error("handler failed; message left in the queue", "error", err, "retry_in", delay)
		return
	}
	log.Error("handler failed; message left in the queue until its visibility timeout", "error", err)
}

// pollEndMargin covers the clock and network difference between the
// server's end of a long poll and ours.
const pollEndMargin = 500 * time.Millisecond

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

// deleters is how many goroutines delete handled messages: one per ten
// workers, as each deletes up to ten messages per call.
func deleters(workers int) int { return max(1, (workers+9)/10) }

// deleteLoop deletes the messages it receives from in, as many at a time as
// are waiting (up to SQS's ten per DeleteMessageBatch), until in is closed. A
// lone message is deleted at once, so deleting adds no latency; under load the
// messages that finish during one call go together in the next, which saves
// nine calls in ten, and their CPU and round trips (and their cost on AWS).
func (c *Consumer) deleteLoop(base context.Context, in <-chan deletion) {
	batch := make([]deletion, 0, maxBatch)
	for d := range in {
		batch = append(batch[:0], d)
	fill:
		for len(batch) < maxBatch {
			select {
			case d, ok := <-in:
				if !ok {
					break fill
				}
				batch = append(batch, d)
			default:
				break fill
			}
		}
		c.deleteBatch(base, batch)
	}
}

const maxBatch = 10 // SQS's limit for DeleteMessageBatch

// deletion is a handled message to delete, and what to call once it is.
type deletion struct {
	m       *Message
	settled func()
}

// deleteBatch deletes handled messages. One that SQS does not confirm comes
// back after its visibility timeout: the work is done, and the alerts' dedup
// keys keep it from notifying twice.
func (c *Consumer) deleteBatch(base context.Context, batch []deletion) {
	ctx, cancel := context.WithTimeout(base, apiTimeout)
	defer cancel()
	entries := make([]types.DeleteMessageBatchRequestEntry, len(batch))
	for i, d := range batch {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(d.m.ReceiptHandle)}
	}
	out, err := c.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(c.opts.QueueURL), Entries: entries})
	errs := make([]error, len(batch))
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
	} else {
		// An entry counts as deleted only when SQS lists it as such.
		for i := range errs {
			errs[i] = errors.New("not confirmed in the DeleteMessageBatch response")
		}
		for _, e := range out.Successful {
			if i, err := strconv.Atoi(aws.ToString(e.Id)); err == nil && i >= 0 && i < len(errs) {
				errs[i] = nil
			}
		}
		for _, f := range out.Failed {
			if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= 0 && i < len(errs) {
				errs[i] = fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
			}
		}
	}
	for i, d := range batch {
		m := d.m
		d.settled()
		log := c.log.With("message_id", m.ID, "receive_count", m.ReceiveCount)
		if errs[i] != nil {
			err := fmt.Errorf("delete message %s: %w", m.ID, errs[i])
			c.obs.CallError("DeleteMessage", m, err)
			log.Error("handled message not deleted; it will be delivered again", "error", err)
			continue
		}
		c.obs.Deleted(m, time.Since(m.ReceivedAt))
		log.Debug("message handled and deleted", "took", time.Since(m.ReceivedAt).Round(time.Millisecond), "batch", len(batch))
	}
}

// changeVisibility makes m invisible for d from now (0: visible at once)
// and reports whether SQS accepted it.
func (c *Consumer) changeVisibility(base context.Context, m *Message, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(base, apiTimeout)
	defer cancel()
	secs := int32(min(d, 12*time.Hour).Round(time.Second) / time.Second)
	_, err := c.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(c.opts.QueueURL),
		ReceiptHandle:     aws.String(m.ReceiptHandle),
		VisibilityTimeout: secs,
	})
	if err != nil {
		err = fmt.Errorf("change visibility of message %s to %ds: %w", m.ID, secs, err)
		c.obs.CallError("ChangeMessageVisibility", m, err)
		c.log.Warn("cannot change message visibility", "message_id", m.ID, "error", err)
		return false
	}
	return true
}
