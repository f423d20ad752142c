package state

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/trailguard/trailguard/internal/testpeers"
)

// eachRecords runs f against every Records backend, as one suite.
func eachRecords(t *testing.T, f func(t *testing.T, s Stateful)) {
	t.Run("memory", func(t *testing.T) { f(t, Stateful{R: NewMemoryRecords()}) })
	t.Run("sqlite", func(t *testing.T) {
		f(t, Stateful{R: openSQLite(t, filepath.Join(t.TempDir(), "state.db"), &clock{t: t0})})
	})
	t.Run("miniredis", func(t *testing.T) {
		f(t, Stateful{R: NewRedis(redisClient(t, miniredis.RunT(t).Addr()), "test:")})
	})
	t.Run("redis-server", func(t *testing.T) {
		f(t, Stateful{R: NewRedis(redisClient(t, testpeers.StartRedisServer(t)), "test:")})
	})
}

func cand(key, id string, at time.Duration, value string) Candidate {
	return Candidate{Key: key, EventID: id, Time: t0.Add(at), Value: value}
}

func TestThreshold(t *testing.T) {
	eachRecords(t, func(t *testing.T, s Stateful) {
		ctx := context.Background()
		feed := func(id string, at time.Duration) *Firing {
			t.Helper()
			f, err := s.Threshold(ctx, cand("g", id, at, ""), 3, 10*time.Minute, false)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		if feed("e1", 0) != nil || feed("e2", time.Minute) != nil || feed("e1", 0) != nil {
			t.Fatal("fired below the count (e1 fed twice counts once)")
		}
		f := feed("e3", 2*time.Minute)
		if f == nil || f.Count != 3 || !slices.Equal(f.EventIDs, []string{"e1", "e2", "e3"}) ||
			!f.First.Equal(t0) || !f.Last.Equal(t0.Add(2*time.Minute)) {
			t.Fatalf("crossing: %+v", f)
		}
		// The redelivered event that made it fire gives the same firing.
		if again := feed("e3", 2*time.Minute); again == nil || !slices.Equal(again.EventIDs, f.EventIDs) {
			t.Fatalf("redelivered crossing: %+v", again)
		}
		// The burst goes on: one alert per crossing.
		for i := range 5 {
			if f := feed(fmt.Sprint("b", i), 3*time.Minute+time.Duration(i)*time.Minute); f != nil {
				t.Fatalf("fired again inside the episode: %+v", f)
			}
		}
		// A whole window below the count re-arms it.
		if feed("l1", time.Hour) != nil || feed("l2", time.Hour+time.Minute) != nil {
			t.Fatal("fired below the count")
		}
		if f := feed("l3", time.Hour+2*time.Minute); f == nil || f.EventIDs[0] != "l1" {
			t.Fatalf("did not re-arm: %+v", f)
		}
	})
}

// Records of one file are unordered and files arrive late: a late event is
// counted in its own window, not in the current one.
func TestThresholdLateEvents(t *testing.T) {
	eachRecords(t, func(t *testing.T, s Stateful) {
		ctx := context.Background()
		feed := func(id string, at time.Duration) *Firing {
			t.Helper()
			f, err := s.Threshold(ctx, cand("g", id, at, ""), 3, 10*time.Minute, false)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		// Two events 20 minutes apart, then a late one from 15 minutes before
		// the second: no window of 10 minutes holds three.
		if feed("a", 0) != nil || feed("b", 20*time.Minute) != nil || feed("late", 5*time.Minute) != nil {
			t.Fatal("late event counted in the wrong window")
		}
		// A late event that completes an old window fires for that window.
		f := feed("late2", 3*time.Minute)
		if f == nil || !slices.Equal(f.EventIDs, []string{"a", "late2", "late"}) || !f.Last.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("old window: %+v", f)
		}
	})
}

func TestThresholdDistinct(t *testing.T) {
	eachRecords(t, func(t *testing.T, s Stateful) {
		ctx := context.Background()
		feed := func(id, v string, at time.Duration) *Firing {
			t.Helper()
			f, err := s.Threshold(ctx, cand("g", id, at, v), 3, 10*time.Minute, true)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		for i, v := range []string{"s1", "s1", "s2", "s2", "s1"} {
			if f := feed(fmt.Sprint("e", i), v, time.Duration(i)*time.Second); f != nil {
				t.Fatalf("fired on %d distinct values", 2)
			}
		}
		if f := feed("e9", "s3", time.Minute); f == nil || f.Count != 3 {
			t.Fatalf("third distinct value: %+v", f)
		}
	})
}

func TestNewValue(t *testing.T) {
	eachRecords(t, func(t *testing.T, s Stateful) {
		ctx := context.Background()
		day := 24 * time.Hour
		feed := func(id, v string, at time.Duration) *Firing {
			t.Helper()
			f, err := s.NewValue(ctx, cand("g", id, at, v), 7*day, 30*day)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		if feed("l1", "10.0.0.0/24", 0) != nil || feed("l2", "10.0.1.0/24", 6*day) != nil {
			t.Fatal("fired while learning")
		}
		if feed("k1", "10.0.0.0/24", 8*day) != nil {
			t.Fatal("known value fired")
		}
		f := feed("n1", "198.51.100.0/24", 9*day)
		if f == nil || f.Value != "198.51.100.0/24" || !slices.Equal(f.Known, []string{"10.0.0.0/24", "10.0.1.0/24"}) {
			t.Fatalf("new value: %+v", f)
		}
		if again := feed("n1", "198.51.100.0/24", 9*day); again == nil || again.Value != f.Value {
			t.Fatalf("redelivery: %+v", again)
		}
		if feed("n2", "198.51.100.0/24", 9*day+time.Hour) != nil {
			t.Fatal("second sighting fired")
		}
		// Not seen for longer than forget: new again.
		if f := feed("n3", "10.0.1.0/24", 40*day); f == nil {
			t.Fatal("forgotten value did not fire")
		}
	})
}

func TestSequence(t *testing.T) {
	eachRecords(t, func(t *testing.T, s Stateful) {
		ctx := context.Background()
		feed := func(key, id string, step int, at time.Duration, ordered bool) *Firing {
			t.Helper()
			f, err := s.Sequence(ctx, cand(key, id, at, ""), step, 3, time.Hour, ordered)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		// Ordered: delivered out of order, but in event time the steps follow.
		if feed("o", "start", 2, 30*time.Minute, true) != nil || feed("o", "stop", 0, 0, true) != nil {
			t.Fatal("fired early")
		}
		f := feed("o", "modify", 1, 10*time.Minute, true)
		if f == nil || !slices.Equal(f.EventIDs, []string{"stop", "modify", "start"}) {
			t.Fatalf("ordered: %+v", f)
		}
		if again := feed("o", "modify", 1, 10*time.Minute, true); again == nil {
			t.Fatal("redelivery lost the firing")
		}
		// Used up: a second "start" alone does not fire again.
		if feed("o", "start2", 2, 40*time.Minute, true) != nil {
			t.Fatal("events reused")
		}
		// Wrong order in event time.
		if feed("w", "start", 2, 0, true) != nil || feed("w", "stop", 0, 10*time.Minute, true) != nil ||
			feed("w", "modify", 1, 20*time.Minute, true) != nil {
			t.Fatal("ordered sequence fired out of order")
		}
		// Unordered, but not within the window.
		if feed("u", "a", 2, 0, false) != nil || feed("u", "b", 0, 10*time.Minute, false) != nil ||
			feed("u", "c", 1, 2*time.Hour, false) != nil {
			t.Fatal("fired beyond the window")
		}
		if feed("u", "d", 2, 90*time.Minute, false) != nil {
			t.Fatal("fired beyond the window")
		}
		if f := feed("u", "e", 0, 80*time.Minute, false); f == nil || !slices.Equal(f.EventIDs, []string{"e", "d", "c"}) {
			t.Fatalf("unordered within the window: %+v", f)
		}
	})
}

// Replicas (goroutines here) feeding one group see one count: exactly one
// firing for 20 events at a count of 20.
func TestThresholdConcurrent(t *testing.T) {
	eachRecords(t, func(t *testing.T, s Stateful) {
		var fired atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				f, err := s.Threshold(context.Background(), cand("g", fmt.Sprint("e", i), time.Duration(i)*time.Second, ""), 20, time.Hour, false)
				if err != nil {
					t.Error(err)
				}
				if f != nil {
					fired.Add(1)
				}
			})
		}
		wg.Wait()
		if fired.Load() != 1 {
			t.Fatalf("%d firings", fired.Load())
		}
	})
}

// Records expire with their window as event time moves on.
func TestRecordsAreBounded(t *testing.T) {
	for name, s := range map[string]Stateful{
		"memory": {R: NewMemoryRecords()},
		"sqlite": {R: openSQLite(t, filepath.Join(t.TempDir(), "state.db"), &clock{t: t0})},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i := range 3000 {
				at := time.Duration(i) * time.Minute // event time moves on: 50 hours
				if _, err := s.Threshold(ctx, cand(fmt.Sprint("g", i), "e", at, ""), 5, 10*time.Minute, false); err != nil {
					t.Fatal(err)
				}
			}
			n, err := s.R.Size(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Each record lives 10m + Grace = 70 minutes of event time; sweeps run
			// every 1024 steps.
			if n > 70+1024 {
				t.Fatalf("%d records kept of 3000", n)
			}
		})
	}
}

// A new_value record keeps a short hash per value and the few values an
// alert shows: 200 values of 150 bytes, each of which alerted, stay under
// 8 KB (about 27 bytes per value, plus 11 values as text), where values kept
// as text with every firing's known values took about 57 KB; and the alert
// still lists the latest known ones.
func TestNewValueRecordIsSmall(t *testing.T) {
	ctx := context.Background()
	rec := NewMemoryRecords()
	s := Stateful{R: rec}
	long := func(i int) string { return fmt.Sprintf("%03d-%0147d", i, i) }
	var last *Firing
	for i := range 200 {
		f, err := s.NewValue(ctx, cand("g", fmt.Sprint("e", i), time.Duration(i)*time.Minute, long(i)), 0, 0)
		if err != nil || f == nil {
			t.Fatalf("value %d: %v, %v", i, f, err)
		}
		last = f
	}
	if len(last.Known) != MaxKnownValues || last.Known[0] != long(198) || last.Known[9] != long(189) {
		t.Fatalf("known values %v", last.Known)
	}
	if n := len(rec.recs["g"].val); n > 8000 {
		t.Fatalf("record of %d bytes", n)
	}
	// Known again: no alert; the redelivery of the last alerting event: the same alert.
	if f, _ := s.NewValue(ctx, cand("g", "again", 300*time.Minute, long(3)), 0, 0); f != nil {
		t.Fatalf("known value fired: %+v", f)
	}
	if f, _ := s.NewValue(ctx, cand("g", "e199", 199*time.Minute, long(199)), 0, 0); f == nil || f.EventIDs[0] != "e199" {
		t.Fatalf("redelivery: %+v", f)
	}
}

// A record written before values were hashed (values as text) is read and
// converted: its values stay known, its firings stay recognised.
func TestNewValueLegacyRecord(t *testing.T) {
	ctx := context.Background()
	rec := NewMemoryRecords()
	legacy := fmt.Sprintf(`{"k":{"10.0.0.0/24":%d,"10.0.1.0/24":%d},"s":%d,"f":[{"b":"old","a":%d,"f":{"n":1,"ids":["old"],"v":"10.0.1.0/24"}}]}`,
		t0.UnixMilli(), t0.Add(time.Hour).UnixMilli(), t0.UnixMilli(), t0.Add(time.Hour).UnixMilli())
	if err := rec.Update(ctx, "g", func([]byte) ([]byte, time.Time, time.Duration, error) {
		return []byte(legacy), t0.Add(time.Hour), 24 * time.Hour, nil
	}); err != nil {
		t.Fatal(err)
	}
	s := Stateful{R: rec}
	if f, _ := s.NewValue(ctx, cand("g", "k", 2*time.Hour, "10.0.0.0/24"), 0, 0); f != nil {
		t.Fatalf("a value of the old record fired: %+v", f)
	}
	if f, _ := s.NewValue(ctx, cand("g", "old", time.Hour, "10.0.1.0/24"), 0, 0); f == nil {
		t.Fatal("the redelivered event of an old firing did not give its alert")
	}
	f, _ := s.NewValue(ctx, cand("g", "n", 3*time.Hour, "198.51.100.0/24"), 0, 0)
	if f == nil || !slices.Equal(f.Known, []string{"10.0.0.0/24", "10.0.1.0/24"}) {
		t.Fatalf("new value: %+v", f)
	}
	if strings.Contains(string(rec.recs["g"].val), `"k":`) {
		t.Fatalf("record not converted: %s", rec.recs["g"].val)
	}
}
