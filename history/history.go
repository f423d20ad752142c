// Package history keeps a record of every alert the dispatcher handled —
// delivered, held back by the dedup window, suppressed, counted by a stateful
// rule — with what happened to it at each notifier, for the web page and its
// API. It has three backends behind one interface, like the dispatcher's
// state: memory (tests, eval), SQLite (a single instance; survives restarts)
// and Redis (replicas). Retention is by age and by count.
package history

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
)

// Outcomes of one alert as a whole, the values of Entry.Outcome. The
// per-notifier outcomes (Delivery.Outcome) are the dispatcher's: sent,
// failed, suppressed, deduplicated, already_delivered, in_flight.
const (
	OutcomeDelivered    = "delivered"    // every routed notifier has it
	OutcomeFailed       = "failed"       // at least one notifier does not (yet): it is retried
	OutcomeSuppressed   = "suppressed"   // a suppression matched
	OutcomeDeduplicated = "deduplicated" // held back by the dedup window
	OutcomeSignal       = "signal"       // a stateful rule's signal, recorded and never notified
	OutcomeCounted      = "counted"      // counted by a threshold or new-value rule that did not fire
	OutcomeUnrouted     = "unrouted"     // no route matched
	OutcomeSkipped      = "skipped"      // not dispatched (e.g. a stateful candidate without an event time)
)

// Outcomes lists the entry outcomes, for filters.
func Outcomes() []string {
	return []string{OutcomeDelivered, OutcomeFailed, OutcomeSuppressed, OutcomeDeduplicated,
		OutcomeSignal, OutcomeCounted, OutcomeUnrouted, OutcomeSkipped}
}

// Kinds of entries.
const (
	KindAlert   = "alert"
	KindSummary = "summary" // a dedup summary: the latest held-back alert with a note
)

// Entry is one alert as the dispatcher handled it.
type Entry struct {
	// ID is the dispatcher's delivery identity: a redelivered alert updates
	// its entry rather than adding one.
	ID   string    `json:"id"`
	Kind string    `json:"kind"`
	Seen time.Time `json:"seen"` // when it was first handled
	// Updated is when it was last handled (a redelivery, a retry).
	Updated    time.Time   `json:"updated"`
	Outcome    string      `json:"outcome"`
	Note       string      `json:"note,omitempty"` // the dedup note sent with it
	Deliveries []Delivery  `json:"deliveries,omitempty"`
	Alert      alert.Alert `json:"alert"`
}

// Delivery is what happened to an entry at one notifier.
type Delivery struct {
	Notifier string    `json:"notifier"`
	Outcome  string    `json:"outcome"`
	At       time.Time `json:"at"`
}

// Pack is the rule pack an alert's rule belongs to: the first part of its id.
func (e *Entry) Pack() string {
	p, _, _ := strings.Cut(e.Alert.RuleID, ".")
	return p
}

// OutcomeOf is an entry's outcome from its deliveries; status is what the
// dispatcher said when no notifier was reached (unrouted, signal, …).
func OutcomeOf(ds []Delivery, status string) string {
	if len(ds) == 0 {
		return cmp.Or(status, OutcomeSkipped)
	}
	rank := map[string]int{"failed": 5, "in_flight": 5, "sent": 4, "already_delivered": 4, "deduplicated": 2, "suppressed": 1}
	best := ds[0].Outcome
	for _, d := range ds[1:] {
		if rank[d.Outcome] > rank[best] {
			best = d.Outcome
		}
	}
	switch best {
	case "failed", "in_flight":
		return OutcomeFailed
	case "sent", "already_delivered":
		return OutcomeDelivered
	case "deduplicated":
		return OutcomeDeduplicated
	case "suppressed":
		return OutcomeSuppressed
	}
	return cmp.Or(status, OutcomeSkipped)
}

// merge folds a new handling of an alert into its entry: the first sight
// stays, and a notifier that sent it keeps "sent" (with its time) when a
// redelivery finds it already delivered.
func merge(old *Entry, e Entry) Entry {
	if old == nil {
		return e
	}
	e.Seen = old.Seen
	byName := map[string]int{}
	for i, d := range e.Deliveries {
		byName[d.Notifier] = i
	}
	for _, od := range old.Deliveries {
		i, ok := byName[od.Notifier]
		switch {
		case !ok:
			e.Deliveries = append(e.Deliveries, od)
		case od.Outcome == "sent" && e.Deliveries[i].Outcome == "already_delivered":
			e.Deliveries[i] = od
		}
	}
	if len(e.Deliveries) > 0 {
		e.Outcome = OutcomeOf(e.Deliveries, e.Outcome)
	}
	if e.Note == "" {
		e.Note = old.Note
	}
	return e
}

// Filter selects entries; every set field must match. Times are on Seen.
type Filter struct {
	From, To  time.Time      // From inclusive, To exclusive; zero = open
	Severity  alert.Severity // exact; zero = any
	Rule      string
	Pack      string
	Account   string
	Region    string
	Principal string
	SourceIP  string
	Outcome   string
	// Text is a case-insensitive substring of the searchable fields (see
	// searchText).
	Text string

	Offset, Limit int // paging for Find; Limit 0 = DefaultLimit
}

// DefaultLimit and MaxLimit bound a page of Find.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

func (f Filter) limit() int {
	if f.Limit <= 0 {
		return DefaultLimit
	}
	return min(f.Limit, MaxLimit)
}

// Match reports whether e passes f (the backends that filter in Go use it;
// SQLite says the same in SQL, and one test suite holds them to it).
func (f Filter) Match(e *Entry) bool {
	a := &e.Alert
	eq := func(want, got string) bool { return want == "" || want == got }
	return (f.From.IsZero() || !e.Seen.Before(f.From)) &&
		(f.To.IsZero() || e.Seen.Before(f.To)) &&
		(f.Severity == 0 || f.Severity == a.Severity) &&
		eq(f.Rule, a.RuleID) && eq(f.Pack, e.Pack()) && eq(f.Account, a.AccountID) &&
		eq(f.Region, a.Region) && eq(f.Principal, a.Principal) && eq(f.SourceIP, a.SourceIP) &&
		eq(f.Outcome, e.Outcome) &&
		(f.Text == "" || strings.Contains(searchText(e), strings.ToLower(f.Text)))
}

// searchText is what free-text search looks in, lower-cased.
func searchText(e *Entry) string {
	a := &e.Alert
	return strings.ToLower(strings.Join([]string{a.RuleID, a.Title, a.Message, a.EventName, a.EventSource,
		a.EventID, a.Principal, a.AccountID, a.Region, a.SourceIP, a.UserAgent, a.ErrorCode, e.Note}, "\n"))
}

// Page is one page of Find, newest first, and how many entries match in all.
type Page struct {
	Entries []Entry `json:"alerts"`
	Total   int     `json:"total"`
}

// Backend stores entries. Implementations are safe for concurrent use.
type Backend interface {
	// Get returns the encoded entry with id, or nil when there is none.
	Get(ctx context.Context, id string) ([]byte, error)
	// Put stores e, encoded as body, replacing the entry with its ID.
	Put(ctx context.Context, e *Entry, body []byte) error
	// Find returns a page of the entries f matches, newest first.
	Find(ctx context.Context, f Filter) (Page, error)
	// Each calls fn for every entry f matches (paging aside), newest first;
	// fn's error stops it and is returned.
	Each(ctx context.Context, f Filter, fn func(*Entry) error) error
	// Prune deletes the entries seen before cutoff and the oldest beyond keep.
	Prune(ctx context.Context, cutoff time.Time, keep int) (int, error)
	// Size reports the entries stored and the bytes they take (an estimate
	// where the backend cannot say exactly).
	Size(ctx context.Context) (entries int, bytes int64, err error)
}

// ErrNotFound is returned by History.Get for an unknown id.
var ErrNotFound = errors.New("history: no such alert")

// sortNewest orders entries newest first; ties by id, so pages are stable.
func sortNewest(a, b *Entry) int {
	if c := b.Seen.Compare(a.Seen); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}
