package dispatch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// replicas returns two dispatchers, as two daemon replicas would be, sharing one
// Redis and posting to one Slack.
func replicas(t *testing.T, dedup config.Dedup, clk *clock) (a, b *Dispatcher, srv *fakeslack.Server, mr *miniredis.Miniredis) {
	t.Helper()
	mr = miniredis.RunT(t)
	srv = fakeslack.New(t)
	mk := func() *Dispatcher {
		rc := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = rc.Close() })
		return mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"),
			State: state.NewRedis(rc, "tg:"), Dedup: dedup, Now: clk.Now})
	}
	return mk(), mk(), srv, mr
}

func TestRedisReplicasSendOnce(t *testing.T) {
	d1, d2, srv, _ := replicas(t, config.Dedup{}, newClock())
	ctx := context.Background()
	a := mkAlert("iam.create_user", alert.High, "alice")
	if err := d1.Dispatch(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := d2.Dispatch(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Posts()); n != 1 {
		t.Fatalf("%d posts after sequential dispatch on two replicas", n)
	}

	// Both replicas get the same alert at the same time.
	b := mkAlert("iam.create_user", alert.High, "alice")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []*Dispatcher{d1, d2} {
		wg.Go(func() { errs[i] = d.Dispatch(ctx, b) })
	}
	wg.Wait()
	if n := len(srv.Posts()); n != 2 {
		t.Fatalf("%d posts, want 2 (one per alert)", n)
	}
	for _, err := range errs {
		var de *Error
		if err != nil && (!errors.As(err, &de) || !errors.Is(de.Failures[0].Err, ErrInFlight)) {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	// The loser's message comes back: now it is delivered.
	for _, d := range []*Dispatcher{d1, d2} {
		if err := d.Dispatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Posts()); n != 2 {
		t.Fatalf("%d posts after redelivery", n)
	}
}

// Two replicas share a window's thread: the repeats either one holds back
// go into the thread of the first alert the other posted, and the first
// message's count follows; no summary follows the window.
func TestRedisReplicasShareTheDedupThread(t *testing.T) {
	clk := newClock()
	d1, d2, srv, mr := replicas(t, dedup(time.Hour), clk)
	ctx := context.Background()
	advance := func(d time.Duration) {
		clk.add(d)
		mr.FastForward(d)
	}
	if err := d1.Dispatch(ctx, mkAlert("r", alert.High, "alice")); err != nil {
		t.Fatal(err)
	}
	advance(time.Minute)
	for _, d := range []*Dispatcher{d2, d1, d2} {
		if err := d.Dispatch(ctx, mkAlert("r", alert.High, "alice")); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 4 || msgs[0].ThreadTS != "" {
		t.Fatalf("%d messages, want the first and 3 replies: %+v", len(msgs), msgs)
	}
	for _, m := range msgs[1:] {
		if m.ThreadTS != msgs[0].TS {
			t.Errorf("reply %s in thread %q, want %q", m.TS, m.ThreadTS, msgs[0].TS)
		}
	}
	ups := srv.Updates()
	if len(ups) != 3 || ups[2].TS != msgs[0].TS || !strings.Contains(ups[2].Form.Get("blocks"), "3 repeats held back") {
		t.Fatalf("updates of the first message: %+v", ups)
	}
	advance(time.Hour)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, d := range []*Dispatcher{d1, d2} {
		wg.Go(func() { errs[i] = d.Flush(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 4 {
		t.Fatalf("%d messages after both replicas flushed, want no summary", n)
	}
}

func TestRedisDownFailsRetryably(t *testing.T) {
	mr := miniredis.RunT(t)
	srv := fakeslack.New(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rc.Close() })
	d1 := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"),
		State: state.NewRedis(rc, "")})
	mr.Close()
	err := d1.Dispatch(context.Background(), mkAlert("r", alert.High, "alice"))
	if err == nil || notifiers.IsPermanent(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
	if len(srv.Posts()) != 0 {
		t.Fatal("sent without a claim")
	}
	if err := d1.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "state: redis") {
		t.Fatalf("Ready = %v", err)
	}
}
