package dispatch

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

func at(a *alert.Alert, minutes int) *alert.Alert {
	a.EventTime = time.Date(2024, 5, 1, 10, minutes, 0, 0, time.UTC).Format(time.RFC3339)
	return a
}

// A threshold rule's candidates become one stateful alert per crossing, with
// the counts, the group and the events; a redelivery notifies nobody twice,
// and a restart (SQLite reopened) keeps the half-counted window.
func TestStatefulStageThreshold(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	sf := &alert.Stateful{Threshold: &alert.Threshold{Count: 3, Window: 10 * time.Minute, GroupBy: []string{"principal"}}}
	open := func() (*Dispatcher, *syncBuffer) {
		st, err := state.OpenSQLite(ctx, path, state.SQLiteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		out, buf := newStdout("out")
		return mustNew(t, Config{Notifiers: []notifiers.Notifier{out}, Routes: everything("out"), State: st}), buf
	}
	d, buf := open()
	var sent []*alert.Alert
	for i := range 2 {
		a := at(mkAlert("aws.burst", alert.High, "arn:alice"), i)
		a.Stateful = sf
		sent = append(sent, a)
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if lines := buf.lines(t); len(lines) != 0 {
		t.Fatalf("notified below the threshold: %+v", lines)
	}
	d, buf = open() // restart
	other := at(mkAlert("aws.burst", alert.High, "arn:bob"), 2)
	other.Stateful = sf
	third := at(mkAlert("aws.burst", alert.High, "arn:alice"), 3)
	third.Stateful = sf
	for _, a := range []*alert.Alert{other, sent[0], third, third} { // a duplicate and a redelivery
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	lines := buf.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d notifications, want 1: %+v", len(lines), lines)
	}
	got := lines[0]
	want := []string{sent[0].EventID, sent[1].EventID, third.EventID}
	if got.Count != 3 || got.Window != "10m" || got.Group["principal"] != "arn:alice" ||
		!slices.Equal(got.EventIDs, want) || got.FirstEventTime != "2024-05-01T10:00:00Z" ||
		got.LastEventTime != "2024-05-01T10:03:00Z" || !strings.HasPrefix(got.Message, "3 CreateUser calls in 3m0s") {
		t.Fatalf("stateful alert: %+v", got.Alert)
	}
}

// A signal is never notified; it feeds a sequence, whose alert is.
func TestStatefulStageSequence(t *testing.T) {
	ctx := context.Background()
	out, buf := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{out}, Routes: everything("out")})
	seq := &alert.Sequence{Rule: alert.Rule{ID: "aws.stop_modify_start", Title: "Stop, modify, start", Severity: alert.High},
		Steps: []string{"aws.stop", "aws.modify"}, Window: time.Hour, Ordered: true, GroupBy: []string{"principal"}}
	stop := at(mkAlert("aws.stop", alert.Info, "arn:alice"), 0)
	stop.Stateful = &alert.Stateful{Signal: true, StepOf: []*alert.Sequence{seq}}
	modify := at(mkAlert("aws.modify", alert.Info, "arn:alice"), 20)
	modify.Stateful = &alert.Stateful{Signal: true, StepOf: []*alert.Sequence{seq}}
	for _, a := range []*alert.Alert{modify, stop, stop} { // out of order, duplicated
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	lines := buf.lines(t)
	if len(lines) != 1 || lines[0].RuleID != "aws.stop_modify_start" || lines[0].Severity != alert.High ||
		!slices.Equal(lines[0].EventIDs, []string{stop.EventID, modify.EventID}) {
		t.Fatalf("sequence alert: %+v", lines)
	}
}
