package lambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func batch(arn string, ids ...string) events.SQSEvent {
	var ev events.SQSEvent
	for _, id := range ids {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: id, Body: "body of " + id, EventSource: "aws:sqs", EventSourceARN: arn,
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	return ev
}

const queueARN = "arn:aws:sqs:us-east-1:123456789012:trail"

func failures(r events.SQSEventResponse) []string {
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The answer names exactly the messages whose handler failed or panicked,
// in the batch's order; each message's body reaches the handler as sent.
func TestInvokeNamesFailedMessages(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	fn := New(func(_ context.Context, m *Message) error {
		mu.Lock()
		seen[m.ID] = string(m.Body)
		mu.Unlock()
		switch m.ID {
		case "b":
			return errors.New("object not found")
		case "d":
			panic("bug")
		}
		return nil
	}, Options{Logger: quiet(), Workers: 2})
	resp, err := fn.Invoke(context.Background(), batch(queueARN, "a", "b", "c", "d", "e"))
	if err != nil {
		t.Fatal(err)
	}
	if got := failures(resp); !slices.Equal(got, []string{"b", "d"}) {
		t.Errorf("batchItemFailures %q, want [b d]", got)
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if seen[id] != "body of "+id {
			t.Errorf("message %s reached the handler with %q", id, seen[id])
		}
	}
}

// At most Workers messages are handled at once, and all are handled.
func TestInvokeBoundsConcurrency(t *testing.T) {
	var now, peak, total atomic.Int32
	fn := New(func(context.Context, *Message) error {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		now.Add(-1)
		total.Add(1)
		return nil
	}, Options{Logger: quiet(), Workers: 3})
	var ids []string
	for i := range 10 {
		ids = append(ids, fmt.Sprint(i))
	}
	resp, err := fn.Invoke(context.Background(), batch(queueARN, ids...))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %v", resp, err)
	}
	if peak.Load() != 3 || total.Load() != 10 {
		t.Errorf("peak %d at once, %d handled; want 3 and 10", peak.Load(), total.Load())
	}
}

// A handler still at work when the deadline less the reserve comes is cut
// short and its message named, and the answer comes before the deadline:
// the messages that were done are not handled again.
func TestInvokeAnswersBeforeTheDeadline(t *testing.T) {
	fn := New(func(ctx context.Context, m *Message) error {
		if m.ID == "slow" {
			<-ctx.Done()
			return fmt.Errorf("cut short: %w", ctx.Err())
		}
		return nil
	}, Options{Logger: quiet(), Reserve: 300 * time.Millisecond})
	deadline := time.Now().Add(800 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	resp, err := fn.Invoke(ctx, batch(queueARN, "fast", "slow", "fast2"))
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(deadline); left < 200*time.Millisecond {
		t.Errorf("answered %s before the deadline; the reserve is 300ms", left)
	}
	if got := failures(resp); !slices.Equal(got, []string{"slow"}) {
		t.Errorf("batchItemFailures %q, want [slow]", got)
	}
}

// A FIFO queue's batch is handled in order, and after the first failure
// the rest come back unhandled, so the group's order holds.
func TestInvokeFIFOStopsAtFirstFailure(t *testing.T) {
	var handled []string
	fn := New(func(_ context.Context, m *Message) error {
		handled = append(handled, m.ID)
		if m.ID == "2" {
			return errors.New("notifier down")
		}
		return nil
	}, Options{Logger: quiet()})
	resp, err := fn.Invoke(context.Background(), batch(queueARN+".fifo", "1", "2", "3", "4"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(handled, []string{"1", "2"}) || !slices.Equal(failures(resp), []string{"2", "3", "4"}) {
		t.Errorf("handled %q, failures %q; want [1 2] and [2 3 4]", handled, failures(resp))
	}
}

// What is not an SQS batch fails the invocation (Lambda retries it whole)
// rather than being answered as if every message were done.
func TestInvokeRefusesWhatIsNotAnSQSBatch(t *testing.T) {
	fn := New(func(context.Context, *Message) error {
		t.Error("handler called")
		return nil
	}, Options{Logger: quiet()})
	noID := batch(queueARN, "a", "")
	other := batch(queueARN, "a")
	other.Records[0].EventSource = "aws:kinesis"
	for name, ev := range map[string]events.SQSEvent{"empty": {}, "no message id": noID, "kinesis": other} {
		if _, err := fn.Invoke(context.Background(), ev); !errors.Is(err, ErrNotSQS) {
			t.Errorf("%s: %v, want ErrNotSQS", name, err)
		}
	}
}
