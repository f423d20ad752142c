package rules_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/notifiers/state"
)

// BenchmarkStatefulCandidate is the cost of one stateful candidate in each
// primitive and backend (one atomic read-change-write of its group's record),
// next to the engine's cost for the event that produced it, in the same run:
//
//	GOMAXPROCS=1 go test -run '^$' -bench '^BenchmarkStatefulCandidate$' -benchmem ./rules
//
// The load: 1,000 groups taken in turn, event time advancing 100ms per
// candidate (so every group sees one candidate per 100s and its windows turn
// over), threshold 20 in 10m, distinct: a new value each round, new_value:
// 20 values per group in turn (after 20 rounds, every step is the common
// "known" case), a 3-step ordered sequence within 1h. B/record is the mean
// size of a group's stored record at the end: with -benchtime 20000x, 20
// candidates per group, 6 in a 10m window, 20 known values.
//
// Steps are committed as the daemon commits them: one batch (state.Begin)
// per log file of candidatesPerFile candidates; sqlite-per-record commits
// every step on its own, as the daemon did before batches.
//
// vs-stateless/<primitive> is issue 16's ratio, measured in one loop: each
// iteration evaluates the event (the engine's cost, what a stateless
// candidate costs) and takes its SQLite step, batched per file, on records
// every group already has (see quietPrimitives); the metric
// x-sqlite/stateless is (engine + step) / engine, step-ns/op and
// engine-ns/op its parts; commit-ns/file is a batch's commit (its fsync
// included), a share of the step's time (candidatesPerFile steps a file).
func BenchmarkStatefulCandidate(b *testing.B) {
	ctx := context.Background()
	b.Run("engine", func(b *testing.B) {
		eng := statefulEngine(b)
		rec := secretRecord(b)
		b.ReportAllocs()
		for b.Loop() {
			alerts, err := eng.Evaluate(ctx, rec)
			if err != nil || len(alerts) != 1 {
				b.Fatalf("%d alerts, %v", len(alerts), err)
			}
		}
	})
	for _, p := range benchPrimitives(ctx) {
		for _, backend := range []string{"memory", "sqlite", "sqlite-per-record", "miniredis"} {
			b.Run(p.name+"/"+backend, func(b *testing.B) {
				rec := benchRecords(b, backend)
				s := state.Stateful{R: rec}
				batch := newFileBatch(b, rec, backend != "sqlite-per-record")
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := p.step(s, benchCandidate(i), i); err != nil {
						b.Fatal(err)
					}
					batch.next()
					i++
				}
				batch.commit()
				b.StopTimer()
				b.ReportMetric(recordBytes(b, rec, min(i, benchGroups)), "B/record")
			})
		}
	}
	for _, p := range quietPrimitives(ctx) {
		b.Run("vs-stateless/"+p.name, func(b *testing.B) {
			eng := statefulEngine(b)
			raw := secretRecord(b)
			rec := benchRecords(b, "sqlite")
			s := state.Stateful{R: rec}
			batch := newFileBatch(b, rec, true)
			i := 0
			for ; i < benchGroups; i++ { // every group has its record, as in a running daemon
				if _, err := p.step(s, benchCandidate(i), i); err != nil {
					b.Fatal(err)
				}
				batch.next()
			}
			var engine time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				alerts, err := eng.Evaluate(ctx, raw)
				engine += time.Since(start)
				if err != nil || len(alerts) != 1 {
					b.Fatalf("%d alerts, %v", len(alerts), err)
				}
				f, err := p.step(s, benchCandidate(i), i)
				if err != nil || f != nil {
					b.Fatalf("a quiet candidate fired (%+v) or failed: %v", f, err)
				}
				batch.next()
				i, n = i+1, n+1
			}
			batch.commit()
			total := b.Elapsed()
			b.ReportMetric(float64(total)/float64(engine), "x-sqlite/stateless")
			b.ReportMetric(float64(total-engine)/float64(n), "step-ns/op")
			b.ReportMetric(float64(engine)/float64(n), "engine-ns/op")
			b.ReportMetric(float64(batch.took)/float64(batch.commits), "commit-ns/file")
		})
	}
}

// candidatesPerFile is how many stateful candidates one log file brings, for
// the batches: a mid-sized CloudTrail file with the secret-read rules loaded.
const candidatesPerFile = 59

const benchGroups = 1000

type benchPrimitive struct {
	name string
	step func(s state.Stateful, c state.Candidate, i int) (*state.Firing, error)
}

func benchPrimitives(ctx context.Context) []benchPrimitive {
	return []benchPrimitive{
		{"threshold", func(s state.Stateful, c state.Candidate, _ int) (*state.Firing, error) {
			return s.Threshold(ctx, c, 20, 10*time.Minute, false)
		}},
		{"distinct", func(s state.Stateful, c state.Candidate, i int) (*state.Firing, error) {
			c.Value = fmt.Sprint("secret-", (i/benchGroups)%50)
			return s.Threshold(ctx, c, 20, 10*time.Minute, true)
		}},
		{"new_value", func(s state.Stateful, c state.Candidate, i int) (*state.Firing, error) {
			c.Value = fmt.Sprint("198.51.", (i/benchGroups)%20, ".0/24")
			return s.NewValue(ctx, c, 0, 90*24*time.Hour)
		}},
		{"sequence", func(s state.Stateful, c state.Candidate, i int) (*state.Firing, error) {
			return s.Sequence(ctx, c, (i/benchGroups)%3, 3, time.Hour, true)
		}},
	}
}

// quietPrimitives are the common case, candidates that do not make their rule
// fire (a step that fires is also committed at once, before its alert
// leaves): the threshold and distinct loads above (6 in a window of 20),
// new_value with the value its group has had since its first candidate, a
// sequence's first step.
func quietPrimitives(ctx context.Context) []benchPrimitive {
	p := benchPrimitives(ctx)
	p[2].step = func(s state.Stateful, c state.Candidate, i int) (*state.Firing, error) {
		c.Value = "198.51.100.0/24"
		f, err := s.NewValue(ctx, c, 0, 90*24*time.Hour)
		if i < benchGroups { // the group's first value
			f = nil
		}
		return f, err
	}
	p[3].step = func(s state.Stateful, c state.Candidate, _ int) (*state.Firing, error) {
		return s.Sequence(ctx, c, 0, 3, time.Hour, true)
	}
	return p
}

func benchCandidate(i int) state.Candidate {
	return state.Candidate{
		Key:     state.GroupKey("bench", []string{fmt.Sprint("principal-", i%benchGroups)}),
		EventID: fmt.Sprint("ev-", i),
		Time:    t0.Add(time.Duration(i) * 100 * time.Millisecond),
	}
}

func secretRecord(b *testing.B) cloudtrail.Record {
	raw, err := json.Marshal(secretRead("alice", 1, 0))
	if err != nil {
		b.Fatal(err)
	}
	return cloudtrail.Record{Raw: raw}
}

// fileBatch commits a batch every candidatesPerFile steps, as the daemon
// commits one per log file (or never opens one, when off).
type fileBatch struct {
	b       *testing.B
	rec     state.Records
	on      bool
	n       int
	batch   state.Batch
	commits int
	took    time.Duration // in Commit
}

func newFileBatch(b *testing.B, rec state.Records, on bool) *fileBatch {
	f := &fileBatch{b: b, rec: rec, on: on}
	if on {
		f.batch = state.Begin(rec)
	}
	return f
}

func (f *fileBatch) next() {
	if f.n++; f.on && f.n%candidatesPerFile == 0 {
		f.commit()
		f.batch = state.Begin(f.rec)
	}
}

func (f *fileBatch) commit() {
	if !f.on {
		return
	}
	start := time.Now()
	if err := f.batch.Commit(context.Background()); err != nil {
		f.b.Fatal(err)
	}
	f.took += time.Since(start)
	f.commits++
}

func benchRecords(b *testing.B, backend string) state.Records {
	switch backend {
	case "sqlite", "sqlite-per-record":
		st, err := state.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "state.db"), state.SQLiteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		return st
	case "miniredis":
		mr := miniredis.RunT(b)
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		b.Cleanup(func() { _ = c.Close() })
		return state.NewRedis(c, "tg:")
	}
	return state.NewMemoryRecords()
}

// errRead makes Update leave a record as it was.
var errRead = errors.New("read only")

// recordBytes is the mean stored size of the first n groups' records, read
// through Update without changing them.
func recordBytes(b *testing.B, rec state.Records, n int) float64 {
	total := 0
	for g := range n {
		key := state.GroupKey("bench", []string{fmt.Sprint("principal-", g)})
		err := rec.Update(context.Background(), key, func(old []byte) ([]byte, time.Time, time.Duration, error) {
			total += len(old)
			return nil, time.Time{}, 0, errRead
		})
		if !errors.Is(err, errRead) {
			b.Fatal(err)
		}
	}
	if n == 0 {
		return 0
	}
	return float64(total) / float64(n)
}
