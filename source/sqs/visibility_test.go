package sqs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/source/sqs"
)

func TestExtendsVisibilityOfSlowHandler(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "slow", map[string]string{"VisibilityTimeout": "2"})
	f.Send(t, url, "big log file")
	started := make(chan struct{})
	finished := make(chan struct{})
	var calls atomic.Int32
	r := start(t, queue(url, f.Endpoint()), sqs.Deps{}, func(ctx context.Context, m *sqs.Message) error {
		if calls.Add(1) == 1 {
			close(started)
		}
		time.Sleep(5 * time.Second)
		if calls.Load() == 1 {
			close(finished)
		}
		return nil
	})
	<-started
	// Another replica polls all along: it must never get the message.
	for {
		select {
		case <-finished:
		default:
			if msgs := f.Receive(t, url, 10, time.Second); len(msgs) > 0 {
				t.Fatalf("message delivered to another receiver while its handler ran: %s", aws.ToString(msgs[0].MessageId))
			}
			continue
		}
		break
	}
	eventually(t, 5*time.Second, "message deleted", func() bool { return r.rec.deleted.Load() == 1 })
	f.WaitCounts(t, url, 0, 0, 2*time.Second)
	if n := r.rec.extended.Load(); n < 3 {
		t.Errorf("visibility extended %d times in 5s with a 2s timeout, want at least 3", n)
	}
	if calls.Load() != 1 {
		t.Errorf("handler called %d times", calls.Load())
	}
}

func TestShutdownLeavesUnfinishedMessage(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "shutdown", map[string]string{"VisibilityTimeout": "30"})
	f.Send(t, url, "in flight at shutdown")
	started := make(chan struct{})
	r := start(t, queue(url, f.Endpoint()), sqs.Deps{ShutdownGrace: 300 * time.Millisecond}, func(ctx context.Context, m *sqs.Message) error {
		close(started)
		<-ctx.Done() // honours cancellation, which comes when the grace runs out
		return ctx.Err()
	})
	<-started
	if took := r.stop(t); took > 3*time.Second {
		t.Errorf("Run returned %s after cancellation with a 300ms grace", took)
	}
	// Not deleted, and released at once (not after the 30s timeout).
	f.WaitCounts(t, url, 1, 0, 2*time.Second)
	if r.rec.deleted.Load() != 0 || r.rec.failed.Load() != 1 {
		t.Errorf("deleted %d, failed %d; want 0 and 1", r.rec.deleted.Load(), r.rec.failed.Load())
	}
	if !errors.Is(r.consumer.Healthy(), sqs.ErrStopped) {
		t.Errorf("Healthy after stop: %v", r.consumer.Healthy())
	}
}

// A handler that never finishes holds its message for max_hold at most: then
// the extensions stop, the handler's context is cancelled (with
// ErrHeldTooLong as its cause), the message is left in the queue and comes
// back, and after maxReceiveCount it is in the dead-letter queue.
func TestMaxHoldLetsTheMessageGo(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url, dlq := f.CreateQueueWithDLQ(t, "held", 2, map[string]string{"VisibilityTimeout": "2"})
	f.Send(t, url, "never finishes")
	cfg := queue(url, f.Endpoint())
	cfg.MaxHold = 3 * time.Second
	var calls atomic.Int32
	causes := make(chan error, 4)
	held := make(chan time.Duration, 4)
	r := start(t, cfg, sqs.Deps{RetryDelay: func(int) time.Duration { return 0 }}, func(ctx context.Context, m *sqs.Message) error {
		calls.Add(1)
		start := time.Now()
		<-ctx.Done()
		held <- time.Since(start)
		causes <- context.Cause(ctx)
		return ctx.Err()
	})
	f.WaitCounts(t, dlq, 1, 0, 20*time.Second)
	if n := calls.Load(); n != 2 {
		t.Errorf("handler called %d times, want maxReceiveCount (2)", n)
	}
	for range 2 {
		if d := <-held; d < cfg.MaxHold-200*time.Millisecond || d > cfg.MaxHold+2*time.Second {
			t.Errorf("handler held the message %s, want about max_hold (%s)", d, cfg.MaxHold)
		}
		if c := <-causes; !errors.Is(c, sqs.ErrHeldTooLong) {
			t.Errorf("handler's context cancelled with %v, want ErrHeldTooLong", c)
		}
	}
	if r.rec.heldTooLong.Load() != 2 || r.rec.failed.Load() != 2 || r.rec.deleted.Load() != 0 {
		t.Errorf("held too long %d, failed %d, deleted %d; want 2, 2, 0", r.rec.heldTooLong.Load(), r.rec.failed.Load(), r.rec.deleted.Load())
	}
}
