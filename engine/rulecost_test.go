package engine

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/trailguard/trailguard/cloudtrail"
)

// BenchmarkRuleCost is where a matching event's time goes: the published
// OpsWorks CM CreateServer record (two alerts), decoded once, evaluated by
// the engine's query over all rules, by the query over its candidate rules,
// and by each rule's own query (which adds the few µs every query costs, the
// "input-only" sub-benchmark). The README's per-rule figures come from here:
//
//	go test -run '^$' -bench RuleCost ./engine
func BenchmarkRuleCost(b *testing.B) {
	ctx := context.Background()
	eng, err := New(ctx, WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("../examples/logs/awsdocs-opsworks-cm/logging-opsca-using-cloudtrail.CreateServer.json")
	if err != nil {
		b.Fatal(err)
	}
	in, err := eng.DecodeRecord(cloudtrail.Record{Raw: raw})
	if err != nil || in.rules == nil {
		b.Fatalf("prepare: %v (candidates %v)", err, in.rules)
	}
	candidates, err := eng.queryFor(in.rules)
	if err != nil {
		b.Fatal(err)
	}
	run := func(name string, pq rego.PreparedEvalQuery) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pq.Eval(ctx, rego.EvalParsedInput(in.Value)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	prepare := func(q string) rego.PreparedEvalQuery {
		pq, err := rego.New(rego.Query(q), rego.Compiler(eng.compiler), rego.Store(eng.store), rego.StrictBuiltinErrors(true)).PrepareForEval(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return pq
	}
	run("all-rules", eng.prepared)
	run("candidate-rules", candidates)
	run("input-only", prepare("x := input.eventName"))
	for _, r := range in.rules.Rules {
		run(r[0]+"."+r[1], prepare(fmt.Sprintf("data.rules[%q][%q].alert[result]", r[0], r[1])))
	}
}
