package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SQLite's stateful records are written behind: while a Batch is open, a
// step changes the record in memory (held) and the records are written
// together, in one transaction, when a batch commits. One transaction per
// candidate cost about 100 µs on its own (BEGIN IMMEDIATE's locks, the WAL
// frames and their write at COMMIT, the statements parsed again each time),
// more than the engine spends on the candidate; per file it is paid once.
//
// The held records are never dropped before they are written: a failed
// commit keeps them for the next, and any commit writes all of them, so a
// commit that succeeds has stored every step taken before it. Steps are
// serialised by one mutex, as MemoryRecords' are, so two files' steps on one
// group count on the same record.
//
// The records written stay in memory too (clean, up to maxClean), so a
// group's next step does not read its record back: that read, a read
// transaction of its own, cost about as much as the rest of a batched step.
// This assumes what the SQLite backend is for, one instance: no other
// process writes the file's records meanwhile.
//
// With no batch open (trailguard eval --state, tests) each step is written
// at once, as before.

// maxHeld bounds the records held back: past it, they are written at once,
// whatever batches are open (a file with many groups stays bounded in memory).
const maxHeld = 4096

// maxClean bounds the written records kept in memory (a few MB); past it,
// a quarter of them, taken at random, are let go.
const maxClean = 16384

// heldRecords is SQLite's write-behind state for Records.
type heldRecords struct {
	mu       sync.Mutex
	held     map[string]heldRecord // written at the next commit
	clean    map[string]heldRecord // as written in the file
	open     int                   // batches open
	steps    int                   // since the last sweep of expired records
	get, put *sql.Stmt             // prepared once: parsing them cost as much as running them
}

type heldRecord struct {
	val     []byte
	expires int64 // event time, ms
}

// prepareRecords prepares the statements Update and commit run.
func (s *SQLite) prepareRecords(ctx context.Context) error {
	var err error
	if s.rec.get, err = s.db.PrepareContext(ctx, `SELECT val, expires FROM records WHERE key = ?`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if s.rec.put, err = s.db.PrepareContext(ctx, `INSERT OR REPLACE INTO records (key, val, expires) VALUES (?, ?, ?)`); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	s.rec.held, s.rec.clean = map[string]heldRecord{}, map[string]heldRecord{}
	return nil
}

// Update implements Records: the record is read from what is held back, else
// from the file, and the step is held back while a batch is open.
func (s *SQLite) Update(ctx context.Context, key string, f func([]byte) ([]byte, time.Time, time.Duration, error)) error {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	old, err := s.readRecord(ctx, key)
	if err != nil {
		return fmt.Errorf("sqlite stateful record: %w", err)
	}
	val, newest, keep, err := f(old)
	if err != nil {
		return fmt.Errorf("sqlite stateful record: %w", err)
	}
	s.rec.held[key] = heldRecord{val: val, expires: ms(newest.Add(keep))}
	if n := ms(newest); n > s.newest.Load() {
		s.newest.Store(n)
	}
	s.rec.steps++
	if s.rec.open == 0 || len(s.rec.held) >= maxHeld {
		return s.commitLocked(ctx, false)
	}
	return nil
}

// readRecord is key's record, nil when there is none or it has expired.
func (s *SQLite) readRecord(ctx context.Context, key string) ([]byte, error) {
	h, ok := s.rec.held[key]
	if !ok {
		h, ok = s.rec.clean[key]
	}
	if !ok {
		err := s.rec.get.QueryRowContext(ctx, key).Scan(&h.val, &h.expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		s.keepClean(key, h)
	}
	if h.expires <= s.newest.Load() {
		return nil, nil
	}
	return h.val, nil
}

// keepClean keeps h, as written in the file, for key's next step.
func (s *SQLite) keepClean(key string, h heldRecord) {
	if len(s.rec.clean) >= maxClean {
		drop := maxClean / 4
		for k := range s.rec.clean { // in Go's random order
			delete(s.rec.clean, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	s.rec.clean[key] = h
}

// Begin implements Batcher.
func (s *SQLite) Begin() Batch {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.rec.open++
	return &sqliteBatch{s: s}
}

type sqliteBatch struct {
	s    *SQLite
	done bool
}

// Commit implements Batch.
func (b *sqliteBatch) Commit(ctx context.Context) error {
	b.s.rec.mu.Lock()
	defer b.s.rec.mu.Unlock()
	if !b.done {
		b.done = true
		b.s.rec.open--
	}
	return b.s.commitLocked(ctx, true)
}

// commit implements committer.
func (s *SQLite) commit(ctx context.Context) error {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return s.commitLocked(ctx, false)
}

// commitLocked writes every held record in one transaction, and sweeps
// expired records now and then. A durable commit (a batch's) runs with
// synchronous=FULL: it returns once the WAL is on disk, so the file may be
// acknowledged even if the machine then loses power; that fsync, paid per
// file, is why the connection's default can stay NORMAL. Other commits (a
// firing, no batch open, maxHeld) need to survive a killed process only.
func (s *SQLite) commitLocked(ctx context.Context, durable bool) error {
	if len(s.rec.held) == 0 {
		return nil
	}
	// One caller's cancelled context must not undo other files' steps.
	ctx = context.WithoutCancel(ctx)
	if err := s.writeHeld(ctx, durable); err != nil {
		return fmt.Errorf("sqlite stateful records: %w", err)
	}
	for key, h := range s.rec.held {
		s.keepClean(key, h)
	}
	clear(s.rec.held)
	if s.rec.steps >= 1024 {
		s.rec.steps = 0
	}
	return nil
}

func (s *SQLite) writeHeld(ctx context.Context, durable bool) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if durable {
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
			return err
		}
		defer func() {
			if _, rerr := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	put := tx.StmtContext(ctx, s.rec.put)
	for key, h := range s.rec.held {
		if _, err := put.ExecContext(ctx, key, h.val, h.expires); err != nil {
			return err
		}
	}
	if s.rec.steps >= 1024 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM records WHERE expires <= ?`, s.newest.Load()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Size implements Records: the records in the file once the held ones are
// written.
func (s *SQLite) Size(ctx context.Context) (int, error) {
	if err := s.commit(ctx); err != nil {
		return 0, fmt.Errorf("sqlite state size: %w", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite state size: %w", err)
	}
	return n, nil
}

var (
	_ Batcher   = (*SQLite)(nil)
	_ committer = (*SQLite)(nil)
)
