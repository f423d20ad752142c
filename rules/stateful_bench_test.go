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
//	go test -run '^$' -bench '^BenchmarkStatefulCandidate$' -benchmem ./rules
//
// The load: 1,000 groups taken in turn, event time advancing 100ms per
// candidate (so every group sees one candidate per 100s and its windows turn
// over), threshold 20 in 10m, distinct: a new value each round, new_value:
// 20 values per group in turn (after 20 rounds, every step is the common
// "known" case), a 3-step ordered sequence within 1h. B/record is the mean
// size of a group's stored record at the end: with -benchtime 20000x, 20
// candidates per group, 6 in a 10m window, 20 known values.
func BenchmarkStatefulCandidate(b *testing.B) {
	ctx := context.Background()
	b.Run("engine", func(b *testing.B) {
		eng := statefulEngine(b)
		raw, err := json.Marshal(secretRead("alice", 1, 0))
		if err != nil {
			b.Fatal(err)
		}
		rec := cloudtrail.Record{Raw: raw}
		b.ReportAllocs()
		for b.Loop() {
			alerts, err := eng.Evaluate(ctx, rec)
			if err != nil || len(alerts) != 1 {
				b.Fatalf("%d alerts, %v", len(alerts), err)
			}
		}
	})
	const groups = 1000
	primitives := []struct {
		name string
		step func(s state.Stateful, c state.Candidate, i int) error
	}{
		{"threshold", func(s state.Stateful, c state.Candidate, _ int) error {
			_, err := s.Threshold(ctx, c, 20, 10*time.Minute, false)
			return err
		}},
		{"distinct", func(s state.Stateful, c state.Candidate, i int) error {
			c.Value = fmt.Sprint("secret-", (i/groups)%50)
			_, err := s.Threshold(ctx, c, 20, 10*time.Minute, true)
			return err
		}},
		{"new_value", func(s state.Stateful, c state.Candidate, i int) error {
			c.Value = fmt.Sprint("198.51.", (i/groups)%20, ".0/24")
			_, err := s.NewValue(ctx, c, 0, 90*24*time.Hour)
			return err
		}},
		{"sequence", func(s state.Stateful, c state.Candidate, i int) error {
			_, err := s.Sequence(ctx, c, (i/groups)%3, 3, time.Hour, true)
			return err
		}},
	}
	for _, p := range primitives {
		for _, backend := range []string{"memory", "sqlite", "miniredis"} {
			b.Run(p.name+"/"+backend, func(b *testing.B) {
				rec := benchRecords(b, backend)
				s := state.Stateful{R: rec}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					c := state.Candidate{
						Key:     state.GroupKey("bench", []string{fmt.Sprint("principal-", i%groups)}),
						EventID: fmt.Sprint("ev-", i),
						Time:    t0.Add(time.Duration(i) * 100 * time.Millisecond),
					}
					if err := p.step(s, c, i); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.StopTimer()
				b.ReportMetric(recordBytes(b, rec, min(i, groups)), "B/record")
			})
		}
	}
}

func benchRecords(b *testing.B, backend string) state.Records {
	switch backend {
	case "sqlite":
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
