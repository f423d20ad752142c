package engine

import (
	"context"
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
	evals, done := plan.planEvals.Load(), plan.planDone.Load()
	t.Logf("%d alerts; %d records evaluated through plans, %d of them without falling back", alerts, evals, done)
	if alerts == 0 || done == 0 || done < evals {
		t.Fatalf("plans ran %d of %d records to the end, %d alerts", done, evals, alerts)
	}
}
