package sqssource_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailguard/trailguard/internal/testpeers"
	sqssource "github.com/trailguard/trailguard/source/sqs"
)

// recorder is an Observer that counts.
type recorder struct {
	received, deleted, failed, extended, receiveErrors, callErrors atomic.Int32
}

func (r *recorder) Received(n int)                              { r.received.Add(int32(n)) }
func (r *recorder) Deleted(*sqssource.Message, time.Duration)   { r.deleted.Add(1) }
func (r *recorder) Failed(*sqssource.Message, error)            { r.failed.Add(1) }
func (r *recorder) VisibilityExtended(*sqssource.Message)       { r.extended.Add(1) }
func (r *recorder) ReceiveError(error)                          { r.receiveErrors.Add(1) }
func (r *recorder) CallError(string, *sqssource.Message, error) { r.callErrors.Add(1) }

type running struct {
	consumer *sqssource.Consumer
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

// start runs a consumer with quick test settings over opts until the test
// ends (or stop is called).
func start(t *testing.T, opts sqssource.Options, h sqssource.Handler) *running {
	t.Helper()
	testpeers.AWSEnv(t)
	if opts.WaitTime == 0 {
		opts.WaitTime = time.Second
	}
	if opts.ErrorBackoffMin == 0 {
		opts.ErrorBackoffMin, opts.ErrorBackoffMax = 100*time.Millisecond, 300*time.Millisecond
	}
	rec := &recorder{}
	opts.Observer = rec
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := sqssource.New(context.Background(), opts)
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

func TestDeletesAfterSuccess(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "ok", nil)
	sent := time.Now()
	ids := map[string]bool{}
	for i := range 3 {
		ids[f.Send(t, url, fmt.Sprintf(`{"n":%d}`, i))] = true
	}

	var mu sync.Mutex
	got := map[string]*sqssource.Message{}
	r := start(t, sqssource.Options{QueueURL: url, Endpoint: f.Endpoint()}, func(ctx context.Context, m *sqssource.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got[m.ID] = m
		return nil
	})
	eventually(t, 10*time.Second, "3 messages deleted", func() bool { return r.rec.deleted.Load() == 3 })
	f.WaitCounts(t, url, 0, 0, 5*time.Second)
	if err := r.consumer.Healthy(); err != nil {
		t.Errorf("Healthy: %v", err)
	}
	if err := r.consumer.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	for id, m := range got {
		if !ids[id] {
			t.Errorf("handled unknown message %s", id)
		}
		if m.ReceiveCount != 1 || m.ReceiptHandle == "" || len(m.Body) == 0 {
			t.Errorf("message %s: %+v", id, m)
		}
		if d := m.SentTimestamp.Sub(sent); d < -2*time.Second || d > 5*time.Second {
			t.Errorf("message %s: SentTimestamp %s, sent about %s", id, m.SentTimestamp, sent)
		}
	}
	if len(got) != 3 || r.rec.received.Load() != 3 || r.rec.failed.Load() != 0 {
		t.Errorf("handled %d, received %d, failed %d", len(got), r.rec.received.Load(), r.rec.failed.Load())
	}
}

func TestFailureLeavesMessageForRedelivery(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	// The queue's own visibility timeout is long: the quick redelivery
	// comes from RetryDelay's ChangeMessageVisibility.
	url := f.CreateQueue(t, "retry", map[string]string{"VisibilityTimeout": "30"})
	f.Send(t, url, "body")

	var mu sync.Mutex
	var seen []int
	var times []time.Time
	r := start(t, sqssource.Options{
		QueueURL:   url,
		Endpoint:   f.Endpoint(),
		RetryDelay: func(int) time.Duration { return time.Second },
	}, func(ctx context.Context, m *sqssource.Message) error {
		mu.Lock()
		seen = append(seen, m.ReceiveCount)
		times = append(times, time.Now())
		n := len(seen)
		mu.Unlock()
		switch n {
		case 1:
			return errors.New("S3 throttled")
		case 2:
			panic("a bug in a rule")
		}
		return nil
	})
	eventually(t, 15*time.Second, "message deleted on the third delivery", func() bool { return r.rec.deleted.Load() == 1 })
	f.WaitCounts(t, url, 0, 0, 5*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != "[1 2 3]" {
		t.Errorf("receive counts %v, want [1 2 3]", seen)
	}
	if d := times[1].Sub(times[0]); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("redelivered after %s, want about RetryDelay (1s), not the 30s visibility timeout", d)
	}
	if r.rec.failed.Load() != 2 {
		t.Errorf("%d failures observed, want 2", r.rec.failed.Load())
	}
}

func TestFailureWithoutRetryDelayWaitsForVisibilityTimeout(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "keep", nil)
	f.Send(t, url, "body")
	var calls atomic.Int32
	r := start(t, sqssource.Options{
		QueueURL:          url,
		Endpoint:          f.Endpoint(),
		VisibilityTimeout: 3 * time.Second,
		RetryDelay:        func(int) time.Duration { return -1 },
	}, func(ctx context.Context, m *sqssource.Message) error {
		calls.Add(1)
		return errors.New("always")
	})
	eventually(t, 5*time.Second, "first failure", func() bool { return r.rec.failed.Load() == 1 })
	// Left in flight, not deleted and not yet visible again.
	if v, inflight := f.ApproxCounts(t, url); v != 0 || inflight != 1 {
		t.Fatalf("after the failure: %d visible, %d in flight; want 0 and 1", v, inflight)
	}
	time.Sleep(time.Second)
	if calls.Load() != 1 {
		t.Fatalf("redelivered before the visibility timeout")
	}
	eventually(t, 6*time.Second, "redelivery after the visibility timeout", func() bool { return calls.Load() >= 2 })
}

func TestDeadLetterAfterMaxReceiveCount(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url, dlq := f.CreateQueueWithDLQ(t, "poison", 3, map[string]string{"VisibilityTimeout": "2"})
	f.Send(t, url, "not a notification")
	var calls atomic.Int32
	r := start(t, sqssource.Options{
		QueueURL:   url,
		Endpoint:   f.Endpoint(),
		RetryDelay: func(int) time.Duration { return 0 },
	}, func(ctx context.Context, m *sqssource.Message) error {
		calls.Add(1)
		return errors.New("cannot parse")
	})
	f.WaitCounts(t, dlq, 1, 0, 15*time.Second)
	f.WaitCounts(t, url, 0, 0, time.Second)
	if n := calls.Load(); n != 3 {
		t.Errorf("handler called %d times, want maxReceiveCount = 3", n)
	}
	if r.rec.deleted.Load() != 0 {
		t.Errorf("a failed message was deleted")
	}
}

func TestExtendsVisibilityOfSlowHandler(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "slow", map[string]string{"VisibilityTimeout": "2"})
	f.Send(t, url, "big log file")
	started := make(chan struct{})
	finished := make(chan struct{})
	var calls atomic.Int32
	r := start(t, sqssource.Options{QueueURL: url, Endpoint: f.Endpoint()}, func(ctx context.Context, m *sqssource.Message) error {
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

func TestWorkersBoundReceives(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "bound", nil)
	for i := range 7 {
		f.Send(t, url, strconv.Itoa(i))
	}
	const workers = 2
	var cur, peak atomic.Int32
	r := start(t, sqssource.Options{QueueURL: url, Endpoint: f.Endpoint(), Workers: workers, MaxMessages: 10}, func(ctx context.Context, m *sqssource.Message) error {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(300 * time.Millisecond)
		return nil
	})

	// Sample the queue: no more messages may be in flight than workers.
	peakInflight := 0
	deadline := time.Now().Add(15 * time.Second)
	for r.rec.deleted.Load() < 7 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 7 messages deleted after 15s", r.rec.deleted.Load())
		}
		out, err := f.SQSClient().GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
		})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
		peakInflight = max(peakInflight, n)
		time.Sleep(25 * time.Millisecond)
	}
	if peakInflight > workers {
		t.Errorf("%d messages in flight at once with %d workers", peakInflight, workers)
	}
	if p := peak.Load(); p != workers {
		t.Errorf("peak concurrency %d, want %d", p, workers)
	}
}

func TestShutdownLeavesUnfinishedMessage(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "shutdown", map[string]string{"VisibilityTimeout": "30"})
	f.Send(t, url, "in flight at shutdown")
	started := make(chan struct{})
	r := start(t, sqssource.Options{QueueURL: url, Endpoint: f.Endpoint(), ShutdownGrace: 300 * time.Millisecond}, func(ctx context.Context, m *sqssource.Message) error {
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
	if !errors.Is(r.consumer.Healthy(), sqssource.ErrStopped) {
		t.Errorf("Healthy after stop: %v", r.consumer.Healthy())
	}
}

func TestShutdownLetsHandlerFinishWithinGrace(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "grace", map[string]string{"VisibilityTimeout": "30"})
	f.Send(t, url, "almost done")
	started := make(chan struct{})
	r := start(t, sqssource.Options{QueueURL: url, Endpoint: f.Endpoint(), ShutdownGrace: 5 * time.Second}, func(ctx context.Context, m *sqssource.Message) error {
		close(started)
		select {
		case <-time.After(time.Second):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	<-started
	r.stop(t)
	f.WaitCounts(t, url, 0, 0, 2*time.Second)
	if r.rec.deleted.Load() != 1 {
		t.Errorf("handler finished within the grace period but its message was not deleted")
	}
}

func TestShutdownAbandonsHandlerIgnoringContext(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "stuck", map[string]string{"VisibilityTimeout": "30"})
	f.Send(t, url, "stuck")
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	r := start(t, sqssource.Options{QueueURL: url, Endpoint: f.Endpoint(), ShutdownGrace: 200 * time.Millisecond}, func(ctx context.Context, m *sqssource.Message) error {
		close(started)
		<-release // ignores ctx
		return nil
	})
	<-started
	if took := r.stop(t); took > 4*time.Second {
		t.Errorf("Run returned %s after cancellation", took)
	}
	f.WaitCounts(t, url, 1, 0, 2*time.Second)
}

func TestReceiveErrorsThenRecovery(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	// A long poll cut by the outage may still be registered in fauxqs
	// and take the next message it sees, as SQS itself may: that message
	// then comes back after the visibility timeout, kept short here.
	url := f.CreateQueue(t, "outage", map[string]string{"VisibilityTimeout": "2"})
	p := testpeers.StartProxy(t, f.Endpoint(), false) // SQS unreachable at start
	var handled atomic.Int32
	r := start(t, sqssource.Options{QueueURL: url, Endpoint: p.Endpoint()}, func(ctx context.Context, m *sqssource.Message) error {
		handled.Add(1)
		return nil
	})
	eventually(t, 15*time.Second, "receive errors reported", func() bool { return r.rec.receiveErrors.Load() >= 2 })
	if err := r.consumer.Healthy(); err == nil || errors.Is(err, sqssource.ErrNotStarted) {
		t.Errorf("Healthy while the endpoint is down: %v", err)
	}

	p.Up()
	f.Send(t, url, "one")
	eventually(t, 15*time.Second, "message handled after recovery", func() bool { return handled.Load() == 1 })
	eventually(t, 5*time.Second, "healthy after recovery", func() bool { return r.consumer.Healthy() == nil })

	// An outage in the middle of a long poll.
	errs := r.rec.receiveErrors.Load()
	p.Down()
	eventually(t, 15*time.Second, "receive error after the endpoint died", func() bool { return r.rec.receiveErrors.Load() > errs })
	p.Up()
	f.Send(t, url, "two")
	eventually(t, 15*time.Second, "message handled after the second recovery", func() bool { return handled.Load() == 2 })
	f.WaitCounts(t, url, 0, 0, 5*time.Second)
}

func TestPingUnknownQueue(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	testpeers.AWSEnv(t)
	c, err := sqssource.New(context.Background(), sqssource.Options{
		QueueURL: "http://sqs.us-east-1.localhost:1/000000000000/missing",
		Endpoint: f.Endpoint(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("Ping of a missing queue succeeded")
	}
	if !errors.Is(c.Healthy(), sqssource.ErrNotStarted) {
		t.Errorf("Healthy before Run: %v", c.Healthy())
	}
}
