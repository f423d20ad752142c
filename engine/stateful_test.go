package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// statefulRule is a rule file whose METADATA custom block has extra lines;
// the METADATA comment is on line 1.
func statefulRule(id, custom, alertObj string) string {
	pkg := "rules.x." + strings.ReplaceAll(strings.TrimPrefix(id, "x."), ".", "_")
	var b strings.Builder
	b.WriteString("# METADATA\n# title: T\n# custom:\n#   id: " + id + "\n#   severity: medium\n")
	for l := range strings.SplitSeq(strings.TrimSpace(custom), "\n") {
		if l != "" {
			b.WriteString("#   " + l + "\n")
		}
	}
	b.WriteString("package " + pkg + "\nimport rego.v1\n")
	if alertObj != "" {
		b.WriteString("alert contains " + alertObj + " if { input.eventName == \"X\" }\n")
	}
	return b.String()
}

const plainAlert = `{"message": "m", "session": input.userIdentity.accessKeyId}`

func TestStatefulDeclarationsRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"unknown key", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 3\n  window: 10m\n  per: principal", plainAlert)},
			`a.rego:1:1: rule x.a: custom.threshold: unknown key "per"`},
		{"window 0", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 3\n  window: 0s", plainAlert)},
			`a.rego:1:1: rule x.a: custom.threshold.window: must be positive`},
		{"no window", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 3", plainAlert)},
			`a.rego:1:1: rule x.a: custom.threshold.window: required`},
		{"count 0", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 0\n  window: 1h", plainAlert)},
			`custom.threshold.count: must be at least 1`},
		{"bad duration", map[string]string{"a.rego": statefulRule("x.a", "new_value:\n  fields: [source_ip]\n  learn: soon", plainAlert)},
			`custom.new_value.learn: expected a duration`},
		{"unknown field", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 3\n  window: 1h\n  group_by: [princpal]", plainAlert)},
			`a.rego:1:1: rule x.a: custom.threshold.group_by: "princpal" is not a field of its alerts`},
		{"unknown distinct", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 3\n  window: 1h\n  distinct: sesion", plainAlert)},
			`custom.threshold.distinct: "sesion" is not a field`},
		{"new_value without fields", map[string]string{"a.rego": statefulRule("x.a", "new_value:\n  group_by: [principal]", plainAlert)},
			`custom.new_value.fields: required`},
		{"step naming no rule", map[string]string{
			"a.rego": statefulRule("x.a", "signal: true", plainAlert),
			"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.a, x.nope]\n  window: 1h", "")},
			`s.rego:1:1: rule x.s: custom.sequence.steps: "x.nope" names no loaded rule`},
		{"cycle", map[string]string{
			"a.rego": statefulRule("x.a", "signal: true", plainAlert),
			"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.a, x.t]\n  window: 1h", ""),
			"t.rego": statefulRule("x.t", "sequence:\n  steps: [x.a, x.s]\n  window: 1h", "")},
			`sequences form a cycle: x.s -> x.t -> x.s`},
		{"one step", map[string]string{
			"a.rego": statefulRule("x.a", "signal: true", plainAlert),
			"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.a]\n  window: 1h", "")},
			`custom.sequence.steps: a sequence needs at least 2 steps`},
		{"sequence group_by not a step field", map[string]string{
			"a.rego": statefulRule("x.a", "signal: true", plainAlert),
			"b.rego": statefulRule("x.b", "signal: true", `{"message": "m"}`),
			"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.a, x.b]\n  window: 1h\n  group_by: [session]", "")},
			`custom.sequence.group_by: "session" is not a field of step x.b's alerts`},
		{"two kinds", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 3\n  window: 1h\nnew_value:\n  fields: [source_ip]", plainAlert)},
			`custom: new_value and threshold cannot be combined`},
		{"signal not bool", map[string]string{"a.rego": statefulRule("x.a", "signal: yes please", plainAlert)},
			`custom.signal: expected true or false`},
		{"counter of no rule", map[string]string{"a.rego": statefulRule("x.a", "", plainAlert),
			"c.rego": statefulRule("x.c", "threshold:\n  count: 3\n  window: 1h\n  rules: [x.a, x.nope]", "")},
			`c.rego:1:1: rule x.c: custom.threshold.rules: "x.nope" names no loaded rule`},
		{"counter of a threshold", map[string]string{"a.rego": statefulRule("x.a", "threshold:\n  count: 3\n  window: 1h", plainAlert),
			"c.rego": statefulRule("x.c", "threshold:\n  count: 3\n  window: 1h\n  rules: [x.a]", "")},
			`custom.threshold.rules: x.a is itself a stateful rule`},
		{"counter of a sequence", map[string]string{"a.rego": statefulRule("x.a", "", plainAlert), "b.rego": statefulRule("x.b", "", plainAlert),
			"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.a, x.b]\n  window: 1h", ""),
			"c.rego": statefulRule("x.c", "threshold:\n  count: 3\n  window: 1h\n  rules: [x.s]", "")},
			`custom.threshold.rules: x.s is itself a stateful rule`},
		{"counter field of no counted rule", map[string]string{"a.rego": statefulRule("x.a", "", plainAlert),
			"b.rego": statefulRule("x.b", "", `{"message": "m"}`),
			"c.rego": statefulRule("x.c", "threshold:\n  count: 3\n  window: 1h\n  group_by: [session]\n  rules: [x.a, x.b]", "")},
			`custom.threshold: "session" is not a field of counted rule x.b's alerts`},
		{"step named twice", map[string]string{"a.rego": statefulRule("x.a", "", plainAlert),
			"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.a, x.a]\n  window: 1h", "")},
			`custom.sequence.steps: "x.a" is named twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir))
			var pe *engine.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("want a PolicyError, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) && !strings.Contains(err.Error(), filepath.Join(dir, tc.want)) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestStatefulDeclarationsRead(t *testing.T) {
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{
		"a.rego": statefulRule("x.a", "threshold:\n  count: 20\n  window: 10m\n  group_by: [principal]\n  distinct: session", plainAlert),
		"b.rego": statefulRule("x.b", "signal: true", plainAlert),
		"n.rego": statefulRule("x.n", "new_value:\n  fields: [source_ip]\n  group_by: [account_id]\n  learn: 7d\n  forget: 90d", plainAlert),
		"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.b, x.a]\n  window: 1h\n  ordered: true\n  group_by: [session]", ""),
	})
	eng, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir))
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]engine.Rule{}
	for _, r := range eng.Rules() {
		rules[r.ID] = r
	}
	th := rules["x.a"].Stateful.Threshold
	if th == nil || th.Count != 20 || th.Window != 10*time.Minute || th.Distinct != "session" || th.GroupBy[0] != "principal" {
		t.Errorf("threshold %+v", th)
	}
	nv := rules["x.n"].Stateful.NewValue
	if nv == nil || nv.Learn != 7*24*time.Hour || nv.Forget != 90*24*time.Hour || nv.Fields[0] != "source_ip" {
		t.Errorf("new_value %+v", nv)
	}
	b := rules["x.b"].Stateful
	if !b.Signal || len(b.StepOf) != 1 || b.StepOf[0].Rule.ID != "x.s" || !b.StepOf[0].Ordered || b.StepOf[0].Window != time.Hour {
		t.Errorf("signal %+v", b)
	}
	if len(rules["x.a"].Stateful.StepOf) != 1 {
		t.Errorf("x.a is a step of %d sequences", len(rules["x.a"].Stateful.StepOf))
	}
	if rules["x.s"].Stateful == nil || rules["x.s"].Stateful.Threshold != nil {
		t.Errorf("sequence rule %+v", rules["x.s"].Stateful)
	}

	// A counter is attached to the rules it counts; a sequence or counter
	// step feeds its sequence from its own alerts (Then).
	dir2 := writeFiles(t, map[string]string{
		"a.rego": statefulRule("x.a", "", plainAlert),
		"b.rego": statefulRule("x.b", "", plainAlert),
		"c.rego": statefulRule("x.c", "signal: true\nthreshold:\n  count: 5\n  window: 1h\n  group_by: [session]\n  distinct: event_name\n  rules: [x.a, x.b]", ""),
		"s.rego": statefulRule("x.s", "sequence:\n  steps: [x.c, x.a]\n  window: 1h\n  group_by: [session]", ""),
	})
	eng2, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir2))
	if err != nil {
		t.Fatal(err)
	}
	rules2 := map[string]engine.Rule{}
	for _, r := range eng2.Rules() {
		rules2[r.ID] = r
	}
	ca, cb := rules2["x.a"].Stateful, rules2["x.b"].Stateful
	if len(ca.CountedBy) != 1 || len(cb.CountedBy) != 1 || ca.CountedBy[0] != cb.CountedBy[0] {
		t.Fatalf("counted rules: %+v %+v", ca, cb)
	}
	c := ca.CountedBy[0]
	if c.Rule.ID != "x.c" || !c.Signal || c.Threshold.Count != 5 || c.Threshold.Distinct != "event_name" ||
		len(c.Then) != 1 || c.Then[0].Rule.ID != "x.s" || len(ca.StepOf) != 1 || rules2["x.c"].Stateful.Threshold != nil {
		t.Errorf("counter %+v, x.a %+v", c, ca)
	}

	// Candidates carry the declaration and the rule's extra keys.
	raw := `{"eventID":"e1","eventTime":"2026-01-01T00:00:00Z","eventName":"X","eventSource":"s","userIdentity":{"accessKeyId":"ASIA1"}}`
	alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 3 {
		t.Fatalf("%d alerts", len(alerts))
	}
	for _, a := range alerts {
		if v, ok := a.Field("session"); !ok || v != "ASIA1" || a.Stateful == nil {
			t.Errorf("%s: session %q %v, stateful %v", a.RuleID, v, ok, a.Stateful)
		}
	}
}
