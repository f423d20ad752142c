package history

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go driver, as the state backend uses
)

// SQLite keeps entries in a table of an SQLite file (the daemon uses its
// state file), so they survive restarts. The columns the filters use are
// stored beside the encoded entry and indexed by time; the rest of a filter
// is SQL too, so a page reads only its rows. Entries are written behind,
// in batches (see writer).
type SQLite struct {
	db *sql.DB
	w  writer
}

const historySchema = `
CREATE TABLE IF NOT EXISTS history (
	id TEXT PRIMARY KEY, seen_ms INTEGER NOT NULL, severity INTEGER NOT NULL,
	rule TEXT NOT NULL, pack TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
	principal TEXT NOT NULL, source_ip TEXT NOT NULL, outcome TEXT NOT NULL,
	search TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS history_seen ON history (seen_ms DESC, id DESC);
`

// OpenSQLite opens (creating if need be) the history table in the file at
// path, in WAL mode: the page reads while the dispatcher writes.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	return openSQLiteDelay(ctx, path, flushDelay)
}

// openSQLiteDelay is OpenSQLite with the longest a partial batch waits
// (tests wait long, to see what is buffered, or little).
func openSQLiteDelay(ctx context.Context, path string, delay time.Duration) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite history: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite history %s: %w", path, err)
	}
	// A few connections: readers (the page) do not wait for each other; the
	// writer waits for the file's lock up to busy_timeout.
	db.SetMaxOpenConns(4)
	if _, err := db.ExecContext(ctx, historySchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite history %s: create table: %w", path, err)
	}
	s := &SQLite{db: db}
	if err := s.startWriter(ctx, delay); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite history %s: %w", path, err)
	}
	return s, nil
}

// where is f in SQL: Filter.Match, column by column.
func where(f Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if !f.From.IsZero() {
		add("seen_ms >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("seen_ms < ?", f.To.UnixMilli())
	}
	if f.Severity != 0 {
		add("severity = ?", int(f.Severity))
	}
	for _, c := range []struct{ col, val string }{
		{"rule", f.Rule}, {"pack", f.Pack}, {"account", f.Account}, {"region", f.Region},
		{"principal", f.Principal}, {"source_ip", f.SourceIP}, {"outcome", f.Outcome},
	} {
		if c.val != "" {
			add(c.col+" = ?", c.val)
		}
	}
	if f.Text != "" {
		// instr, not LIKE: the text is literal, % and _ included.
		add("instr(search, ?) > 0", strings.ToLower(f.Text))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Find implements Backend, buffered entries included.
func (s *SQLite) Find(ctx context.Context, f Filter) (Page, error) {
	s.flush()
	w, args := where(f)
	p := Page{Entries: []Entry{}}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM history`+w, args...).Scan(&p.Total); err != nil {
		return Page{}, err
	}
	err := s.query(ctx, `SELECT body FROM history`+w+` ORDER BY seen_ms DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, f.limit(), max(f.Offset, 0)), func(e *Entry) error {
			p.Entries = append(p.Entries, *e)
			return nil
		})
	return p, err
}

// Each implements Backend, buffered entries included.
func (s *SQLite) Each(ctx context.Context, f Filter, fn func(*Entry) error) error {
	s.flush()
	w, args := where(f)
	return s.query(ctx, `SELECT body FROM history`+w+` ORDER BY seen_ms DESC, id DESC`, args, fn)
}

func (s *SQLite) query(ctx context.Context, q string, args []any, fn func(*Entry) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		e, err := decode(b)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Prune implements Backend, buffered entries included. The entries beyond
// keep are deleted from the old end of the index, as many as the count says
// in the same statement (prunes at once delete them once), so a prune that
// deletes little reads little: "LIMIT -1 OFFSET keep" walked keep index
// entries each time, half of what recording cost.
func (s *SQLite) Prune(ctx context.Context, cutoff time.Time, keep int) (int, error) {
	s.flush()
	old, err := s.db.ExecContext(ctx, `DELETE FROM history WHERE seen_ms < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	over, err := s.db.ExecContext(ctx, `DELETE FROM history WHERE id IN
		(SELECT id FROM history ORDER BY seen_ms ASC, id ASC LIMIT max(0, (SELECT count(*) FROM history) - ?))`, keep)
	if err != nil {
		return 0, err
	}
	a, _ := old.RowsAffected()
	b, _ := over.RowsAffected()
	return int(a + b), nil
}

// Size implements Backend: the entries, and the file's pages in use (the
// history table shares the file with the dispatcher's state).
func (s *SQLite) Size(ctx context.Context) (int, int64, error) {
	s.flush()
	var n int
	var pages, size, free int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM history`).Scan(&n); err != nil {
		return 0, 0, err
	}
	for q, v := range map[string]*int64{"PRAGMA page_count": &pages, "PRAGMA page_size": &size, "PRAGMA freelist_count": &free} {
		if err := s.db.QueryRowContext(ctx, q).Scan(v); err != nil {
			return 0, 0, err
		}
	}
	return n, (pages - free) * size, nil
}
