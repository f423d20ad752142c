package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix namespaces Redis keys.
const DefaultPrefix = "trailguard:notify:"

// Redis is a State shared by every replica using the same Redis (one server or
// a Sentinel group; with Redis Cluster give the prefix a hash tag such as
// "{trailguard}:" so that the scripts' keys share a slot). It is safe for
// concurrent use.
//
// Keys, all under the prefix:
//
//	d:<key>     delivery: "c:<token>" while claimed, "d" once delivered (string, TTL)
//	w:<group>   open dedup window: leader, end, and what the leader reports (hash, TTL = window)
//	p:<group>   held-back count: count, first, last, efirst, elast (event times), alert (hash, TTL = window + pending TTL)
//	s:<group>   alert keys already counted, so redeliveries count once (set, same TTL)
//	pending     groups with a held-back count, scored by window end (sorted set)
//	t:<key>     a dedup window's thread for one notifier (string, TTL)
type Redis struct {
	c      redis.UniversalClient
	prefix string
	now    func() time.Time

	// claimant names this process in its claims ("c:<claimant>.<attempt>"),
	// so that a claim Redis applied but whose reply was lost (a timeout, a
	// dropped connection, go-redis retrying) is recognised as ours by the
	// retry instead of deferring the delivery until the claim expires.
	claimant string
	attempt  atomic.Uint64
	// held are the claims this process holds or is asking for, by key: a
	// claim of ours in Redis that is not here is an orphan we may take back;
	// one that is here is another goroutine's delivery, in flight.
	mu   sync.Mutex
	held map[string]hold
}

type hold struct {
	token   string // "" while the claim is being asked for
	expires time.Time
}

// RedisOption configures NewRedis.
type RedisOption func(*Redis)

// WithRedisClock sets the clock for claim and delivery TTLs (default
// time.Now). Expiry is decided against the times the caller passes in, with
// Redis's own TTLs only collecting garbage, so a replay in event time and a
// test's manual clock agree with what Redis keeps.
func WithRedisClock(now func() time.Time) RedisOption { return func(r *Redis) { r.now = now } }

// NewRedis returns a State on c; prefix defaults to DefaultPrefix.
func NewRedis(c redis.UniversalClient, prefix string, opts ...RedisOption) *Redis {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	r := &Redis{c: c, prefix: prefix, now: time.Now, claimant: token()[:16], held: map[string]hold{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Check pings Redis (it satisfies notifiers.Checker, so the dispatcher's Ready
// reports an unreachable Redis at start-up).
func (r *Redis) Check(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// pxOf is a TTL in milliseconds, at least 1 (PX rejects 0).
func pxOf(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// A delivery record's value is "c:<claimant>.<attempt>|<expiry ms>" while
// claimed and "d|<expiry ms>" once delivered; a value without expiry (written
// before expiries were stored) lives as long as its TTL. A live claim by the
// caller's own claimant (ARGV[4]) is taken over: the caller knows it holds no
// such claim (Claim checks), so it is one whose reply was lost.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local exp = tonumber(string.match(v, '|(%d+)$') or '0')
  if exp == 0 or exp > tonumber(ARGV[2]) then
    if string.sub(v, 1, 1) == 'd' then return 'd' end
    if string.match(v, '^c:([^.|]+)%.') ~= ARGV[4] then return 'i' end
  end
end
redis.call('SET', KEYS[1], 'c:' .. ARGV[1] .. '|' .. (tonumber(ARGV[2]) + tonumber(ARGV[3])), 'PX', ARGV[3])
return 'c'`)

// Claim implements State in one script: the first caller wins; a loser is
// told a finished delivery from one in progress. It is idempotent for this
// process: a retry of a claim that Redis applied but whose answer never came
// back succeeds.
func (r *Redis) Claim(ctx context.Context, key string, ttl time.Duration) (Claim, error) {
	now := r.now()
	r.mu.Lock()
	if h, ok := r.held[key]; ok && now.Before(h.expires) {
		r.mu.Unlock()
		return Claim{Status: InFlight}, nil // another goroutine of ours is delivering it
	}
	r.held[key] = hold{expires: now.Add(ttl)}
	r.mu.Unlock()

	t := r.claimant + "." + strconv.FormatUint(r.attempt.Add(1), 10)
	res, err := claimScript.Run(ctx, r.c, []string{r.prefix + "d:" + key}, t, ms(now), pxOf(ttl), r.claimant).Text()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || res != "c" {
		delete(r.held, key)
	}
	if err != nil {
		return Claim{}, fmt.Errorf("redis claim: %w", err)
	}
	switch res {
	case "c":
		r.held[key] = hold{token: t, expires: now.Add(ttl)}
		return Claim{Status: Claimed, Token: t}, nil
	case "d":
		return Claim{Status: Delivered}, nil
	}
	return Claim{Status: InFlight}, nil
}

// forget drops this process's hold on key (after delivery, or a release by
// its holder).
func (r *Redis) forget(key, tok string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.held[key]; ok && (tok == "" || h.token == tok) {
		delete(r.held, key)
	}
}

// MarkDelivered implements State.
func (r *Redis) MarkDelivered(ctx context.Context, key string, ttl time.Duration) error {
	v := "d|" + strconv.FormatInt(ms(r.now().Add(ttl)), 10)
	err := r.c.Set(ctx, r.prefix+"d:"+key, v, time.Duration(pxOf(ttl))*time.Millisecond).Err()
	r.forget(key, "")
	if err != nil {
		return fmt.Errorf("redis mark delivered: %w", err)
	}
	return nil
}

// Compare-and-delete: a claim that expired and was taken by another replica
// must not be released by the first holder.
var releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
local p = 'c:' .. ARGV[1]
if v == p or (v and string.sub(v, 1, #p + 1) == p .. '|') then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// Release implements State.
func (r *Redis) Release(ctx context.Context, key, tok string) error {
	r.forget(key, tok)
	if err := releaseScript.Run(ctx, r.c, []string{r.prefix + "d:" + key}, tok).Err(); err != nil {
		return fmt.Errorf("redis release: %w", err)
	}
	return nil
}

func (r *Redis) keys(group string) []string {
	return []string{r.prefix + "w:" + group, r.prefix + "p:" + group, r.prefix + "s:" + group, r.prefix + "pending"}
}

// dropExpired is the scripts' common prologue: a window that ended, or a
// held-back count past its expiry (by the caller's clock, ARGV[3]), is gone.
const dropExpired = `
local now = tonumber(ARGV[3])
local wend = tonumber(redis.call('HGET', KEYS[1], 'end') or '0')
if wend > 0 and wend <= now then redis.call('DEL', KEYS[1]) end
local pexp = tonumber(redis.call('HGET', KEYS[2], 'expires') or '0')
if pexp > 0 and pexp <= now then
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('ZREM', KEYS[4], ARGV[1])
end
`

// spanEvents widens the pending hash's efirst/elast (event times, ms) to the
// event time in ARGV[n]; 0 means unknown.
func spanEventsLua(n int) string {
	a := "tonumber(ARGV[" + strconv.Itoa(n) + "])"
	return `
if ` + a + ` > 0 then
  local ef = tonumber(redis.call('HGET', KEYS[2], 'efirst') or '0')
  if ef == 0 or ` + a + ` < ef then redis.call('HSET', KEYS[2], 'efirst', ` + a + `) end
  local el = tonumber(redis.call('HGET', KEYS[2], 'elast') or '0')
  if ` + a + ` > el then redis.call('HSET', KEYS[2], 'elast', ` + a + `) end
end`
}

// observeScript: KEYS w, p, s, pending; ARGV group, alertKey, nowMs, windowMs,
// pendingTTLMs, alert, eventMs. Returns {lead, count, first, window, efirst,
// elast}.
var observeScript = redis.NewScript(dropExpired + `
local leader = redis.call('HGET', KEYS[1], 'leader')
if not leader then
  local cnt = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
  local first = redis.call('HGET', KEYS[2], 'first') or '0'
  local efirst = redis.call('HGET', KEYS[2], 'efirst') or '0'
  local elast = redis.call('HGET', KEYS[2], 'elast') or '0'
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('ZREM', KEYS[4], ARGV[1])
  local endms = now + tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], 'leader', ARGV[2], 'end', endms, 'count', cnt, 'first', first, 'efirst', efirst, 'elast', elast)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, cnt, first, ARGV[2], efirst, elast}
end
if leader == ARGV[2] then
  local w = redis.call('HMGET', KEYS[1], 'count', 'first', 'efirst', 'elast')
  return {1, tonumber(w[1]), w[2], leader, w[3] or '0', w[4] or '0'}
end
if redis.call('SADD', KEYS[3], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'count', 1)
  redis.call('HSETNX', KEYS[2], 'first', ARGV[3])
  redis.call('HSET', KEYS[2], 'last', ARGV[3], 'alert', ARGV[6])
` + spanEventsLua(7) + `
end
local endms = tonumber(redis.call('HGET', KEYS[1], 'end'))
redis.call('HSET', KEYS[2], 'expires', endms + tonumber(ARGV[5]))
local ttl = math.max(endms - now, 1) + tonumber(ARGV[5])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[4], endms, ARGV[1])
return {0, tonumber(redis.call('HGET', KEYS[2], 'count')), '0', leader, '0', '0'}`)

// Observe implements State in one script, so concurrent replicas agree on the
// leader and every held-back alert is counted exactly once.
func (r *Redis) Observe(ctx context.Context, o Occurrence) (Verdict, error) {
	res, err := observeScript.Run(ctx, r.c, r.keys(o.Group),
		o.Group, o.AlertKey, ms(o.Now), pxOf(o.Window), pxOf(o.PendingTTL), o.Alert, msOrZero(o.EventTime)).Slice()
	if err != nil {
		return Verdict{}, fmt.Errorf("redis dedup window: %w", err)
	}
	if len(res) != 6 {
		return Verdict{}, fmt.Errorf("redis dedup window: unexpected reply %v", res)
	}
	lead, _ := res[0].(int64)
	count, _ := res[1].(int64)
	window, _ := res[3].(string)
	v := Verdict{Lead: lead == 1, HeldBack: int(count), Window: window}
	if f := msTime(res[2]); count > 0 && v.Lead {
		v.Since, v.EventFirst, v.EventLast = f, msTime(res[4]), msTime(res[5])
	}
	return v, nil
}

// msOrZero is t in Unix ms, or 0 for the zero time (unknown).
func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func msTime(v any) time.Time {
	var n int64
	switch v := v.(type) {
	case string:
		n, _ = strconv.ParseInt(v, 10, 64)
	case int64:
		n = v
	}
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// takeScript: KEYS w, p, s, pending; ARGV group, includeOpen, nowMs. Returns
// the pending hash's count, first, last, alert, efirst, elast, or nil when
// nothing is due.
var takeScript = redis.NewScript(dropExpired + `
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then
  -- a window is open: its count is reported by its end (next leader or flush)
  redis.call('ZADD', KEYS[4], redis.call('HGET', KEYS[1], 'end'), ARGV[1])
  return false
end
local r = redis.call('HMGET', KEYS[2], 'count', 'first', 'last', 'alert', 'efirst', 'elast')
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
if not r[1] then return false end
return r`)

// maxTake bounds one TakePending; the rest waits for the next flush.
const maxTake = 1000

// TakePending implements State.
func (r *Redis) TakePending(ctx context.Context, now time.Time, includeOpen bool) ([]Pending, error) {
	max := strconv.FormatInt(ms(now), 10)
	if includeOpen {
		max = "+inf"
	}
	groups, err := r.c.ZRangeByScore(ctx, r.prefix+"pending", &redis.ZRangeBy{Min: "-inf", Max: max, Count: maxTake}).Result()
	if err != nil {
		return nil, fmt.Errorf("redis pending: %w", err)
	}
	flag := "0"
	if includeOpen {
		flag = "1"
	}
	var out []Pending
	for _, g := range groups {
		res, err := takeScript.Run(ctx, r.c, r.keys(g), g, flag, ms(now)).Slice()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("redis take pending: %w", err)
		}
		if len(res) != 6 {
			continue
		}
		p := Pending{Group: g, First: msTime(res[1]), Last: msTime(res[2]), EventFirst: msTime(res[4]), EventLast: msTime(res[5])}
		if s, ok := res[0].(string); ok {
			p.Count, _ = strconv.Atoi(s)
		}
		if s, ok := res[3].(string); ok {
			p.Alert = []byte(s)
		}
		if p.Count > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// requeueScript: KEYS w, p, s, pending; ARGV group, nowMs, count, first,
// last, alert, ttlMs, eventFirstMs, eventLastMs.
var requeueScript = redis.NewScript(dropExpired + `
redis.call('HINCRBY', KEYS[2], 'count', ARGV[4])
local f = tonumber(redis.call('HGET', KEYS[2], 'first') or '0')
if f == 0 or tonumber(ARGV[5]) < f then redis.call('HSET', KEYS[2], 'first', ARGV[5]) end
local l = tonumber(redis.call('HGET', KEYS[2], 'last') or '0')
if tonumber(ARGV[6]) > l then redis.call('HSET', KEYS[2], 'last', ARGV[6], 'alert', ARGV[7]) end
local exp = now + tonumber(ARGV[8])
if tonumber(redis.call('HGET', KEYS[2], 'expires') or '0') < exp then redis.call('HSET', KEYS[2], 'expires', exp) end
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[8]) then redis.call('PEXPIRE', KEYS[2], ARGV[8]) end
` + spanEventsLua(9) + spanEventsLua(10) + `
redis.call('ZADD', KEYS[4], now, ARGV[1])
return 1`)

// Requeue implements State.
func (r *Redis) Requeue(ctx context.Context, p Pending, now time.Time, ttl time.Duration) error {
	err := requeueScript.Run(ctx, r.c, r.keys(p.Group),
		p.Group, "", ms(now), p.Count, ms(p.First), ms(p.Last), p.Alert, pxOf(ttl), msOrZero(p.EventFirst), msOrZero(p.EventLast)).Err()
	if err != nil {
		return fmt.Errorf("redis requeue: %w", err)
	}
	return nil
}

// SetThread implements Threads. The value carries its expiry by the
// State's clock, as the other keys do; Redis's TTL only collects garbage.
func (r *Redis) SetThread(ctx context.Context, key, ref string, ttl time.Duration) error {
	v := strconv.FormatInt(ms(r.now().Add(ttl)), 10) + " " + ref
	if err := r.c.Set(ctx, r.prefix+"t:"+key, v, ttl).Err(); err != nil {
		return fmt.Errorf("redis set thread: %w", err)
	}
	return nil
}

// Thread implements Threads.
func (r *Redis) Thread(ctx context.Context, key string) (string, error) {
	v, err := r.c.Get(ctx, r.prefix+"t:"+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redis thread: %w", err)
	}
	// A value this code did not write reads as expired.
	exp, ref, _ := strings.Cut(v, " ")
	n, _ := strconv.ParseInt(exp, 10, 64)
	if n <= ms(r.now()) {
		return "", nil
	}
	return ref, nil
}

var (
	_ Threads = (*Redis)(nil)
	_ Threads = (*Memory)(nil)
	_ State   = (*Redis)(nil)
	_ State   = (*Memory)(nil)
)
