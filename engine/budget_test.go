package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// slowRule loops (a billion steps) on one event name only.
const slowRule = `# METADATA
# title: Slow
# custom:
#   id: custom.slow
#   severity: low
package rules.custom.slow

import rego.v1

alert contains {"message": "never"} if {
	input.eventName == "CreateServer"
	some i in numbers.range(1, 1000)
	some j in numbers.range(1, 1000)
	some k in numbers.range(1, 1000)
	i * j * k < 0
}
`

// A rule that runs past the budget is cancelled and named; the record's other
// rules still give their alerts, and a record the slow rule does not look at
// is evaluated as before.
func TestEvalTimeoutNamesTheSlowRule(t *testing.T) {
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{"custom/create.rego": goodRule, "custom/slow.rego": slowRule})
	const budget = 100 * time.Millisecond
	var over engine.Overruns
	eng, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir), engine.WithEvalTimeout(budget), engine.WithOverruns(&over))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	alerts, err := eng.Evaluate(ctx, createServer(t))
	took := time.Since(start)
	var ee *engine.EvalError
	if !errors.As(err, &ee) || !slices.Equal(ee.TimedOut, []string{"custom.slow"}) || !errors.Is(err, engine.ErrEvalTimeout) {
		t.Fatalf("want an EvalError with TimedOut [custom.slow], got %#v", err)
	}
	if ids(alerts) != "custom.create" {
		t.Errorf("alerts %q, want the other rule's: custom.create", ids(alerts))
	}
	// The query over every rule, then the slow rule alone: two budgets, and
	// a little for the fast rules.
	if took > 2*budget+time.Second {
		t.Errorf("evaluation took %s with a %s budget", took, budget)
	}
	if n := over.Running(); n != 0 {
		t.Errorf("%d evaluations counted as overrunning; OPA stopped the loop at once", n)
	}

	other := cloudtrail.Record{Raw: []byte(readOnly), Source: "ro.json"}
	if alerts, err := eng.Evaluate(ctx, other); err != nil || len(alerts) != 0 {
		t.Errorf("a record the slow rule skips: %v, %v", ids(alerts), err)
	}
}

// Without a budget the engine waits for the caller's context, and a
// cancelled caller gets its own error back, not a timeout of the rule.
func TestEvalCancelledByCaller(t *testing.T) {
	dir := writeFiles(t, map[string]string{"custom/slow.rego": slowRule})
	eng, err := engine.New(context.Background(), engine.WithPacks(), engine.WithPolicyPaths(dir), engine.WithEvalTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = eng.Evaluate(ctx, createServer(t))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, engine.ErrEvalTimeout) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
}
