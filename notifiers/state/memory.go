package state

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// DefaultMaxEntries bounds Memory's delivery records.
const DefaultMaxEntries = 100_000

// MemoryOptions configure NewMemory.
type MemoryOptions struct {
	// MaxEntries bounds the delivery records and, separately, the open dedup
	// windows; when full, the oldest is forgotten first (at worst an alert is
	// sent twice, or a similar one is not held back). Held-back counts are bounded
	// by their TTL and reported by the dispatcher's Flush. Default
	// DefaultMaxEntries.
	MaxEntries int
	// Now is the clock for claim and delivery TTLs; default time.Now. The dedup
	// window uses the time the dispatcher passes in.
	Now func() time.Time
}

// Memory is a State for one process. It is safe for concurrent use.
type Memory struct {
	mu  sync.Mutex
	now func() time.Time
	max int
	ops int

	entries map[string]*list.Element // of *entry
	order   *list.List               // oldest write at the front
	windows map[string]*window
	pending map[string]*pending
	threads map[string]*entry
}

type entry struct {
	key, val string // val: "d" delivered, "c:"+token claimed
	expires  time.Time
}

type window struct {
	leader string
	end    time.Time
	// what the leader reports: counts held back before the window
	count         int
	first         time.Time
	efirst, elast time.Time // their events' span
}

type pending struct {
	count         int
	first, last   time.Time
	efirst, elast time.Time // event times
	alert         []byte
	seen          map[string]struct{}
	expires       time.Time
}

// verdict is what the window's leader is told.
func (w *window) verdict() Verdict {
	return Verdict{Lead: true, HeldBack: w.count, Since: w.first, EventFirst: w.efirst, EventLast: w.elast, Window: w.leader}
}

// NewMemory returns an empty in-memory State.
func NewMemory(o MemoryOptions) *Memory {
	m := &Memory{
		now: o.Now, max: o.MaxEntries,
		entries: map[string]*list.Element{}, order: list.New(),
		windows: map[string]*window{}, pending: map[string]*pending{}, threads: map[string]*entry{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.max <= 0 {
		m.max = DefaultMaxEntries
	}
	return m
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}

// get returns the live entry for key, dropping it if it expired.
func (m *Memory) get(key string, now time.Time) *entry {
	el, ok := m.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		m.order.Remove(el)
		delete(m.entries, key)
		return nil
	}
	return e
}

func (m *Memory) put(key, val string, expires time.Time) {
	if el, ok := m.entries[key]; ok {
		m.order.Remove(el)
	}
	m.entries[key] = m.order.PushBack(&entry{key: key, val: val, expires: expires})
	for m.order.Len() > m.max {
		old := m.order.Remove(m.order.Front()).(*entry)
		delete(m.entries, old.key)
	}
}

// sweep drops expired records now and then, so memory follows the live set
// rather than everything ever seen.
func (m *Memory) sweep(now time.Time) {
	m.ops++
	if m.ops%1024 != 0 {
		return
	}
	for el := m.order.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*entry); !now.Before(e.expires) {
			m.order.Remove(el)
			delete(m.entries, e.key)
		}
		el = next
	}
	for g, w := range m.windows {
		if !now.Before(w.end) {
			delete(m.windows, g)
		}
	}
	for g, p := range m.pending {
		if !now.Before(p.expires) {
			delete(m.pending, g)
		}
	}
	clock := m.now()
	for k, e := range m.threads {
		if !clock.Before(e.expires) {
			delete(m.threads, k)
		}
	}
}

// evictWindow makes room for a window: it drops the ended ones or, if none has,
// the one ending first. Forgetting a window only means its group's next alert is
// sent; the counts already held back stay pending.
func (m *Memory) evictWindow(now time.Time) {
	var oldest string
	var oldestEnd time.Time
	for g, w := range m.windows {
		if !now.Before(w.end) {
			delete(m.windows, g)
			continue
		}
		if oldest == "" || w.end.Before(oldestEnd) {
			oldest, oldestEnd = g, w.end
		}
	}
	if len(m.windows) >= m.max && oldest != "" {
		delete(m.windows, oldest)
	}
}

// Claim implements State.
func (m *Memory) Claim(_ context.Context, key string, ttl time.Duration) (Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	if e := m.get(key, now); e != nil {
		if e.val == "d" {
			return Claim{Status: Delivered}, nil
		}
		return Claim{Status: InFlight}, nil
	}
	t := token()
	m.put(key, "c:"+t, now.Add(ttl))
	return Claim{Status: Claimed, Token: t}, nil
}

// MarkDelivered implements State.
func (m *Memory) MarkDelivered(_ context.Context, key string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(key, "d", m.now().Add(ttl))
	return nil
}

// Release implements State.
func (m *Memory) Release(_ context.Context, key, tok string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.get(key, m.now()); e != nil && e.val == "c:"+tok {
		m.order.Remove(m.entries[key])
		delete(m.entries, key)
	}
	return nil
}

// Observe implements State.
func (m *Memory) Observe(_ context.Context, o Occurrence) (Verdict, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(o.Now)
	w := m.windows[o.Group]
	if w != nil && !o.Now.Before(w.end) {
		w = nil
	}
	p := m.pending[o.Group]
	if p != nil && !o.Now.Before(p.expires) {
		delete(m.pending, o.Group)
		p = nil
	}
	if w == nil {
		// A new window; its leader reports what the previous one held back.
		w = &window{leader: o.AlertKey, end: o.Now.Add(o.Window)}
		if p != nil {
			w.count, w.first, w.efirst, w.elast = p.count, p.first, p.efirst, p.elast
			delete(m.pending, o.Group)
		}
		if len(m.windows) >= m.max {
			m.evictWindow(o.Now)
		}
		m.windows[o.Group] = w
		return w.verdict(), nil
	}
	if w.leader == o.AlertKey {
		return w.verdict(), nil
	}
	if p == nil {
		p = &pending{seen: map[string]struct{}{}}
		m.pending[o.Group] = p
	}
	if _, again := p.seen[o.AlertKey]; !again {
		p.seen[o.AlertKey] = struct{}{}
		p.count++
		if p.first.IsZero() {
			p.first = o.Now
		}
		p.last, p.alert = o.Now, o.Alert
		spanEvents(&p.efirst, &p.elast, o.EventTime)
	}
	p.expires = w.end.Add(o.PendingTTL)
	return Verdict{HeldBack: p.count, Window: w.leader}, nil
}

// SetThread implements Threads.
func (m *Memory) SetThread(_ context.Context, key, ref string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.threads) >= m.max {
		// Expired ones go first; a map still full forgets one at random (its
		// window's later repeats then wait for the claim TTL, and come back).
		for k, e := range m.threads {
			if !now.Before(e.expires) || len(m.threads) >= m.max {
				delete(m.threads, k)
			}
		}
	}
	m.threads[key] = &entry{key: key, val: ref, expires: now.Add(ttl)}
	return nil
}

// Thread implements Threads.
func (m *Memory) Thread(_ context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.threads[key]; e != nil && m.now().Before(e.expires) {
		return e.val, nil
	}
	return "", nil
}

// TakePending implements State.
func (m *Memory) TakePending(_ context.Context, now time.Time, includeOpen bool) ([]Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Pending
	for g, p := range m.pending {
		if !now.Before(p.expires) {
			delete(m.pending, g)
			continue
		}
		if w := m.windows[g]; w != nil && now.Before(w.end) && !includeOpen {
			continue
		}
		out = append(out, Pending{Group: g, Count: p.count, First: p.first, Last: p.last,
			EventFirst: p.efirst, EventLast: p.elast, Alert: p.alert})
		delete(m.pending, g)
	}
	slices.SortFunc(out, func(a, b Pending) int { return a.First.Compare(b.First) })
	return out, nil
}

// Requeue implements State.
func (m *Memory) Requeue(_ context.Context, q Pending, now time.Time, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pending[q.Group]
	if p == nil || !now.Before(p.expires) {
		p = &pending{seen: map[string]struct{}{}}
		m.pending[q.Group] = p
	}
	p.count += q.Count
	if p.first.IsZero() || q.First.Before(p.first) {
		p.first = q.First
	}
	if q.Last.After(p.last) {
		p.last, p.alert = q.Last, q.Alert
	}
	spanEvents(&p.efirst, &p.elast, q.EventFirst)
	spanEvents(&p.efirst, &p.elast, q.EventLast)
	if p.alert == nil {
		p.alert = q.Alert
	}
	if exp := now.Add(ttl); exp.After(p.expires) {
		p.expires = exp
	}
	return nil
}
