package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	"github.com/trailguard/trailguard/notifiers/state"
)

// statefulWriter passes eval's alerts through the dispatcher's stateful stage,
// so stateful rules give in a replay what they give in the daemon: threshold,
// new_value and sequence alerts instead of their candidates. Delivery records
// stay in memory (a second run prints its alerts again); the stateful records
// go to the SQLite file at path when one is named, so baselines carry over.
func statefulWriter(ctx context.Context, path string, write func(*alert.Alert) error) (func(context.Context, *alert.Alert) error, func(), error) {
	cfg := dispatch.Config{
		Notifiers: []notifiers.Notifier{writerNotifier(write)},
		Routes:    []config.Route{{Notifiers: []string{"eval"}}},
		Logger:    slog.New(slog.DiscardHandler),
	}
	closeState := func() {}
	if path != "" {
		st, err := state.OpenSQLite(ctx, path, state.SQLiteOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("--state: %w", err)
		}
		cfg.Records, closeState = st, func() { _ = st.Close() }
	}
	d, err := dispatch.New(cfg)
	if err != nil {
		closeState()
		return nil, nil, err
	}
	return func(ctx context.Context, a *alert.Alert) error {
		if a.Stateful == nil {
			return write(a)
		}
		return d.Dispatch(ctx, a)
	}, closeState, nil
}

// writerNotifier is eval's output as a notifier.
type writerNotifier func(*alert.Alert) error

func (writerNotifier) Name() string { return "eval" }

func (w writerNotifier) Notify(_ context.Context, a *alert.Alert, _ string) error { return w(a) }
