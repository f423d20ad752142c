package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SQLite writes entries behind. Put turns the entry into its row, adds it
// to a buffer and returns; one goroutine, started by OpenSQLite and ended by
// Close, writes the buffer in one transaction once it holds flushAt rows or
// flushDelay after its first row. One transaction per entry cost about
// 200 µs under load (BEGIN IMMEDIATE's lock, the WAL frames written at
// COMMIT, the statement parsed again); per batch it is paid once, and a
// recorded entry costs about 40 µs in all, most of it the row's insert
// (BenchmarkRecord).
//
// Reads see what is buffered: Get, which the dispatcher calls for every
// entry to merge a redelivery, looks in the buffer first; Find, Each, Prune
// and Size write the buffer before they read (the page reads seldom), so an
// alert is on the page as soon as it is handled.
//
// The history is best-effort (a failed write is counted and never blocks
// delivery), so rows are not kept for another try: a failed write loses its
// rows, which the History counts and logs, and later rows are written as
// usual. A crash loses at most the rows buffered, the last flushDelay of
// entries; never an alert or its delivery, which the state store, not the
// history, keeps.

// flushAt and flushDelay say when the buffer is written: a full batch at
// once, a partial one at most flushDelay after its first row.
const (
	flushAt    = 256
	flushDelay = 100 * time.Millisecond
)

// maxBuffered bounds the rows waiting (a few MB): past it, Put writes them
// itself, as the stateful records do past their bound. Entries coming faster
// than the goroutine writes them (a burst; a tight loop) slow their caller
// rather than grow the buffer or be dropped.
const maxBuffered = 4096

// flushTimeout bounds one write; the file's busy_timeout (5 s) is the usual
// bound on waiting for its lock.
const flushTimeout = 30 * time.Second

var errClosed = errors.New("sqlite history: closed")

// row is an entry as the history table stores it.
type row struct {
	id                                                                string
	seen                                                              int64
	severity                                                          int
	rule, pack, account, region, principal, sourceIP, outcome, search string
	body                                                              []byte
}

func newRow(e *Entry, body []byte) *row {
	a := &e.Alert
	return &row{id: e.ID, seen: e.Seen.UnixMilli(), severity: int(a.Severity), rule: a.RuleID, pack: e.Pack(),
		account: a.AccountID, region: a.Region, principal: a.Principal, sourceIP: a.SourceIP,
		outcome: e.Outcome, search: searchText(e), body: body}
}

// writer is SQLite's write-behind state.
type writer struct {
	// flush serialises writes, so that a later snapshot of an entry is
	// never overwritten by an earlier one; it is taken before mu, which is
	// held only to swap the buffer, not while the disk is written.
	flush   sync.Mutex
	mu      sync.Mutex
	pending map[string]*row // by id: a later Put of an id replaces its row
	writing map[string]*row // being written: Get still finds them here
	closed  bool
	written func(n int, err error) // told of every write (History's metrics)
	delay   time.Duration          // flushDelay but in tests

	kick      chan struct{} // Put: the buffer has its first row
	full      chan struct{} // Put: the buffer has flushAt rows
	stop      chan struct{}
	done      chan struct{} // the goroutine has ended
	closeOnce sync.Once
	closeErr  error
	get, put  *sql.Stmt // prepared once: parsing them cost as much as running them
}

// startWriter prepares the statements and starts the goroutine Close ends.
func (s *SQLite) startWriter(ctx context.Context, delay time.Duration) error {
	w := &s.w
	var err error
	if w.get, err = s.db.PrepareContext(ctx, `SELECT body FROM history WHERE id = ?`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if w.put, err = s.db.PrepareContext(ctx, `INSERT OR REPLACE INTO history
		(id, seen_ms, severity, rule, pack, account, region, principal, source_ip, outcome, search, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	w.pending, w.delay = map[string]*row{}, delay
	w.kick, w.full = make(chan struct{}, 1), make(chan struct{}, 1)
	w.stop, w.done = make(chan struct{}), make(chan struct{})
	go s.run()
	return nil
}

// reportWrites implements writeBehind.
func (s *SQLite) reportWrites(fn func(n int, err error)) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.written = fn
}

// Put implements Backend: the entry is buffered, and written within
// flushDelay.
func (s *SQLite) Put(_ context.Context, e *Entry, body []byte) error {
	r := newRow(e, body)
	w := &s.w
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errClosed
	}
	n := len(w.pending)
	w.pending[r.id] = r
	switch n + 1 {
	case 1:
		signal(w.kick)
	case flushAt:
		signal(w.full)
	}
	w.mu.Unlock()
	if n+1 >= maxBuffered {
		s.flush()
	}
	return nil
}

// signal wakes the goroutine, or leaves it the signal already waiting.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Get implements Backend: a buffered entry, else the file's.
func (s *SQLite) Get(ctx context.Context, id string) ([]byte, error) {
	w := &s.w
	w.mu.Lock()
	r, ok := w.pending[id]
	if !ok {
		r, ok = w.writing[id]
	}
	w.mu.Unlock()
	if ok {
		return r.body, nil
	}
	var b []byte
	if err := w.get.QueryRowContext(ctx, id).Scan(&b); !errors.Is(err, sql.ErrNoRows) {
		return b, err
	}
	return nil, nil
}

// run writes the buffer when it is full or flushDelay after its first row,
// until Close.
func (s *SQLite) run() {
	w := &s.w
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		}
		if s.buffered() < flushAt {
			t := time.NewTimer(w.delay)
			select {
			case <-w.stop:
				t.Stop()
				return // Close writes what is left
			case <-w.full:
			case <-t.C:
			}
			t.Stop()
		}
		select { // this write takes every row: a full signal now is stale
		case <-w.full:
		default:
		}
		s.flush()
	}
}

func (s *SQLite) buffered() int {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return len(s.w.pending)
}

// flush writes every row buffered when it is called, in one transaction,
// and then tells History how it went (the rows of a failed write are lost);
// History may prune then, which flushes again, so it is told once the write
// is over.
func (s *SQLite) flush() {
	n, written, err := s.write()
	if n > 0 && written != nil {
		written(n, err)
	}
}

func (s *SQLite) write() (int, func(int, error), error) {
	w := &s.w
	w.flush.Lock()
	defer w.flush.Unlock()
	w.mu.Lock()
	rows := w.pending
	if len(rows) == 0 {
		w.mu.Unlock()
		return 0, nil, nil
	}
	w.pending, w.writing = make(map[string]*row, len(rows)), rows
	w.mu.Unlock()

	// Not a reader's context: its end must not lose other entries.
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	err := s.writeRows(ctx, rows)
	cancel()

	w.mu.Lock()
	defer w.mu.Unlock()
	w.writing = nil
	return len(rows), w.written, err
}

func (s *SQLite) writeRows(ctx context.Context, rows map[string]*row) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite history: write %d entries: %w", len(rows), err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			err = fmt.Errorf("sqlite history: write %d entries: %w", len(rows), err)
		}
	}()
	put := tx.StmtContext(ctx, s.w.put)
	for _, r := range rows {
		if _, err := put.ExecContext(ctx, r.id, r.seen, r.severity, r.rule, r.pack, r.account, r.region,
			r.principal, r.sourceIP, r.outcome, r.search, r.body); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close writes what is buffered, ends the writing goroutine and closes the
// file. Put fails after it; a second Close returns the first's error.
func (s *SQLite) Close() error {
	w := &s.w
	w.closeOnce.Do(func() {
		close(w.stop)
		<-w.done
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		s.flush()
		w.closeErr = errors.Join(w.get.Close(), w.put.Close(), s.db.Close())
	})
	return w.closeErr
}
