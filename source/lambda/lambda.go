// Package lambda runs trailguard as an AWS Lambda function behind an SQS
// event source mapping.
//
// Each invocation is a batch of SQS messages, the same notifications the SQS
// consumer receives (CloudTrail's own, SNS, S3 event, EventBridge). Each
// message goes to a [Handler], as the consumer's messages do, and the
// invocation answers with a partial batch response (batchItemFailures)
// naming exactly the messages whose handler did not return nil: Lambda
// deletes the others and leaves these in the queue, to come back and, after
// the queue's maxReceiveCount, to reach its dead-letter queue. This package
// never deletes a message itself. The event source mapping must have
// ReportBatchItemFailures set; without it Lambda ignores the answer and
// deletes the whole batch on success.
package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"
)

// RuntimeAPIEnv names the environment variable that holds the Lambda Runtime
// API's address; Lambda sets it, and only Lambda (or a test standing in
// for it).
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// Defaults of Options.
const (
	// DefaultWorkers is how many messages of a batch are handled at once:
	// each mostly waits on S3 and the notifiers, as in the daemon.
	DefaultWorkers = 16
	// DefaultReserve is kept back before an invocation's deadline to answer
	// in time: messages not done by then are reported as failures, so that
	// the finished ones are not handled again, as they would be if the whole
	// invocation timed out.
	DefaultReserve = 3 * time.Second
)

// Message is one SQS message of a batch.
type Message struct {
	ID   string // the SQS message id, which batchItemFailures names
	Body []byte
	// ReceiveCount is SQS's ApproximateReceiveCount: 1 on the first delivery.
	ReceiveCount string
}

// Handler does all the work one message asks for; nil means the message may
// be deleted. It is called concurrently.
type Handler func(ctx context.Context, m *Message) error

// Options are the function's settings.
type Options struct {
	Logger  *slog.Logger  // default slog.Default()
	Workers int           // default DefaultWorkers
	Reserve time.Duration // default DefaultReserve; see there
	// Started is when the process started: the first batch's log line says
	// how long after it the batch was done (the cold start, seen from the
	// function). Zero leaves it out.
	Started time.Time
}

// ErrNotSQS is returned for an invocation that is not an SQS batch (a test
// event from the console, another trigger): Lambda then counts it as failed.
var ErrNotSQS = errors.New("not an SQS batch: trailguard's function must be triggered by an SQS event source mapping")

// Function answers invocations; build it with New.
type Function struct {
	handle Handler
	opts   Options
	first  atomic.Bool // the first batch was answered
}

// New returns the function that hands each message of a batch to handle.
func New(handle Handler, opts Options) *Function {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Reserve <= 0 {
		opts.Reserve = DefaultReserve
	}
	return &Function{handle: handle, opts: opts}
}

// Start serves invocations from the Runtime API at $AWS_LAMBDA_RUNTIME_API
// with ctx as every invocation's parent, and asks Lambda for SIGTERM before
// the environment is shut down (aws-lambda-go registers an internal
// extension for that), so the process can say goodbye before its SIGKILL.
// Start never returns: aws-lambda-go's loop has no way to stop, and it ends
// the process itself when the Runtime API fails.
func (f *Function) Start(ctx context.Context) {
	awslambda.StartWithOptions(f.Invoke, awslambda.WithContext(ctx), awslambda.WithEnableSIGTERM())
}

// Invoke handles one batch: every message is handed to the handler, and the
// answer names each one whose handler failed, did not finish before the
// deadline less the reserve, or panicked. An error (Lambda retries the whole
// batch) is returned only for an invocation that is not an SQS batch.
func (f *Function) Invoke(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	start := time.Now()
	msgs, fifo, err := messages(ev)
	if err != nil {
		f.opts.Logger.Error("invocation refused", "error", err)
		return events.SQSEventResponse{}, err
	}
	// Stop early enough to answer: what is unfinished then comes back.
	wctx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, d.Add(-f.opts.Reserve))
		defer cancel()
	}
	errs := make([]error, len(msgs))
	if fifo {
		f.inOrder(wctx, msgs, errs)
	} else {
		f.concurrently(wctx, msgs, errs)
	}
	var resp events.SQSEventResponse
	for i, err := range errs {
		if err == nil {
			continue
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msgs[i].ID})
		f.opts.Logger.Error("message left in the queue", "message_id", msgs[i].ID, "receive_count", msgs[i].ReceiveCount, "error", err)
	}
	attrs := []any{"messages", len(msgs), "failed", len(resp.BatchItemFailures), "took_ms", time.Since(start).Milliseconds()}
	if !f.first.Swap(true) && !f.opts.Started.IsZero() {
		attrs = append(attrs, "since_process_start_ms", time.Since(f.opts.Started).Milliseconds())
	}
	f.opts.Logger.Info("batch done", attrs...)
	return resp, nil
}

// messages checks that ev is an SQS batch whose messages can all be named in
// a partial batch response, and says whether it comes from a FIFO queue.
func messages(ev events.SQSEvent) ([]*Message, bool, error) {
	if len(ev.Records) == 0 {
		return nil, false, fmt.Errorf("%w: the event has no records", ErrNotSQS)
	}
	fifo := false
	msgs := make([]*Message, len(ev.Records))
	for i, r := range ev.Records {
		switch {
		case r.EventSource != "aws:sqs":
			return nil, false, fmt.Errorf("%w: record %d has eventSource %q, want aws:sqs", ErrNotSQS, i, r.EventSource)
		case r.MessageId == "":
			// Lambda retries the whole batch when an itemIdentifier is empty:
			// say so rather than answer with one.
			return nil, false, fmt.Errorf("%w: record %d has no messageId", ErrNotSQS, i)
		}
		fifo = fifo || strings.HasSuffix(r.EventSourceARN, ".fifo")
		msgs[i] = &Message{ID: r.MessageId, Body: []byte(r.Body), ReceiveCount: r.Attributes["ApproximateReceiveCount"]}
	}
	return msgs, fifo, nil
}

// concurrently handles msgs on up to Workers goroutines, all ended when it
// returns.
func (f *Function) concurrently(ctx context.Context, msgs []*Message, errs []error) {
	sem := make(chan struct{}, f.opts.Workers)
	var wg sync.WaitGroup
	for i, m := range msgs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f.one(ctx, m)
		})
	}
	wg.Wait()
}

// inOrder handles a FIFO queue's batch one message after another, and fails
// every message after the first failure without handling it: the message
// group's order holds, as Lambda's documentation asks of FIFO batches.
func (f *Function) inOrder(ctx context.Context, msgs []*Message, errs []error) {
	for i, m := range msgs {
		if i > 0 && errs[i-1] != nil {
			errs[i] = fmt.Errorf("not handled: message %s before it in the FIFO batch failed", msgs[i-1].ID)
			continue
		}
		errs[i] = f.one(ctx, m)
	}
}

// one handles a message; a panic fails this message only, not the batch.
func (f *Function) one(ctx context.Context, m *Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("message %s: panic: %v", m.ID, p)
		}
	}()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("message %s: not handled before the deadline: %w", m.ID, err)
	}
	return f.handle(ctx, m)
}
