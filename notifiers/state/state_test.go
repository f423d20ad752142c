package state

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/internal/testpeers"
)

// clock is a manual clock shared by a State and its test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	st      State
	clock   *clock
	advance func(time.Duration) // moves the clock and, for Redis, its TTLs
}

// Times are whole milliseconds, as Redis stores them.
var t0 = time.UnixMilli(1_714_557_600_000)

// eachState runs f against every backend, as one suite: Memory, SQLite (a
// file in t.TempDir()), Redis on miniredis (whose TTLs move only with
// FastForward) and Redis on a real redis-server (whose TTLs follow the wall
// clock: expiry is decided by the clock the caller passes, so the manual clock
// still rules).
func eachState(t *testing.T, f func(t *testing.T, h harness)) {
	t.Run("memory", func(t *testing.T) {
		c := &clock{t: t0}
		f(t, harness{st: NewMemory(MemoryOptions{Now: c.Now}), clock: c, advance: c.add})
	})
	t.Run("sqlite", func(t *testing.T) {
		c := &clock{t: t0}
		f(t, harness{st: openSQLite(t, filepath.Join(t.TempDir(), "state.db"), c), clock: c, advance: c.add})
	})
	t.Run("miniredis", func(t *testing.T) {
		mr := miniredis.RunT(t)
		c := &clock{t: t0}
		f(t, harness{st: NewRedis(redisClient(t, mr.Addr()), "test:", WithRedisClock(c.Now)), clock: c, advance: func(d time.Duration) {
			c.add(d)
			mr.FastForward(d)
		}})
	})
	t.Run("redis-server", func(t *testing.T) {
		c := &clock{t: t0}
		f(t, harness{st: NewRedis(redisClient(t, testpeers.StartRedisServer(t)), "test:", WithRedisClock(c.Now)), clock: c, advance: c.add})
	})
}

func redisClient(t *testing.T, addr string) *redis.Client {
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

func openSQLite(t *testing.T, path string, c *clock) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path, SQLiteOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestClaimLifecycle(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		ctx := context.Background()
		claim := func(key string) Claim {
			t.Helper()
			c, err := h.st.Claim(ctx, key, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c1 := claim("k")
		if c1.Status != Claimed || c1.Token == "" {
			t.Fatalf("first claim: %+v", c1)
		}
		if c := claim("k"); c.Status != InFlight {
			t.Fatalf("second claim: %+v", c)
		}
		if err := h.st.Release(ctx, "k", "not-the-token"); err != nil {
			t.Fatal(err)
		}
		if c := claim("k"); c.Status != InFlight {
			t.Fatalf("released by a stranger: %+v", c)
		}
		if err := h.st.Release(ctx, "k", c1.Token); err != nil {
			t.Fatal(err)
		}
		c2 := claim("k")
		if c2.Status != Claimed {
			t.Fatalf("after release: %+v", c2)
		}
		if err := h.st.MarkDelivered(ctx, "k", time.Hour); err != nil {
			t.Fatal(err)
		}
		if c := claim("k"); c.Status != Delivered {
			t.Fatalf("after delivery: %+v", c)
		}
		// A release after delivery (a late, confused holder) changes nothing.
		_ = h.st.Release(ctx, "k", c2.Token)
		if c := claim("k"); c.Status != Delivered {
			t.Fatalf("release undid delivery: %+v", c)
		}
		h.advance(time.Hour + time.Second)
		if c := claim("k"); c.Status != Claimed {
			t.Fatalf("delivery outlived its TTL: %+v", c)
		}
		// A crashed holder's claim expires.
		h.advance(time.Minute + time.Second)
		if c := claim("k"); c.Status != Claimed {
			t.Fatalf("claim outlived its TTL: %+v", c)
		}
	})
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				c, err := h.st.Claim(context.Background(), "race", time.Minute)
				if err != nil {
					t.Error(err)
				}
				if c.Status == Claimed {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d winners", won.Load())
		}
	})
}

func occ(h harness, group, key string) Occurrence {
	return Occurrence{Group: group, AlertKey: key, Alert: []byte(`{"k":"` + key + `"}`),
		Now: h.clock.Now(), Window: time.Hour, PendingTTL: 24 * time.Hour}
}

func observe(t *testing.T, h harness, group, key string) Verdict {
	t.Helper()
	v, err := h.st.Observe(context.Background(), occ(h, group, key))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func take(t *testing.T, h harness, includeOpen bool) []Pending {
	t.Helper()
	p, err := h.st.TakePending(context.Background(), h.clock.Now(), includeOpen)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWindowCountsAndReportsToNextLeader(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		if v := observe(t, h, "g", "a1"); !v.Lead || v.HeldBack != 0 {
			t.Fatalf("first: %+v", v)
		}
		h.advance(time.Minute)
		firstDup := h.clock.Now()
		for _, k := range []string{"a2", "a2", "a3"} { // a2 twice: a redelivery counts once
			if v := observe(t, h, "g", k); v.Lead {
				t.Fatalf("%s led inside the window", k)
			}
		}
		if v := observe(t, h, "g", "a1"); !v.Lead || v.HeldBack != 0 {
			t.Fatalf("redelivered leader: %+v", v)
		}
		if v := observe(t, h, "other", "b1"); !v.Lead {
			t.Fatalf("other group held back: %+v", v)
		}
		if p := take(t, h, false); len(p) != 0 {
			t.Fatalf("took from an open window: %+v", p)
		}

		h.advance(time.Hour)
		v := observe(t, h, "g", "a4")
		if !v.Lead || v.HeldBack != 2 || !v.Since.Equal(firstDup) {
			t.Fatalf("next leader: %+v (since want %v)", v, firstDup)
		}
		// The leader's redelivery reports the same, the count is not taken twice.
		if v2 := observe(t, h, "g", "a4"); v2 != v {
			t.Fatalf("redelivered next leader: %+v, want %+v", v2, v)
		}
		h.advance(2 * time.Hour)
		if p := take(t, h, false); len(p) != 0 {
			t.Fatalf("count reported twice: %+v", p)
		}
	})
}

func TestTakePendingAfterWindow(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		observe(t, h, "g", "a1")
		h.advance(time.Second)
		observe(t, h, "g", "a2")
		h.advance(time.Second)
		observe(t, h, "g", "a3")
		h.advance(time.Hour)
		p := take(t, h, false)
		if len(p) != 1 || p[0].Group != "g" || p[0].Count != 2 ||
			!p[0].First.Equal(t0.Add(time.Second)) || !p[0].Last.Equal(t0.Add(2*time.Second)) ||
			string(p[0].Alert) != `{"k":"a3"}` {
			t.Fatalf("pending: %+v", p)
		}
		if p := take(t, h, false); len(p) != 0 {
			t.Fatalf("taken twice: %+v", p)
		}
		if v := observe(t, h, "g", "a4"); !v.Lead || v.HeldBack != 0 {
			t.Fatalf("leader after summary: %+v", v)
		}

		// Requeue (a summary that failed) comes back on the next take, merged with
		// what arrived meanwhile.
		if err := h.st.Requeue(context.Background(), p[0], h.clock.Now(), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		h.advance(time.Minute)
		observe(t, h, "g", "a5")
		h.advance(time.Hour)
		p = take(t, h, false)
		if len(p) != 1 || p[0].Count != 3 || !p[0].First.Equal(t0.Add(time.Second)) || string(p[0].Alert) != `{"k":"a5"}` {
			t.Fatalf("after requeue: %+v", p)
		}
	})
}

func TestTakePendingIncludeOpen(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		observe(t, h, "g", "a1")
		observe(t, h, "g", "a2")
		if p := take(t, h, false); len(p) != 0 {
			t.Fatalf("open window taken: %+v", p)
		}
		if p := take(t, h, true); len(p) != 1 || p[0].Count != 1 {
			t.Fatalf("drain: %+v", p)
		}
		// The window stays open: later similar alerts are still held back.
		if v := observe(t, h, "g", "a3"); v.Lead {
			t.Fatal("window closed by drain")
		}
		if p := take(t, h, true); len(p) != 1 || p[0].Count != 1 {
			t.Fatalf("second drain: %+v", p)
		}
	})
}

func TestConcurrentObserveHasOneLeader(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		var leads atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				v, err := h.st.Observe(context.Background(), occ(h, "g", fmt.Sprint("a", i)))
				if err != nil {
					t.Error(err)
				}
				if v.Lead {
					leads.Add(1)
				}
			})
		}
		wg.Wait()
		if leads.Load() != 1 {
			t.Fatalf("%d leaders", leads.Load())
		}
		h.advance(time.Hour)
		if p := take(t, h, false); len(p) != 1 || p[0].Count != 19 {
			t.Fatalf("pending: %+v", p)
		}
	})
}

func TestMemoryIsBounded(t *testing.T) {
	m := NewMemory(MemoryOptions{MaxEntries: 3})
	ctx := context.Background()
	for i := range 5 {
		_ = m.MarkDelivered(ctx, fmt.Sprint("k", i), time.Hour)
	}
	if len(m.entries) != 3 || m.order.Len() != 3 {
		t.Fatalf("%d entries", len(m.entries))
	}
	if c, _ := m.Claim(ctx, "k0", time.Minute); c.Status != Claimed {
		t.Errorf("oldest entry kept: %+v", c)
	}
	if c, _ := m.Claim(ctx, "k4", time.Minute); c.Status != Delivered {
		t.Errorf("newest entry lost: %+v", c)
	}
}

func TestRedisCheck(t *testing.T) {
	mr := miniredis.RunT(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	defer rc.Close()
	r := NewRedis(rc, "")
	if err := r.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	mr.Close()
	if err := r.Check(context.Background()); err == nil {
		t.Fatal("Check passed with Redis down")
	}
}

func TestMemoryWindowsAreBounded(t *testing.T) {
	c := &clock{t: t0}
	m := NewMemory(MemoryOptions{MaxEntries: 2, Now: c.Now})
	h := harness{st: m, clock: c, advance: c.add}
	for _, g := range []string{"g1", "g2", "g3"} {
		observe(t, h, g, "a")
		c.add(time.Second)
	}
	if len(m.windows) != 2 {
		t.Fatalf("%d windows", len(m.windows))
	}
	if v := observe(t, h, "g1", "b"); !v.Lead {
		t.Error("the oldest window was kept")
	}
	if v := observe(t, h, "g3", "b"); v.Lead {
		t.Error("the newest window was dropped")
	}
}

// A restart (closing and reopening the file) keeps deliveries, open windows
// and held-back counts.
func TestSQLiteSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	c := &clock{t: t0}
	s1, err := OpenSQLite(ctx, path, SQLiteOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := harness{st: s1, clock: c, advance: c.add}
	if err := s1.MarkDelivered(ctx, "sent", time.Hour); err != nil {
		t.Fatal(err)
	}
	observe(t, h, "g", "a1")
	observe(t, h, "g", "a2")
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openSQLite(t, path, c)
	h.st = s2
	if cl, err := s2.Claim(ctx, "sent", time.Minute); err != nil || cl.Status != Delivered {
		t.Fatalf("delivery forgotten across restart: %+v %v", cl, err)
	}
	if v := observe(t, h, "g", "a3"); v.Lead {
		t.Fatal("open window forgotten across restart")
	}
	c.add(time.Hour)
	if p := take(t, h, false); len(p) != 1 || p[0].Count != 2 {
		t.Fatalf("held-back count across restart: %+v", p)
	}
	var mode string
	if err := s2.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q %v", mode, err)
	}
}

// Held-back counts keep the span of their events' times, whatever the order
// the events arrive in (records of one file are unordered; files arrive
// late), through a requeue too; an alert without an event time leaves it.
func TestPendingSpansEventTimes(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		ctx := context.Background()
		ev := time.Date(2023, 4, 1, 10, 0, 0, 0, time.UTC)
		observeAt := func(key string, at time.Time) {
			t.Helper()
			o := occ(h, "g", key)
			o.EventTime = at
			if _, err := h.st.Observe(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		observeAt("lead", ev)
		observeAt("a", ev.Add(30*time.Minute))
		observeAt("b", ev.Add(2*time.Minute))
		observeAt("c", time.Time{})
		observeAt("d", ev.Add(49*time.Minute))
		observeAt("b", ev.Add(time.Minute)) // a redelivery is not counted again
		h.advance(2 * time.Hour)
		p := take(t, h, false)
		if len(p) != 1 || p[0].Count != 4 || !p[0].EventFirst.Equal(ev.Add(2*time.Minute)) || !p[0].EventLast.Equal(ev.Add(49*time.Minute)) {
			t.Fatalf("pending: %+v", p)
		}
		// Put back twice (two summaries failed), the spans merge.
		q := p[0]
		if err := h.st.Requeue(ctx, q, h.clock.Now(), time.Hour); err != nil {
			t.Fatal(err)
		}
		q.EventFirst, q.EventLast = ev.Add(-time.Hour), ev
		if err := h.st.Requeue(ctx, q, h.clock.Now(), time.Hour); err != nil {
			t.Fatal(err)
		}
		p = take(t, h, false)
		if len(p) != 1 || p[0].Count != 8 || !p[0].EventFirst.Equal(ev.Add(-time.Hour)) || !p[0].EventLast.Equal(ev.Add(49*time.Minute)) {
			t.Fatalf("after requeue: %+v", p)
		}
	})
}

// A state file written before the event-time columns existed opens, keeps
// its held-back counts, and records event times from then on.
func TestSQLiteAddsEventColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	c := &clock{t: t0}
	s := openSQLite(t, path, c)
	for _, q := range []string{`DROP TABLE pending`, `CREATE TABLE pending (grp TEXT PRIMARY KEY, count INTEGER NOT NULL, first_ms INTEGER NOT NULL,
		last_ms INTEGER NOT NULL, alert BLOB, end_ms INTEGER NOT NULL, expires INTEGER NOT NULL)`,
		`INSERT INTO pending VALUES ('g', 3, 1, 2, '{}', 0, ` + fmt.Sprint(t0.Add(time.Hour).UnixMilli()) + `)`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLite(t, path, c)
	h := harness{st: s, clock: c, advance: c.add}
	o := occ(h, "g2", "lead")
	o.EventTime = t0
	observe(t, h, "g2", "lead")
	o.AlertKey = "next"
	if _, err := s.Observe(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	p := take(t, h, true)
	if len(p) != 2 || p[0].Group != "g" || p[0].Count != 3 || !p[0].EventFirst.IsZero() || !p[1].EventFirst.Equal(t0) {
		t.Fatalf("pending: %+v", p)
	}
}

// A window's alerts share its name; the held-back ones learn how many the
// window holds so far; the next window has another name.
func TestVerdictNamesTheWindow(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		lead := observe(t, h, "g", "a1")
		if lead.Window == "" {
			t.Fatalf("lead: %+v", lead)
		}
		wants := []int{1, 2, 2, 3} // a3 twice: a redelivery counts once
		for i, k := range []string{"a2", "a3", "a3", "a4"} {
			v := observe(t, h, "g", k)
			want := wants[i]
			if v.Lead || v.Window != lead.Window || v.HeldBack != want {
				t.Fatalf("%s: %+v, want window %q and %d held back", k, v, lead.Window, want)
			}
		}
		if again := observe(t, h, "g", "a1"); again.Window != lead.Window {
			t.Fatalf("redelivered lead: %+v", again)
		}
		h.advance(2 * time.Hour)
		if next := observe(t, h, "g", "b1"); !next.Lead || next.Window == lead.Window {
			t.Fatalf("next window: %+v (first %q)", next, lead.Window)
		}
	})
}

func TestThreads(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		th, ok := h.st.(Threads)
		if !ok {
			t.Fatalf("%T does not keep threads", h.st)
		}
		ctx := context.Background()
		if ref, err := th.Thread(ctx, "k"); err != nil || ref != "" {
			t.Fatalf("unknown thread: %q, %v", ref, err)
		}
		if err := th.SetThread(ctx, "k", "C1/1.000001", time.Hour); err != nil {
			t.Fatal(err)
		}
		if ref, err := th.Thread(ctx, "k"); err != nil || ref != "C1/1.000001" {
			t.Fatalf("thread: %q, %v", ref, err)
		}
		h.advance(2 * time.Hour)
		if ref, err := th.Thread(ctx, "k"); err != nil || ref != "" {
			t.Fatalf("expired thread: %q, %v", ref, err)
		}
	})
}

// The next window's leader reports the held-back alerts' event times too,
// also when its alert is redelivered.
func TestLeaderReportsEventTimes(t *testing.T) {
	eachState(t, func(t *testing.T, h harness) {
		ev := time.Date(2023, 4, 1, 10, 0, 0, 0, time.UTC)
		at := func(key string, e time.Time) Verdict {
			t.Helper()
			o := occ(h, "g", key)
			o.EventTime = e
			v, err := h.st.Observe(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		at("a1", ev)
		at("a2", ev.Add(40*time.Minute))
		at("a3", ev.Add(5*time.Minute))
		h.advance(2 * time.Hour)
		for range 2 {
			v := at("b1", ev.Add(3*time.Hour))
			if !v.Lead || v.HeldBack != 2 || !v.EventFirst.Equal(ev.Add(5*time.Minute)) || !v.EventLast.Equal(ev.Add(40*time.Minute)) {
				t.Fatalf("leader: %+v", v)
			}
		}
	})
}

// A windows table written before the event-time columns existed opens too.
func TestSQLiteAddsWindowEventColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	c := &clock{t: t0}
	s := openSQLite(t, path, c)
	for _, q := range []string{`DROP TABLE windows`, `CREATE TABLE windows (grp TEXT PRIMARY KEY, leader TEXT NOT NULL,
		end_ms INTEGER NOT NULL, count INTEGER NOT NULL, first_ms INTEGER NOT NULL)`,
		`INSERT INTO windows VALUES ('g', 'a1', ` + fmt.Sprint(t0.Add(time.Hour).UnixMilli()) + `, 0, 0)`} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLite(t, path, c)
	h := harness{st: s, clock: c, advance: c.add}
	if v := observe(t, h, "g", "a1"); !v.Lead || v.Window != "a1" {
		t.Fatalf("the window written before the upgrade: %+v", v)
	}
	if v := observe(t, h, "g", "a2"); v.Lead || v.HeldBack != 1 {
		t.Fatalf("held back: %+v", v)
	}
}
