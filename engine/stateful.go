package engine

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
)

// The keys each stateful block accepts; anything else is a typo to refuse.
var statefulKeys = map[string][]string{
	"threshold": {"count", "window", "group_by", "distinct", "rules"},
	"new_value": {"fields", "group_by", "learn", "forget"},
	"sequence":  {"steps", "window", "ordered", "group_by"},
}

// alertFieldNames are the alert JSON's field names that group_by, distinct
// and fields may name, besides the rule's own extra keys.
var alertFieldNames = []string{"rule_id", "principal", "event_id", "account_id", "source_ip", "event_name",
	"event_source", "region", "severity", "identity_type", "user_agent", "error_code"}

// reservedAlertKeys are the keys of a rule's alert object that are not extra
// fields.
var reservedAlertKeys = []string{"message", "severity", "dedup_key"}

// statefulDecl is what readStateful keeps of one rule until every rule is
// known: where its METADATA is, and the names it uses.
type statefulDecl struct {
	rule *Rule
	at   Problem // File, Row, Col of the METADATA block
	seq  *alert.Sequence
	// counter is set for a threshold over other rules' candidates.
	counter *alert.Counter
	// fields names what group_by, distinct and fields use, by key path.
	fields map[string][]string
}

// parseStateful reads the stateful keys of one rule's custom METADATA into
// r.Stateful. Problems carry at's location.
func parseStateful(r *Rule, custom map[string]any, at Problem) (*statefulDecl, []Problem) {
	var problems []Problem
	bad := func(format string, args ...any) {
		p := at
		p.Message = fmt.Sprintf("rule %s: ", r.ID) + fmt.Sprintf(format, args...)
		problems = append(problems, p)
	}
	d := &statefulDecl{rule: r, at: at, fields: map[string][]string{}}
	st := &alert.Stateful{}
	if v, ok := custom["signal"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			bad("custom.signal: expected true or false, got %v", v)
		}
		st.Signal = b
	}
	var kinds []string
	for kind, keys := range statefulKeys {
		v, ok := custom[kind]
		if !ok {
			continue
		}
		kinds = append(kinds, kind)
		m, ok := v.(map[string]any)
		if !ok {
			bad("custom.%s: expected an object, got %v", kind, v)
			continue
		}
		for _, k := range sortedKeys(m) {
			if !slices.Contains(keys, k) {
				bad("custom.%s: unknown key %q (known: %s)", kind, k, strings.Join(keys, ", "))
			}
		}
		p := blockReader{kind: kind, m: m, bad: bad}
		switch kind {
		case "threshold":
			t := &alert.Threshold{Count: p.int("count"), Window: p.duration("window", true),
				GroupBy: p.strings("group_by", false), Distinct: p.string("distinct")}
			if t.Count < 1 {
				bad("custom.threshold.count: must be at least 1, got %d", t.Count)
			}
			if _, ok := m["rules"]; ok {
				// A counter: the rule counts other rules' candidates, whose
				// fields linkStateful checks.
				t.Rules = p.strings("rules", true)
				d.counter = &alert.Counter{Rule: ruleOf(r), Threshold: *t}
				continue
			}
			st.Threshold = t
			d.fields["custom.threshold.group_by"] = t.GroupBy
			if t.Distinct != "" {
				d.fields["custom.threshold.distinct"] = []string{t.Distinct}
			}
		case "new_value":
			n := &alert.NewValue{Fields: p.strings("fields", true), GroupBy: p.strings("group_by", false),
				Learn: p.duration("learn", false), Forget: p.duration("forget", false)}
			st.NewValue = n
			d.fields["custom.new_value.fields"] = n.Fields
			d.fields["custom.new_value.group_by"] = n.GroupBy
		case "sequence":
			s := &alert.Sequence{Steps: p.strings("steps", true), Window: p.duration("window", true),
				GroupBy: p.strings("group_by", false), Rule: ruleOf(r)}
			if o, ok := m["ordered"]; ok {
				if s.Ordered, ok = o.(bool); !ok {
					bad("custom.sequence.ordered: expected true or false, got %v", o)
				}
			}
			if len(s.Steps) < 2 {
				bad("custom.sequence.steps: a sequence needs at least 2 steps, got %d", len(s.Steps))
			}
			d.seq = s
		}
	}
	if len(kinds) > 1 {
		sort.Strings(kinds)
		bad("custom: %s cannot be combined; declare one per rule", strings.Join(kinds, " and "))
	}
	if len(kinds) == 0 && !st.Signal {
		return nil, problems
	}
	// A sequence or counter has no candidates of its own: its signal says
	// whether its own alerts are notified.
	if d.seq != nil {
		d.seq.Signal, st.Signal = st.Signal, false
	}
	if d.counter != nil {
		d.counter.Signal, st.Signal = st.Signal, false
	}
	r.Stateful = st
	return d, problems
}

// ruleOf is the part of r's METADATA a sequence's or counter's alert carries.
func ruleOf(r *Rule) alert.Rule {
	return alert.Rule{ID: r.ID, Title: r.Title, Description: r.Description, Severity: r.Severity,
		Tags: r.Tags, References: r.References, Runbook: r.Runbook}
}

// blockReader reads typed values from one stateful block, reporting a wrong
// type or a missing required value.
type blockReader struct {
	kind string
	m    map[string]any
	bad  func(string, ...any)
}

func (b blockReader) string(key string) string {
	v, ok := b.m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok || s == "" {
		b.bad("custom.%s.%s: expected a field name, got %v", b.kind, key, v)
	}
	return s
}

func (b blockReader) strings(key string, required bool) []string {
	v, ok := b.m[key]
	if !ok {
		if required {
			b.bad("custom.%s.%s: required", b.kind, key)
		}
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr && s != "" {
			return []string{s}
		}
		b.bad("custom.%s.%s: expected a list of names, got %v", b.kind, key, v)
		return nil
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok || s == "" {
			b.bad("custom.%s.%s: expected a list of names, got %v", b.kind, key, v)
			return nil
		}
		out = append(out, s)
	}
	if required && len(out) == 0 {
		b.bad("custom.%s.%s: must not be empty", b.kind, key)
	}
	return out
}

func (b blockReader) int(key string) int {
	v, ok := b.m[key]
	if !ok {
		b.bad("custom.%s.%s: required", b.kind, key)
		return 0
	}
	// YAML numbers arrive as json.Number, float64 or int depending on OPA's path.
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		b.bad("custom.%s.%s: expected a whole number, got %v", b.kind, key, v)
	}
	return n
}

// duration reads "90s", "10m", "1h" or "7d"; a required one must be positive.
func (b blockReader) duration(key string, required bool) time.Duration {
	v, ok := b.m[key]
	if !ok {
		if required {
			b.bad("custom.%s.%s: required (e.g. 10m, 1h, 7d)", b.kind, key)
		}
		return 0
	}
	s, _ := v.(string)
	d, err := parseDuration(s)
	switch {
	case err != nil:
		b.bad("custom.%s.%s: expected a duration such as 10m, 1h or 7d, got %v", b.kind, key, v)
	case d < 0 || (required && d == 0):
		b.bad("custom.%s.%s: must be positive, got %v", b.kind, key, v)
	}
	return d
}

// parseDuration is time.ParseDuration plus whole days ("7d").
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// linkStateful checks what needs every rule known (steps, counted rules,
// cycles, field names) and attaches each sequence and counter to the rules
// it names.
func (e *Engine) linkStateful(decls []*statefulDecl, keys map[string]alertKeys) []Problem {
	byID := map[string]*Rule{}
	for _, r := range e.ordered {
		byID[r.ID] = r
	}
	seqOf := map[string]*statefulDecl{}
	counterOf := map[string]*statefulDecl{}
	for _, d := range decls {
		if d.seq != nil {
			seqOf[d.rule.ID] = d
		}
		if d.counter != nil {
			counterOf[d.rule.ID] = d
		}
	}
	composite := map[string]bool{}
	for id := range seqOf {
		composite[id] = true
	}
	for id := range counterOf {
		composite[id] = true
	}
	var problems []Problem
	bad := func(d *statefulDecl, format string, args ...any) {
		p := d.at
		p.Message = fmt.Sprintf("rule %s: ", d.rule.ID) + fmt.Sprintf(format, args...)
		problems = append(problems, p)
	}
	for _, d := range decls {
		paths := slices.Sorted(maps.Keys(d.fields))
		for _, path := range paths {
			for _, f := range d.fields[path] {
				if !keys[d.rule.Package].has(f) {
					bad(d, "%s: %q is not a field of its alerts (known: %s)", path, f, keys[d.rule.Package].describe())
				}
			}
		}
		if d.counter != nil {
			checkCounted(d, byID, composite, keys, bad)
		}
		if d.seq == nil {
			continue
		}
		for i, step := range d.seq.Steps {
			if msg := badRef("custom.sequence.steps", d.seq.Steps, i, d.rule.ID, byID); msg != "" {
				bad(d, "%s", msg)
				continue
			}
			sr := byID[step]
			// A sequence's or counter's alert is a copy of the candidate
			// that made it fire, so it has that rule's fields.
			for _, f := range d.seq.GroupBy {
				if k := keys[sr.Package]; !k.has(f) && seqOf[step] == nil && counterOf[step] == nil {
					bad(d, "custom.sequence.group_by: %q is not a field of step %s's alerts (known: %s)", f, step, k.describe())
				}
			}
		}
		if cyc := cycleFrom(d.rule.ID, seqOf); cyc != nil {
			bad(d, "custom.sequence.steps: sequences form a cycle: %s", strings.Join(cyc, " -> "))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	for _, d := range decls {
		if d.counter != nil {
			for _, id := range d.counter.Threshold.Rules {
				sf := statefulOf(byID[id])
				sf.CountedBy = append(sf.CountedBy, d.counter)
			}
		}
		if d.seq == nil {
			continue
		}
		for _, step := range d.seq.Steps {
			// A sequence or counter step feeds the sequence its own alerts,
			// when it fires; any other rule its candidates.
			switch {
			case seqOf[step] != nil:
				seqOf[step].seq.Then = append(seqOf[step].seq.Then, d.seq)
			case counterOf[step] != nil:
				counterOf[step].counter.Then = append(counterOf[step].counter.Then, d.seq)
			default:
				sf := statefulOf(byID[step])
				if !slices.Contains(sf.StepOf, d.seq) {
					sf.StepOf = append(sf.StepOf, d.seq)
				}
			}
		}
	}
	return nil
}

// checkCounted checks the rules a counter counts: loaded, plain (a rule whose
// alerts are its candidates, not a stateful rule's), with the fields it groups
// by and counts.
func checkCounted(d *statefulDecl, byID map[string]*Rule, composite map[string]bool, keys map[string]alertKeys, bad func(*statefulDecl, string, ...any)) {
	t := d.counter.Threshold
	for i, id := range t.Rules {
		if msg := badRef("custom.threshold.rules", t.Rules, i, d.rule.ID, byID); msg != "" {
			bad(d, "%s", msg)
			continue
		}
		r := byID[id]
		switch {
		case composite[id] || r.Stateful != nil && (r.Stateful.Threshold != nil || r.Stateful.NewValue != nil):
			// Its alerts are not candidates the stage sees one by one.
			bad(d, "custom.threshold.rules: %s is itself a stateful rule (threshold, new_value, sequence); a counter counts the candidates of plain rules", id)
			continue
		}
		k := keys[r.Package]
		for _, f := range append(slices.Clone(t.GroupBy), t.Distinct) {
			if f != "" && !k.has(f) {
				bad(d, "custom.threshold: %q is not a field of counted rule %s's alerts (known: %s)", f, id, k.describe())
			}
		}
	}
}

// badRef says what is wrong with list[i], a rule id that a sequence or a
// counter names under path, or "".
func badRef(path string, list []string, i int, self string, byID map[string]*Rule) string {
	id := list[i]
	switch {
	case byID[id] == nil:
		return fmt.Sprintf("%s: %q names no loaded rule", path, id)
	case id == self:
		return fmt.Sprintf("%s: a rule cannot name itself", path)
	case slices.Index(list, id) != i:
		return fmt.Sprintf("%s: %q is named twice", path, id)
	}
	return ""
}

// statefulOf is r.Stateful, made when r has none.
func statefulOf(r *Rule) *alert.Stateful {
	if r.Stateful == nil {
		r.Stateful = &alert.Stateful{}
	}
	return r.Stateful
}

// cycleFrom returns a path of sequence ids from start back to start, if any.
func cycleFrom(start string, seqOf map[string]*statefulDecl) []string {
	var walk func(id string, path []string, seen map[string]bool) []string
	walk = func(id string, path []string, seen map[string]bool) []string {
		d := seqOf[id]
		if d == nil {
			return nil
		}
		for _, s := range d.seq.Steps {
			if s == start && len(path) > 0 {
				return append(append(path, id), s)
			}
			if seen[s] || s == id {
				continue
			}
			seen[s] = true
			if c := walk(s, append(path, id), seen); c != nil {
				return c
			}
		}
		return nil
	}
	if c := walk(start, nil, map[string]bool{}); c != nil {
		return c
	}
	return nil
}
