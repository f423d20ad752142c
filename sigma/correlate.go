package sigma

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard/alert"
)

// A correlation rule (specification v2) becomes a rule of trailguard's
// stateful engine, declared in its METADATA, with no alert rule of its own:
//   - event_count: a threshold over the referenced rules' candidates
//     (custom.threshold with rules), counting events per group;
//   - value_count: the same, counting distinct values of condition.field;
//   - temporal, temporal_ordered: a sequence whose steps are the referenced
//     rules (ordered for temporal_ordered).
//
// The referenced rules put the group-by fields (and value_count's field) in
// their alerts, under the correlation's names (aliases resolved), so the
// stateful stage can read them; unless a correlation says generate: true,
// they are signals: they feed the correlation and notify nobody themselves.

// usage is what correlations need of a referenced detection rule.
type usage struct {
	fields map[string][]string // alert key -> path into the record
	signal bool
}

// corrEntry is one correlation document on its way through LoadPaths.
type corrEntry struct {
	d *document
	r *Rule
}

// planner resolves correlations against the loaded rules.
type planner struct {
	byID, byName map[string]*Rule
	corr         map[*Rule]*corrEntry
	uses         map[*Rule]*usage
	probs        map[*Rule][]Problem // per correlation
}

// planCorrelations checks every correlation against the rules loaded beside
// it, writes each one's module, and says what each referenced detection rule
// must carry. A correlation's problems come back keyed by its rule.
func planCorrelations(corrs []*corrEntry, byID, byName map[string]*Rule) (map[*Rule]*usage, map[*Rule][]Problem) {
	p := &planner{byID: byID, byName: byName, corr: map[*Rule]*corrEntry{}, uses: map[*Rule]*usage{}, probs: map[*Rule][]Problem{}}
	for _, c := range corrs {
		p.corr[c.r] = c
	}
	for _, c := range corrs {
		p.plan(c)
	}
	// Whatever a referenced rule's problems, the correlation needs them known.
	for _, c := range corrs {
		if len(p.probs[c.r]) > 0 {
			continue
		}
		signal := p.uses[c.r] != nil && p.uses[c.r].signal
		mod, warnings, err := correlationModule(c.r, p.refIDs(c), signal)
		if err != nil {
			p.bad(c, c.d.correlation, "%v", err)
			continue
		}
		c.r.Module, c.r.Warnings = mod, append(c.r.Warnings, warnings...)
	}
	return p.uses, p.probs
}

func (p *planner) bad(c *corrEntry, at *yaml.Node, format string, args ...any) {
	msg := fmt.Sprintf("correlation %q: ", c.r.Title) + fmt.Sprintf(format, args...)
	p.probs[c.r] = append(p.probs[c.r], c.d.problem(at, "%s", msg))
}

// resolve finds the rule a correlation names, by id or name.
func (p *planner) resolve(ref string) *Rule {
	if r := p.byID[ref]; r != nil {
		return r
	}
	return p.byName[ref]
}

func (p *planner) refIDs(c *corrEntry) []string {
	ids := make([]string, len(c.r.Correlation.Rules))
	for i, ref := range c.r.Correlation.Rules {
		ids[i] = p.resolve(ref).RuleID
	}
	return ids
}

// plan checks one correlation and records what its rules must carry.
func (p *planner) plan(c *corrEntry) {
	k := c.r.Correlation
	rulesAt := c.d.fields["correlation"]
	if n := fieldOf(c.d.correlation, "rules"); n != nil {
		rulesAt = n
	}
	if len(k.GroupBy) == 0 {
		p.bad(c, c.d.correlation, "group-by is missing: the specification makes it mandatory, and trailguard counts and sequences per group")
	}
	reserved := append(alert.FieldNames(), "message", "severity", "dedup_key", "error_code")
	keys := slices.Clone(k.GroupBy)
	if k.Field != "" {
		keys = append(keys, k.Field)
	}
	for _, key := range keys {
		if slices.Contains(reserved, key) {
			p.bad(c, c.d.correlation, "field %q is also the name of a field of trailguard's alerts; use an alias of another name", key)
		}
	}
	temporal := k.Type == "temporal" || k.Type == "temporal_ordered"
	for i, ref := range k.Rules {
		r := p.resolve(ref)
		switch {
		case r == nil:
			p.bad(c, rulesAt, "refers to rule %q, which is not loaded (rules are referred to by id or name)", ref)
			continue
		case r == c.r:
			p.bad(c, rulesAt, "refers to itself")
			continue
		case slices.IndexFunc(k.Rules, func(x string) bool { return p.resolve(x) == r }) != i:
			p.bad(c, rulesAt, "refers to rule %q twice", ref)
			continue
		case r.Correlation != nil && !temporal:
			// trailguard's counters count the candidates of detection rules;
			// a correlation's alerts are not such candidates.
			p.bad(c, rulesAt, "%s counts the events of correlation %q: trailguard counts only detection rules' events (temporal correlations may chain correlations)", k.Type, ref)
			continue
		}
	}
	if temporal && len(k.Rules) < 2 {
		p.bad(c, rulesAt, "%s needs at least two rules", k.Type)
	}
	p.condition(c)
	if len(p.probs[c.r]) > 0 {
		return
	}
	for _, ref := range k.Rules {
		r := p.resolve(ref)
		fields := map[string]string{}
		for _, key := range keys {
			path := key
			if al, ok := k.Aliases[key]; ok {
				if path, ok = al[r.Name]; !ok {
					p.bad(c, fieldOf(c.d.correlation, "aliases"), "alias %q names no field for rule %q (aliases name rules by their name)", key, ref)
					continue
				}
			}
			fields[key] = path
		}
		p.use(c, r, fields, !k.Generate, map[*Rule]bool{c.r: true})
	}
}

// use records that r must carry fields (alert key -> record path); a
// correlation passes them on to its own rules, whose events its alerts copy.
func (p *planner) use(c *corrEntry, r *Rule, fields map[string]string, signal bool, seen map[*Rule]bool) {
	u := p.uses[r]
	if u == nil {
		u = &usage{fields: map[string][]string{}, signal: true}
		p.uses[r] = u
	}
	u.signal = u.signal && signal
	if r.Correlation == nil {
		for _, key := range slices.Sorted(maps.Keys(fields)) {
			path := strings.Split(fields[key], ".")
			if prev, ok := u.fields[key]; ok && !slices.Equal(prev, path) {
				p.bad(c, c.d.correlation, "rule %q would carry %q from both %s and %s; give one an alias of another name",
					r.Title, key, strings.Join(prev, "."), fields[key])
				continue
			}
			u.fields[key] = path
		}
		return
	}
	if seen[r] {
		p.bad(c, c.d.correlation, "correlations refer to each other in a cycle through %q", r.Title)
		return
	}
	seen[r] = true
	for _, ref := range r.Correlation.Rules {
		if inner := p.resolve(ref); inner != nil {
			p.use(c, inner, fields, true, seen)
		}
	}
	delete(seen, r)
}

// condition maps the correlation's condition onto what the stateful engine
// decides: a threshold fires once when the count reaches a value, and a
// sequence when every step is there. Anything else is refused.
func (p *planner) condition(c *corrEntry) {
	k := c.r.Correlation
	at := fieldOf(c.d.correlation, "condition")
	if at == nil {
		at = c.d.correlation
	}
	ops := slices.Sorted(maps.Keys(k.Condition))
	switch k.Type {
	case "event_count", "value_count":
		if len(ops) != 1 || (ops[0] != "gte" && ops[0] != "gt") {
			p.bad(c, at, "condition %s: trailguard supports one of gte or gt for %s; it alerts once when a group's count in a sliding window reaches the value, so an upper bound (lt, lte, eq, neq or a range) cannot be decided before the window has passed", condText(k.Condition), k.Type)
			return
		}
		k.count = int(k.Condition[ops[0]])
		if ops[0] == "gt" {
			k.count++
		}
		if k.count < 1 {
			p.bad(c, at, "condition %s holds without any event: nothing to count", condText(k.Condition))
		}
	default:
		n := int64(len(k.Rules))
		all := len(ops) == 0 || len(ops) == 1 && (k.Condition["gte"] == n || k.Condition["eq"] == n || k.Condition["gt"] == n-1 && ops[0] == "gt")
		if !all {
			p.bad(c, at, "condition %s: trailguard's sequences need every one of the %d rules (gte: %d); a subset of them is not supported", condText(k.Condition), n, n)
		}
	}
}

func condText(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, op := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", op, m[op]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// fieldOf is the value under key in mapping n, or nil.
func fieldOf(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// windowText writes a timespan as the engine reads it back, in its largest
// whole unit: "7d", "90m", "30s".
func windowText(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.name)
		}
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// correlationModule writes a correlation's module: METADATA declaring the
// stateful block, and a package with no alert rule of its own.
func correlationModule(r *Rule, steps []string, signal bool) (string, []string, error) {
	k := r.Correlation
	st := statefulMeta{Signal: signal}
	switch k.Type {
	case "event_count", "value_count":
		st.Threshold = &thresholdMeta{Count: k.count, Window: windowText(k.Timespan), GroupBy: k.GroupBy, Distinct: k.Field, Rules: steps}
	default:
		st.Sequence = &sequenceMeta{Steps: steps, Window: windowText(k.Timespan), Ordered: k.Type == "temporal_ordered", GroupBy: k.GroupBy}
	}
	meta, warnings, err := metadata(r, st)
	if err != nil {
		return "", nil, err
	}
	src := fmt.Sprintf("%spackage %s\n\nimport rego.v1\n\n# Sigma %s correlation: no alert rule of its own; trailguard's\n# stateful stage makes its alerts from those of %s.\n",
		meta, r.Package, k.Type, strings.Join(steps, ", "))
	out, err := format.SourceWithOpts(r.File, []byte(src), format.Opts{RegoVersion: ast.RegoV1})
	if err != nil {
		return "", nil, fmt.Errorf("generated Rego does not parse (a bug in trailguard's Sigma compiler): %w\n%s", err, src)
	}
	return string(out), warnings, nil
}
