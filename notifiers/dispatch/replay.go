package dispatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// Replay gives, outside the daemon (trailguard eval, tests over recorded
// logs), what the daemon's dispatcher makes of the engine's alerts: a per-event
// alert is written as it is; a stateful rule's candidate goes through the
// stateful stage and is written only when it makes its rule fire, as the
// stateful alert. There is no suppression, dedup or retry: a replay shows
// what the rules say.
type Replay struct {
	d       *Dispatcher
	write   func(*alert.Alert) error
	skipped int
}

// NewReplay keeps the stateful rules' records in records (nil: in memory,
// starting empty) and hands every alert to write, one at a time.
func NewReplay(records state.Records, write func(*alert.Alert) error) (*Replay, error) {
	d, err := New(Config{
		Notifiers: []notifiers.Notifier{writerNotifier(write)},
		Routes:    []config.Route{{Notifiers: []string{"replay"}}},
		Records:   records,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	return &Replay{d: d, write: write}, nil
}

// Alert writes a, or counts it when its rule is stateful. It keeps no
// pointer to a once it returns (pipeline.Handler.Borrows), as long as write
// keeps none: the dispatcher gets a copy, since a notifier call that times
// out is abandoned while it may still read its alert. Not safe for
// concurrent use: a replay is in event order as read.
func (r *Replay) Alert(ctx context.Context, a *alert.Alert) error {
	if a.Stateful == nil {
		return r.write(a)
	}
	if !validEventTime(a) {
		r.skipped++ // the stage would skip it too; counted here to be told
		return nil
	}
	c := *a
	return r.d.Dispatch(ctx, &c)
}

// Skipped is how many stateful candidates were left out because their record
// has no valid eventTime (some exports drop it): they cannot be placed in a
// window.
func (r *Replay) Skipped() int { return r.skipped }

// writerNotifier is a replay's output as a notifier.
type writerNotifier func(*alert.Alert) error

func (writerNotifier) Name() string { return "replay" }

func (w writerNotifier) Notify(_ context.Context, a *alert.Alert, _ string) error { return w(a) }

func validEventTime(a *alert.Alert) bool {
	_, err := time.Parse(time.RFC3339, a.EventTime)
	return err == nil
}
