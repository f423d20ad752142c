package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MemoryRecords keeps Records in a map. Expired records are swept as the
// newest event time moves on.
type MemoryRecords struct {
	mu     sync.Mutex
	recs   map[string]memRecord
	newest time.Time
	ops    int
}

type memRecord struct {
	val     []byte
	expires time.Time
}

// NewMemoryRecords returns empty Records in memory.
func NewMemoryRecords() *MemoryRecords { return &MemoryRecords{recs: map[string]memRecord{}} }

// Update implements Records.
func (m *MemoryRecords) Update(_ context.Context, key string, f func([]byte) ([]byte, time.Time, time.Duration, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var old []byte
	if r, ok := m.recs[key]; ok && r.expires.After(m.newest) {
		old = r.val
	}
	val, newest, keep, err := f(old)
	if err != nil {
		return err
	}
	m.recs[key] = memRecord{val: val, expires: newest.Add(keep)}
	m.sweep(newest)
	return nil
}

// sweep drops, now and then, the records whose expiry the newest event time
// seen has passed.
func (m *MemoryRecords) sweep(newest time.Time) {
	if newest.After(m.newest) {
		m.newest = newest
	}
	if m.ops++; m.ops%1024 != 0 {
		return
	}
	for k, r := range m.recs {
		if !r.expires.After(m.newest) {
			delete(m.recs, k)
		}
	}
}

// Size implements Records.
func (m *MemoryRecords) Size(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.recs), nil
}

const statefulSchema = `
CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, val BLOB NOT NULL, expires INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS records_expires ON records (expires);
`

// Update implements Records for Redis with WATCH/MULTI: a step another
// replica changed meanwhile is retried, so replicas see one count. The key
// lives for what the primitive keeps, from now: in the daemon event time
// follows the wall clock within minutes.
func (r *Redis) Update(ctx context.Context, key string, f func([]byte) ([]byte, time.Time, time.Duration, error)) error {
	k := r.prefix + key
	for range 50 {
		err := r.c.Watch(ctx, func(tx *redis.Tx) error {
			old, err := tx.Get(ctx, k).Bytes()
			if errors.Is(err, redis.Nil) {
				old, err = nil, nil
			}
			if err != nil {
				return err
			}
			val, _, ttl, err := f(old)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, k, val, max(ttl, time.Second))
				p.ZAdd(ctx, r.prefix+"records", redis.Z{Score: float64(ms(time.Now().Add(ttl))), Member: key})
				return nil
			})
			return err
		}, k)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return fmt.Errorf("redis stateful record: %w", err)
		}
		return nil
	}
	return fmt.Errorf("redis stateful record %s: too much contention", key)
}

// Size implements Records: the records index, less those past their TTL.
func (r *Redis) Size(ctx context.Context) (int, error) {
	idx := r.prefix + "records"
	if err := r.c.ZRemRangeByScore(ctx, idx, "-inf", fmt.Sprint(ms(time.Now()))).Err(); err != nil {
		return 0, fmt.Errorf("redis state size: %w", err)
	}
	n, err := r.c.ZCard(ctx, idx).Result()
	if err != nil {
		return 0, fmt.Errorf("redis state size: %w", err)
	}
	return int(n), nil
}

var (
	_ Records = (*MemoryRecords)(nil)
	_ Records = (*SQLite)(nil)
	_ Records = (*Redis)(nil)
)
