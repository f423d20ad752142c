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
	// StepOf are the sequences that name this rule as a step.
	StepOf []*Sequence
}

// Threshold alerts once when a group's count in a sliding event-time window
// reaches Count.
type Threshold struct {
	Count    int
	Window   time.Duration
	GroupBy  []string // field names; empty: the alert's dedup key, else its rule
	Distinct string   // count distinct values of this field instead of events
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
}

// Rule is the part of a rule's METADATA that a stateful alert of its own
// (a sequence) carries.
type Rule struct {
	ID, Title, Description string
	Severity               Severity
	Tags, References       []string
	Runbook                string
}
