package engine

import (
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Interned values: a record's eventSource, eventName, region, account ids
// and identity types come from small vocabularies, and the rules and alerts
// read them from almost every record they look at. One term made for each
// such value and shared (a term is not changed once made) saves a read two
// allocations, and an alert the string itself.

// internable says whether the values of a member named key repeat enough to
// be interned: CloudTrail's closed vocabularies and its names of services,
// calls, regions and accounts, not ids, addresses or user agents.
func internable(key []byte) bool {
	switch string(key) {
	case "eventSource", "eventName", "awsRegion", "eventType", "eventCategory", "eventVersion",
		"recipientAccountId", "accountId", "type", "mfaAuthenticated":
		return true
	}
	return false
}

// maxInterned bounds the table: past it, values are decoded each time.
const maxInterned = 8192

// internTable maps values to their shared terms. Lookups read an immutable
// snapshot without a lock; new values wait in pending, under mu, until they
// are published in a new snapshot (at once while the table is small, then
// 64 at a time, so that filling it costs little).
type internTable struct {
	snap    atomic.Pointer[map[string]*ast.Term]
	mu      sync.Mutex
	pending map[string]*ast.Term
}

var interned internTable

// term is the shared term of the string s (a plain JSON string's bytes: no
// escapes, valid UTF-8), or nil when the table is full or s is long.
func (t *internTable) term(s []byte) *ast.Term {
	snap := t.snap.Load()
	if snap != nil {
		if v, ok := (*snap)[string(s)]; ok { // no allocation: the conversion is in the index
			return v
		}
	}
	if len(s) > 64 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.pending[string(s)]; ok {
		return v
	}
	snap = t.snap.Load()
	n := 0
	if snap != nil {
		if v, ok := (*snap)[string(s)]; ok {
			return v
		}
		n = len(*snap)
	}
	if n+len(t.pending) >= maxInterned {
		return nil
	}
	v := ast.StringTerm(string(s))
	if t.pending == nil {
		t.pending = map[string]*ast.Term{}
	}
	t.pending[string(s)] = v
	if n < 256 || len(t.pending) >= 64 {
		next := make(map[string]*ast.Term, n+len(t.pending))
		if snap != nil {
			for k, v := range *snap {
				next[k] = v
			}
		}
		for k, v := range t.pending {
			next[k] = v
		}
		t.snap.Store(&next)
		clear(t.pending)
	}
	return v
}
