package engine

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// BenchmarkPrefilter is the prefilter's cost per record of generated
// ordinary traffic, with the built-in packs and with SigmaHQ's CloudTrail
// rules next to them, interleaved: reading the fields (extract) and choosing
// the candidates (extract+candidates, DecodeRecord without the decoding). The
// ratio sigmahq/packs is what the SigmaHQ rules add to the prefilter. Times
// are the thread's CPU time, which other processes on a shared machine
// disturb less than the wall clock.
//
//	GOMAXPROCS=1 go test -run '^$' -bench Prefilter -benchtime 20x ./engine
func BenchmarkPrefilter(b *testing.B) {
	recs := benchRecords(b)
	ctx := context.Background()
	data := WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}})
	packs, err := New(ctx, data)
	if err != nil {
		b.Fatal(err)
	}
	sigmahq, err := New(ctx, data, WithSigma("../sigma/testdata/sigmahq"))
	if err != nil {
		b.Fatal(err)
	}
	pres := []*prefilter{packs.pre, sigmahq.pre}
	names := []string{"packs", "sigmahq"}
	var extract, both [2]time.Duration
	var cands [2]int
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	run := func(i int) {
		p := pres[i]
		start := threadCPU()
		for _, rec := range recs {
			vals, err := p.extract(rec.Raw)
			if err != nil || vals == nil {
				b.Fatal(err)
			}
			vals.takeTop(false)
			vals.release()
		}
		mid := threadCPU()
		for _, rec := range recs {
			vals, err := p.extract(rec.Raw)
			if err != nil || vals == nil {
				b.Fatal(err)
			}
			set, err := p.candidates(vals)
			if err != nil {
				b.Fatal(err)
			}
			if set != nil {
				cands[i]++
			}
			vals.takeTop(false)
			vals.release()
		}
		extract[i] += mid - start
		both[i] += threadCPU() - mid
	}
	run(0) // warm: the memos fill on first sight of each combination
	run(1)
	extract, both, cands = [2]time.Duration{}, [2]time.Duration{}, [2]int{}
	n := 0
	for b.Loop() {
		run(n % 2)
		run(1 - n%2)
		n++
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n*len(recs)) }
	for i, name := range names {
		b.ReportMetric(per(extract[i]), "ns/extract-"+name)
		b.ReportMetric(per(both[i]), "ns/extract+candidates-"+name)
		b.ReportMetric(float64(cands[i])/float64(n), "candidates-"+name)
	}
	b.ReportMetric(per(both[1])/per(both[0]), "x-sigmahq/packs")
}
