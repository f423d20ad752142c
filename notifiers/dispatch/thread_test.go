package dispatch

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// threadStates are the State backends a thread must survive in.
func threadStates(t *testing.T, clk *clock) map[string]func() state.State {
	return map[string]func() state.State{
		"memory": func() state.State { return state.NewMemory(state.MemoryOptions{Now: clk.Now}) },
		"sqlite": func() state.State {
			s, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"), state.SQLiteOptions{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		"redis": func() state.State {
			rc := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
			t.Cleanup(func() { _ = rc.Close() })
			return state.NewRedis(rc, "", state.WithRedisClock(clk.Now))
		},
	}
}

// In bot mode, the repeats a dedup window holds back are replies in the
// thread of its first alert, whose message shows their count; a redelivered
// repeat is not posted twice; other notifiers get the summary as before, Slack
// does not; the next window opens a thread of its own.
func TestSlackThreadsRepeats(t *testing.T) {
	for _, name := range []string{"memory", "sqlite", "redis"} {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			st := threadStates(t, clk)[name]()
			srv := fakeslack.New(t)
			out, buf := newStdout("out")
			d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv), out}, Routes: everything("slack", "out"),
				State: st, Now: clk.Now, Dedup: dedup(time.Hour)})
			ctx := context.Background()
			dispatch := func(a *alert.Alert) {
				t.Helper()
				if err := d.Dispatch(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			dispatch(mkAlert("iam.create_user", alert.High, "alice"))
			clk.add(time.Minute)
			repeats := []*alert.Alert{mkAlert("iam.create_user", alert.High, "alice"), mkAlert("iam.create_user", alert.High, "alice")}
			for _, a := range repeats {
				dispatch(a)
			}
			dispatch(repeats[0]) // redelivered
			msgs := srv.Messages()
			if len(msgs) != 3 {
				t.Fatalf("%d messages, want the first and 2 replies", len(msgs))
			}
			for i, m := range msgs[1:] {
				if m.ThreadTS != msgs[0].TS || !strings.Contains(m.Form.Get("blocks"), repeats[i].EventID) {
					t.Errorf("reply %d: thread %q (want %q), blocks %s", i, m.ThreadTS, msgs[0].TS, m.Form.Get("blocks"))
				}
			}
			ups := srv.Updates()
			if len(ups) != 2 || ups[1].TS != msgs[0].TS || ups[1].Channel != "C0123456789" ||
				!strings.Contains(ups[1].Form.Get("blocks"), "2 repeats held back by the dedup window") ||
				!strings.Contains(ups[1].Form.Get("blocks"), msgs[0].Form.Get("blocks")[:40]) {
				t.Fatalf("updates: %+v", ups)
			}

			clk.add(time.Hour)
			if err := d.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(srv.Messages()); n != 3 {
				t.Fatalf("Slack got a summary: %d messages", n)
			}
			lines := buf.lines(t)
			if len(lines) != 2 || !strings.HasPrefix(lines[1].Note, "Summary: 2 more iam.create_user by alice") {
				t.Fatalf("stdout: %+v", lines)
			}

			dispatch(mkAlert("iam.create_user", alert.High, "alice"))
			dispatch(mkAlert("iam.create_user", alert.High, "alice"))
			msgs = srv.Messages()
			if len(msgs) != 5 || msgs[3].ThreadTS != "" || msgs[4].ThreadTS != msgs[3].TS {
				t.Fatalf("next window: %+v", msgs[3:])
			}
		})
	}
}

// A repeat that overtakes its window's first alert (records of one log are
// dispatched concurrently) waits for the thread and goes into it.
func TestRepeatOvertakingItsLead(t *testing.T) {
	clk := newClock()
	srv := fakeslack.New(t)
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"),
		State: state.NewMemory(state.MemoryOptions{Now: clk.Now}), Now: clk.Now, Dedup: dedup(time.Hour)})
	hold := make(chan struct{})
	held := fakeslack.OK
	held.Hold = hold
	srv.Script(held)
	ctx := context.Background()
	lead := make(chan error, 1)
	go func() { lead <- d.Dispatch(ctx, mkAlert("r", alert.High, "alice")) }()
	for len(srv.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	repeat := make(chan error, 1)
	go func() { repeat <- d.Dispatch(ctx, mkAlert("r", alert.High, "alice")) }()
	time.Sleep(3 * threadPoll) // the repeat is waiting
	close(hold)
	if err := errors.Join(<-lead, <-repeat); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[1].ThreadTS != msgs[0].TS {
		t.Fatalf("messages: %+v", msgs)
	}
}

// A repeat whose window's first alert could not be posted fails retryably,
// and threads when both messages come back.
func TestRepeatWaitsForItsThread(t *testing.T) {
	defer func(w time.Duration) { threadWait = w }(threadWait)
	threadWait = 2 * threadPoll
	clk := newClock()
	srv := fakeslack.New(t)
	st := state.NewMemory(state.MemoryOptions{Now: clk.Now})
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{newSlack(t, srv)}, Routes: everything("slack"),
		State: st, Now: clk.Now, Dedup: dedup(time.Hour), Retry: RetryPolicy{MaxElapsedTime: time.Millisecond}})
	ctx := context.Background()
	srv.Script(fakeslack.Reply{Status: 500})
	first := mkAlert("r", alert.High, "alice")
	if err := d.Dispatch(ctx, first); err == nil {
		t.Fatal("the first alert's failure was not reported")
	}
	repeat := mkAlert("r", alert.High, "alice")
	err := d.Dispatch(ctx, repeat)
	var de *Error
	if !errors.As(err, &de) || !errors.Is(de.Failures[0].Err, errNoThread) || notifiers.IsPermanent(err) {
		t.Fatalf("repeat before its thread: %v", err)
	}
	for _, a := range []*alert.Alert{first, repeat} { // the messages come back
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[1].ThreadTS != msgs[0].TS {
		t.Fatalf("messages: %+v", msgs)
	}
}
