package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
)

// TestPlanEvaluatorAgrees: every shipped rule and every SigmaHQ rule can be
// run from its query plan, and on every record of the equivalence corpus
// (samples, detonation logs, generated traffic, their case and list
// variants) the plan evaluator gives exactly OPA's evaluator's alerts.
func TestPlanEvaluatorAgrees(t *testing.T) {
	ctx := context.Background()
	opts := []Option{WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}), WithSigma("../sigma/testdata/sigmahq")}
	plan, err := New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	td, err := New(ctx, append(opts, WithEvaluator(EvaluatorTopdown))...)
	if err != nil {
		t.Fatal(err)
	}
	var alerts int
	for _, raw := range equivRecords(t) {
		rec := cloudtrail.Record{Source: "plan", Raw: raw}
		want, werr := td.Evaluate(ctx, rec)
		got, gerr := plan.Evaluate(ctx, rec)
		if (gerr == nil) != (werr == nil) || !slices.Equal(alertList(got), alertList(want)) {
			t.Errorf("record %s:\nplan:    %v %v\ntopdown: %v %v", raw, alertList(got), gerr, alertList(want), werr)
		}
		alerts += len(want)
	}
	for id, err := range plan.PlanErrors() {
		t.Errorf("rule %s has no plan: %v", id, err)
	}
	// Every candidate record went through the plans (plans is set), and
	// none fell back to OPA's evaluator.
	planned := 0
	for _, p := range plan.plans {
		if p.prog != nil {
			planned++
		}
	}
	fell := plan.fallbacks.Count()
	t.Logf("%d alerts; %d rules planned; %d records fell back to OPA's evaluator", alerts, planned, fell)
	if alerts == 0 || planned < len(plan.allKeys)/2 || fell != 0 {
		t.Fatalf("%d alerts, %d of %d rules planned, %d records fell back", alerts, planned, len(plan.allKeys), fell)
	}
}

// TestPlanFallbacks: a rule whose plan cannot run (it uses `with`) runs on
// OPA's evaluator, gives the same alert, and each record it is a candidate
// for is counted as a fallback; the other rules' records are not.
func TestPlanFallbacks(t *testing.T) {
	dir := t.TempDir()
	rule := `# METADATA
# title: With
# custom:
#   id: custom.with
#   severity: low
package rules.custom.with

import rego.v1

alert contains {"message": "with"} if {
	input.eventName == "WithCall"
	_inner with input.x as 1
}

_inner if input.x == 1
`
	if err := os.WriteFile(filepath.Join(dir, "with.rego"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	var fb Fallbacks
	eng, err := New(context.Background(), WithPacks("aws"), WithPolicyPaths(dir), WithFallbacks(&fb))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	as, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(`{"eventName":"WithCall","eventSource":"x.amazonaws.com"}`)})
	if err != nil || len(as) != 1 || as[0].RuleID != "custom.with" {
		t.Fatalf("alerts %v, %v; want custom.with", as, err)
	}
	if fb.Count() != 1 {
		t.Errorf("%d fallbacks, want 1", fb.Count())
	}
	if errs := eng.PlanErrors(); errs["custom.with"] == nil || len(errs) != 1 {
		t.Errorf("PlanErrors = %v, want custom.with's", errs)
	}
	// A root call: the aws pack's rules have plans.
	if _, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(`{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com",` +
		`"userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"responseElements":{"ConsoleLogin":"Success"}}`)}); err != nil {
		t.Fatal(err)
	}
	if fb.Count() != 1 {
		t.Errorf("%d fallbacks after a record of planned rules, want 1", fb.Count())
	}
}
