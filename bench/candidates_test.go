package bench

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// BenchmarkCandidateCost is where the evaluation time of every pack goes: each
// record of the corpus that the prefilter lets through is decoded once and
// evaluated b.N times by EvaluateInput, and the time is grouped by the
// record's eventSource and the rules that fired on it. The table (with -v)
// is what the README's performance section quotes; the metrics are the mean
// cost of a candidate that raises an alert and of one that raises none:
//
//	go test -run '^$' -bench CandidateCost -benchtime 20x -v ./bench
func BenchmarkCandidateCost(b *testing.B) {
	eng := cachedEngine(b, "packs")
	var ins []*engine.Input
	records := 0
	for _, f := range corpus() {
		r, err := cloudtrail.NewReader(bytes.NewReader(f.Data), f.Key, cloudtrail.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err != nil {
				break // io.EOF: the corpus is valid (the other benchmarks check it)
			}
			records++
			in, err := eng.DecodeRecord(rec)
			if err != nil {
				b.Fatal(err)
			}
			if !in.Skipped() {
				ins = append(ins, in)
			}
		}
	}
	type group struct {
		n   int
		dur time.Duration
	}
	groups := map[string]*group{}
	var alerting, quiet group
	ctx := context.Background()
	b.ResetTimer()
	for _, in := range ins {
		var fired []string
		start := time.Now()
		for i := 0; i < b.N; i++ {
			as, err := eng.EvaluateInput(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			if i == 0 {
				for _, a := range as {
					fired = append(fired, a.RuleID)
				}
			}
		}
		d := time.Since(start) / time.Duration(b.N)
		key := in.EventSource() + " [" + strings.Join(fired, " ") + "]"
		if groups[key] == nil {
			groups[key] = &group{}
		}
		groups[key].n++
		groups[key].dur += d
		sum := &quiet
		if len(fired) > 0 {
			sum = &alerting
		}
		sum.n++
		sum.dur += d
	}
	b.StopTimer()
	keys := make([]string, 0, len(groups))
	var total time.Duration
	for k, g := range groups {
		keys = append(keys, k)
		total += g.dur
	}
	sort.Slice(keys, func(i, j int) bool { return groups[keys[i]].dur > groups[keys[j]].dur })
	var out strings.Builder
	fmt.Fprintf(&out, "%d of %d records are candidates; evaluation per candidate, by eventSource [rules fired]:\n", len(ins), records)
	for _, k := range keys[:min(15, len(keys))] {
		g := groups[k]
		fmt.Fprintf(&out, "%5.1f%% %5d records %6.1f µs/record  %s\n",
			100*float64(g.dur)/float64(total), g.n, float64(g.dur.Microseconds())/float64(g.n), k)
	}
	b.Log(out.String())
	if alerting.n > 0 {
		b.ReportMetric(float64(alerting.dur.Microseconds())/float64(alerting.n), "µs/alerting")
	}
	if quiet.n > 0 {
		b.ReportMetric(float64(quiet.dur.Microseconds())/float64(quiet.n), "µs/quiet")
	}
}
