package bench

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/engine"
)

// Seeds of the generated data; the same seed is the same bytes on every
// machine, so runs compare.
const (
	corpusSeed  = 1 // the delivery files (same as bench/cmd/gen's default -seed)
	eventsSeed  = 4 // the single events of the per-event anchor
	latencySeed = 5 // the small files of the latency benchmark
)

// corpusFiles is how many delivery files the log-file benchmarks cycle through
// (about 6,000 records, 60 per file on average).
const corpusFiles = 100

var corpus = sync.OnceValue(func() []gen.File {
	return gen.New(gen.Options{Seed: corpusSeed}).Files(corpusFiles)
})

// ruleData is the data document the rules are evaluated with, shared with the
// OPA server of the anchor benchmark.
var ruleData = sync.OnceValues(func() (map[string]any, error) {
	b, err := os.ReadFile("opa/data.json")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	return doc, json.Unmarshal(b, &doc)
})

// newEngine compiles every shipped rule, as `trailguard eval` and the daemon do.
func newEngine(b *testing.B) *engine.Engine {
	b.Helper()
	data, err := ruleData()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(context.Background(), engine.WithData(data))
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// alertSink writes alerts the way `trailguard eval` prints them (JSON lines,
// without the raw event) to nowhere, through *line: eval writes every alert
// of a run through one buffer, and so do the benchmarks, whose pipeline runs
// (a log file or a few each) take theirs from lines. A buffer made for each
// run instead grew again for each log file, and so cost more to a rule set
// whose log files have alerts more often than to another.
func alertSink(line *[]byte) func(context.Context, *alert.Alert) error {
	return func(_ context.Context, a *alert.Alert) error {
		c := *a
		c.Raw = nil
		var err error
		if *line, err = c.AppendJSON((*line)[:0]); err != nil {
			return err
		}
		_, err = io.Discard.Write(append(*line, '\n'))
		return err
	}
}

// lines are alertSink's buffers.
var lines = sync.Pool{New: func() any { return new([]byte) }}

// withProcs runs f with GOMAXPROCS set to n, and restores it.
func withProcs(n int, f func()) {
	prev := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(prev)
	f()
}

// report records throughput over the timed part of the benchmark.
func report(b *testing.B, events, bytes int64) {
	sec := b.Elapsed().Seconds()
	if sec <= 0 {
		return
	}
	b.ReportMetric(float64(events)/sec, "events/s")
	if bytes > 0 {
		b.ReportMetric(float64(bytes)/sec, "bytes/s")
	}
}
