package dispatch

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// State written before an upgrade must still be recognised after it. The keys
// below were worked out outside Go from the formula the dispatcher has always
// used (sha256 of the NUL-terminated parts, first 16 bytes in hex):
//
//	delivery: hash(hash("alert", rule_id+"\x00"+event_id), notifier)
//	summary:  hash(hash("summary", group, first held-back ms), notifier)
//	group:    hash("rule_id", r, "account_id", a, "principal", p)
const (
	oldDeliveryKey = "d1dcf7af42c7e7e79199d38bf48446b6" // iam.create_user, e-1, out
	oldSummaryKey  = "0c6835d2f245df110b55efccbf2bac32" // g1, 1714557600000, out
	oldGroup       = "060fbc077c6aa6fd4e2965410f4635b9" // iam.create_user, 111122223333, alice
)

func TestStateKeysAreStableAcrossUpgrades(t *testing.T) {
	ctx := context.Background()
	clk, rec := newClock(), newRecorder()
	st := state.NewMemory(state.MemoryOptions{Now: clk.Now})
	mk := func(event string) *alert.Alert {
		return &alert.Alert{RuleID: "iam.create_user", EventID: event, Severity: alert.High,
			AccountID: "111122223333", Principal: "alice"}
	}
	body, err := json.Marshal(mk("e-0"))
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now() // 1714557600000 ms
	// What the previous version left behind: a delivery, a summary it sent,
	// and a count held back for alice's group.
	if err := st.MarkDelivered(ctx, oldDeliveryKey, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkDelivered(ctx, oldSummaryKey, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, p := range []state.Pending{
		{Group: "g1", Count: 5, First: start, Last: start, Alert: body},
		{Group: oldGroup, Count: 2, First: start, Last: start.Add(time.Minute), Alert: body},
	} {
		if err := st.Requeue(ctx, p, start, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}

	out, buf := newStdout("out")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{out}, Routes: everything("out"), Observer: rec,
		State: st, Now: clk.Now, Dedup: dedup(time.Hour)})
	clk.add(time.Minute)
	// alice's next alert opens a window in her old group and reports its count.
	if err := d.Dispatch(ctx, mk("e-2")); err != nil {
		t.Fatal(err)
	}
	lines := buf.lines(t)
	want := " processed since " + start.Format(time.RFC3339) + ", held back by the 1h dedup window"
	if len(lines) != 1 || !strings.HasPrefix(lines[0].Note, "2 more ") || !strings.HasSuffix(lines[0].Note, want) {
		t.Fatalf("lines %+v, want one with note %q", lines, want)
	}
	// The summary for g1 was sent before the upgrade.
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.get("out/already_delivered") != 1 || len(buf.lines(t)) != 1 {
		t.Fatalf("summary sent again: outcomes %v, lines %d", rec.outcomes, len(buf.lines(t)))
	}
	// e-1 was delivered before the upgrade.
	d2 := mustNew(t, Config{Notifiers: []notifiers.Notifier{out}, Routes: everything("out"), Observer: rec,
		State: st, Now: clk.Now})
	if err := d2.Dispatch(ctx, mk("e-1")); err != nil {
		t.Fatal(err)
	}
	if rec.get("out/already_delivered") != 2 || len(buf.lines(t)) != 1 {
		t.Fatalf("delivery sent again: outcomes %v", rec.outcomes)
	}
}
