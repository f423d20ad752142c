package engine

import (
	"context"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/trailguard/trailguard/cloudtrail"
)

// BenchmarkQueryOverhead is the fixed cost of one evaluation, on a record the
// one candidate rule (threats.secrets_bulk_read) matches, each way timed in
// turn within every op:
//
//   - opa-cancel: the candidates' query with a context timer for the budget
//     and OPA's own cancellation (a goroutine per query) and metrics, as the
//     engine evaluated before;
//
//   - engine: the same query through Engine.eval (a timer and a context
//     callback cancel it; no metrics).
//
//     go test -run '^$' -bench QueryOverhead ./engine
func BenchmarkQueryOverhead(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx, WithEvalTimeout(time.Second))
	if err != nil {
		b.Fatal(err)
	}
	in, err := e.DecodeRecord(cloudtrail.Record{Raw: []byte(`{"eventSource":"ssm.amazonaws.com","eventName":"GetParameter",` +
		`"awsRegion":"eu-west-1","sourceIPAddress":"192.0.2.1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"},` +
		`"requestParameters":{"name":"/app/db","withDecryption":true},"eventID":"e1"}`)})
	if err != nil || in.rules == nil || len(in.rules.Rules) != 1 {
		b.Fatalf("the record must have one candidate rule: %v", err)
	}
	// OPA's evaluator reads the record decoded (the engine decodes it when
	// OPA's evaluator needs it).
	if err := in.decode(); err != nil {
		b.Fatal(err)
	}
	q, err := e.queryFor(in.rules)
	if err != nil {
		b.Fatal(err)
	}
	ways := []struct {
		name string
		eval func() (rego.ResultSet, error)
	}{
		{"opa-cancel", func() (rego.ResultSet, error) {
			c, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			return q.Eval(c, rego.EvalParsedInput(in.Value))
		}},
		{"engine", func() (rego.ResultSet, error) { return e.eval(ctx, q, in.Value) }},
	}
	ns := make([]time.Duration, len(ways))
	i := 0
	for b.Loop() {
		for k := range ways {
			j := (i + k) % len(ways)
			start := time.Now()
			rs, err := ways[j].eval()
			ns[j] += time.Since(start)
			if err != nil || len(rs) != 1 {
				b.Fatalf("%s: %d results, %v", ways[j].name, len(rs), err)
			}
		}
		i++
	}
	for k, w := range ways {
		b.ReportMetric(float64(ns[k].Nanoseconds())/float64(i), "ns/eval-"+w.name)
	}
}
