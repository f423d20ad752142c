package alert

import "time"

// Stateful is what a rule's METADATA declares beyond one event (custom.signal,
// custom.threshold, custom.new_value, custom.sequence). The engine reads it
// once per compile and attaches it to the rule's candidates; the dispatcher's
// stateful stage keeps the counts.
type Stateful struct {
	// Signal: the rule's candidates are not notified; they feed sequences.
	Signal    bool
	Threshold *Threshold
	NewValue  *NewValue
	// StepOf are the sequences that name this rule as a step. A threshold or
	// new_value rule feeds them its stateful alerts, when it fires; any other
	// rule feeds them every candidate.
	StepOf []*Sequence
	// CountedBy are the counters (custom.threshold with rules) that count
	// this rule's candidates.
	CountedBy []*Counter
}

// Threshold alerts once when a group's count in a sliding event-time window
// reaches Count.
type Threshold struct {
	Count    int
	Window   time.Duration
	GroupBy  []string // field names; empty: the alert's dedup key, else its rule
	Distinct string   // count distinct values of this field instead of events
	// Rules, when set, are the rules whose candidates are counted instead of
	// the rule's own (see Counter).
	Rules []string
}

// Counter is a threshold over the candidates of other rules (custom.threshold
// with rules, what a Sigma event_count or value_count correlation becomes).
// Its alert is the counting rule's.
type Counter struct {
	Rule      Rule // the counting rule's own METADATA
	Threshold Threshold
	// Signal: the counter's alerts are not notified; they feed Then.
	Signal bool
	// Then are the sequences that name the counting rule as a step.
	Then []*Sequence
}

// NewValue alerts when a group sees a value it has not seen before.
type NewValue struct {
	Fields  []string // their values, joined, form the value
	GroupBy []string
	Learn   time.Duration // a group's first Learn (event time) is learned silently
	Forget  time.Duration // a value not seen for this long is new again; 0: never
}

// Sequence alerts when one group's candidates of every step rule fall within
// Window (in Steps' order when Ordered). The alert is the sequence rule's.
type Sequence struct {
	Rule    Rule // the sequence rule's own METADATA
	Steps   []string
	Window  time.Duration
	Ordered bool
	GroupBy []string
	// Signal: the sequence's alerts are not notified; they feed Then.
	Signal bool
	// Then are the sequences that name this sequence's rule as a step.
	Then []*Sequence
}

// Rule is the part of a rule's METADATA that a stateful alert of its own
// (a sequence) carries.
type Rule struct {
	ID, Title, Description string
	Severity               Severity
	Tags, References       []string
	Runbook                string
}
