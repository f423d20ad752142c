package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver (no cgo: the static build stays static)
)

// DefaultSQLitePath is where the daemon keeps its state when the configuration
// names no file: a single instance keeps its delivery records, dedup windows
// and stateful-rule baselines across restarts.
const DefaultSQLitePath = "/var/lib/trailguard/state.db"

// SQLiteOptions configure OpenSQLite.
type SQLiteOptions struct {
	// Now is the clock for claim and delivery TTLs; default time.Now.
	Now func() time.Time
}

// SQLite is a State in one SQLite file, for a single instance that must not
// forget across restarts. It keeps one connection: SQLite has one writer
// anyway, and one connection makes every method's transaction run alone, so
// each step is atomic without retry loops on SQLITE_BUSY. It is safe for
// concurrent use.
type SQLite struct {
	db  *sql.DB
	now func() time.Time
	ops atomic.Int64
	// newest is the newest event time (ms) a stateful record was written for:
	// the event clock that expires records.
	newest atomic.Int64
	rec    heldRecords // the stateful records' steps not yet written
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, val TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_expires ON deliveries (expires);
CREATE TABLE IF NOT EXISTS windows (grp TEXT PRIMARY KEY, leader TEXT NOT NULL, end_ms INTEGER NOT NULL,
	count INTEGER NOT NULL, first_ms INTEGER NOT NULL,
	efirst_ms INTEGER NOT NULL DEFAULT 0, elast_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS pending (grp TEXT PRIMARY KEY, count INTEGER NOT NULL, first_ms INTEGER NOT NULL,
	last_ms INTEGER NOT NULL, alert BLOB, end_ms INTEGER NOT NULL, expires INTEGER NOT NULL,
	efirst_ms INTEGER NOT NULL DEFAULT 0, elast_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS threads (key TEXT PRIMARY KEY, ref TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending_seen (grp TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (grp, key)) WITHOUT ROWID;
`

// OpenSQLite opens (creating if need be) the state file at path, in WAL mode
// with synchronous=NORMAL: a commit survives a killed process (SQLite has
// written the WAL when COMMIT returns) but not always a power loss or kernel
// crash, which can roll back the commits since the last fsync. A batch's
// commit (see Batch), which the acknowledgement of a file waits for, runs
// with synchronous=FULL: it fsyncs the WAL, and with it every commit before.
func OpenSQLite(ctx context.Context, path string, o SQLiteOptions) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite state: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(5000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite state %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if _, err := db.ExecContext(ctx, sqliteSchema+statefulSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite state %s: create tables: %w", path, err)
	}
	if err := addEventColumns(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite state %s: %w", path, err)
	}
	s := &SQLite{db: db, now: o.Now}
	if err := s.prepareRecords(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite state %s: %w", path, err)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Close writes the stateful records' steps held back, and closes the file.
func (s *SQLite) Close() error {
	return errors.Join(s.write(context.Background(), true), s.db.Close())
}

// Check satisfies notifiers.Checker.
func (s *SQLite) Check(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite state: %w", err)
	}
	return nil
}

// tx runs f in one transaction, committed when f returns nil.
func (s *SQLite) tx(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite %s: %w", what, err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("sqlite %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite %s: %w", what, err)
	}
	return nil
}

// sweep deletes expired rows now and then, so the file follows the live set.
func (s *SQLite) sweep(tx *sql.Tx, now time.Time) error {
	if s.ops.Add(1)%1024 != 0 {
		return nil
	}
	n := ms(now)
	for _, q := range []string{
		`DELETE FROM deliveries WHERE expires <= ?`,
		`DELETE FROM windows WHERE end_ms <= ?`,
		`DELETE FROM pending_seen WHERE grp IN (SELECT grp FROM pending WHERE expires <= ?)`,
		`DELETE FROM pending WHERE expires <= ?`,
	} {
		if _, err := tx.Exec(q, n); err != nil {
			return err
		}
	}
	return nil
}

// Claim implements State.
func (s *SQLite) Claim(ctx context.Context, key string, ttl time.Duration) (Claim, error) {
	var c Claim
	err := s.tx(ctx, "claim", func(tx *sql.Tx) error {
		now := s.now()
		if err := s.sweep(tx, now); err != nil {
			return err
		}
		var val string
		err := tx.QueryRow(`SELECT val FROM deliveries WHERE key = ? AND expires > ?`, key, ms(now)).Scan(&val)
		switch {
		case err == nil && val == "d":
			c = Claim{Status: Delivered}
			return nil
		case err == nil:
			c = Claim{Status: InFlight}
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		t := token()
		if _, err := tx.Exec(`INSERT OR REPLACE INTO deliveries (key, val, expires) VALUES (?, ?, ?)`,
			key, "c:"+t, ms(now.Add(ttl))); err != nil {
			return err
		}
		c = Claim{Status: Claimed, Token: t}
		return nil
	})
	return c, err
}

// MarkDelivered implements State.
func (s *SQLite) MarkDelivered(ctx context.Context, key string, ttl time.Duration) error {
	return s.tx(ctx, "mark delivered", func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT OR REPLACE INTO deliveries (key, val, expires) VALUES (?, 'd', ?)`, key, ms(s.now().Add(ttl)))
		return err
	})
}

// Release implements State: only the holder's token deletes the claim.
func (s *SQLite) Release(ctx context.Context, key, tok string) error {
	return s.tx(ctx, "release", func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM deliveries WHERE key = ? AND val = ?`, key, "c:"+tok)
		return err
	})
}

// Observe implements State, in one transaction.
func (s *SQLite) Observe(ctx context.Context, o Occurrence) (Verdict, error) {
	var v Verdict
	err := s.tx(ctx, "dedup window", func(tx *sql.Tx) error {
		now := ms(o.Now)
		if err := s.sweep(tx, o.Now); err != nil {
			return err
		}
		var leader string
		var end, count, first, efirst, elast int64
		err := tx.QueryRow(`SELECT leader, end_ms, count, first_ms, efirst_ms, elast_ms FROM windows WHERE grp = ? AND end_ms > ?`, o.Group, now).
			Scan(&leader, &end, &count, &first, &efirst, &elast)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if errors.Is(err, sql.ErrNoRows) {
			// A new window; its leader reports what the previous one held back.
			count, first, efirst, elast = 0, 0, 0, 0
			err := tx.QueryRow(`SELECT count, first_ms, efirst_ms, elast_ms FROM pending WHERE grp = ? AND expires > ?`, o.Group, now).
				Scan(&count, &first, &efirst, &elast)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err := deletePending(tx, o.Group); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT OR REPLACE INTO windows (grp, leader, end_ms, count, first_ms, efirst_ms, elast_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				o.Group, o.AlertKey, ms(o.Now.Add(o.Window)), count, first, efirst, elast); err != nil {
				return err
			}
			v = leadVerdict(count, first, efirst, elast, o.AlertKey)
			return nil
		}
		if leader == o.AlertKey {
			v = leadVerdict(count, first, efirst, elast, leader)
			return nil
		}
		var pexp int64
		err = tx.QueryRow(`SELECT expires FROM pending WHERE grp = ?`, o.Group).Scan(&pexp)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && pexp <= now {
			if err := deletePending(tx, o.Group); err != nil {
				return err
			}
		}
		exp := ms(time.UnixMilli(end).Add(o.PendingTTL))
		res, err := tx.Exec(`INSERT OR IGNORE INTO pending_seen (grp, key) VALUES (?, ?)`, o.Group, o.AlertKey)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			ev := msOrZero(o.EventTime)
			_, err = tx.Exec(`INSERT INTO pending (grp, count, first_ms, last_ms, alert, end_ms, expires, efirst_ms, elast_ms) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (grp) DO UPDATE SET count = count + 1, last_ms = excluded.last_ms, alert = excluded.alert,
				end_ms = excluded.end_ms, expires = excluded.expires, `+spanEventsSQL, o.Group, now, now, o.Alert, end, exp, ev, ev)
		} else {
			_, err = tx.Exec(`UPDATE pending SET end_ms = ?, expires = ? WHERE grp = ?`, end, exp, o.Group)
		}
		if err != nil {
			return err
		}
		v.Window = leader
		return tx.QueryRow(`SELECT count FROM pending WHERE grp = ?`, o.Group).Scan(&v.HeldBack)
	})
	return v, err
}

func leadVerdict(count, first, efirst, elast int64, window string) Verdict {
	v := Verdict{Lead: true, HeldBack: int(count), Window: window}
	if count > 0 {
		v.Since, v.EventFirst, v.EventLast = time.UnixMilli(first), msTime(efirst), msTime(elast)
	}
	return v
}

func deletePending(tx *sql.Tx, group string) error {
	if _, err := tx.Exec(`DELETE FROM pending WHERE grp = ?`, group); err != nil {
		return err
	}
	_, err := tx.Exec(`DELETE FROM pending_seen WHERE grp = ?`, group)
	return err
}

// TakePending implements State.
func (s *SQLite) TakePending(ctx context.Context, now time.Time, includeOpen bool) ([]Pending, error) {
	var out []Pending
	err := s.tx(ctx, "take pending", func(tx *sql.Tx) error {
		n := ms(now)
		if _, err := tx.Exec(`DELETE FROM pending_seen WHERE grp IN (SELECT grp FROM pending WHERE expires <= ?)`, n); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM pending WHERE expires <= ?`, n); err != nil {
			return err
		}
		q := `SELECT p.grp, p.count, p.first_ms, p.last_ms, p.alert, p.efirst_ms, p.elast_ms FROM pending p
			WHERE ? OR NOT EXISTS (SELECT 1 FROM windows w WHERE w.grp = p.grp AND w.end_ms > ?)
			ORDER BY p.first_ms LIMIT 1000`
		rows, err := tx.Query(q, includeOpen, n)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p Pending
			var first, last, efirst, elast int64
			if err := rows.Scan(&p.Group, &p.Count, &first, &last, &p.Alert, &efirst, &elast); err != nil {
				_ = rows.Close()
				return err
			}
			p.First, p.Last = time.UnixMilli(first), time.UnixMilli(last)
			p.EventFirst, p.EventLast = msTime(efirst), msTime(elast)
			out = append(out, p)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, p := range out {
			if err := deletePending(tx, p.Group); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Requeue implements State.
func (s *SQLite) Requeue(ctx context.Context, p Pending, now time.Time, ttl time.Duration) error {
	return s.tx(ctx, "requeue", func(tx *sql.Tx) error {
		n := ms(now)
		if _, err := tx.Exec(`DELETE FROM pending WHERE grp = ? AND expires <= ?`, p.Group, n); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO pending (grp, count, first_ms, last_ms, alert, end_ms, expires, efirst_ms, elast_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (grp) DO UPDATE SET count = count + excluded.count, `+spanEventsSQL+`,
			first_ms = min(first_ms, excluded.first_ms),
			alert = CASE WHEN excluded.last_ms > last_ms OR alert IS NULL THEN excluded.alert ELSE alert END,
			last_ms = max(last_ms, excluded.last_ms),
			expires = max(expires, excluded.expires)`,
			p.Group, p.Count, ms(p.First), ms(p.Last), p.Alert, n, ms(now.Add(ttl)), msOrZero(p.EventFirst), msOrZero(p.EventLast))
		return err
	})
}

// spanEventsSQL widens a pending row's event-time span to the inserted
// row's (0: unknown).
const spanEventsSQL = `efirst_ms = CASE WHEN excluded.efirst_ms > 0 AND (efirst_ms = 0 OR excluded.efirst_ms < efirst_ms)
		THEN excluded.efirst_ms ELSE efirst_ms END,
	elast_ms = max(elast_ms, excluded.elast_ms)`

// addEventColumns adds the event-time columns to the pending and windows
// tables of a file created before they existed: a state file survives an
// upgrade.
func addEventColumns(ctx context.Context, db *sql.DB) error {
	for _, table := range []string{"pending", "windows"} {
		if err := addEventColumnsTo(ctx, db, table); err != nil {
			return err
		}
	}
	return nil
}

func addEventColumnsTo(ctx context.Context, db *sql.DB, table string) error {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return fmt.Errorf("read the %s table's columns: %w", table, err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			_ = rows.Close()
			return fmt.Errorf("read the %s table's columns: %w", table, err)
		}
		have[name] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read the %s table's columns: %w", table, err)
	}
	for _, c := range []string{"efirst_ms", "elast_ms"} {
		if !have[c] {
			if _, err := db.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+c+` INTEGER NOT NULL DEFAULT 0`); err != nil {
				return fmt.Errorf("add column %s to the %s table: %w", c, table, err)
			}
		}
	}
	return nil
}

// SetThread implements Threads.
func (s *SQLite) SetThread(ctx context.Context, key, ref string, ttl time.Duration) error {
	return s.tx(ctx, "set thread", func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.Exec(`DELETE FROM threads WHERE expires <= ?`, ms(now)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT OR REPLACE INTO threads (key, ref, expires) VALUES (?, ?, ?)`, key, ref, ms(now.Add(ttl)))
		return err
	})
}

// Thread implements Threads.
func (s *SQLite) Thread(ctx context.Context, key string) (string, error) {
	var ref string
	err := s.db.QueryRowContext(ctx, `SELECT ref FROM threads WHERE key = ? AND expires > ?`, key, ms(s.now())).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite thread: %w", err)
	}
	return ref, nil
}

var (
	_ State   = (*SQLite)(nil)
	_ Threads = (*SQLite)(nil)
)
