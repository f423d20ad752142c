package history

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keeps entries for replicas that share one history: a sorted set of
// ids scored by first sight (the order, and what retention cuts) and a hash
// of the encoded entries. Filters other than time run here, in Go, over the
// time range's entries; the retention keeps that range small.
type Redis struct {
	c            redis.UniversalClient
	index, store string
}

// NewRedis returns a Redis backend whose keys begin with prefix (default
// "trailguard:").
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = "trailguard:"
	}
	return &Redis{c: c, index: prefix + "history:index", store: prefix + "history:entries"}
}

// Get implements Backend.
func (r *Redis) Get(ctx context.Context, id string) ([]byte, error) {
	b, err := r.c.HGet(ctx, r.store, id).Bytes()
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	return b, err
}

// Put implements Backend: the entry and its index in one transaction.
func (r *Redis) Put(ctx context.Context, e *Entry, body []byte) error {
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.store, e.ID, body)
		p.ZAdd(ctx, r.index, redis.Z{Score: float64(e.Seen.UnixMilli()), Member: e.ID})
		return nil
	})
	return err
}

// batch is how many entries one round trip reads.
const batch = 500

// scan calls fn for the entries f matches, newest first.
func (r *Redis) scan(ctx context.Context, f Filter, fn func(*Entry) error) error {
	rng := &redis.ZRangeBy{Min: "-inf", Max: "+inf", Count: batch}
	if !f.From.IsZero() {
		rng.Min = strconv.FormatInt(f.From.UnixMilli(), 10)
	}
	if !f.To.IsZero() {
		rng.Max = "(" + strconv.FormatInt(f.To.UnixMilli(), 10)
	}
	for ; ; rng.Offset += batch {
		ids, err := r.c.ZRevRangeByScore(ctx, r.index, rng).Result()
		if err != nil || len(ids) == 0 {
			return err
		}
		vals, err := r.c.HMGet(ctx, r.store, ids...).Result()
		if err != nil {
			return err
		}
		for _, v := range vals {
			s, ok := v.(string)
			if !ok {
				continue // pruned between the two reads
			}
			e, err := decode([]byte(s))
			if err != nil {
				return err
			}
			if !f.Match(e) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(ids) < batch {
			return nil
		}
	}
}

// Find implements Backend.
func (r *Redis) Find(ctx context.Context, f Filter) (Page, error) {
	p := Page{Entries: []Entry{}}
	err := r.scan(ctx, f, func(e *Entry) error {
		if p.Total >= f.Offset && len(p.Entries) < f.limit() {
			p.Entries = append(p.Entries, *e)
		}
		p.Total++
		return nil
	})
	return p, err
}

// Each implements Backend.
func (r *Redis) Each(ctx context.Context, f Filter, fn func(*Entry) error) error {
	return r.scan(ctx, f, fn)
}

// pruneScript deletes the ids scored before ARGV[1] and then the lowest
// beyond ARGV[2] entries, from the index (KEYS[1]) and the entries
// (KEYS[2]), in one step: prunes at once (replicas, Run's timer) delete the
// entries beyond the count once, where reading the count and then deleting
// let each delete them again. Ids go to ZREM and HDEL in parts: Lua's
// unpack takes a few thousand values at most.
var pruneScript = redis.NewScript(`
local function drop(ids)
	for i = 1, #ids, 1000 do
		local part = {unpack(ids, i, math.min(i + 999, #ids))}
		redis.call('ZREM', KEYS[1], unpack(part))
		redis.call('HDEL', KEYS[2], unpack(part))
	end
	return #ids
end
local n = drop(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]))
return n + drop(redis.call('ZRANGE', KEYS[1], 0, -tonumber(ARGV[2]) - 1))
`)

// Prune implements Backend.
func (r *Redis) Prune(ctx context.Context, cutoff time.Time, keep int) (int, error) {
	return pruneScript.Run(ctx, r.c, []string{r.index, r.store},
		"("+strconv.FormatInt(cutoff.UnixMilli(), 10), keep).Int()
}

// Size implements Backend: the ids indexed and the memory of both keys.
func (r *Redis) Size(ctx context.Context) (int, int64, error) {
	n, err := r.c.ZCard(ctx, r.index).Result()
	if err != nil {
		return 0, 0, err
	}
	var total int64
	for _, k := range []string{r.index, r.store} {
		b, err := r.c.MemoryUsage(ctx, k).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, 0, err
		}
		total += b
	}
	return int(n), total, nil
}
