package history

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// never is a flush delay no test waits for: what is written was written by
// a read, Close or a full buffer.
const never = time.Hour

func openDelay(t *testing.T, path string, delay time.Duration) *SQLite {
	t.Helper()
	s, err := openSQLiteDelay(context.Background(), path, delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fileRows counts the history rows in the file at path as another
// connection sees them: what is written, not what is buffered.
func fileRows(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM history`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func entry(id, rule string) Entry {
	// Seen is left to History (now): t0 is past the default retention.
	return Entry{ID: id, Kind: KindAlert, Outcome: OutcomeCounted,
		Alert: alert.Alert{RuleID: rule, Severity: alert.High, Message: "m " + id}}
}

// TestSQLiteBufferedReadYourWrites: an entry recorded is not in the file yet,
// but Get sees it (the redelivery's merge reads it), Find writes the buffer
// first and sees it, and the second Put of an id keeps the last.
func TestSQLiteBufferedReadYourWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	h := New(openDelay(t, path, never), Options{})
	e := entry("a", "r.x")
	e.Deliveries = []Delivery{{"slack", "failed", t0}}
	e.Outcome = OutcomeOf(e.Deliveries, "")
	if err := h.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.Deliveries = []Delivery{{"slack", "sent", t0.Add(time.Second)}, {"mail", "sent", t0.Add(time.Second)}}
	e.Outcome = OutcomeOf(e.Deliveries, "")
	if err := h.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	if n := fileRows(t, path); n != 0 {
		t.Fatalf("%d rows written before any read: nothing is buffered", n)
	}
	got, err := h.Get(ctx, "a")
	if err != nil || got.Outcome != OutcomeDelivered || len(got.Deliveries) != 2 {
		t.Fatalf("buffered entry: %+v, %v", got, err)
	}
	p, err := h.Find(ctx, Filter{Rule: "r.x"})
	if err != nil || p.Total != 1 || p.Entries[0].Outcome != OutcomeDelivered {
		t.Fatalf("find: %+v, %v", p, err)
	}
	if n := fileRows(t, path); n != 1 {
		t.Errorf("after Find the file has %d rows, want 1", n)
	}
}

// TestSQLiteWritesWithinDelay: with no read, a partial batch is written
// once the delay has passed.
func TestSQLiteWritesWithinDelay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	h := New(openDelay(t, path, 20*time.Millisecond), Options{})
	if err := h.Record(context.Background(), entry("a", "r.x")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); fileRows(t, path) != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the entry was not written within 10 s")
		}
	}
}

// TestSQLiteCloseWrites: Close writes what is buffered, and a Put after it
// fails and is counted.
func TestSQLiteCloseWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openDelay(t, path, never)
	h := New(s, Options{})
	seed(t, h, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, &Entry{ID: "late"}, []byte(`{}`)); err == nil {
		t.Error("Put after Close succeeded")
	}
	p, err := New(openSQLite(t, path), Options{}).Find(ctx, Filter{})
	if err != nil || !slices.Equal(ids(p.Entries), []string{"id002", "id001", "id000"}) {
		t.Fatalf("after Close and reopening: %v, %v", ids(p.Entries), err)
	}
}

// TestSQLiteFullBufferWritten: when the writing goroutine does not keep up
// (here it is stopped), Put writes the buffer itself at maxBuffered rather
// than hold more.
func TestSQLiteFullBufferWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openDelay(t, path, never)
	close(s.w.stop)
	<-s.w.done
	s.w.stop = make(chan struct{}) // for Close, which stops it again
	h := New(s, Options{Retention: Retention{MaxCount: 1 << 30}})
	for i := range maxBuffered {
		if i == maxBuffered-1 {
			if n := fileRows(t, path); n != 0 {
				t.Fatalf("%d rows written before the buffer was full", n)
			}
		}
		if err := h.Record(context.Background(), entry(fmt.Sprint(i), "r.x")); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := fileRows(t, path), s.buffered(); n != maxBuffered || b != 0 {
		t.Errorf("after %d entries with no read, the file has %d and %d wait", maxBuffered, n, b)
	}
}

// TestSQLiteFailedWrite: a write the file refuses loses its batch, which is
// counted as failed writes and logged once with the reason; it blocks
// nothing, and entries after it are written once the file takes them again.
func TestSQLiteFailedWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	var logs testpeers.SyncBuffer
	h := New(openDelay(t, path, never), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON history WHEN NEW.rule = 'refused.rule'
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	for round, want := range []float64{2, 4} {
		for _, e := range []Entry{entry(fmt.Sprint("bad", round), "refused.rule"), entry(fmt.Sprint("ok", round), "r.x")} {
			if err := h.Record(ctx, e); err != nil {
				t.Fatalf("Record returned the write's failure: %v", err)
			}
		}
		if p, err := h.Find(ctx, Filter{}); err != nil || p.Total != 0 {
			t.Fatalf("round %d: the refused batch is in the file: %v, %v\n%s", round, ids(p.Entries), err, logs.String())
		}
		if got := testutilCount(t, h.Metrics(), "trailguard_history_write_errors_total"); got != want {
			t.Errorf("round %d: write errors %v, want %v", round, got, want)
		}
	}
	if n := strings.Count(logs.String(), "refused by the test"); n != 1 {
		t.Errorf("the failure was logged %d times, want once:\n%s", n, logs.String())
	}
	if _, err := db.Exec(`DROP TRIGGER refuse`); err != nil {
		t.Fatal(err)
	}
	if err := h.Record(ctx, entry("later", "r.x")); err != nil {
		t.Fatal(err)
	}
	p, err := h.Find(ctx, Filter{})
	if err != nil || !slices.Equal(ids(p.Entries), []string{"later"}) {
		t.Fatalf("the entry after the failures: %v, %v", ids(p.Entries), err)
	}
	if !strings.Contains(logs.String(), "entries_lost=4") {
		t.Errorf("the recovery was not logged with the entries lost:\n%s", logs.String())
	}
}

// TestSQLiteConcurrent: recorders, readers and the writing goroutine at
// once (run with -race); every entry ends up in the file with its last
// handling.
func TestSQLiteConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openDelay(t, path, time.Millisecond)
	h := New(s, Options{Retention: Retention{MaxCount: 1 << 30}})
	const workers, each = 4, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				e := entry(fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("r.w%d", w))
				for _, o := range []string{"failed", "sent"} {
					e.Deliveries = []Delivery{{"slack", o, t0}}
					e.Outcome = OutcomeOf(e.Deliveries, "")
					if err := h.Record(ctx, e); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := h.Find(ctx, Filter{Limit: 5}); err != nil {
				t.Error(err)
			}
			if _, err := h.Get(ctx, "w0-0"); err != nil && err != ErrNotFound {
				t.Error(err)
			}
			if _, _, err := s.Size(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := New(openSQLite(t, path), Options{}).Find(ctx, Filter{Outcome: OutcomeDelivered, Limit: MaxLimit})
	if err != nil || p.Total != workers*each {
		t.Fatalf("delivered entries after reopening: %d of %d, %v", p.Total, workers*each, err)
	}
}

// TestConcurrentPrunesKeepCount: prunes at once (the writer's, Run's timer,
// replicas) delete the entries beyond the count once, not once each; over
// a thousand at a time (Redis's script deletes in parts).
func TestConcurrentPrunesKeepCount(t *testing.T) {
	eachBackend(t, func(t *testing.T, b Backend) {
		ctx := context.Background()
		h := New(b, Options{Retention: Retention{MaxAge: 1000 * time.Hour, MaxCount: 10}, Now: func() time.Time { return t0 }})
		for round := range 3 {
			seed(t, h, 1200) // the same ids each round
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if _, err := h.Prune(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			p, err := h.Find(ctx, Filter{})
			if err != nil || p.Total != 10 || p.Entries[0].ID != "id1199" || p.Entries[9].ID != "id1190" {
				t.Fatalf("round %d: kept %v, want id1199..id1190 (%v)", round, ids(p.Entries), err)
			}
		}
	})
}
