package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
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
// commit keeps them for the next, and any commit writes all those held when
// it is called, so a commit that succeeds has stored every step taken before
// it. Steps are serialised by one mutex, as MemoryRecords' are, so two logs'
// steps on one group count on the same record; a commit does not hold that
// mutex while it waits for the disk.
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
	// commit serialises commits, so that a later snapshot of the held
	// records is never overwritten by an earlier one; it is taken before mu.
	// A commit holds mu only to take its snapshot and to let go of what it
	// wrote, not while it waits for the disk: steps go on meanwhile.
	commit   sync.Mutex
	mu       sync.Mutex
	held     map[string]heldRecord // written at the next commit
	clean    map[string]heldRecord // as written in the file
	ver      uint64                // numbers the steps, to tell a record changed during a commit
	open     int                   // batches open
	steps    int                   // since the last sweep of expired records
	get, put *sql.Stmt             // prepared once: parsing them cost as much as running them
}

type heldRecord struct {
	val     []byte
	expires int64 // event time, ms
	ver     uint64
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
	now, err := s.step(ctx, key, f)
	if err != nil {
		return fmt.Errorf("sqlite stateful record: %w", err)
	}
	if now {
		return s.commit(ctx)
	}
	return nil
}

// step runs f on key's record and holds the result back; now says it is to
// be written at once (no batch open, or too many held).
func (s *SQLite) step(ctx context.Context, key string, f func([]byte) ([]byte, time.Time, time.Duration, error)) (now bool, err error) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	old, err := s.readRecord(ctx, key)
	if err != nil {
		return false, err
	}
	val, newest, keep, err := f(old)
	if err != nil {
		return false, err
	}
	s.rec.ver++
	s.rec.held[key] = heldRecord{val: val, expires: ms(newest.Add(keep)), ver: s.rec.ver}
	if n := ms(newest); n > s.newest.Load() {
		s.newest.Store(n)
	}
	s.rec.steps++
	return s.rec.open == 0 || len(s.rec.held) >= maxHeld, nil
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
	done atomic.Bool
}

// Commit implements Batch.
func (b *sqliteBatch) Commit(ctx context.Context) error {
	if !b.done.Swap(true) {
		b.s.rec.mu.Lock()
		b.s.rec.open--
		b.s.rec.mu.Unlock()
	}
	return b.s.write(ctx, true)
}

// commit implements committer.
func (s *SQLite) commit(ctx context.Context) error { return s.write(ctx, false) }

// write writes every record held when it is called in one transaction, and
// sweeps expired records now and then. A durable write (a batch's commit)
// runs with synchronous=FULL: it returns once the WAL is on disk, so the log
// may be acknowledged even if the machine then loses power; that fsync, paid
// per log, is why the connection's default can stay NORMAL. Other writes (a
// firing, no batch open, maxHeld) need to survive a killed process only.
func (s *SQLite) write(ctx context.Context, durable bool) error {
	s.rec.commit.Lock()
	defer s.rec.commit.Unlock()
	s.rec.mu.Lock()
	snap := maps.Clone(s.rec.held)
	sweep := s.rec.steps >= 1024
	s.rec.mu.Unlock()
	if len(snap) == 0 {
		return nil
	}
	// One caller's cancelled context must not undo other logs' steps.
	if err := s.writeHeld(context.WithoutCancel(ctx), snap, sweep, durable); err != nil {
		return fmt.Errorf("sqlite stateful records: %w", err)
	}
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	for key, h := range snap {
		// A record stepped on meanwhile stays held, for the next commit.
		if cur := s.rec.held[key]; cur.ver == h.ver {
			delete(s.rec.held, key)
			s.keepClean(key, h)
		}
	}
	if sweep {
		s.rec.steps = 0
	}
	return nil
}

func (s *SQLite) writeHeld(ctx context.Context, held map[string]heldRecord, sweep, durable bool) (err error) {
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
	for key, h := range held {
		if _, err := put.ExecContext(ctx, key, h.val, h.expires); err != nil {
			return err
		}
	}
	if sweep {
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
