package engine

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// BenchmarkPrefilter is the prefilter's cost per record of generated
// ordinary traffic, with the original 24 rules, the built-in packs and
// SigmaHQ's CloudTrail rules next to them, interleaved: reading the fields (extract), and
// choosing the candidates from fields read before (candidates, with the
// guards), in chunks of records; and DecodeRecord whole (both, and the
// lazily read record of a candidate), with what it allocates. The ratios
// packs/24rules and sigmahq/packs are what the packs (issue 12) and the
// SigmaHQ rules (issue 13) add to the prefilter. Times are the thread's CPU time, which other processes on a
// shared machine disturb less than the wall clock.
//
//	GOMAXPROCS=1 go test -run '^$' -bench Prefilter -benchtime 100x ./engine
func BenchmarkPrefilter(b *testing.B) {
	recs := benchRecords(b)
	ctx := context.Background()
	data := WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}})
	rules24, err := New(ctx, data, WithPacks("opsworkscm", "aws"))
	if err != nil {
		b.Fatal(err)
	}
	packs, err := New(ctx, data)
	if err != nil {
		b.Fatal(err)
	}
	sigmahq, err := New(ctx, data, WithSigma("../sigma/testdata/sigmahq"))
	if err != nil {
		b.Fatal(err)
	}
	engs := []*Engine{rules24, packs, sigmahq}
	names := []string{"24rules", "packs", "sigmahq"}
	const sets = 3
	var extract, choose, decode [sets]time.Duration
	var cands [sets]int
	var allocs, bytes [sets]uint64
	var ms runtime.MemStats
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The records go by in chunks, small enough to stay in the cache
	// between the two passes, as they would between extract and candidates
	// of one record.
	const chunk = 32
	vals := make([]*fieldValues, 0, chunk)
	run := func(i int) {
		p := engs[i].pre
		runtime.ReadMemStats(&ms)
		mallocs, total := ms.Mallocs, ms.TotalAlloc
		for lo := 0; lo < len(recs); lo += chunk {
			start := threadCPU()
			for _, rec := range recs[lo:min(lo+chunk, len(recs))] {
				v, err := p.extract(rec.Raw)
				if err != nil || v == nil {
					b.Fatal(err)
				}
				v.takeTop(false)
				vals = append(vals, v)
			}
			mid := threadCPU()
			for _, v := range vals {
				set, err := p.candidates(v)
				if err != nil {
					b.Fatal(err)
				}
				if set != nil {
					cands[i]++
				}
			}
			end := threadCPU()
			for _, v := range vals {
				v.release()
			}
			vals = vals[:0]
			for _, rec := range recs[lo:min(lo+chunk, len(recs))] {
				if _, err := engs[i].DecodeRecord(rec); err != nil {
					b.Fatal(err)
				}
			}
			extract[i] += mid - start
			choose[i] += end - mid
			decode[i] += threadCPU() - end
		}
		runtime.ReadMemStats(&ms)
		allocs[i] += ms.Mallocs - mallocs
		bytes[i] += ms.TotalAlloc - total
	}
	for i := range sets {
		run(i) // warm: the memos fill on first sight of each combination
	}
	extract, choose, decode, cands = [sets]time.Duration{}, [sets]time.Duration{}, [sets]time.Duration{}, [sets]int{}
	allocs, bytes = [sets]uint64{}, [sets]uint64{}
	n := 0
	for b.Loop() {
		for i := range sets {
			run((n + i) % sets) // each set first in turn
		}
		n++
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n*len(recs)) }
	for i, name := range names {
		b.ReportMetric(per(extract[i]), "ns/extract-"+name)
		b.ReportMetric(per(choose[i]), "ns/candidates-"+name)
		b.ReportMetric(per(decode[i]), "ns/DecodeRecord-"+name)
		b.ReportMetric(float64(bytes[i])/float64(n*len(recs)), "B/DecodeRecord-"+name)
		b.ReportMetric(float64(allocs[i])/float64(n*len(recs)), "allocs/DecodeRecord-"+name)
		b.ReportMetric(float64(cands[i])/float64(n), "candidates-"+name)
	}
	b.ReportMetric(per(extract[1])/per(extract[0]), "x-extract-packs/24rules")
	b.ReportMetric(per(choose[1])/per(choose[0]), "x-candidates-packs/24rules")
	b.ReportMetric(per(extract[2])/per(extract[1]), "x-extract-sigmahq/packs")
	b.ReportMetric(per(choose[2])/per(choose[1]), "x-candidates-sigmahq/packs")
}
