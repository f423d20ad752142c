package dispatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/history"
	"github.com/trailguard/trailguard/notifiers/state"
)

// statefulStage turns the candidates of stateful rules (see alert.Stateful)
// into stateful alerts: a threshold or new_value rule's candidate goes on only
// when it makes the rule fire, as the rule's stateful alert; a signal's never
// does; a candidate that completes a sequence or a counter also dispatches
// that rule's alert. A threshold or new_value rule that is a step of sequences
// feeds them its stateful alerts, when it fires, and so do sequences and
// counters. Counting is in event time and idempotent per event, and a
// redelivered event that made a rule fire makes it fire again with the same
// delivery identity (rule, group, events), so the claim keeps it to one
// notification. Summaries pass.
//
// It runs before routing and suppression: a stateful rule counts every
// candidate, routed or not (a signal is routed nowhere, and yet feeds its
// sequences); what it raises is routed and suppressed like any alert.
type statefulStage struct{ d *Dispatcher }

func (s statefulStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	a := dl.alert
	if dl.kind == kindSummary || a.Stateful == nil {
		return dl, nil
	}
	sf := a.Stateful
	at, err := time.Parse(time.RFC3339, a.EventTime)
	if err != nil {
		// Not an error to retry: the record will never have a time, and
		// failing would bring its SQS message back for ever. Said, and left.
		dl.log.WarnContext(ctx, "stateful rule skips a record without a valid eventTime: it cannot be placed in a window",
			"event_time", a.EventTime, "error", err)
		dl.rec.end(history.OutcomeSkipped)
		return nil, nil
	}
	for _, c := range sf.CountedBy {
		if err := s.counter(ctx, a, c, at); err != nil {
			return nil, err
		}
	}
	var f *state.Firing
	var group map[string]string
	var window time.Duration
	switch {
	case sf.Threshold != nil:
		t := sf.Threshold
		var keys []string
		group, keys = groupOf(a, t.GroupBy)
		c := state.Candidate{Key: state.GroupKey(a.RuleID, keys), EventID: a.EventID, Time: at}
		if t.Distinct != "" {
			c.Value, _ = a.Field(t.Distinct)
		}
		window = t.Window
		f, err = s.d.stateful.Threshold(ctx, c, t.Count, t.Window, t.Distinct != "")
	case sf.NewValue != nil:
		n := sf.NewValue
		var keys []string
		group, keys = groupOf(a, n.GroupBy)
		_, vals := groupOf(a, n.Fields)
		c := state.Candidate{Key: state.GroupKey(a.RuleID, keys), EventID: a.EventID, Time: at, Value: strings.Join(vals, " ")}
		window = n.Forget
		f, err = s.d.stateful.NewValue(ctx, c, n.Learn, n.Forget)
	default:
		// A signal, a step of sequences or a counted rule: its candidate is
		// its event.
		if err := s.feed(ctx, a, sf.StepOf, at); err != nil {
			return nil, err
		}
		if sf.Signal {
			dl.log.DebugContext(ctx, "signal recorded")
			dl.rec.end(history.OutcomeSignal)
			return nil, nil
		}
		return dl, nil
	}
	if err != nil {
		// Routing comes later; those it would have picked hear of the failure.
		s.d.observeTo(dl, s.d.route(a), OutcomeFailed)
		return nil, fmt.Errorf("dispatch alert %s %s: %w", a.RuleID, a.EventID, err)
	}
	if f == nil {
		dl.log.DebugContext(ctx, "counted by the stateful rule")
		dl.rec.end(history.OutcomeCounted)
		return nil, nil
	}
	out := statefulAlert(*a, f, group, window)
	if sf.Threshold != nil {
		out.Message = thresholdMessage(a, f, sf.Threshold, group)
	} else {
		known := strings.Join(f.Known, ", ")
		if known == "" {
			known = "none"
		}
		out.Message = fmt.Sprintf("first %s from %s for %s (known: %s): %s", a.EventName, f.Value, groupText(group), known, a.Message)
	}
	if err := s.feed(ctx, out, sf.StepOf, f.Last); err != nil {
		return nil, err
	}
	if sf.Signal {
		dl.log.DebugContext(ctx, "stateful signal fired", "group", groupText(group))
		return nil, nil
	}
	dl.alert = out
	dl.identity = hash(append([]string{"stateful", a.RuleID, groupText(group)}, f.EventIDs...)...)
	dl.what = "stateful alert " + a.RuleID + " " + groupText(group)
	return dl, nil
}

// BeginStateful opens a batch on the stateful rules' records, for one input:
// the caller commits it once the input's alerts are dispatched and before it
// acknowledges the input. With SQLite the input's steps are then written in
// one transaction instead of one each; see state.Batch for why that loses
// nothing.
func (d *Dispatcher) BeginStateful() state.Batch { return state.Begin(d.stateful.R) }

// thresholdMessage says in words what made a threshold fire.
func thresholdMessage(a *alert.Alert, f *state.Firing, t *alert.Threshold, group map[string]string) string {
	what := a.EventName + " calls"
	if len(t.Rules) > 0 {
		what = "events of " + strings.Join(t.Rules, ", ")
	}
	if t.Distinct != "" {
		what = "distinct " + t.Distinct + " values"
	}
	return fmt.Sprintf("%d %s in %s for %s (threshold %d in %s); the last: %s", f.Count, what,
		f.Last.Sub(f.First), groupText(group), t.Count, fmtDuration(t.Window), a.Message)
}

// feed gives a, whose event time is at, to the sequences it is a step of.
func (s statefulStage) feed(ctx context.Context, a *alert.Alert, seqs []*alert.Sequence, at time.Time) error {
	for _, seq := range seqs {
		if err := s.sequence(ctx, a, seq, at); err != nil {
			return err
		}
	}
	return nil
}

// counter counts a for c and, when that makes it fire, raises c's alert.
func (s statefulStage) counter(ctx context.Context, a *alert.Alert, c *alert.Counter, at time.Time) error {
	t := &c.Threshold
	group, keys := counterGroup(a, t.GroupBy)
	cand := state.Candidate{Key: state.GroupKey(c.Rule.ID, keys), EventID: a.EventID, Time: at}
	if t.Distinct != "" {
		cand.Value, _ = a.Field(t.Distinct)
	}
	f, err := s.d.stateful.Threshold(ctx, cand, t.Count, t.Window, t.Distinct != "")
	if err != nil || f == nil {
		if err != nil {
			err = fmt.Errorf("dispatch alert %s %s for %s: %w", a.RuleID, a.EventID, c.Rule.ID, err)
		}
		return err
	}
	out := ruleAlert(*a, f, group, t.Window, c.Rule)
	out.Message = thresholdMessage(a, f, t, group)
	return s.raise(ctx, out, f, group, c.Then, c.Signal)
}

// sequence feeds a as its step of seq and, when it completes the sequence,
// raises the sequence's alert.
func (s statefulStage) sequence(ctx context.Context, a *alert.Alert, seq *alert.Sequence, at time.Time) error {
	step := slices.Index(seq.Steps, a.RuleID)
	group, keys := groupOf(a, seq.GroupBy)
	f, err := s.d.stateful.Sequence(ctx, state.Candidate{Key: state.GroupKey(seq.Rule.ID, keys), EventID: a.EventID, Time: at},
		step, len(seq.Steps), seq.Window, seq.Ordered)
	if err != nil || f == nil {
		return err
	}
	out := ruleAlert(*a, f, group, seq.Window, seq.Rule)
	out.Message = fmt.Sprintf("%s within %s for %s", strings.Join(seq.Steps, ", then "), f.Last.Sub(f.First), groupText(group))
	if !seq.Ordered {
		out.Message = fmt.Sprintf("%s, all within %s for %s", strings.Join(seq.Steps, ", "), f.Last.Sub(f.First), groupText(group))
	}
	return s.raise(ctx, out, f, group, seq.Then, seq.Signal)
}

// raise feeds a sequence's or counter's alert to the sequences it is a step
// of and, unless it is a signal, dispatches it through the whole list.
func (s statefulStage) raise(ctx context.Context, out *alert.Alert, f *state.Firing, group map[string]string, then []*alert.Sequence, signal bool) error {
	if err := s.feed(ctx, out, then, f.Last); err != nil || signal {
		return err
	}
	_, err := s.d.exec(ctx, &delivery{
		kind: kindAlert, alert: out, subject: "alert", what: "stateful alert " + out.RuleID + " " + groupText(group),
		identity: hash(append([]string{"stateful", out.RuleID, groupText(group)}, f.EventIDs...)...),
		log:      s.d.log.With("rule_id", out.RuleID, "event_id", out.EventID),
	})
	return err
}

// ruleAlert is statefulAlert as rule r's own alert.
func ruleAlert(a alert.Alert, f *state.Firing, group map[string]string, window time.Duration, r alert.Rule) *alert.Alert {
	out := statefulAlert(a, f, group, window)
	out.RuleID, out.Title, out.Description, out.Severity = r.ID, r.Title, r.Description, r.Severity
	out.Tags, out.References, out.Runbook = r.Tags, r.References, r.Runbook
	return out
}

// counterGroup is groupOf for rules that gather other rules' alerts, whose
// dedup keys differ: no fields is one group.
func counterGroup(a *alert.Alert, fields []string) (map[string]string, []string) {
	if len(fields) == 0 {
		return nil, nil
	}
	return groupOf(a, fields)
}

// statefulAlert is a copy of a carrying f.
func statefulAlert(a alert.Alert, f *state.Firing, group map[string]string, window time.Duration) *alert.Alert {
	a.Stateful = nil
	a.Count = f.Count
	if window > 0 {
		a.Window = fmtDuration(window)
	}
	a.Group = group
	a.FirstEventTime = f.First.UTC().Format(time.RFC3339)
	a.LastEventTime = f.Last.UTC().Format(time.RFC3339)
	a.EventIDs, a.Value, a.KnownValues = f.EventIDs, f.Value, f.Known
	return &a
}

// groupOf is a's values of fields, as a map for the alert and in order for
// the record key. No fields: the alert's dedup key, if it has one.
func groupOf(a *alert.Alert, fields []string) (map[string]string, []string) {
	if len(fields) == 0 {
		if a.DedupKey == "" {
			return nil, nil
		}
		return map[string]string{"dedup_key": a.DedupKey}, []string{a.DedupKey}
	}
	m := make(map[string]string, len(fields))
	vals := make([]string, len(fields))
	for i, f := range fields {
		vals[i], _ = a.Field(f)
		m[f] = vals[i]
	}
	return m, vals
}

// groupText reads a group in words: "principal=arn:…, account_id=…".
func groupText(g map[string]string) string {
	if len(g) == 0 {
		return "all events"
	}
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + g[k]
	}
	return strings.Join(parts, ", ")
}
