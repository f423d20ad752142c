package dispatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
		// Notifiers that thread got every repeat in the window's thread.
		if dl.targets, _ = d.splitThreaded(dl.targets); len(dl.targets) == 0 {
			return nil, nil
		}
		dl.note = summaryNote(dl.pending, d.dedupWindow, groupLabel(dl.alert, d.dedupKey))
		dl.log.InfoContext(ctx, "sending dedup summary")
		return dl, nil
	}
	if d.seen != nil {
		d.seen(dl.alert)
	}
	if d.dedupWindow == 0 {
		return dl, nil
	}
	a := dl.alert
	body, err := a.AppendJSON(nil)
	if err != nil {
		return nil, notifiers.Permanent(fmt.Errorf("dispatch: encode alert: %w", err))
	}
	// The summary speaks of the events' times; an event without a readable
	// one is counted all the same.
	at, _ := time.Parse(time.RFC3339, a.EventTime)
	dl.group = d.group(a)
	v, err := d.state.Observe(ctx, state.Occurrence{
		Group: dl.group, AlertKey: hash(a.Key()), Alert: body,
		Now: d.now(), EventTime: at, Window: d.dedupWindow, PendingTTL: d.pendingTTL,
	})
	if err != nil {
		d.observe(dl, OutcomeFailed)
		return nil, fmt.Errorf("dispatch alert %s %s: %w", a.RuleID, a.EventID, err)
	}
	dl.window = v.Window
	if !v.Lead {
		dl.log.DebugContext(ctx, "alert held back by the dedup window")
		others, threaded := d.splitThreaded(dl.targets)
		d.observeTo(dl, others, OutcomeDeduplicated)
		if len(threaded) == 0 {
			return nil, nil
		}
		// Notifiers that thread post it as a reply to the window's first alert.
		dl.kind, dl.targets, dl.repeats = kindReply, threaded, v.HeldBack
		dl.identity, dl.subject = hash("reply", a.Key()), "repeat"
		return dl, nil
	}
	if v.HeldBack > 0 {
		when := eventSpan(v.EventFirst, v.EventLast)
		if v.EventFirst.IsZero() {
			when = "processed since " + v.Since.UTC().Format(time.RFC3339)
		}
		dl.note = fmt.Sprintf("%d more %s %s, held back by the %s dedup window",
			v.HeldBack, groupLabel(a, d.dedupKey), when, fmtDuration(d.dedupWindow))
	}
	return dl, nil
}

// splitThreaded separates the notifiers that thread a window's repeats from
// the others.
func (d *Dispatcher) splitThreaded(ns []notifiers.Notifier) (others, threaded []notifiers.Notifier) {
	for _, n := range ns {
		if _, _, ok := d.threader(n); ok {
			threaded = append(threaded, n)
		} else {
			others = append(others, n)
		}
	}
	return others, threaded
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

// summaryNote is the text a summary is shown with: how many alerts of which
// group, and when their events happened (processing time only when no event
// had a readable time), e.g. "Summary: 7 more aws.unauthorized_api_call by
// arn:… in account 1111 between 2023-04-01T10:02Z and 10:49Z, held back by
// the 1h dedup window; the latest is shown here". The words say "held back",
// not "suppressed", which is what Suppressions do.
func summaryNote(p state.Pending, window time.Duration, group string) string {
	when := eventSpan(p.EventFirst, p.EventLast)
	if p.EventFirst.IsZero() {
		when = "processed " + eventSpan(p.First, p.Last)
	}
	shown := "the latest is shown here"
	if p.Count == 1 {
		shown = "it is shown here"
	}
	return fmt.Sprintf("Summary: %d more %s %s, held back by the %s dedup window; %s",
		p.Count, group, when, fmtDuration(window), shown)
}

// groupLabel names a's dedup group for people: its rule, who (the principal),
// then the values of the dedup key's other fields, in the key's order.
func groupLabel(a *alert.Alert, key []string) string {
	if a.DedupKey != "" {
		return notifiers.OneLine(a.RuleID) + " with dedup key " + notifiers.OneLine(a.DedupKey)
	}
	words := []string{"alerts"}
	if slices.Contains(key, alert.FieldRuleID) {
		words[0] = notifiers.OneLine(a.RuleID)
	}
	rest := slices.DeleteFunc(slices.Clone(key), func(f string) bool { return f == alert.FieldRuleID || f == alert.FieldPrincipal })
	if len(rest) < len(key) && slices.Contains(key, alert.FieldPrincipal) {
		rest = append([]string{alert.FieldPrincipal}, rest...)
	}
	for _, f := range rest {
		v, _ := a.Field(f)
		v = notifiers.OneLine(v)
		if v == "" {
			v = "(none)"
		}
		switch f {
		case alert.FieldPrincipal:
			words = append(words, "by", v)
		case alert.FieldAccountID:
			words = append(words, "in account", v)
		case alert.FieldSourceIP:
			words = append(words, "from", v)
		default:
			words = append(words, f, v)
		}
	}
	return strings.Join(words, " ")
}

// eventSpan says when: "at T" or "between T1 and T2", to the minute unless
// that would not tell them apart, the second time without its date when the
// day is the same.
func eventSpan(first, last time.Time) string {
	first, last = first.UTC(), last.UTC()
	if first.Equal(last) {
		return "at " + first.Format(time.RFC3339)
	}
	day, clock := "2006-01-02T", "15:04Z"
	if first.Format(day+clock) == last.Format(day+clock) {
		clock = "15:04:05Z"
	}
	end := last.Format(clock)
	if first.Format(day) != last.Format(day) {
		end = last.Format(day + clock)
	}
	return "between " + first.Format(day+clock) + " and " + end
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
