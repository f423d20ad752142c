package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
)

// BenchmarkCandidateShape counts what the README's account of issues 12 and
// 13 says of the prefilter and the memos, over the benchmarks' corpus (bench/gen
// seed 1, 100 delivery files, as bench/ uses), one delivery file an op (cycled),
// with the original 24 rules, every pack and every pack + SigmaHQ: candidate
// rules a record (candidates/record-SET) and fields the prefilter's decision
// walk consults a record (levels/record-SET); and it logs, for each set, the
// share of records each rule is a candidate for, the share that has the walk
// consult each field, and each remembered rule's memo at the end (nodes, full,
// the share of lookups a full one answers). Three passes over the corpus:
//
//	GOMAXPROCS=1 go test -run '^$' -bench CandidateShape -benchtime 300x -v ./engine
func BenchmarkCandidateShape(b *testing.B) {
	files := gen.New(gen.Options{Seed: 1}).Files(100)
	ctx := context.Background()
	data := WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}})
	type set struct {
		name       string
		eng        *Engine
		fieldNames map[int]string
		records    int
		candidates int
		levels     int
		byRule     map[string]int
		byField    map[string]int
		alerts     int
		alertsBy   map[string]int
	}
	var sets []*set
	for _, s := range []struct {
		name string
		opts []Option
	}{
		{"24rules", []Option{WithPacks("opsworkscm", "aws")}},
		{"packs", nil},
		{"packs+sigmahq", []Option{WithSigma("../sigma/testdata/sigmahq")}},
	} {
		eng, err := New(ctx, append([]Option{data}, s.opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		names := map[int]string{}
		var walk func(t *pathTrie, path string)
		walk = func(t *pathTrie, path string) {
			if t.wanted {
				names[t.id] = path
			}
			for k, c := range t.children {
				walk(c, strings.TrimPrefix(path+"."+k, "."))
			}
		}
		walk(eng.pre.paths, "")
		sets = append(sets, &set{name: s.name, eng: eng, fieldNames: names, byRule: map[string]int{}, byField: map[string]int{}, alertsBy: map[string]int{}})
	}
	i := 0
	for b.Loop() {
		f := files[i%len(files)]
		i++
		for _, s := range sets {
			r, err := cloudtrail.NewReader(bytes.NewReader(f.Data), f.Key, cloudtrail.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			for {
				rec, err := r.Next()
				if err != nil {
					break // io.EOF: the corpus is valid
				}
				s.records++
				in, err := s.eng.DecodeRecord(rec)
				if err != nil {
					b.Fatal(err)
				}
				// The decision walk, as candidates took it (grown by this record).
				vals, err := s.eng.pre.extract(rec.Raw)
				if err != nil {
					b.Fatal(err)
				}
				s.eng.pre.mu.RLock()
				for n := s.eng.pre.root; n != nil && !n.leaf; n = n.child(vals.keyBytes(n.field)) {
					s.levels++
					s.byField[s.fieldNames[n.field]]++
				}
				s.eng.pre.mu.RUnlock()
				vals.takeTop(false)
				vals.release()
				if in.rules != nil {
					s.candidates += len(in.rules.Rules)
					for _, k := range in.rules.Rules {
						s.byRule[k[0]+"."+k[1]]++
					}
				}
				alerts, err := s.eng.EvaluateInput(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				for _, a := range alerts {
					s.alerts++
					s.alertsBy[a.RuleID]++
				}
				in.Release()
			}
		}
	}
	share := func(m map[string]int, n int) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(x, y string) int { return m[y] - m[x] })
		var out strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&out, "\n    %5.1f%%  %s", 100*float64(m[k])/float64(n), k)
		}
		return out.String()
	}
	for _, s := range sets {
		b.ReportMetric(float64(s.candidates)/float64(s.records), "candidates/record-"+s.name)
		b.ReportMetric(float64(s.levels)/float64(s.records), "levels/record-"+s.name)
		b.ReportMetric(float64(s.alerts)/float64(s.records), "alerts/record-"+s.name)
		var memos strings.Builder
		keys := make([][2]string, 0, len(s.eng.plans))
		for k := range s.eng.plans {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(x, y [2]string) int { return strings.Compare(x[0]+"."+x[1], y[0]+"."+y[1]) })
		for _, k := range keys {
			m := s.eng.plans[k].memo
			if m == nil || m.root.Load() == nil {
				continue
			}
			fmt.Fprintf(&memos, "\n    %s.%s: %d nodes", k[0], k[1], m.nodes)
			if m.full.Load() {
				fmt.Fprintf(&memos, ", full, answers %d of %d lookups", m.hits.Load(), m.lookups.Load())
			}
			if m.off() {
				memos.WriteString(", no longer asked")
			}
		}
		b.Logf("%s: %d records\n  candidates, by rule:%s\n  alerts (signals of stateful rules included), by rule, per 100 records:%s\n  fields the decision walk consults:%s\n  memos:%s",
			s.name, s.records, share(s.byRule, s.records), share(s.alertsBy, s.records), share(s.byField, s.records), memos.String())
	}
}
