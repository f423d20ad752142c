package bench

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
)

// procsFiles is how many delivery files of the corpus one op of
// BenchmarkProcsScaling takes (about 600 records): enough for RunAll to keep
// two files and two workers each busy, few enough that a 1 s -benchtime
// still interleaves several rounds.
const procsFiles = 10

// BenchmarkProcsScaling is issue 16's parallel target: the log pipeline with
// every built-in pack (pipeline.RunAll with its defaults, as `trailguard
// eval DIR` reads: GOMAXPROCS files at once, GOMAXPROCS workers each) at
// GOMAXPROCS 2 against the same at GOMAXPROCS 1. Each op takes the next
// procsFiles files of the corpus through both, the first one alternating, each
// timed on its own (see interleave for why). It reports events/s of each and
// x-gomaxprocs2/1 (target ≥ 1.8). BenchmarkLogFile runs the two as separate
// sub-benchmarks, which meet different loads on a shared machine.
func BenchmarkProcsScaling(b *testing.B) {
	files := corpus()
	eng := cachedEngine(b, "packs")
	procs := []int{1, 2}
	var ns [2]time.Duration
	var events int64
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		from := (i * procsFiles) % len(files)
		batch := files[from:min(from+procsFiles, len(files))]
		for k := range procs {
			j := (i + k) % len(procs)
			withProcs(procs[j], func() {
				start := time.Now()
				n, _ := evalFiles(b, batch, eng)
				ns[j] += time.Since(start)
				if j == 0 {
					events += n
				}
			})
		}
		i++
	}
	r1, r2 := float64(events)/ns[0].Seconds(), float64(events)/ns[1].Seconds()
	b.ReportMetric(r1, "events/s-gomaxprocs1")
	b.ReportMetric(r2, "events/s-gomaxprocs2")
	b.ReportMetric(r2/r1, "x-gomaxprocs2/1")
}

// matchingRecord is a record several built-in rules match (an OpsWorks CM
// CreateServer from AWS's documentation), the engine benchmarks' matching
// event.
const matchingRecord = "../examples/logs/awsdocs-opsworks-cm/logging-opsca-using-cloudtrail.CreateServer.json"

// BenchmarkMatchingEvent is issue 16's per-event target: one matching record
// through Engine.Evaluate with every built-in pack (so against every rule
// that can match it, each building its alert), against json.Unmarshal of
// the same bytes into map[string]any, the two interleaved within each op.
// It reports ns/event of each, the alerts per evaluation, and
// x-engine/unmarshal (target ≤ 3). engine's BenchmarkEventMatching measures
// the same pair as separate sub-benchmarks.
func BenchmarkMatchingEvent(b *testing.B) {
	raw, err := os.ReadFile(matchingRecord)
	if err != nil {
		b.Fatal(err)
	}
	rec := cloudtrail.Record{Raw: raw, Source: matchingRecord}
	eng := cachedEngine(b, "packs")
	ctx := context.Background()
	first, err := eng.Evaluate(ctx, rec)
	if err != nil || len(first) == 0 {
		b.Fatalf("the matching record raised %d alerts (%v); the benchmark needs at least one", len(first), err)
	}
	var nsEngine, nsJSON time.Duration
	var n int64
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for k := range 2 {
			start := time.Now()
			if (i+k)%2 == 0 {
				alerts, err := eng.Evaluate(ctx, rec)
				if err != nil || len(alerts) != len(first) {
					b.Fatalf("%d alerts (want %d), %v", len(alerts), len(first), err)
				}
				nsEngine += time.Since(start)
			} else {
				var m map[string]any
				if err := json.Unmarshal(raw, &m); err != nil {
					b.Fatal(err)
				}
				nsJSON += time.Since(start)
			}
		}
		n++
		i++
	}
	b.ReportMetric(float64(nsEngine.Nanoseconds())/float64(n), "ns/event-engine")
	b.ReportMetric(float64(nsJSON.Nanoseconds())/float64(n), "ns/event-json-unmarshal")
	b.ReportMetric(float64(len(first)), "alerts/event")
	b.ReportMetric(nsEngine.Seconds()/nsJSON.Seconds(), "x-engine/unmarshal")
}
