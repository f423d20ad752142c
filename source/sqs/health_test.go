package sqs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/source/sqs"
)

func TestReceiveErrorsThenRecovery(t *testing.T) {
	f := testpeers.StartFauxqs(t)
	// A long poll cut by the outage may still be registered in fauxqs
	// and take the next message it sees, as SQS itself may: that message
	// then comes back after the visibility timeout, kept short here.
	url := f.CreateQueue(t, "outage", map[string]string{"VisibilityTimeout": "2"})
	p := testpeers.StartProxy(t, f.Endpoint(), false) // SQS unreachable at start
	var handled atomic.Int32
	r := start(t, queue(url, p.Endpoint()), sqs.Deps{}, func(ctx context.Context, m *sqs.Message) error {
		handled.Add(1)
		return nil
	})
	eventually(t, 15*time.Second, "receive errors reported", func() bool { return r.rec.receiveErrors.Load() >= 2 })
	if err := r.consumer.Healthy(); err == nil || errors.Is(err, sqs.ErrNotStarted) {
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
	c, err := sqs.New(context.Background(), queue("http://sqs.us-east-1.localhost:1/000000000000/missing", f.Endpoint()), sqs.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err == nil {
		t.Fatal("Ping of a missing queue succeeded")
	}
	if !errors.Is(c.Healthy(), sqs.ErrNotStarted) {
		t.Errorf("Healthy before Run: %v", c.Healthy())
	}
}
