package sqs

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailguard/trailguard/config"
)

// These tests reach the consumer's jobs through a stub of the SQS API, for
// what fauxqs cannot be made to do (refuse a visibility change) and for the
// arithmetic of batches; the other tests run against fauxqs.

// stubAPI fails ChangeMessageVisibility when failVisibility is set.
type stubAPI struct {
	api
	failVisibility atomic.Bool
	visibility     atomic.Int32 // calls
}

func (s *stubAPI) ChangeMessageVisibility(context.Context, *awssqs.ChangeMessageVisibilityInput, ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityOutput, error) {
	s.visibility.Add(1)
	if s.failVisibility.Load() {
		return nil, errors.New("throttled")
	}
	return &awssqs.ChangeMessageVisibilityOutput{}, nil
}

type callErrors struct {
	NopObserver
	ops      atomic.Int32
	extended atomic.Int32
}

func (c *callErrors) CallError(string, *Message, error) { c.ops.Add(1) }
func (c *callErrors) VisibilityExtended(*Message)       { c.extended.Add(1) }

// A failing extension is reported and does not stop the heartbeat or the
// handler: the next tick tries again.
func TestExtendUntilSurvivesFailedExtensions(t *testing.T) {
	stub := &stubAPI{}
	stub.failVisibility.Store(true)
	obs := &callErrors{}
	c := newConsumer(stub, config.SQS{QueueURL: "http://q"}, Deps{Observer: obs, Logger: slog.New(slog.DiscardHandler)})
	done := make(chan error, 1)
	time.AfterFunc(350*time.Millisecond, func() { done <- nil })
	err, interrupted := c.extendUntil(context.Background(), context.Background(), &Message{ID: "m"}, 200*time.Millisecond, done, c.deps.Logger, func() {})
	if err != nil || interrupted {
		t.Fatalf("extendUntil = %v, %v", err, interrupted)
	}
	if n := stub.visibility.Load(); n < 2 {
		t.Errorf("%d extension attempts in 350ms at a 100ms period, want at least 2", n)
	}
	if obs.ops.Load() != stub.visibility.Load() || obs.extended.Load() != 0 {
		t.Errorf("%d call errors and %d extensions reported for %d failed calls", obs.ops.Load(), obs.extended.Load(), stub.visibility.Load())
	}
}

// A handler that ignores its cancelled context is given abandonWait, then
// reported as interrupted with an error.
func TestExtendUntilAbandonsHandler(t *testing.T) {
	c := newConsumer(&stubAPI{}, config.SQS{QueueURL: "http://q"}, Deps{Logger: slog.New(slog.DiscardHandler)})
	hctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err, interrupted := c.extendUntil(context.Background(), hctx, &Message{ID: "m"}, time.Hour, make(chan error), c.deps.Logger, func() {})
	if err == nil || !interrupted {
		t.Fatalf("extendUntil = %v, %v; want an error, interrupted", err, interrupted)
	}
	if took := time.Since(start); took < abandonWait || took > abandonWait+time.Second {
		t.Errorf("gave up after %s, want abandonWait (%s)", took, abandonWait)
	}
}

func TestDeleters(t *testing.T) {
	for workers, want := range map[int]int{1: 1, 10: 1, 11: 2, 16: 2, 100: 10} {
		if got := deleters(workers); got != want {
			t.Errorf("deleters(%d) = %d, want %d", workers, got, want)
		}
	}
}

func TestBatchErrors(t *testing.T) {
	callErr := errors.New("connection reset")
	for i, err := range batchErrors(3, nil, callErr) {
		if !errors.Is(err, callErr) {
			t.Errorf("entry %d after a failed call: %v", i, err)
		}
	}
	out := &awssqs.DeleteMessageBatchOutput{
		Successful: []types.DeleteMessageBatchResultEntry{{Id: aws.String("0")}, {Id: aws.String("7")}},
		Failed:     []types.BatchResultErrorEntry{{Id: aws.String("1"), Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String("gone")}},
	}
	errs := batchErrors(3, out, nil)
	if errs[0] != nil {
		t.Errorf("entry 0, listed as deleted: %v", errs[0])
	}
	if errs[1] == nil || errs[1].Error() != "ReceiptHandleIsInvalid: gone" {
		t.Errorf("entry 1, listed as failed: %v", errs[1])
	}
	if errs[2] == nil {
		t.Error("entry 2, not in the response, counted as deleted")
	}
}
