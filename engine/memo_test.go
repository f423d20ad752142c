package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
)

// TestMemoAgrees: with its rules' answers remembered (memo.go), the engine
// gives exactly the alerts it gives without, field for field, on every record
// of the equivalence corpus (samples, detonation logs, generated traffic,
// their case and list variants), read twice, the second time backwards, so
// that most answers of the second pass come from the memos; and they do.
func TestMemoAgrees(t *testing.T) {
	ctx := context.Background()
	opts := []Option{WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}), WithSigma("../sigma/testdata/sigmahq")}
	memo, err := New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(ctx, append(opts, WithMemos(false))...)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	memoHit = func() { hits.Add(1) }
	t.Cleanup(func() { memoHit = nil })

	recs := equivRecords(t)
	want := make([][]string, len(recs))
	for i, raw := range recs {
		as, err := plain.Evaluate(ctx, cloudtrail.Record{Source: "memo", Raw: raw})
		if err != nil {
			t.Fatalf("record %s: %v", raw, err)
		}
		want[i] = fullAlerts(t, as)
	}
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	alerts := 0
	backward := slices.Clone(order)
	slices.Reverse(backward)
	for pass, idx := range [][]int{order, backward} {
		hits.Store(0)
		for _, i := range idx {
			as, err := memo.Evaluate(ctx, cloudtrail.Record{Source: "memo", Raw: recs[i]})
			if err != nil {
				t.Fatalf("record %s: %v", recs[i], err)
			}
			if got := fullAlerts(t, as); !reflect.DeepEqual(got, want[i]) {
				t.Errorf("pass %d, record %s:\nremembered: %v\nevaluated:  %v", pass, recs[i], got, want[i])
			}
			alerts += len(as)
		}
		t.Logf("pass %d: %d records, %d answers remembered", pass, len(recs), hits.Load())
	}
	if alerts == 0 || hits.Load() < int64(len(recs)) {
		t.Fatalf("%d alerts; %d answers from the memos on the second pass of %d records", alerts, hits.Load(), len(recs))
	}
	for k, p := range memo.plans {
		if p.memo != nil && p.memo.broken.Load() {
			t.Errorf("rule %v: an evaluation did not follow its memo", k)
		}
	}
}

// fullAlerts is every field of each alert, in a stable order.
func fullAlerts(t *testing.T, as []alert.Alert) []string {
	t.Helper()
	out := make([]string, 0, len(as))
	for _, a := range as {
		b, err := a.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// TestMemoReadsNested: a rule that reads a member deep in the record, and
// one that sees an object whole, answer each record for itself however many
// records with the same values before it were remembered: the tree tells
// records apart by every member read, at any depth, and an evaluation that
// compared an object whole is not remembered.
func TestMemoReadsNested(t *testing.T) {
	dir := t.TempDir()
	rules := map[string]string{
		"deep.rego": `# METADATA
# title: Deep
# custom:
#   id: custom.deep
#   severity: low
package rules.custom.deep

import rego.v1

# The message, not a condition (which the prefilter might test before the
# rule), tells the issuer's type; userIdentity has a type too.
alert contains {"message": sprintf("deep %s %s", [issuer.type, issuer.userName])} if {
	input.eventName == "Deep"
	input.userIdentity.type == "AssumedRole"
	issuer := input.userIdentity.sessionContext.sessionIssuer
}
`,
		"whole.rego": `# METADATA
# title: Whole
# custom:
#   id: custom.whole
#   severity: low
package rules.custom.whole

import rego.v1

alert contains {"message": "whole"} if {
	input.eventName == "Deep"
	input.requestParameters == {"a": 1}
}
`,
	}
	for name, src := range rules {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := New(context.Background(), WithPacks(), WithPolicyPaths(dir))
	if err != nil {
		t.Fatal(err)
	}
	rec := func(typ, name, params string) string {
		return `{"eventSource":"sts.amazonaws.com","eventName":"Deep","requestParameters":` + params +
			`,"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"` + typ + `","userName":"` + name + `"}}}}`
	}
	cases := []struct {
		raw  string
		want []string
	}{
		{rec("Role", "a", `{"a":1}`), []string{"custom.deep deep Role a", "custom.whole whole"}},
		{rec("Role", "a", `{"a":1}`), []string{"custom.deep deep Role a", "custom.whole whole"}},
		{rec("Role", "b", `{"a":2}`), []string{"custom.deep deep Role b"}},
		{rec("User", "a", `{"a":1}`), []string{"custom.deep deep User a", "custom.whole whole"}},
		{rec("Role", "a", `{"a":1,"b":2}`), []string{"custom.deep deep Role a"}},
		{rec("Role", "b", `{"a":1}`), []string{"custom.deep deep Role b", "custom.whole whole"}},
		{rec("User", "b", `{"a":2}`), []string{"custom.deep deep User b"}},
		{rec("Role", "a", `{"a":1}`), []string{"custom.deep deep Role a", "custom.whole whole"}},
	}
	for round := range 3 {
		for i, c := range cases {
			as, err := eng.Evaluate(context.Background(), cloudtrail.Record{Raw: []byte(c.raw)})
			if err != nil {
				t.Fatal(err)
			}
			if got := alertList(as); !slices.Equal(got, c.want) {
				t.Errorf("round %d, record %d: %v, want %v", round, i, got, c.want)
			}
		}
	}
	p := eng.plans[[2]string{"custom", "deep"}]

	if p == nil || p.memo == nil || p.memo.root.Load() == nil {
		t.Fatal("rule custom.deep remembered nothing")
	}
	if w := eng.plans[[2]string{"custom", "whole"}]; w.memo != nil && w.memo.root.Load() != nil {
		t.Error("rule custom.whole, which compares an object whole, was remembered")
	}
}

// TestMemoGivesUp: a rule whose answer depends on a value that never repeats
// fills its tree, then stops looking in it once it has answered less than
// half of memoJudged lookups; its answers stay right throughout.
func TestMemoGivesUp(t *testing.T) {
	dir := t.TempDir()
	rule := `# METADATA
# title: Each
# custom:
#   id: custom.each
#   severity: low
package rules.custom.each

import rego.v1

alert contains {"message": sprintf("call %s", [input.requestID])} if {
	startswith(input.eventName, "Get")
}
`
	if err := os.WriteFile(filepath.Join(dir, "each.rego"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	eng, err := New(context.Background(), WithPacks(), WithPolicyPaths(dir))
	if err != nil {
		t.Fatal(err)
	}
	m := eng.plans[[2]string{"custom", "each"}]
	for i := range memoMaxNodes + memoJudged + 10 {
		raw := fmt.Sprintf(`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestID":"r%d"}`, i)
		as, err := eng.Evaluate(context.Background(), cloudtrail.Record{Raw: []byte(raw)})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{fmt.Sprintf("custom.each call r%d", i)}; !slices.Equal(alertList(as), want) {
			t.Fatalf("record %d: %v, want %v", i, alertList(as), want)
		}
		if i == memoMaxNodes/4 && (m.memo == nil || m.memo.root.Load() == nil || m.memo.off()) {
			t.Fatal("the memo is not in use")
		}
	}
	if !m.memo.full.Load() || !m.memo.useless.Load() {
		t.Errorf("full %v, useless %v: want both", m.memo.full.Load(), m.memo.useless.Load())
	}
}
