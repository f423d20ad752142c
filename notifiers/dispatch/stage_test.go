package dispatch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
)

// muteStage is a custom stage of the kind the stateful detections will add: it
// ends alerts from one principal, and records what it saw.
type muteStage struct {
	d         *Dispatcher
	principal string

	mu   sync.Mutex
	seen []string // "alert <principal>" or "summary <principal>"
}

func (s *muteStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	s.mu.Lock()
	s.seen = append(s.seen, map[kind]string{kindAlert: "alert ", kindSummary: "summary "}[dl.kind]+dl.alert.Principal)
	s.mu.Unlock()
	if dl.kind == kindAlert && dl.alert.Principal == s.principal {
		s.d.observe(dl, "muted")
		return nil, nil
	}
	return dl, nil
}

// insertBefore puts s into the list just before the first stage of type T.
func insertBefore[T stage](t *testing.T, ss stages, s stage) stages {
	t.Helper()
	i := slices.IndexFunc(ss, func(x stage) bool { _, ok := x.(T); return ok })
	if i < 0 {
		t.Fatalf("no %T in the list", *new(T))
	}
	return slices.Insert(slices.Clone(ss), i, s)
}

func TestCustomStageBetweenSuppressAndDedup(t *testing.T) {
	clk, rec := newClock(), newRecorder()
	out, buf := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{out}, Routes: everything("out"), Observer: rec,
		Now: clk.Now, Dedup: dedup(time.Hour),
		Suppressions: []config.Suppression{{Rule: "*", Where: map[string]string{"principal": "terraform"}, Reason: "iac"}}})
	mute := &muteStage{d: d, principal: "mallory"}
	d.stages = insertBefore[dedupStage](t, d.stages, mute)
	ctx := context.Background()

	for _, p := range []string{"terraform", "mallory", "alice", "alice", "alice"} {
		if err := d.Dispatch(ctx, mkAlert("iam.create_user", alert.High, p)); err != nil {
			t.Fatal(err)
		}
	}
	if got := buf.lines(t); len(got) != 1 || got[0].Principal != "alice" {
		t.Fatalf("sent %+v, want alice's first alert only", got)
	}
	if rec.get("out/muted") != 1 || rec.get("out/suppressed") != 1 || rec.get("out/deduplicated") != 2 || rec.get("out/sent") != 1 {
		t.Errorf("outcomes: %v", rec.outcomes)
	}

	// Summaries go through the same list, custom stage included.
	clk.add(2 * time.Hour)
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	lines := buf.lines(t)
	if len(lines) != 2 || lines[1].Note == "" {
		t.Fatalf("no summary after the window: %+v", lines)
	}
	want := []string{"alert mallory", "alert alice", "alert alice", "alert alice", "summary alice"}
	if !slices.Equal(mute.seen, want) {
		t.Errorf("the stage saw %q, want %q (after route and suppress, before dedup)", mute.seen, want)
	}
}

// failFor is a per-notifier stage that fails, or quietly stops, for one
// notifier.
type failFor struct {
	name string
	err  error // nil: stop without error
}

func (f failFor) exec(_ context.Context, dl *delivery) (*delivery, error) {
	if dl.notifier.Name() != f.name {
		return dl, nil
	}
	return nil, f.err
}

func TestCustomPerNotifierStageFailsOnlyItsNotifier(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"fails", notifiers.Permanent(errors.New("closed for maintenance"))},
		{"stops", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder()
			a, aBuf := newStdout("a")
			b, bBuf := newStdout("b")
			d := mustNew(t, Config{Notifiers: []notifiers.Notifier{a, b}, Routes: everything("a", "b"), Observer: rec})
			plain := d.stages
			d.stages = slices.Clone(plain)
			d.stages[len(d.stages)-1] = fanoutStage{d, claimStage{d, stages{
				failFor{"b", c.err},
				sendStage{d},
				markDeliveredStage{d},
			}}}
			ctx := context.Background()
			al := mkAlert("r", alert.High, "alice")
			err := d.Dispatch(ctx, al)
			var de *Error
			switch {
			case c.err == nil && err != nil:
				t.Fatalf("a stage that stops is not a failure: %v", err)
			case c.err != nil && (!errors.As(err, &de) || len(de.Failures) != 1 || de.Failures[0].Notifier != "b" || !notifiers.IsPermanent(err)):
				t.Fatalf("err = %v, want b's permanent failure only", err)
			}
			if len(aBuf.lines(t)) != 1 || len(bBuf.lines(t)) != 0 {
				t.Fatalf("a got %d, b got %d", len(aBuf.lines(t)), len(bBuf.lines(t)))
			}
			if c.err != nil && rec.get("b/failed") != 1 {
				t.Errorf("outcomes: %v", rec.outcomes)
			}
			// b's claim was given back: with the stage gone, the redelivery sends
			// to b, and only to b.
			d.stages = plain
			if err := d.Dispatch(ctx, al); err != nil {
				t.Fatal(err)
			}
			if len(aBuf.lines(t)) != 1 || len(bBuf.lines(t)) != 1 || rec.get("a/already_delivered") != 1 {
				t.Fatalf("redelivery: a got %d, b got %d, outcomes %v", len(aBuf.lines(t)), len(bBuf.lines(t)), rec.outcomes)
			}
		})
	}
}
