package sqs_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/source/sqs"
)

// recorder is an Observer that counts.
type recorder struct {
	received, deleted, failed, extended, receiveErrors, callErrors, heldTooLong atomic.Int32
}

func (r *recorder) HeldTooLong(*sqs.Message) { r.heldTooLong.Add(1) }

func (r *recorder) Received(n int)                        { r.received.Add(int32(n)) }
func (r *recorder) Deleted(*sqs.Message, time.Duration)   { r.deleted.Add(1) }
func (r *recorder) Failed(*sqs.Message, error)            { r.failed.Add(1) }
func (r *recorder) VisibilityExtended(*sqs.Message)       { r.extended.Add(1) }
func (r *recorder) ReceiveError(error)                    { r.receiveErrors.Add(1) }
func (r *recorder) CallError(string, *sqs.Message, error) { r.callErrors.Add(1) }

// queue is the configuration's defaults for the queue at url, reached at
// endpoint, with a 1s long poll and the queue's own visibility timeout.
func queue(url, endpoint string) config.SQS {
	q := config.Default().Source.SQS
	q.QueueURL, q.Endpoint = url, endpoint
	q.WaitTime = time.Second
	q.VisibilityTimeout = 0
	return q
}

type running struct {
	consumer *sqs.Consumer
	rec      *recorder
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// stop cancels Run's context and waits for Run to return; it returns how
// long that took. Later calls do nothing.
func (r *running) stop(t *testing.T) (took time.Duration) {
	t.Helper()
	r.stopOnce.Do(func() {
		start := time.Now()
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return 30s after its context was cancelled")
		}
		took = time.Since(start)
	})
	return took
}

// start runs a consumer of cfg with quick test settings over deps until the
// test ends (or stop is called).
func start(t *testing.T, cfg config.SQS, deps sqs.Deps, h sqs.Handler) *running {
	t.Helper()
	testpeers.AWSEnv(t)
	if deps.ErrorBackoffMin == 0 {
		deps.ErrorBackoffMin, deps.ErrorBackoffMax = 100*time.Millisecond, 300*time.Millisecond
	}
	rec := &recorder{}
	deps.Observer = rec
	deps.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := sqs.New(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{consumer: c, rec: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx, h) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
