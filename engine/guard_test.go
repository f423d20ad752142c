package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
)

// Two Sigma rules OPA cannot index (case-insensitive tests of a user agent
// and of an ARN), so that every record's candidates are both, each behind
// its guard.
var unindexedRules = map[string]string{
	"agent.yml": `title: A scanner's user agent
id: 0d7c1f2e-0000-4000-8000-0000000000a1
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    userAgent|contains: scanner
  condition: selection
`,
	"root.yml": `title: Root's calls
id: 0d7c1f2e-0000-4000-8000-0000000000a2
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    userIdentity.arn|endswith: ':root'
  condition: selection
`,
}

// A candidate set's guards are answered by the texts of every field they
// read, together (admit): a record that shares one field's text with a
// record seen before, and differs in another guard's field, must not be
// given that record's answer.
func TestGuardAnswersRecalledByEveryField(t *testing.T) {
	dir := t.TempDir()
	for name, text := range unindexedRules {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	eng, err := New(ctx, WithPacks(), WithSigma(dir))
	if err != nil {
		t.Fatal(err)
	}
	if eng.pre == nil || len(eng.pre.guards) != 2 {
		t.Fatalf("want both rules guarded, got %v", eng.pre)
	}
	const agent, root = "0d7c1f2e-0000-4000-8000-0000000000a1", "0d7c1f2e-0000-4000-8000-0000000000a2"
	cases := []struct {
		ua, arn string
		want    []string // candidate rules' ids
	}{
		{"Scanner/1.0", "arn:aws:iam::111122223333:user/bob", []string{agent}},
		{"Scanner/1.0", "arn:aws:iam::111122223333:root", []string{agent, root}}, // the same agent
		{"aws-cli/2.15", "arn:aws:iam::111122223333:root", []string{root}},       // the same ARN
		{"aws-cli/2.15", "arn:aws:iam::111122223333:user/bob", nil},
		{"aws-cli/2.15", "ARN:AWS:IAM::111122223333:ROOT", []string{root}},
	}
	check := func(pass int) {
		for _, c := range cases {
			if t.Failed() {
				return
			}
			raw := fmt.Sprintf(`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"e1",`+
				`"userAgent":%q,"userIdentity":{"type":"IAMUser","arn":%q}}`, c.ua, c.arn)
			vals, err := eng.pre.extract([]byte(raw))
			if err != nil {
				t.Error(err)
				return
			}
			set, err := eng.pre.candidates(vals)
			vals.takeTop(false)
			vals.release()
			if err != nil {
				t.Error(err)
				return
			}
			var got []string
			if set != nil {
				for _, r := range set.Rules {
					got = append(got, strings.ReplaceAll(strings.TrimPrefix(r[1], "r_"), "_", "-"))
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("pass %d, %s / %s: candidates %v, want %v", pass, c.ua, c.arn, got, c.want)
			}
			// And the alerts are those of every rule on the decoded record.
			rec := cloudtrail.Record{Source: "t", Raw: []byte(raw)}
			in, err := eng.DecodeRecord(rec)
			if err != nil {
				t.Error(err)
				return
			}
			full, err := Parse(rec)
			if err != nil {
				t.Error(err)
				return
			}
			gotA, err1 := eng.EvaluateInput(ctx, in)
			wantA, err2 := eng.EvaluateInput(ctx, full)
			if err1 != nil || err2 != nil || !slices.Equal(alertList(gotA), alertList(wantA)) || len(wantA) != len(c.want) {
				t.Errorf("pass %d, %s / %s: alerts %v %v, every rule %v %v", pass, c.ua, c.arn, alertList(gotA), err1, alertList(wantA), err2)
			}
		}
	}
	// The first pass fills the memos from several goroutines at once, as
	// the pipeline's workers do.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { check(1) })
	}
	wg.Wait()
	remembered := eng.pre.textsN
	if remembered == 0 {
		t.Fatal("no answer remembered by the guards' texts")
	}
	check(2) // from the memo
	if eng.pre.textsN != remembered {
		t.Errorf("the second pass remembered %d answers more: the first were not recalled", eng.pre.textsN-remembered)
	}
}

// Past maxTexts answers the memo by text starts again rather than freezing
// with the texts it saw first, and the answers stay right throughout.
func TestGuardMemoStartsAgain(t *testing.T) {
	dir := t.TempDir()
	for name, text := range unindexedRules {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := New(context.Background(), WithPacks(), WithSigma(dir))
	if err != nil {
		t.Fatal(err)
	}
	p := eng.pre
	candidates := func(i int) int {
		ua, arn := fmt.Sprintf("agent-%d", i), "arn:aws:iam::111122223333:user/bob"
		want := 0
		if i%7 == 0 {
			ua, want = fmt.Sprintf("Scanner-%d", i), want+1
		}
		if i%5 == 0 {
			arn, want = "arn:aws:iam::111122223333:root", want+1
		}
		raw := fmt.Sprintf(`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userAgent":%q,"userIdentity":{"arn":%q}}`, ua, arn)
		vals, err := p.extract([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		set, err := p.candidates(vals)
		vals.takeTop(false)
		vals.release()
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		if set != nil {
			got = len(set.Rules)
		}
		if got != want {
			t.Fatalf("record %d: %d candidates, want %d", i, got, want)
		}
		return p.textsN
	}
	for i := range maxTexts + 100 {
		if n := candidates(i); n > maxTexts {
			t.Fatalf("record %d: %d answers remembered", i, n)
		}
	}
	held := 0
	for _, s := range p.remembering {
		held += len(s.texts)
	}
	if p.textsN == 0 || p.textsN >= maxTexts || held != p.textsN {
		t.Fatalf("after %d distinct records: %d answers counted, %d held; want it started again", maxTexts+100, p.textsN, held)
	}
	before := p.textsN
	again := candidates(0) // forgotten: remembered anew
	if then := candidates(0); again != before+1 || then != again {
		t.Errorf("the first record's texts, forgotten, were not remembered again at their next sight: %d, %d, %d answers", before, again, then)
	}
}
