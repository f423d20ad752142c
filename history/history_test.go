package history

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/testpeers"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// eachBackend runs f against every backend, as one suite.
func eachBackend(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Run("memory", func(t *testing.T) { f(t, NewMemory()) })
	t.Run("sqlite", func(t *testing.T) { f(t, openSQLite(t, filepath.Join(t.TempDir(), "state.db"))) })
	t.Run("redis-server", func(t *testing.T) {
		rc := redis.NewClient(&redis.Options{Addr: testpeers.StartRedisServer(t)})
		t.Cleanup(func() { _ = rc.Close() })
		f(t, NewRedis(rc, "test:"))
	})
}

func openSQLite(t testing.TB, path string) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// seed records n entries, one a minute from t0; entry i has severity
// 1+i%5, rule pack<i%3>.rule, account 11111111111<i%2>, and outcome
// delivered unless i%4 == 3 (deduplicated).
func seed(t *testing.T, h *History, n int) []Entry {
	t.Helper()
	var out []Entry
	for i := range n {
		e := Entry{
			ID: fmt.Sprintf("id%03d", i), Kind: KindAlert, Seen: t0.Add(time.Duration(i) * time.Minute),
			Outcome: OutcomeDelivered,
			Alert: alert.Alert{
				RuleID: fmt.Sprintf("pack%d.rule", i%3), Severity: alert.Severity(1 + i%5), Message: fmt.Sprintf("message %d", i),
				AccountID: fmt.Sprintf("11111111111%d", i%2), Region: "us-east-1", Principal: "arn:aws:iam::1:user/u" + fmt.Sprint(i%2),
				SourceIP: "203.0.113.9", EventID: fmt.Sprintf("ev-%d", i), UserAgent: `"><img src=x onerror=alert(1)> 100%_done`,
				Raw: []byte(`{"eventID":"ev"}`),
			},
		}
		if i%4 == 3 {
			e.Outcome = OutcomeDeduplicated
		}
		if err := h.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestFindFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		h := New(b, Options{Retention: Retention{MaxAge: 1000 * time.Hour}, Now: func() time.Time { return t0.Add(time.Hour) }})
		seeded := seed(t, h, 40)
		for _, tc := range []struct {
			name string
			f    Filter
			want func(i int) bool
		}{
			{"all", Filter{}, func(int) bool { return true }},
			{"severity high", Filter{Severity: alert.High}, func(i int) bool { return 1+i%5 == int(alert.High) }},
			{"rule", Filter{Rule: "pack1.rule"}, func(i int) bool { return i%3 == 1 }},
			{"pack", Filter{Pack: "pack2"}, func(i int) bool { return i%3 == 2 }},
			{"account and outcome", Filter{Account: "111111111110", Outcome: OutcomeDeduplicated}, func(i int) bool { return i%2 == 0 && i%4 == 3 }},
			{"principal", Filter{Principal: "arn:aws:iam::1:user/u1"}, func(i int) bool { return i%2 == 1 }},
			{"time range", Filter{From: t0.Add(10 * time.Minute), To: t0.Add(20 * time.Minute)}, func(i int) bool { return i >= 10 && i < 20 }},
			{"text, case-insensitive", Filter{Text: "MESSAGE 3"}, func(i int) bool { return i == 3 || i >= 30 && i < 40 }},
			{"text with LIKE's wildcards taken literally", Filter{Text: "100%_done"}, func(int) bool { return true }},
			{"text that no entry has", Filter{Text: "1%0"}, func(int) bool { return false }},
			{"region and source ip", Filter{Region: "eu-west-1", SourceIP: "203.0.113.9"}, func(int) bool { return false }},
		} {
			var want []string
			for i := len(seeded) - 1; i >= 0; i-- { // newest first
				if tc.want(i) {
					want = append(want, seeded[i].ID)
				}
			}
			f := tc.f
			f.Limit = MaxLimit
			p, err := h.Find(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p.Entries); !slices.Equal(got, want) || p.Total != len(want) {
				t.Errorf("%s: got %v (total %d), want %v", tc.name, got, p.Total, want)
			}
			st, err := h.Stats(ctx, tc.f, 10)
			if err != nil {
				t.Fatal(err)
			}
			if st.Total != len(want) {
				t.Errorf("%s: stats count %d, the table %d", tc.name, st.Total, len(want))
			}
		}
	})
}

func TestPagingAndStats(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		h := New(b, Options{Retention: Retention{MaxAge: 1000 * time.Hour}, Now: func() time.Time { return t0 }})
		seed(t, h, 25)
		p, err := h.Find(ctx, Filter{Offset: 20, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(p.Entries); !slices.Equal(got, []string{"id004", "id003", "id002", "id001", "id000"}) || p.Total != 25 {
			t.Errorf("last page: %v total %d", got, p.Total)
		}
		e, err := h.Get(ctx, "id007")
		if err != nil || e.Alert.UserAgent != `"><img src=x onerror=alert(1)> 100%_done` || string(e.Alert.Raw) != `{"eventID":"ev"}` {
			t.Errorf("get: %+v %v", e, err)
		}
		if _, err := h.Get(ctx, "nope"); err != ErrNotFound {
			t.Errorf("unknown id: %v", err)
		}
		st, err := h.Stats(ctx, Filter{From: t0, To: t0.Add(25 * time.Minute)}, 5)
		if err != nil {
			t.Fatal(err)
		}
		// Five buckets of five minutes; each holds one entry of each severity.
		if len(st.Series) != 5 || st.Series[2].Counts["high"] != 1 || st.Series[4].Counts["info"] != 1 {
			t.Errorf("series: %+v", st.Series)
		}
		if st.BySeverity["critical"] != 5 || st.ByOutcome[OutcomeDeduplicated] != 6 {
			t.Errorf("by severity %v, by outcome %v", st.BySeverity, st.ByOutcome)
		}
		// 25 entries over three rules: pack0 has 9 (0,3,…,24), the others 8.
		if st.TopRules[0] != (Count{"pack0.rule", 9}) || st.TopRules[1] != (Count{"pack1.rule", 8}) {
			t.Errorf("top rules %v", st.TopRules)
		}
		if r := st.Rules[0]; r.Rule != "pack0.rule" || !r.Last.Equal(t0.Add(24*time.Minute)) {
			t.Errorf("rule hits %+v", st.Rules)
		}
	})
}

func TestRedeliveryKeepsSent(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		now := t0
		h := New(b, Options{Now: func() time.Time { return now }})
		e := Entry{ID: "a", Alert: alert.Alert{RuleID: "r.x", Severity: alert.High}}
		e.Deliveries = []Delivery{{"slack", "sent", t0}, {"mail", "failed", t0}}
		e.Outcome = OutcomeOf(e.Deliveries, "")
		if err := h.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		now = t0.Add(time.Minute)
		e.Deliveries = []Delivery{{"slack", "already_delivered", now}, {"mail", "sent", now}}
		e.Outcome = OutcomeOf(e.Deliveries, "")
		if err := h.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := h.Get(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		want := []Delivery{{"slack", "sent", t0}, {"mail", "sent", now}}
		ok := len(got.Deliveries) == len(want)
		for i := 0; ok && i < len(want); i++ {
			d := got.Deliveries[i]
			ok = d.Notifier == want[i].Notifier && d.Outcome == want[i].Outcome && d.At.Equal(want[i].At)
		}
		if !ok || !got.Seen.Equal(t0) || !got.Updated.Equal(now) || got.Outcome != OutcomeDelivered {
			t.Errorf("merged: %+v", got)
		}
		p, _ := h.Find(ctx, Filter{})
		if p.Total != 1 {
			t.Errorf("a redelivery added an entry: %d", p.Total)
		}
	})
}

func TestRetention(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		now := t0.Add(30 * time.Minute)
		h := New(b, Options{Retention: Retention{MaxAge: 20 * time.Minute, MaxCount: 5}, Now: func() time.Time { return now }})
		seed(t, h, 25) // seen t0 .. t0+24m
		n, err := h.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Younger than 20m: 10..24 (15 entries); of those the newest 5 stay.
		p, _ := h.Find(ctx, Filter{})
		if n != 20 || !slices.Equal(ids(p.Entries), []string{"id024", "id023", "id022", "id021", "id020"}) {
			t.Errorf("pruned %d, kept %v", n, ids(p.Entries))
		}
		entries, bytes, err := b.Size(ctx)
		if err != nil || entries != 5 || bytes <= 0 {
			t.Errorf("size %d entries %d bytes, %v", entries, bytes, err)
		}
	})
}

func TestOutcomeOf(t *testing.T) {
	for _, tc := range []struct {
		ds     []Delivery
		status string
		want   string
	}{
		{nil, OutcomeSignal, OutcomeSignal},
		{nil, "", OutcomeSkipped},
		{[]Delivery{{Outcome: "sent"}, {Outcome: "failed"}}, "", OutcomeFailed},
		{[]Delivery{{Outcome: "already_delivered"}, {Outcome: "sent"}}, "", OutcomeDelivered},
		{[]Delivery{{Outcome: "deduplicated"}}, "", OutcomeDeduplicated},
		{[]Delivery{{Outcome: "suppressed"}, {Outcome: "suppressed"}}, "", OutcomeSuppressed},
		{[]Delivery{{Outcome: "in_flight"}}, "", OutcomeFailed},
	} {
		if got := OutcomeOf(tc.ds, tc.status); got != tc.want {
			t.Errorf("OutcomeOf(%v, %q) = %q, want %q", tc.ds, tc.status, got, tc.want)
		}
	}
}

// TestSQLiteSurvivesRestart: what was recorded is there after the file is
// closed and opened again, as after a daemon restart.
func TestSQLiteSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, New(s, Options{}), 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	h := New(openSQLite(t, path), Options{})
	p, err := h.Find(ctx, Filter{})
	if err != nil || !slices.Equal(ids(p.Entries), []string{"id002", "id001", "id000"}) {
		t.Fatalf("after reopening: %v, %v", ids(p.Entries), err)
	}
}

// TestFailedWriteCounted: a write to a closed store fails, is counted, and
// is returned for the caller to log.
func TestFailedWriteCounted(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "state.db"))
	h := New(s, Options{})
	_ = s.Close()
	if err := h.Record(context.Background(), Entry{ID: "x"}); err == nil {
		t.Fatal("a write to a closed file succeeded")
	}
	if got := testutilCount(t, h.Metrics(), "trailguard_history_write_errors_total"); got != 1 {
		t.Errorf("write errors counted: %v", got)
	}
}
