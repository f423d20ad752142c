package irvm

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// BenchmarkEvalVarAlert is a Sigma rule's alerting path as the engine runs
// it (the rule as `trailguard sigma convert` writes it, cut to the body that
// holds): with EvalVar, it makes no binding object and, for its one alert, no
// set; what is left is a slab of terms every few dozen evaluations.
func BenchmarkEvalVarAlert(b *testing.B) {
	ctx := context.Background()
	tc := diffCase{modules: []string{`package rules.sigma.r1

alert contains {} if {
	input.userIdentity.type == "AssumedRole"
	_t1
}

alert contains {} if {
	not _exact2
	lower(input.userIdentity.type) == "assumedrole"
	_t1
}

_t1 if {
	v := input.userIdentity.sessionContext.sessionIssuer.type
	is_string(v)
	lower(v) == "role"
}

_exact2 if input.userIdentity.type == "AssumedRole"
`}}
	cc, err := compileCase(tc)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := Plan(ctx, cc.compiler, inmem.New(), `data.rules.sigma.r1.alert[result]`)
	if err != nil {
		b.Fatal(err)
	}
	in := ast.MustParseTerm(`{"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role"}}}}`)
	data := ast.ObjectTerm()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := prog.EvalVar(ctx, in, data, "result", Options{}, func(*ast.Term) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if n != b.N {
		b.Fatalf("%d alerts in %d evaluations", n, b.N)
	}
}
