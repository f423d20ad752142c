// Package tally counts alerts by severity and by rule, for the summary that
// `trailguard eval` prints at its end and `trailguard run` at shutdown: a
// breakdown, so that the few critical alerts are not buried under fifty low
// ones.
package tally

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/trailguard/trailguard/alert"
)

// Tally counts alerts. The zero value is ready; it is safe for concurrent use.
type Tally struct {
	mu       sync.Mutex
	total    int
	severity map[alert.Severity]int
	rules    map[string]*Rule

	// seen are the keys (alert.Key) of the last RecentKeys alerts AddOnce
	// counted, in order (a ring from next): an alert that comes back (its
	// SQS message redelivered after a failure) is one alert, counted once.
	seen  map[string]struct{}
	order []string
	next  int
}

// RecentKeys is how many alerts' keys a Tally remembers to count an alert
// that comes back once: a redelivery comes back within minutes, and the
// memory of a long-running daemon stays bounded (a few MB).
const RecentKeys = 1 << 16

// Rule is one rule's count; Severity is the highest it fired with (an alert
// may override its rule's severity).
type Rule struct {
	ID       string
	Severity alert.Severity
	Count    int
}

// Add counts a.
func (t *Tally) Add(a *alert.Alert) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(a)
}

// AddOnce counts a, unless an alert with its key (the same rule on the same
// event) was counted by AddOnce among the last RecentKeys: what `trailguard
// run` counts, where an alert comes back when its message is redelivered.
func (t *Tally) AddOnce(a *alert.Alert) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen == nil {
		t.seen = map[string]struct{}{}
	}
	k := a.Key()
	if _, again := t.seen[k]; again {
		return
	}
	t.seen[k] = struct{}{}
	if len(t.order) < RecentKeys {
		t.order = append(t.order, k)
	} else {
		delete(t.seen, t.order[t.next])
		t.order[t.next] = k
		t.next = (t.next + 1) % RecentKeys
	}
	t.add(a)
}

func (t *Tally) add(a *alert.Alert) {
	if t.rules == nil {
		t.severity, t.rules = map[alert.Severity]int{}, map[string]*Rule{}
	}
	t.total++
	t.severity[a.Severity]++
	r := t.rules[a.RuleID]
	if r == nil {
		r = &Rule{ID: a.RuleID, Severity: a.Severity}
		t.rules[a.RuleID] = r
	}
	r.Count++
	r.Severity = max(r.Severity, a.Severity)
}

// Total is how many alerts were counted.
func (t *Tally) Total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// Rules are the rules' counts, noisiest first; ties go to the more severe,
// then by rule id, so the order is stable.
func (t *Tally) Rules() []Rule {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Rule, 0, len(t.rules))
	for _, r := range t.rules {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.Severity, a.Severity), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Severities are the counts by severity, most severe first, leaving out
// severities without alerts.
func (t *Tally) Severities() []SeverityCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []SeverityCount
	for s := alert.Critical; s >= alert.SeverityInvalid; s-- {
		if n := t.severity[s]; n > 0 {
			out = append(out, SeverityCount{s, n})
		}
	}
	return out
}

// SeverityCount is the number of alerts of one severity.
type SeverityCount struct {
	Severity alert.Severity
	Count    int
}

// MaxRules bounds the rules Report lists; the rest are counted in one line.
const MaxRules = 20

// Report writes the breakdown, e.g.
//
//	alerts by severity: 1 critical, 3 high, 50 low
//	alerts by rule:
//	     50  low       aws.s3.public_read
//	      3  high      aws.iam.access_key_created
//	      1  critical  aws.root.console_login
//
// label renders a severity (coloured on a terminal). Nothing is written when no
// alert was counted.
func (t *Tally) Report(w io.Writer, label func(alert.Severity) string) error {
	if t.Total() == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("alerts by severity:")
	for i, s := range t.Severities() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %d %s", s.Count, s.Severity)
	}
	b.WriteString("\nalerts by rule:\n")
	rules := t.Rules()
	for i, r := range rules {
		if i == MaxRules {
			rest := 0
			for _, r := range rules[i:] {
				rest += r.Count
			}
			fmt.Fprintf(&b, "%7d  in %d more rules\n", rest, len(rules)-i)
			break
		}
		fmt.Fprintf(&b, "%7d  %s %s\n", r.Count, label(r.Severity), r.ID)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
