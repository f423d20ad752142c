package state

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Records keeps the stateful rules' per-group records (threshold windows,
// known values, sequence steps). Each backend gives one atomic step: read a
// record, change it, write it back, with no other step on that key in between
// (Memory: a mutex; SQLite: a mutex too, the steps written per batch, see
// Batch; Redis: WATCH/MULTI, so replicas see one count). The primitives
// below are written once over it, so every backend counts the same way.
type Records interface {
	// Update runs f on the record stored under key (nil if none) and stores
	// what it returns: the record, its newest event time and how long after it
	// the record is kept (records are dropped once the newest event time seen
	// is past that). f may run more than once (Redis retries a step another
	// replica changed meanwhile).
	Update(ctx context.Context, key string, f func(old []byte) (val []byte, newest time.Time, keep time.Duration, err error)) error
	// Size is the number of records kept, for the state-size metric.
	Size(ctx context.Context) (int, error)
}

// Stateful runs the stateful primitives over Records. All times are event
// times: the same records replayed give the same alerts whatever the wall
// clock, and a late record is counted in its own window.
type Stateful struct{ R Records }

// Candidate is one rule match fed to a primitive.
type Candidate struct {
	Key     string // the rule and group: one record per key
	EventID string
	Time    time.Time
	Value   string // threshold: the distinct value; new_value: the value
}

// Firing is what a primitive reports when its rule fires; the same Firing
// again when the event that made it fire is fed again (a redelivery), so the
// alert is rebuilt and the delivery claim keeps it to one notification.
type Firing struct {
	Count       int       `json:"n"`
	First, Last time.Time // event times of the events that made it fire
	EventIDs    []string  `json:"ids"` // up to MaxEventIDs, in event-time order
	Value       string    `json:"v,omitempty"`
	Known       []string  `json:"k,omitempty"` // new_value: up to MaxKnownValues, most recent first
}

// Bounds on what a Firing and a record carry.
const (
	MaxEventIDs    = 20
	MaxKnownValues = 10
	// Grace is how far behind a group's newest event a record still counts
	// late events (CloudTrail delivers files up to about 15 minutes late).
	Grace = time.Hour
	// maxFirings bounds the firings a record remembers for redeliveries.
	maxFirings = 16
)

type ev struct {
	ID   string `json:"i"`
	T    int64  `json:"t"` // event time, ms
	V    string `json:"v,omitempty"`
	Step int    `json:"s,omitempty"`
	Used bool   `json:"u,omitempty"` // sequence: consumed by a firing
}

type fired struct {
	By string  `json:"b"`           // the event that made it fire (new_value: its hash)
	At int64   `json:"a,omitempty"` // threshold: the end of its window; sequence: its time
	F  *Firing `json:"f,omitempty"` // threshold, sequence: what it reported
}

// record is every primitive's stored form; each uses the fields it needs.
type record struct {
	Events []ev `json:"e,omitempty"` // threshold, sequence: in event-time order
	// new_value keeps a short hash of each value, not the value: a group's
	// record stays small however long its values are (addresses, ARNs,
	// user agents), and only the few values an alert shows are kept as text.
	Seen   map[string]int64 `json:"h,omitempty"` // value hash -> last seen, event time in s
	Recent []string         `json:"r,omitempty"` // the MaxKnownValues+1 values seen last, for known_values
	Start  int64            `json:"s,omitempty"` // new_value: the group's first event, ms
	Fired  []fired          `json:"f,omitempty"`
	// Legacy is new_value's form before values were hashed (value -> last
	// seen, ms); a record read in that form is converted on its next step.
	Legacy map[string]int64 `json:"k,omitempty"`
}

func (r *record) firedBy(id string) *Firing {
	for i := range r.Fired {
		if r.Fired[i].By == id && r.Fired[i].F != nil {
			f := *r.Fired[i].F
			return &f
		}
	}
	return nil
}

func (r *record) fire(by string, at int64, f *Firing) {
	r.Fired = append(r.Fired, fired{By: by, At: at, F: f})
	if len(r.Fired) > maxFirings {
		r.Fired = r.Fired[len(r.Fired)-maxFirings:]
	}
}

func (r *record) has(id string, step int) bool {
	return slices.ContainsFunc(r.Events, func(e ev) bool { return e.ID == id && e.Step == step })
}

func (r *record) insert(e ev) {
	i := sort.Search(len(r.Events), func(i int) bool { return r.Events[i].T > e.T })
	r.Events = slices.Insert(r.Events, i, e)
}

// prune drops events older than horizon before the newest.
func (r *record) prune(horizon time.Duration) {
	if len(r.Events) == 0 {
		return
	}
	cut := r.Events[len(r.Events)-1].T - horizon.Milliseconds()
	i := sort.Search(len(r.Events), func(i int) bool { return r.Events[i].T >= cut })
	r.Events = r.Events[i:]
}

// step loads the record under c.Key, runs f, and stores it.
func (s Stateful) step(ctx context.Context, key string, keep time.Duration, f func(r *record) *Firing) (*Firing, error) {
	var out *Firing
	err := s.R.Update(ctx, key, func(old []byte) ([]byte, time.Time, time.Duration, error) {
		var r record
		if old != nil {
			if err := json.Unmarshal(old, &r); err != nil {
				return nil, time.Time{}, 0, fmt.Errorf("stateful record %s: %w", key, err)
			}
		}
		out = f(&r)
		val, err := json.Marshal(&r)
		return val, time.UnixMilli(r.newest()), keep, err
	})
	if err != nil {
		return nil, err
	}
	// A firing leaves the process (its alert is sent): its step is written
	// first, so that after a crash the redelivered event finds the firing and
	// gives the same alert, rather than counting afresh and maybe firing with
	// other events, which the delivery claim would not recognise.
	if c, ok := s.R.(committer); ok && out != nil {
		if err := c.commit(ctx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *record) newest() int64 {
	n := r.Start
	if len(r.Events) > 0 {
		n = max(n, r.Events[len(r.Events)-1].T)
	}
	for _, t := range r.Seen {
		n = max(n, t*1000)
	}
	return n
}

// Threshold counts c in its group's sliding window and fires once per
// crossing: when some window of length window that contains c holds count
// events (or distinct values, when distinct). A crossing within one window of
// an earlier one is the same episode, so a burst that stays above the count
// alerts once, and the rule re-arms only after a whole window below it.
func (s Stateful) Threshold(ctx context.Context, c Candidate, count int, window time.Duration, distinct bool) (*Firing, error) {
	return s.step(ctx, c.Key, window+Grace, func(r *record) *Firing {
		if r.has(c.EventID, 0) {
			return r.firedBy(c.EventID)
		}
		t, w := c.Time.UnixMilli(), window.Milliseconds()
		r.insert(ev{ID: c.EventID, T: t, V: c.Value})
		r.prune(window + Grace)
		// The windows containing c end at an event time in [t, t+w).
		for _, end := range r.Events {
			if end.T < t || end.T >= t+w {
				continue
			}
			in := windowEvents(r.Events, end.T-w, end.T)
			if countOf(in, distinct) < count {
				continue
			}
			episode := slices.ContainsFunc(r.Fired, func(f fired) bool { return abs(f.At-end.T) < w })
			if episode {
				// The same burst: extend the episode, alert no more.
				r.Fired = append(r.Fired, fired{At: end.T})
				r.Fired = slices.DeleteFunc(r.Fired, func(f fired) bool { return f.By == "" && end.T-f.At > w+Grace.Milliseconds() })
				return nil
			}
			f := firingOf(in, distinct)
			r.fire(c.EventID, end.T, &f)
			return &f
		}
		return nil
	})
}

// windowEvents are the events in (from, to].
func windowEvents(evs []ev, from, to int64) []ev {
	var out []ev
	for _, e := range evs {
		if e.T > from && e.T <= to {
			out = append(out, e)
		}
	}
	return out
}

func countOf(evs []ev, distinct bool) int {
	if !distinct {
		return len(evs)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		seen[e.V] = true
	}
	return len(seen)
}

func firingOf(evs []ev, distinct bool) Firing {
	f := Firing{Count: countOf(evs, distinct), First: time.UnixMilli(evs[0].T), Last: time.UnixMilli(evs[len(evs)-1].T)}
	for _, e := range evs[:min(len(evs), MaxEventIDs)] {
		f.EventIDs = append(f.EventIDs, e.ID)
	}
	return f
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// NewValue fires when c.Value is new for its group: not seen before, or not
// for forget (0: remembered while the record lives). A group's first learn of
// event time is learned silently. Times are kept to the second.
func (s Stateful) NewValue(ctx context.Context, c Candidate, learn, forget time.Duration) (*Firing, error) {
	keep := max(forget, learn) + Grace
	if forget == 0 {
		keep = max(learn, 400*24*time.Hour) // a year of baselines, then the group starts over
	}
	return s.step(ctx, c.Key, keep, func(r *record) *Firing {
		r.upgrade()
		by := shortHash(c.EventID)
		if slices.ContainsFunc(r.Fired, func(f fired) bool { return f.By == by }) {
			// A redelivery: the same alert (its identity is the rule, the
			// group and this event), with the values known now.
			return newValueFiring(r, c)
		}
		t, sec := c.Time.UnixMilli(), c.Time.Unix()
		if r.Seen == nil {
			r.Seen = map[string]int64{}
			r.Start = t
		}
		r.Start = min(r.Start, t)
		h := shortHash(c.Value)
		last, known := r.Seen[h]
		r.Seen[h] = max(last, sec)
		for v, seen := range r.Seen { // forget what was not seen for forget
			if forget > 0 && r.newest()/1000-seen > int64((forget+Grace)/time.Second) {
				delete(r.Seen, v)
			}
		}
		r.remember(c.Value)
		if t < r.Start+learn.Milliseconds() {
			return nil
		}
		if known && (forget == 0 || sec-last < int64(forget/time.Second)) {
			return nil
		}
		r.fire(by, 0, nil)
		return newValueFiring(r, c)
	})
}

func newValueFiring(r *record, c Candidate) *Firing {
	known := make([]string, 0, MaxKnownValues)
	for _, v := range r.Recent {
		if v != c.Value && len(known) < MaxKnownValues {
			known = append(known, v)
		}
	}
	return &Firing{Count: 1, First: c.Time, Last: c.Time, EventIDs: []string{c.EventID}, Value: c.Value, Known: known}
}

// remember puts v among the values seen last (kept as text for known_values),
// most recently seen first; forgotten values leave.
func (r *record) remember(v string) {
	if !slices.Contains(r.Recent, v) {
		r.Recent = append(r.Recent, v)
	}
	r.Recent = slices.DeleteFunc(r.Recent, func(x string) bool { _, ok := r.Seen[shortHash(x)]; return !ok })
	sort.SliceStable(r.Recent, func(i, j int) bool {
		ti, tj := r.Seen[shortHash(r.Recent[i])], r.Seen[shortHash(r.Recent[j])]
		if ti != tj {
			return ti > tj
		}
		return r.Recent[i] < r.Recent[j]
	})
	r.Recent = r.Recent[:min(len(r.Recent), MaxKnownValues+1)]
}

// upgrade converts a new_value record of the earlier form (values as text).
func (r *record) upgrade() {
	if len(r.Legacy) == 0 {
		return
	}
	if r.Seen == nil {
		r.Seen = map[string]int64{}
	}
	for v, ms := range r.Legacy {
		r.Seen[shortHash(v)] = max(r.Seen[shortHash(v)], ms/1000)
	}
	for v := range r.Legacy {
		r.remember(v)
	}
	r.Legacy = nil
	// Its firings were keyed by event id; keyed by hash from now on.
	for i := range r.Fired {
		if r.Fired[i].F != nil {
			r.Fired[i] = fired{By: shortHash(r.Fired[i].By)}
		}
	}
}

// shortHash names a value in 11 characters: 64 bits of SHA-256, so two values
// of one group collide with odds of about n²/2⁶⁵.
func shortHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// Sequence records c as step of its group's sequence and fires when one
// unused event of every step falls within window (in step order when
// ordered), using c. The events of a firing are used up.
func (s Stateful) Sequence(ctx context.Context, c Candidate, step, steps int, window time.Duration, ordered bool) (*Firing, error) {
	return s.step(ctx, c.Key, window+Grace, func(r *record) *Firing {
		if r.has(c.EventID, step) {
			return r.firedBy(c.EventID + "\x00" + fmt.Sprint(step))
		}
		r.insert(ev{ID: c.EventID, T: c.Time.UnixMilli(), Step: step})
		r.prune(window + Grace)
		match := matchSequence(r.Events, c.EventID, step, steps, window.Milliseconds(), ordered)
		if match == nil {
			return nil
		}
		var evs []ev
		for _, i := range match {
			r.Events[i].Used = true
			evs = append(evs, r.Events[i])
		}
		sort.Slice(evs, func(i, j int) bool { return evs[i].T < evs[j].T })
		f := firingOf(evs, false)
		r.fire(c.EventID+"\x00"+fmt.Sprint(step), c.Time.UnixMilli(), &f)
		return &f
	})
}

// matchSequence picks, for each step, the index of one unused event, such
// that the new event (id, step) is one of them, all lie within w, and (ordered)
// their times follow the steps. It prefers the latest events.
func matchSequence(evs []ev, id string, step, steps int, w int64, ordered bool) []int {
	pick := make([]int, steps)
	var try func(s int, lo, hi int64) bool
	try = func(s int, lo, hi int64) bool {
		if s == steps {
			return true
		}
		for i := len(evs) - 1; i >= 0; i-- {
			e := evs[i]
			if e.Step != s || e.Used || (s == step && e.ID != id) {
				continue
			}
			nlo, nhi := min(lo, e.T), max(hi, e.T)
			if nhi-nlo > w {
				continue
			}
			if ordered && s > 0 && e.T < evs[pick[s-1]].T {
				continue
			}
			pick[s] = i
			if try(s+1, nlo, nhi) {
				return true
			}
		}
		return false
	}
	if !try(0, 1<<62, -1<<62) {
		return nil
	}
	return pick
}

// GroupKey encodes a rule and its group's field values as one record key.
func GroupKey(rule string, group []string) string {
	return "sf:" + rule + "\x00" + strings.Join(group, "\x00")
}
