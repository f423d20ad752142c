package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

func newDedup(t *testing.T, clk *clock, rec *recorder) (*Dispatcher, *syncBuffer) {
	n, buf := newStdout("out")
	return mustNew(t, Config{Notifiers: []notifiers.Notifier{n}, Routes: everything("out"), Observer: rec,
		Now: clk.Now, Dedup: dedup(time.Hour)}), buf
}

func TestDedupWindowCountsAndReportsWithNextAlert(t *testing.T) {
	clk, rec := newClock(), newRecorder()
	d, buf := newDedup(t, clk, rec)
	ctx := context.Background()
	dispatch := func(a *alert.Alert) {
		t.Helper()
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	dispatch(mkAlert("iam.create_user", alert.High, "alice"))
	clk.add(time.Minute)
	dup := mkAlert("iam.create_user", alert.High, "alice")
	dispatch(dup)
	dispatch(dup) // redelivered: counted once
	clk.add(time.Minute)
	dispatch(mkAlert("iam.create_user", alert.High, "alice"))
	dispatch(mkAlert("iam.create_user", alert.High, "bob"))   // other principal: its own group
	dispatch(mkAlert("iam.delete_user", alert.High, "alice")) // other rule: its own group
	if got := buf.lines(t); len(got) != 3 {
		t.Fatalf("sent %d alerts inside the window, want 3", len(got))
	}
	if rec.get("out/deduplicated") != 3 {
		t.Errorf("deduplicated = %d", rec.get("out/deduplicated"))
	}

	clk.add(time.Hour)
	next := mkAlert("iam.create_user", alert.High, "alice")
	dispatch(next)
	lines := buf.lines(t)
	if len(lines) != 4 {
		t.Fatalf("got %d lines", len(lines))
	}
	last := lines[3]
	want := "2 more iam.create_user by alice in account 111122223333 at 2024-05-01T10:00:00Z, held back by the 1h dedup window"
	if last.EventID != next.EventID || last.Note != want {
		t.Errorf("next alert: event %s note %q, want %q", last.EventID, last.Note, want)
	}
	// Its count was reported: nothing left for a summary.
	clk.add(2 * time.Hour)
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := buf.lines(t); len(got) != 4 {
		t.Fatalf("count reported twice: %+v", got[4:])
	}
}

func TestDedupSummaryAtFlush(t *testing.T) {
	clk, rec := newClock(), newRecorder()
	d, buf := newDedup(t, clk, rec)
	ctx := context.Background()
	_ = d.Dispatch(ctx, mkAlert("iam.create_user", alert.High, "alice"))
	clk.add(time.Minute)
	// Processed in another order than they happened: the summary speaks of
	// event times.
	early := mkAlert("iam.create_user", alert.High, "alice")
	early.EventTime = "2023-04-01T10:49:30Z"
	_ = d.Dispatch(ctx, early)
	clk.add(time.Minute)
	latest := mkAlert("iam.create_user", alert.High, "alice")
	latest.EventTime = "2023-04-01T10:02:00Z"
	_ = d.Dispatch(ctx, latest)

	if err := d.Flush(ctx); err != nil { // window still open
		t.Fatal(err)
	}
	if got := buf.lines(t); len(got) != 1 {
		t.Fatalf("flush reported an open window: %d lines", len(got))
	}
	clk.add(time.Hour)
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	lines := buf.lines(t)
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want the summary", len(lines))
	}
	s := lines[1]
	want := "Summary: 2 more iam.create_user by alice in account 111122223333 between 2023-04-01T10:02Z and 10:49Z, " +
		"held back by the 1h dedup window; the latest is shown here"
	if s.EventID != latest.EventID || s.Note != want {
		t.Errorf("summary: event %s note %q\nwant event %s note %q", s.EventID, s.Note, latest.EventID, want)
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = d.Dispatch(ctx, mkAlert("iam.create_user", alert.High, "alice"))
	lines = buf.lines(t)
	if len(lines) != 3 || lines[2].Note != "" {
		t.Fatalf("after summary: %d lines, last note %q", len(lines), lines[len(lines)-1].Note)
	}
}

func TestDrainReportsOpenWindows(t *testing.T) {
	clk, rec := newClock(), newRecorder()
	d, buf := newDedup(t, clk, rec)
	ctx := context.Background()
	_ = d.Dispatch(ctx, mkAlert("r", alert.High, "alice"))
	_ = d.Dispatch(ctx, mkAlert("r", alert.High, "alice"))
	if err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	lines := buf.lines(t)
	if len(lines) != 2 || lines[1].Note == "" {
		t.Fatalf("drain: %+v", lines)
	}
}

func TestRuleDedupKeyReplacesFields(t *testing.T) {
	clk, rec := newClock(), newRecorder()
	d, buf := newDedup(t, clk, rec)
	ctx := context.Background()
	for _, p := range []string{"alice", "bob", "carol"} {
		a := mkAlert("guardduty.finding", alert.High, p)
		a.DedupKey = "finding-42"
		_ = d.Dispatch(ctx, a)
	}
	// The same key from another rule is another group.
	a := mkAlert("other.rule", alert.High, "alice")
	a.DedupKey = "finding-42"
	_ = d.Dispatch(ctx, a)
	if got := buf.lines(t); len(got) != 2 {
		t.Fatalf("sent %d, want 2", len(got))
	}
}

func TestRunFlushesPeriodically(t *testing.T) {
	clk, rec := newClock(), newRecorder()
	n, buf := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{n}, Routes: everything("out"), Observer: rec,
		Now: clk.Now, Dedup: dedup(time.Hour), FlushInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	_ = d.Dispatch(ctx, mkAlert("r", alert.High, "alice"))
	_ = d.Dispatch(ctx, mkAlert("r", alert.High, "alice"))
	clk.add(2 * time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for len(buf.lines(t)) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if got := buf.lines(t); len(got) != 2 {
		t.Fatalf("Run did not send the summary: %d lines", len(got))
	}
}

func TestSummaryWording(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	a := mkAlert("r.x", alert.Low, "arn:aws:iam::1:user/\nbob")
	for _, c := range []struct {
		p    state.Pending
		key  []string
		want string
	}{
		{state.Pending{Count: 1, EventFirst: at("2023-04-01T10:02:05Z"), EventLast: at("2023-04-01T10:02:05Z")},
			[]string{"rule_id", "principal"},
			"Summary: 1 more r.x by arn:aws:iam::1:user/ bob at 2023-04-01T10:02:05Z, held back by the 1h dedup window; it is shown here"},
		{state.Pending{Count: 3, EventFirst: at("2023-04-01T10:02:05Z"), EventLast: at("2023-04-01T10:02:50Z")},
			[]string{"source_ip", "event_name"},
			"Summary: 3 more alerts from 203.0.113.7 event_name CreateUser between 2023-04-01T10:02:05Z and 10:02:50Z, held back by the 1h dedup window; the latest is shown here"},
		{state.Pending{Count: 2, EventFirst: at("2023-04-01T23:59:00Z"), EventLast: at("2023-04-02T00:01:00Z")},
			[]string{"rule_id", "account_id"},
			"Summary: 2 more r.x in account 111122223333 between 2023-04-01T23:59Z and 2023-04-02T00:01Z, held back by the 1h dedup window; the latest is shown here"},
		{state.Pending{Count: 2, First: at("2024-05-01T10:00:00Z"), Last: at("2024-05-01T10:30:00Z")},
			[]string{"rule_id"},
			"Summary: 2 more r.x processed between 2024-05-01T10:00Z and 10:30Z, held back by the 1h dedup window; the latest is shown here"},
	} {
		if got := summaryNote(c.p, time.Hour, groupLabel(a, c.key)); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	b := *a
	b.DedupKey = "bucket-1"
	if got := groupLabel(&b, []string{"rule_id"}); got != "r.x with dedup key bucket-1" {
		t.Errorf("rule dedup key: %q", got)
	}
}
