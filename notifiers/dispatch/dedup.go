package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// dedupStage holds back an alert when its dedup group already had one within
// the window (counting it for the next alert sent, or a summary), and writes
// the note that reports earlier held-back counts. A summary is not held back
// again: the stage writes its note and lets it through.
type dedupStage struct{ d *Dispatcher }

func (s dedupStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	d := s.d
	if dl.kind == kindSummary {
		dl.note = summaryNote(dl.pending, d.dedupWindow)
		dl.log.InfoContext(ctx, "sending dedup summary")
		return dl, nil
	}
	if d.dedupWindow == 0 {
		return dl, nil
	}
	a := dl.alert
	body, err := json.Marshal(a)
	if err != nil {
		return nil, notifiers.Permanent(fmt.Errorf("dispatch: encode alert: %w", err))
	}
	v, err := d.state.Observe(ctx, state.Occurrence{
		Group: d.group(a), AlertKey: hash(a.Key()), Alert: body,
		Now: d.now(), Window: d.dedupWindow, PendingTTL: d.pendingTTL,
	})
	if err != nil {
		d.observe(dl, OutcomeFailed)
		return nil, fmt.Errorf("dispatch alert %s %s: %w", a.RuleID, a.EventID, err)
	}
	if !v.Lead {
		dl.log.DebugContext(ctx, "alert held back by the dedup window")
		d.observe(dl, OutcomeDeduplicated)
		return nil, nil
	}
	if v.HeldBack > 0 {
		dl.note = fmt.Sprintf("%d similar %s suppressed by the %s dedup window since %s",
			v.HeldBack, plural(v.HeldBack), fmtDuration(d.dedupWindow), v.Since.UTC().Format(time.RFC3339))
	}
	return dl, nil
}

// group is a's dedup group: its DedupKey scoped to its rule, or the configured
// fields.
func (d *Dispatcher) group(a *alert.Alert) string {
	if a.DedupKey != "" {
		return hash("rule_id", a.RuleID, "dedup_key", a.DedupKey)
	}
	parts := make([]string, 0, 2*len(d.dedupKey))
	for _, f := range d.dedupKey {
		v, _ := a.Field(f)
		parts = append(parts, f, v)
	}
	return hash(parts...)
}

// summaryNote is the text a summary is shown with. The words say "suppressed"
// because that is what the reader understands; in the code, and in State, these
// alerts are "held back" to keep them apart from Suppressions.
func summaryNote(p state.Pending, window time.Duration) string {
	if p.Count == 1 {
		return fmt.Sprintf("Summary: 1 similar alert was suppressed by the %s dedup window at %s; it is shown here",
			fmtDuration(window), p.Last.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("Summary: %d similar alerts were suppressed by the %s dedup window between %s and %s; the latest is shown here",
		p.Count, fmtDuration(window), p.First.UTC().Format(time.RFC3339), p.Last.UTC().Format(time.RFC3339))
}

func plural(n int) string {
	if n == 1 {
		return "alert"
	}
	return "alerts"
}

// fmtDuration prints 1h rather than 1h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}
