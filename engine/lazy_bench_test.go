package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
)

// BenchmarkEvaluators compares, in one run and interleaved, the ways the
// engine can evaluate ordinary generated traffic: OPA's evaluator on the
// decoded record (topdown), the plan evaluator on the decoded record
// (plan-decoded), and the plan evaluator reading the record member by member
// (plan-lazy, the default). It reports ns per record for each and the ratios
// to topdown.
//
//	GOMAXPROCS=1 go test -run '^$' -bench Evaluators -benchtime 20x ./engine
func BenchmarkEvaluators(b *testing.B) {
	recs := benchRecords(b)
	for _, set := range []struct {
		name string
		opts []Option
	}{
		{"packs", nil},
		{"packs+sigmahq", []Option{WithSigma("../sigma/testdata/sigmahq")}},
	} {
		b.Run(set.name, func(b *testing.B) {
			ctx := context.Background()
			opts := append([]Option{WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}})}, set.opts...)
			plan, err := New(ctx, opts...)
			if err != nil {
				b.Fatal(err)
			}
			td, err := New(ctx, append(opts, WithEvaluator(EvaluatorTopdown))...)
			if err != nil {
				b.Fatal(err)
			}
			modes := []struct {
				name string
				eng  *Engine
				lazy bool
			}{{"topdown", td, false}, {"plan-decoded", plan, false}, {"plan-lazy", plan, true}}
			spent := make([]time.Duration, len(modes))
			run := func(i int) {
				m := modes[i]
				lazyRecords = m.lazy
				defer func() { lazyRecords = true }()
				start := time.Now()
				for _, rec := range recs {
					in, err := m.eng.DecodeRecord(rec)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := m.eng.EvaluateInput(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
				spent[i] += time.Since(start)
			}
			for i := range modes {
				run(i) // warm: plans are made on first need
			}
			clear(spent)
			n := 0
			for b.Loop() {
				for i := range modes {
					run((i + n) % len(modes))
				}
				n++
			}
			per := func(i int) float64 { return float64(spent[i].Nanoseconds()) / float64(n*len(recs)) }
			for i, m := range modes {
				b.ReportMetric(per(i), "ns/record-"+m.name)
			}
			b.ReportMetric(per(0)/per(1), "x-plan-decoded/topdown")
			b.ReportMetric(per(0)/per(2), "x-plan-lazy/topdown")
		})
	}
}

// BenchmarkDecodeRecord is the prefilter's cost per record (DecodeRecord
// alone) for the 24 rules of the first packs and for every pack, interleaved.
//
//	GOMAXPROCS=1 go test -run '^$' -bench DecodeRecord -benchtime 20x ./engine
func BenchmarkDecodeRecord(b *testing.B) {
	recs := benchRecords(b)
	ctx := context.Background()
	data := WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}})
	few, err := New(ctx, data, WithPacks("opsworkscm", "aws"))
	if err != nil {
		b.Fatal(err)
	}
	all, err := New(ctx, data)
	if err != nil {
		b.Fatal(err)
	}
	engs := []*Engine{few, all}
	spent := make([]time.Duration, 2)
	cands := make([]int, 2)
	n := 0
	for b.Loop() {
		for j := range engs {
			i := (j + n) % 2
			start := time.Now()
			for _, rec := range recs {
				in, err := engs[i].DecodeRecord(rec)
				if err != nil {
					b.Fatal(err)
				}
				if !in.Skipped() {
					cands[i]++
				}
			}
			spent[i] += time.Since(start)
		}
		n++
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n*len(recs)), "ns/record-24rules")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n*len(recs)), "ns/record-packs")
	b.ReportMetric(float64(cands[0])/float64(n), "candidates-24rules")
	b.ReportMetric(float64(cands[1])/float64(n), "candidates-packs")
}

// benchRecords are the records of generated ordinary traffic.
func benchRecords(b testing.TB) []cloudtrail.Record {
	var recs []cloudtrail.Record
	for _, f := range gen.New(gen.Options{Seed: 11}).Files(40) {
		zr, err := gzip.NewReader(bytes.NewReader(f.Data))
		if err != nil {
			b.Fatal(err)
		}
		cr, err := cloudtrail.NewReader(zr, f.Key, cloudtrail.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := cr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rec.Raw = bytes.Clone(rec.Raw)
			recs = append(recs, rec)
		}
	}
	return recs
}

// BenchmarkPlanAll is the cost of planning every rule of the packs and
// SigmaHQ's (done once per engine, a rule the first time a record is a
// candidate for it), per rule:
//
//	go test -run '^$' -bench PlanAll -benchtime 5x ./engine
func BenchmarkPlanAll(b *testing.B) {
	ctx := context.Background()
	var rules int
	for b.Loop() {
		b.StopTimer()
		eng, err := New(ctx, WithSigma("../sigma/testdata/sigmahq"))
		if err != nil {
			b.Fatal(err)
		}
		rules = len(eng.allKeys)
		b.StartTimer()
		if errs := eng.PlanAll(); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rules)/1e6, "ms/rule")
	b.ReportMetric(float64(rules), "rules")
}
