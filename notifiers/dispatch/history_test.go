package dispatch

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/history"
	"github.com/trailguard/trailguard/notifiers"
)

// Every alert the dispatcher handles is in the history with its outcome per
// notifier: sent, held back, suppressed, a signal, unrouted, a summary; a
// redelivery updates its entry.
func TestHistoryRecordsEveryOutcome(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	h := history.New(history.NewMemory(), history.Options{Now: c.Now})
	out, buf := newStdout("out")
	d := mustNew(t, Config{
		Notifiers:    []notifiers.Notifier{out},
		Routes:       []config.Route{{Match: config.Match{Rules: []string{"aws.*"}}, Notifiers: []string{"out"}}},
		Suppressions: []config.Suppression{{Rule: "aws.quiet", Reason: "known job", Owner: "ops"}},
		Dedup:        dedup(time.Hour), History: h, Now: c.Now,
	})
	sent := mkAlert("aws.loud", alert.High, "arn:alice")
	held := mkAlert("aws.loud", alert.High, "arn:alice")
	quiet := mkAlert("aws.quiet", alert.Low, "arn:bob")
	signal := mkAlert("aws.step", alert.Info, "arn:bob")
	signal.Stateful = &alert.Stateful{Signal: true}
	unrouted := mkAlert("other.rule", alert.Medium, "arn:carol")
	for _, a := range []*alert.Alert{sent, held, quiet, signal, unrouted, sent} { // the last: a redelivery
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	c.add(2 * time.Hour)
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(buf.lines(t)); n != 2 {
		t.Fatalf("notified %d times, want the alert and the summary", n)
	}

	p, err := h.Find(ctx, history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range p.Entries {
		var ds []string
		for _, dl := range e.Deliveries {
			ds = append(ds, dl.Notifier+":"+dl.Outcome)
		}
		got[e.Kind+" "+e.Alert.EventID] = e.Outcome + " " + strings.Join(ds, ",")
		if e.Alert.Stateful != nil {
			t.Errorf("entry %s keeps the stateful declaration", e.ID)
		}
	}
	want := map[string]string{
		"alert " + sent.EventID:     "delivered out:sent",
		"alert " + held.EventID:     "deduplicated out:deduplicated",
		"alert " + quiet.EventID:    "suppressed out:suppressed",
		"alert " + signal.EventID:   "signal ",
		"alert " + unrouted.EventID: "unrouted ",
		"summary " + held.EventID:   "delivered out:sent",
	}
	if len(got) != len(want) || p.Total != len(want) {
		t.Errorf("entries %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for _, e := range p.Entries {
		if e.Kind == history.KindSummary && !strings.Contains(e.Note, "1 more aws.loud by arn:alice") {
			t.Errorf("summary note %q", e.Note)
		}
	}
}

// A history that cannot be written does not stop an alert: it is sent, and
// the failure is logged.
func TestHistoryFailureDoesNotBlockDelivery(t *testing.T) {
	ctx := context.Background()
	s, err := history.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // every write now fails
	h := history.New(s, history.Options{})
	log, logs := testLogger()
	out, buf := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{out}, Routes: everything("out"), History: h, Logger: log})
	if err := d.Dispatch(ctx, mkAlert("aws.loud", alert.High, "arn:alice")); err != nil {
		t.Fatal(err)
	}
	if n := len(buf.lines(t)); n != 1 {
		t.Errorf("notified %d times, want 1", n)
	}
	if !strings.Contains(logs.String(), "alert not recorded in the history") {
		t.Errorf("failure not logged: %s", logs)
	}
}
