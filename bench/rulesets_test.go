package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// The rule sets the rule-count benchmarks compare, all with the same data
// document as BenchmarkLogFile.
const (
	sigmaHQDir = "../sigma/testdata/sigmahq" // SigmaHQ's 57 CloudTrail rules
	// rules24 is the original rule set: before the threats pack, 24 rules.
	rules24 = "opsworkscm+aws"
)

var packs24 = []string{"opsworkscm", "aws"}

// BenchmarkRuleSets is the log pipeline at GOMAXPROCS 1 (pipeline.RunAll, as
// `trailguard eval` reads; one delivery file of the corpus per op, cycled, so
// that a -benchtime=50x pass stays brief) with three rule sets, each compared
// with the one before it in the same run (events/s):
//
//   - packs-opsworkscm+aws: the original 24 rules;
//   - packs-all: every built-in pack (target ≥ 0.9× the 24 rules);
//   - packs-all+sigmahq: every pack and SigmaHQ's 57 CloudTrail rules
//     (target ≥ 0.8× packs-all).
func BenchmarkRuleSets(b *testing.B) {
	files := corpus()
	sets := []struct {
		name string
		opts []engine.Option
	}{
		{"packs-" + rules24, []engine.Option{engine.WithPacks(packs24...)}},
		{"packs-all", nil},
		{"packs-all+sigmahq", []engine.Option{engine.WithSigma(sigmaHQDir)}},
	}
	for _, s := range sets {
		eng := cachedEngine(b, s.name, s.opts...)
		b.Run(s.name, func(b *testing.B) {
			withProcs(1, func() {
				runFiles(b, files, func(b *testing.B, f gen.File) int {
					n, _ := evalFiles(b, []gen.File{f}, eng)
					return int(n)
				})
			})
		})
	}
}

// nonMatching is a record no rule matches, of the most common kind: a
// read-only Describe call by an IAM user with long-term keys.
const nonMatching = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"alice"},"eventTime":"2026-11-25T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","requestParameters":{"maxResults":100},"responseElements":null,"requestID":"r-1","eventID":"e-readonly","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`

// BenchmarkNonMatchingRuleCount is one non-matching record through
// Engine.Evaluate as the rule count grows: the original 24 rules, then 50,
// 100 and 200 with synthetic rules of the usual indexed shape
// (input.eventSource == "…" and input.eventName == "…", for services the
// record does not use) added to them; and every built-in pack, alone and
// with SigmaHQ's rules. The target is a flat cost: rules-200 ≤ 1.2× rules-24
// (ns/op).
func BenchmarkNonMatchingRuleCount(b *testing.B) {
	rec := cloudtrail.Record{Raw: []byte(nonMatching)}
	type set struct {
		name string
		opts []engine.Option
	}
	var sets []set
	for _, n := range []int{24, 50, 100, 200} {
		opts := []engine.Option{engine.WithPacks(packs24...)}
		if n > 24 {
			opts = append(opts, engine.WithPolicyPaths(syntheticRules(b, n-24)))
		}
		sets = append(sets, set{fmt.Sprintf("rules-%d", n), opts})
	}
	sets = append(sets, set{"packs-all", nil}, set{"packs-all+sigmahq", []engine.Option{engine.WithSigma(sigmaHQDir)}})
	ctx := context.Background()
	for _, s := range sets {
		eng := cachedEngine(b, "nonmatching/"+s.name, s.opts...)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(eng.Rules())), "rules")
			for b.Loop() {
				alerts, err := eng.Evaluate(ctx, rec)
				if err != nil || len(alerts) != 0 {
					b.Fatalf("%d alerts, %v", len(alerts), err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// engines are compiled once per process: -count reruns the benchmark
// functions, and compiling Sigma rules takes longer than a run.
var (
	enginesMu sync.Mutex
	engines   = map[string]*engine.Engine{}
)

func cachedEngine(b *testing.B, key string, opts ...engine.Option) *engine.Engine {
	b.Helper()
	enginesMu.Lock()
	defer enginesMu.Unlock()
	if eng, ok := engines[key]; ok {
		return eng
	}
	data, err := ruleData()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(context.Background(), append([]engine.Option{engine.WithData(data)}, opts...)...)
	if err != nil {
		b.Fatalf("%s: %v", key, err)
	}
	engines[key] = eng
	return eng
}

// syntheticRules writes n rules of the usual indexed shape into a directory
// that lives as long as the process (the engines that read it are cached).
func syntheticRules(b *testing.B, n int) string {
	b.Helper()
	dir, err := os.MkdirTemp("", "trailguard-synthetic-rules-")
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		src := fmt.Sprintf(`# METADATA
# title: Synthetic rule %[1]d
# custom:
#   id: synthetic.r%03[1]d
#   severity: low
package rules.synthetic.r%03[1]d

import rego.v1

alert contains {"message": msg} if {
	input.eventSource == "synth%[2]d.amazonaws.com"
	input.eventName == "Delete%[3]sWidget"
	input.requestParameters.force == true
	msg := sprintf("synthetic %%s", [input.eventName])
}
`, i, i%40, []string{"Blue", "Red", "Green", "Amber", "Violet"}[i%5])
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%03d.rego", i)), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}
