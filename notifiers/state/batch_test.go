package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The crash tests' group: 5 events within 10 minutes fire.
func feed(t *testing.T, s Stateful, key, id string, minute int) *Firing {
	t.Helper()
	f, err := s.Threshold(context.Background(), cand(key, id, time.Duration(minute)*time.Minute, ""), 5, 10*time.Minute, false)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// crashEnv names the state file the child process works on.
const crashEnv = "TRAILGUARD_STATE_CRASH_CHILD"

// crashChild is the process the crash test kills: in one batch, like one log
// file, group h's five events (the fifth fires), then group g's three (none
// fires); then it is SIGKILLed before the batch commits.
func crashChild(t *testing.T, path string) {
	st, err := OpenSQLite(context.Background(), path, SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := Stateful{R: st}
	_ = Begin(st)
	for i := range 5 {
		if f := feed(t, s, "h", fmt.Sprint("h", i), i); (f != nil) != (i == 4) {
			t.Fatalf("h%d: firing %+v", i, f)
		}
	}
	for i := range 3 {
		if f := feed(t, s, "g", fmt.Sprint("f", i), 1+i); f != nil {
			t.Fatalf("f%d fired: %+v", i, f)
		}
	}
	fmt.Println("steps taken")
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute)
}

// A process killed before its batch commits leaves the file without the
// batch's steps, except a firing's, which is written before its alert leaves;
// the log file, not acknowledged, comes back and each of its events counts
// once, however often it comes.
func TestBatchCrashBeforeCommit(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(t, path)
		return
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	// An earlier file, committed: g has one event.
	st := openSQLite(t, path, &clock{t: t0})
	b := Begin(st)
	feed(t, Stateful{R: st}, "g", "a0", 0)
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestBatchCrashBeforeCommit$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL || !strings.Contains(string(out), "steps taken") {
		t.Fatalf("the child was not killed after its steps: %v\n%s", err, out)
	}

	st = openSQLite(t, path, &clock{t: t0})
	s := Stateful{R: st}
	if ids := eventIDs(t, st, "g"); !slices.Equal(ids, []string{"a0"}) {
		t.Fatalf("after the crash g holds %v, want only the committed a0", ids)
	}
	if ids := eventIDs(t, st, "h"); len(ids) != 5 {
		t.Fatalf("after the crash h holds %v: the firing's step was not written before it returned", ids)
	}
	// The redelivered h4 gives the alert it gave before the crash.
	if f := feed(t, s, "h", "h4", 4); f == nil || f.Count != 5 || !slices.Equal(f.EventIDs, []string{"h0", "h1", "h2", "h3", "h4"}) {
		t.Fatalf("redelivered h4: %+v", f)
	}
	// The killed file comes back, twice (say its acknowledgement was lost
	// the first time): f0-f2 count once, with a0 four events, below 5.
	for range 2 {
		b := Begin(st)
		for i := range 3 {
			if f := feed(t, s, "g", fmt.Sprint("f", i), 1+i); f != nil {
				t.Fatalf("redelivered f%d fired: counted twice (%+v)", i, f)
			}
		}
		if err := b.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if f := feed(t, s, "g", "f3", 4); f == nil || f.Count != 5 || !slices.Equal(f.EventIDs, []string{"a0", "f0", "f1", "f2", "f3"}) {
		t.Fatalf("the fifth event: %+v", f)
	}
}

// eventIDs reads key's record as stored in the file, through a connection
// of its own.
func eventIDs(t *testing.T, s *SQLite, key string) []string {
	t.Helper()
	if err := s.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return storedIDs(t, s.db, key)
}

func storedIDs(t *testing.T, db *sql.DB, key string) []string {
	t.Helper()
	var val []byte
	err := db.QueryRow(`SELECT val FROM records WHERE key = ?`, key).Scan(&val)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var r record
	if err := json.Unmarshal(val, &r); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range r.Events {
		ids = append(ids, e.ID)
	}
	return ids
}

// Steps held back are in the file once their batch commits, and not before;
// a step reads the ones held before it.
func TestBatchCommitWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st := openSQLite(t, path, &clock{t: t0})
	reader, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	s := Stateful{R: st}
	b1, b2 := Begin(st), Begin(st)
	for i := range 3 {
		feed(t, s, "g", fmt.Sprint("e", i), i)
	}
	if ids := storedIDs(t, reader, "g"); ids != nil {
		t.Fatalf("written before a commit: %v", ids)
	}
	if err := b1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := storedIDs(t, reader, "g"); len(ids) != 3 {
		t.Fatalf("after the commit the file holds %v", ids)
	}
	// b2 is still open: steps are held back.
	feed(t, s, "g", "e3", 3)
	if ids := storedIDs(t, reader, "g"); len(ids) != 3 {
		t.Fatalf("written with a batch open: %v", ids)
	}
	if f := feed(t, s, "g", "e4", 4); f == nil || f.Count != 5 {
		t.Fatalf("the fifth event, two of them held back: %+v", f)
	}
	// The firing was written at once, e3 with it.
	if ids := storedIDs(t, reader, "g"); len(ids) != 5 {
		t.Fatalf("after the firing the file holds %v", ids)
	}
	if err := b2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// No batch open: written at once.
	feed(t, s, "k", "x", 0)
	if ids := storedIDs(t, reader, "k"); len(ids) != 1 {
		t.Fatalf("without a batch the file holds %v", ids)
	}
}

// A commit that fails keeps its steps for the next one, which writes them.
func TestBatchFailedCommitKeepsSteps(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st := openSQLite(t, path, &clock{t: t0})
	s := Stateful{R: st}
	b := Begin(st)
	feed(t, s, "g", "e0", 0)

	// Another connection holds the write lock past busy_timeout.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.Exec(`BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err == nil {
		t.Fatal("commit succeeded while another connection held the write lock")
	}
	if _, err := other.Exec(`ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if ids := storedIDs(t, other, "g"); ids != nil {
		t.Fatalf("a failed commit wrote %v", ids)
	}
	b = Begin(st)
	feed(t, s, "g", "e1", 1)
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := storedIDs(t, other, "g"); !slices.Equal(ids, []string{"e0", "e1"}) {
		t.Fatalf("after the next commit the file holds %v, want e0 e1", ids)
	}
}

// Files in flight at once (goroutines with a batch each) feeding one group
// see one count, on every backend: exactly one firing for 80 events at a
// count of 80; with SQLite, once every batch has committed, the file holds
// all 80 (steps taken while another batch's commit was writing included).
func TestBatchesConcurrent(t *testing.T) {
	eachRecords(t, func(t *testing.T, s Stateful) {
		var fired atomic.Int32
		var wg sync.WaitGroup
		for file := range 8 {
			wg.Go(func() {
				b := Begin(s.R)
				for i := range 10 {
					n := file*10 + i
					f, err := s.Threshold(context.Background(), cand("g", fmt.Sprint("e", n), time.Duration(n)*time.Second, ""), 80, time.Hour, false)
					if err != nil {
						t.Error(err)
					}
					if f != nil {
						fired.Add(1)
					}
				}
				if err := b.Commit(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if fired.Load() != 1 {
			t.Fatalf("%d firings", fired.Load())
		}
		if st, ok := s.R.(*SQLite); ok {
			if ids := storedIDs(t, st.db, "g"); len(ids) != 80 {
				t.Fatalf("the file holds %d events of 80", len(ids))
			}
		}
	})
}
