package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/source/sqs"
)

func TestDeletesAfterSuccess(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "ok", nil)
	sent := time.Now()
	ids := map[string]bool{}
	for i := range 3 {
		ids[f.Send(t, url, fmt.Sprintf(`{"n":%d}`, i))] = true
	}

	var mu sync.Mutex
	got := map[string]*sqs.Message{}
	r := start(t, queue(url, f.Endpoint()), sqs.Deps{}, func(ctx context.Context, m *sqs.Message) error {
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
	r := start(t, queue(url, f.Endpoint()), sqs.Deps{RetryDelay: func(int) time.Duration { return time.Second }}, func(ctx context.Context, m *sqs.Message) error {
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
	q := queue(url, f.Endpoint())
	q.VisibilityTimeout = 3 * time.Second
	r := start(t, q, sqs.Deps{RetryDelay: func(int) time.Duration { return -1 }}, func(ctx context.Context, m *sqs.Message) error {
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
	r := start(t, queue(url, f.Endpoint()), sqs.Deps{RetryDelay: func(int) time.Duration { return 0 }}, func(ctx context.Context, m *sqs.Message) error {
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

func TestWorkersBoundReceives(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "bound", nil)
	for i := range 7 {
		f.Send(t, url, strconv.Itoa(i))
	}
	const workers = 2
	var cur, peak atomic.Int32
	q := queue(url, f.Endpoint())
	q.Workers, q.MaxMessages = workers, 10
	r := start(t, q, sqs.Deps{}, func(ctx context.Context, m *sqs.Message) error {
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
		out, err := f.SQSClient().GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{
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

func TestShutdownLetsHandlerFinishWithinGrace(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	url := f.CreateQueue(t, "grace", map[string]string{"VisibilityTimeout": "30"})
	f.Send(t, url, "almost done")
	started := make(chan struct{})
	r := start(t, queue(url, f.Endpoint()), sqs.Deps{ShutdownGrace: 5 * time.Second}, func(ctx context.Context, m *sqs.Message) error {
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
	r := start(t, queue(url, f.Endpoint()), sqs.Deps{ShutdownGrace: 200 * time.Millisecond}, func(ctx context.Context, m *sqs.Message) error {
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
