package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// The rule sets the rule-count benchmarks compare, all with the same data
// document as BenchmarkLogFile.
const sigmaHQDir = "../sigma/testdata/sigmahq" // SigmaHQ's 57 CloudTrail rules

// packs24 is the original rule set, before the threats pack: 24 rules.
var packs24 = []string{"opsworkscm", "aws"}

// ruleSet is one engine of the rule-set benchmarks, and its name in the
// metrics they report.
type ruleSet struct {
	name string
	eng  *engine.Engine
	ns   time.Duration // time spent in it, over the benchmark
}

// interleave runs each op on every rule set in turn, the first one rotating
// from op to op, and times each separately: the machine is shared and its
// load changes from second to second, so sets compared in separate runs (or
// even one after the other, as -count runs sub-benchmarks) do not compare;
// within one op they meet the same load. fn returns how many events it
// evaluated.
func interleave(b *testing.B, sets []*ruleSet, fn func(ctx context.Context, i int, eng *engine.Engine) int) (events []int64) {
	events = make([]int64, len(sets))
	// Each set's work runs under the profiler label set=NAME (the
	// pipeline's goroutines take it from ctx), so that one CPU profile of
	// the benchmark tells the sets apart (profile-sets.sh).
	ctxs := make([]context.Context, len(sets))
	for k, s := range sets {
		ctxs[k] = pprof.WithLabels(context.Background(), pprof.Labels("set", s.name))
	}
	i := 0
	for b.Loop() {
		for k := range sets {
			j := (i + k) % len(sets)
			pprof.SetGoroutineLabels(ctxs[j])
			start := time.Now()
			n := fn(ctxs[j], i, sets[j].eng)
			sets[j].ns += time.Since(start)
			pprof.SetGoroutineLabels(context.Background())
			events[j] += int64(n)
		}
		i++
	}
	return events
}

// BenchmarkRuleSets is the log pipeline at GOMAXPROCS 1 (pipeline.RunAll, as
// `trailguard eval` reads; one delivery file of the corpus per op, cycled, so
// that a -benchtime=50x pass stays brief) with three rule sets, interleaved
// within each op (see interleave), each compared with the one before it:
//
//   - 24rules: packs opsworkscm and aws, the original rule set;
//   - packs: every built-in pack (target ≥ 0.9× 24rules, events/s);
//   - packs+sigmahq: every pack and SigmaHQ's 57 CloudTrail rules (target
//     ≥ 0.8× packs, events/s).
//
// It reports events/s-SET for each, and the ratios as x-packs/24rules and
// x-sigmahq/packs.
func BenchmarkRuleSets(b *testing.B) {
	files := corpus()
	sets := []*ruleSet{
		{name: "24rules", eng: cachedEngine(b, "24rules", engine.WithPacks(packs24...))},
		{name: "packs", eng: cachedEngine(b, "packs")},
		{name: "packs+sigmahq", eng: cachedEngine(b, "packs+sigmahq", engine.WithSigma(sigmaHQDir))},
	}
	withProcs(1, func() {
		b.ReportAllocs()
		events := interleave(b, sets, func(ctx context.Context, i int, eng *engine.Engine) int {
			n, _ := evalFilesIn(ctx, b, files[i%len(files):i%len(files)+1], eng)
			return int(n)
		})
		rate := make([]float64, len(sets))
		for k, s := range sets {
			rate[k] = float64(events[k]) / s.ns.Seconds()
			b.ReportMetric(rate[k], "events/s-"+s.name)
		}
		b.ReportMetric(rate[1]/rate[0], "x-packs/24rules")
		b.ReportMetric(rate[2]/rate[1], "x-sigmahq/packs")
	})
}

// nonMatching is a record no rule matches, of the most common kind: a
// read-only Describe call by an IAM user with long-term keys.
const nonMatching = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"alice"},"eventTime":"2026-11-25T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","requestParameters":{"maxResults":100},"responseElements":null,"requestID":"r-1","eventID":"e-readonly","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`

// BenchmarkNonMatchingRuleCount is one non-matching record through
// Engine.Evaluate as the rule count grows, the sets interleaved within each
// op (see interleave): the original 24 rules, then 50, 100, 200 and 400 with
// synthetic rules of the usual indexed shape (input.eventSource == "…" and
// input.eventName == "…", for services the record does not use) added to
// them; and every built-in pack, alone (54 rules) and with SigmaHQ's 57. It
// reports ns/event-SET for each, x-200/24rules (issue 12's target ≤ 1.2: a
// flat cost) and x-400/24rules (issue 16's).
func BenchmarkNonMatchingRuleCount(b *testing.B) {
	rec := cloudtrail.Record{Raw: []byte(nonMatching)}
	var sets []*ruleSet
	for _, n := range []int{24, 50, 100, 200, 400} {
		opts := []engine.Option{engine.WithPacks(packs24...)}
		if n > 24 {
			opts = append(opts, engine.WithPolicyPaths(syntheticRules(b, n-24)))
		}
		name := fmt.Sprintf("%drules", n)
		sets = append(sets, &ruleSet{name: name, eng: cachedEngine(b, name, opts...)})
	}
	sets = append(sets,
		&ruleSet{name: "packs", eng: cachedEngine(b, "packs")},
		&ruleSet{name: "packs+sigmahq", eng: cachedEngine(b, "packs+sigmahq", engine.WithSigma(sigmaHQDir))})
	b.ReportAllocs()
	events := interleave(b, sets, func(ctx context.Context, _ int, eng *engine.Engine) int {
		alerts, err := eng.Evaluate(ctx, rec)
		if err != nil || len(alerts) != 0 {
			b.Fatalf("%d alerts, %v", len(alerts), err)
		}
		return 1
	})
	cost := make([]float64, len(sets))
	for k, s := range sets {
		cost[k] = float64(s.ns.Nanoseconds()) / float64(events[k])
		b.ReportMetric(cost[k], "ns/event-"+s.name)
	}
	b.ReportMetric(cost[3]/cost[0], "x-200/24rules")
	b.ReportMetric(cost[4]/cost[0], "x-400/24rules")
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
	base := []engine.Option{engine.WithData(data)}
	if ev := os.Getenv("TRAILGUARD_BENCH_EVALUATOR"); ev != "" {
		// To compare the evaluators: every rule set on one of them.
		base = append(base, engine.WithEvaluator(ev))
	}
	eng, err := engine.New(context.Background(), append(base, opts...)...)
	if err != nil {
		b.Fatalf("%s: %v", key, err)
	}
	// Plans are made when a record first needs them (about 1 ms a rule):
	// made now, they are not timed with the first op, which a -benchtime
	// of so many ops (50x) would count.
	eng.PlanAll()
	// What an engine learns of the traffic once (the rules' memos, the
	// prefilter's decisions, the interned values) it learns in its first
	// minute; the benchmarks measure it after that, as a daemon runs. Else
	// the first of -count runs (the engines are cached across them) times
	// the learning and the others do not.
	evalFiles(b, corpus(), eng)
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

// BenchmarkFloorRatios is issue 16's pipeline targets in one run, at
// GOMAXPROCS 1: each op takes one delivery file of the corpus (cycled)
// through the floor (gunzip with compress/gzip + encoding/json of every
// record into maps, floorFile) and through the log pipeline with every
// built-in pack, and with every pack and SigmaHQ's 57 CloudTrail rules,
// interleaved as in interleave. It reports events/s of each and the
// pipelines' throughput over the floor's: x-packs/floor (target ≥ 3) and
// x-sigmahq/floor (target ≥ 2.5).
func BenchmarkFloorRatios(b *testing.B) {
	files := corpus()
	engines := []*engine.Engine{
		nil, // the floor
		cachedEngine(b, "packs"),
		cachedEngine(b, "packs+sigmahq", engine.WithSigma(sigmaHQDir)),
	}
	names := []string{"floor", "packs", "packs+sigmahq"}
	var ns [3]time.Duration
	var events int64
	withProcs(1, func() {
		i := 0
		for b.Loop() {
			f := files[i%len(files)]
			for k := range engines {
				j := (i + k) % len(engines)
				start := time.Now()
				if j == 0 {
					floorFile(b, f)
				} else {
					evalFiles(b, []gen.File{f}, engines[j])
				}
				ns[j] += time.Since(start)
			}
			events += int64(f.Records)
			i++
		}
	})
	for k, n := range names {
		b.ReportMetric(float64(events)/ns[k].Seconds(), "events/s-"+n)
	}
	b.ReportMetric(ns[0].Seconds()/ns[1].Seconds(), "x-packs/floor")
	b.ReportMetric(ns[0].Seconds()/ns[2].Seconds(), "x-sigmahq/floor")
}
