package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/engine"
)

// attackRule is a rule on CreateServer whose METADATA custom.attack is block,
// the YAML lines under "attack:", indented by four spaces after the "#".
func attackRule(id, block string) string {
	return "# METADATA\n# title: T\n# custom:\n#   id: x." + id + "\n#   severity: low\n#   attack:" + block +
		"package rules.x." + id + "\nimport rego.v1\nalert contains {\"message\": \"m\"} if { input.eventName == \"CreateServer\" }\n"
}

func TestAttackMappingsReachRulesAndAlerts(t *testing.T) {
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{
		"list.rego": attackRule("list", "\n#     - tactic: TA0005\n#       technique: T1562.008\n#     - tactic: TA0003\n"),
		// One mapping needs no list around it.
		"single.rego": attackRule("single", "\n#     tactic: TA0001\n#     technique: T1078.004\n"),
		"none.rego":   "# METADATA\n# title: T\n# custom:\n#   id: x.none\n#   severity: low\npackage rules.x.none\nimport rego.v1\nalert contains {\"message\": \"m\"} if { input.eventName == \"CreateServer\" }\n",
	})
	eng, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"x.list":   "[TA0005/T1562.008 TA0003]",
		"x.single": "[TA0001/T1078.004]",
		"x.none":   "[]",
	}
	for _, r := range eng.Rules() {
		if got := fmt.Sprint(r.Attack); got != want[r.ID] {
			t.Errorf("rule %s: attack %s, want %s", r.ID, got, want[r.ID])
		}
		if r.Pack != "x" {
			t.Errorf("rule %s: pack %q", r.ID, r.Pack)
		}
	}
	alerts, err := eng.Evaluate(ctx, createServer(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 3 {
		t.Fatalf("alerts: %s", ids(alerts))
	}
	for _, a := range alerts {
		if got := fmt.Sprint(a.Attack); got != want[a.RuleID] {
			t.Errorf("alert of %s: attack %s, want %s", a.RuleID, got, want[a.RuleID])
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if a.RuleID == "x.list" && !strings.Contains(string(b), `"attack":[{"tactic":"TA0005","technique":"T1562.008"},{"tactic":"TA0003"}]`) {
			t.Errorf("JSON of x.list's alert: %s", b)
		}
		if a.RuleID == "x.none" && strings.Contains(string(b), `"attack"`) {
			t.Errorf("JSON of x.none's alert has attack: %s", b)
		}
	}
}

func TestAttackMappingsAreChecked(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, block string
		want        []string
	}{
		{"unknown tactic", "\n#     - tactic: TA0099\n",
			[]string{"rule x.r: custom.attack[0]: tactic TA0099 is not an ATT&CK"}},
		{"tactic by name", "\n#     - tactic: defense-evasion\n",
			[]string{`rule x.r: custom.attack[0]: tactic "defense-evasion" is not a tactic id`}},
		{"unknown technique", "\n#     - tactic: TA0005\n#       technique: T1562.999\n",
			[]string{"rule x.r: custom.attack[0]: technique T1562.999 is not in ATT&CK"}},
		{"technique outside its tactic", "\n#     - tactic: TA0040\n#       technique: T1562.008\n",
			[]string{"rule x.r: custom.attack[0]: technique T1562.008 (Disable or Modify Cloud Logs) is not a technique of tactic TA0040 (Impact)"}},
		{"no tactic", "\n#     - technique: T1562.008\n",
			[]string{"rule x.r: custom.attack[0]: no tactic"}},
		{"misspelt key", "\n#     - tactic: TA0005\n#       techique: T1562.008\n",
			[]string{`rule x.r: custom.attack[0]: unknown keys ["techique"]`}},
		{"a bare id", " T1562.008\n",
			[]string{`rule x.r: custom.attack: want a list of {tactic: TA…, technique: T…}, got the string "T1562.008"`}},
		{"a list of ids", " [TA0005, T1562.008]\n",
			[]string{`rule x.r: custom.attack[0]: want {tactic: TA…, technique: T…}, got the string "TA0005"`,
				`rule x.r: custom.attack[1]: want {tactic: TA…, technique: T…}, got the string "T1562.008"`}},
		{"every bad entry", "\n#     - tactic: TA0005\n#       technique: T1562.008\n#     - tactic: TA0099\n#     - tactic: TA0005\n#       technique: 1562\n",
			[]string{"rule x.r: custom.attack[1]: tactic TA0099", "rule x.r: custom.attack[2]: technique: want an id string, got 1562"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"r.rego": attackRule("r", tc.block)})
			_, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir))
			var pe *engine.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("want a PolicyError, got %v", err)
			}
			if len(pe.Problems) != len(tc.want) {
				t.Fatalf("%d problems, want %d: %v", len(pe.Problems), len(tc.want), err)
			}
			// Where the other METADATA problems point: the rule's package line.
			loc := filepath.Join(dir, "r.rego") + ":" + fmt.Sprint(7+strings.Count(tc.block, "\n")-1) + ":1: "
			for i, w := range tc.want {
				if got := pe.Problems[i].String(); !strings.HasPrefix(got, loc+w) {
					t.Errorf("problem %q, want %q", got, loc+w)
				}
			}
		})
	}
}
