package history

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// Memory keeps entries in the process (tests, eval, a daemon whose state is
// in memory). Entries are stored encoded, as the other backends store them,
// so that a caller cannot change a stored entry through what Get returned.
type Memory struct {
	mu      sync.Mutex
	entries map[string][]byte
	seen    map[string]time.Time
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{entries: map[string][]byte{}, seen: map[string]time.Time{}}
}

// Get implements Backend.
func (m *Memory) Get(_ context.Context, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries[id], nil
}

// Put implements Backend.
func (m *Memory) Put(_ context.Context, e *Entry, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[e.ID], m.seen[e.ID] = body, e.Seen
	return nil
}

// all decodes the entries f matches, newest first.
func (m *Memory) all(f Filter) ([]*Entry, error) {
	m.mu.Lock()
	bs := make([][]byte, 0, len(m.entries))
	for _, b := range m.entries {
		bs = append(bs, b)
	}
	m.mu.Unlock()
	var out []*Entry
	for _, b := range bs {
		e, err := decode(b)
		if err != nil {
			return nil, err
		}
		if f.Match(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, sortNewest)
	return out, nil
}

// Find implements Backend.
func (m *Memory) Find(_ context.Context, f Filter) (Page, error) {
	es, err := m.all(f)
	if err != nil {
		return Page{}, err
	}
	p := Page{Total: len(es), Entries: []Entry{}}
	for _, e := range es[min(f.Offset, len(es)):min(f.Offset+f.limit(), len(es))] {
		p.Entries = append(p.Entries, *e)
	}
	return p, nil
}

// Each implements Backend.
func (m *Memory) Each(ctx context.Context, f Filter, fn func(*Entry) error) error {
	es, err := m.all(f)
	if err != nil {
		return err
	}
	for _, e := range es {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Prune implements Backend.
func (m *Memory) Prune(_ context.Context, cutoff time.Time, keep int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type aged struct {
		id   string
		seen time.Time
	}
	var rest []aged
	n := 0
	for id, t := range m.seen {
		if t.Before(cutoff) {
			delete(m.entries, id)
			delete(m.seen, id)
			n++
			continue
		}
		rest = append(rest, aged{id, t})
	}
	if len(rest) > keep {
		slices.SortFunc(rest, func(a, b aged) int { return a.seen.Compare(b.seen) })
		for _, r := range rest[:len(rest)-keep] {
			delete(m.entries, r.id)
			delete(m.seen, r.id)
			n++
		}
	}
	return n, nil
}

// Size implements Backend.
func (m *Memory) Size(context.Context) (int, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b int64
	for _, e := range m.entries {
		b += int64(len(e))
	}
	return len(m.entries), b, nil
}

func decode(b []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
