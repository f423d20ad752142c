package main

import (
	"context"
	"fmt"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	"github.com/trailguard/trailguard/notifiers/state"
)

// statefulWriter passes eval's alerts through the dispatcher's stateful stage
// (dispatch.Replay), so stateful rules give in a replay what they give in the
// daemon: threshold, new_value and sequence alerts instead of their
// candidates. Delivery records stay in memory (a second run prints its alerts
// again); the stateful records go to the SQLite file at path when one is
// named, so baselines carry over.
func statefulWriter(ctx context.Context, path string, write func(*alert.Alert) error) (*dispatch.Replay, func(), error) {
	var records state.Records
	closeState := func() {}
	if path != "" {
		st, err := state.OpenSQLite(ctx, path, state.SQLiteOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("--state: %w", err)
		}
		records, closeState = st, func() { _ = st.Close() }
	}
	r, err := dispatch.NewReplay(records, write)
	if err != nil {
		closeState()
		return nil, nil, err
	}
	return r, closeState, nil
}
