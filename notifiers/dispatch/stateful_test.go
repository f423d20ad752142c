package dispatch

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
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

// Stateful rules count every candidate, routed or not: a route that takes
// only high alerts takes no info signal, and yet the signals complete the
// sequence, whose high alert it routes.
func TestStatefulStageCountsUnroutedCandidates(t *testing.T) {
	ctx := context.Background()
	out, buf := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{out},
		Routes: []config.Route{{Match: config.Match{MinSeverity: alert.High}, Notifiers: []string{"out"}}}})
	seq := &alert.Sequence{Rule: alert.Rule{ID: "aws.stop_modify", Title: "Stop, modify", Severity: alert.High},
		Steps: []string{"aws.stop", "aws.modify"}, Window: time.Hour, GroupBy: []string{"principal"}}
	for i, rule := range seq.Steps {
		a := at(mkAlert(rule, alert.Info, "arn:alice"), i)
		a.Stateful = &alert.Stateful{Signal: true, StepOf: []*alert.Sequence{seq}}
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if lines := buf.lines(t); len(lines) != 1 || lines[0].RuleID != "aws.stop_modify" {
		t.Fatalf("want the sequence alert alone, got %+v", lines)
	}
}

// A threshold rule that is a step of a sequence feeds it when it fires, not
// with every candidate; so does a counter (a threshold over other rules'
// candidates), whose own alert is a signal here.
func TestStatefulStageStatefulSteps(t *testing.T) {
	ctx := context.Background()
	out, buf := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{out}, Routes: everything("out")})
	seq := &alert.Sequence{Rule: alert.Rule{ID: "x.denied_then_login", Severity: alert.High},
		Steps: []string{"x.denied_burst", "x.counted", "x.login"}, Window: time.Hour, Ordered: true, GroupBy: []string{"principal"}}
	burst := &alert.Stateful{Threshold: &alert.Threshold{Count: 3, Window: 10 * time.Minute, GroupBy: []string{"principal"}},
		StepOf: []*alert.Sequence{seq}}
	counter := &alert.Counter{Rule: alert.Rule{ID: "x.counted", Severity: alert.Medium}, Signal: true,
		Threshold: alert.Threshold{Count: 2, Window: 10 * time.Minute, GroupBy: []string{"principal"}, Rules: []string{"x.a", "x.b"}},
		Then:      []*alert.Sequence{seq}}
	login := at(mkAlert("x.login", alert.Info, "arn:alice"), 1)
	login.Stateful = &alert.Stateful{Signal: true, StepOf: []*alert.Sequence{seq}}
	send := func(a *alert.Alert) {
		t.Helper()
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// Two denied calls, one counted event, then the login: no step has fired
	// but the login's, so nothing.
	for i := range 2 {
		a := at(mkAlert("x.denied_burst", alert.Medium, "arn:alice"), i)
		a.Stateful = burst
		send(a)
	}
	ca := at(mkAlert("x.a", alert.Low, "arn:alice"), 5)
	ca.Stateful = &alert.Stateful{CountedBy: []*alert.Counter{counter}}
	send(ca)
	send(login)
	lines := buf.lines(t)
	if len(lines) != 1 || lines[0].RuleID != "x.a" {
		t.Fatalf("before any stateful step fired: want x.a's own alert alone, got %+v", lines)
	}
	// The third denied call fires the threshold (notified, and fed), the
	// second counted event fires the counter (a signal: only fed).
	third := at(mkAlert("x.denied_burst", alert.Medium, "arn:alice"), 2)
	third.Stateful = burst
	send(third)
	cb := at(mkAlert("x.b", alert.Low, "arn:alice"), 6)
	cb.Stateful = &alert.Stateful{CountedBy: []*alert.Counter{counter}}
	send(cb)
	var rules []string
	for _, l := range buf.lines(t) {
		rules = append(rules, l.RuleID)
	}
	// The login came before the steps fired, in event time: no sequence yet.
	if !slices.Equal(rules, []string{"x.a", "x.denied_burst", "x.b"}) {
		t.Fatalf("got %v", rules)
	}
	login2 := at(mkAlert("x.login", alert.Info, "arn:alice"), 40)
	login2.Stateful = login.Stateful
	send(login2)
	lines = buf.lines(t)
	last := lines[len(lines)-1]
	if len(lines) != 4 || last.RuleID != "x.denied_then_login" || last.Count != 3 ||
		!slices.Equal(last.EventIDs, []string{third.EventID, cb.EventID, login2.EventID}) {
		t.Fatalf("sequence alert: %+v", lines)
	}
}
