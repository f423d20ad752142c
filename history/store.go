package history

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/trailguard/trailguard/alert"
)

// Retention bounds what History keeps.
type Retention struct {
	MaxAge   time.Duration // entries first seen longer ago are deleted
	MaxCount int           // beyond this many, the oldest are deleted
}

// DefaultRetention fits a small disk: an entry (with its raw event) took
// about 6 KiB in SQLite on the bundled samples, so 10 000 of them are about
// 60 MiB.
var DefaultRetention = Retention{MaxAge: 7 * 24 * time.Hour, MaxCount: 10000}

// pruneEvery is how many records go by between prunes, beside Run's timer:
// a burst cannot overshoot MaxCount by more.
const pruneEvery = 256

// History records entries in a Backend and answers the web page's questions.
// It is safe for concurrent use.
type History struct {
	b    Backend
	ret  Retention
	log  *slog.Logger
	now  func() time.Time
	m    *Metrics
	puts atomic.Int64
	// behind: b writes after Put returns (writeBehind), and History prunes
	// after its writes, in its goroutine, rather than in Record.
	behind bool
	stored atomic.Int64 // entries a write behind has stored
	lost   atomic.Int64 // entries lost by a write behind since the last that worked
}

// Options configure New.
type Options struct {
	Retention Retention // zero fields: DefaultRetention's
	Logger    *slog.Logger
	Now       func() time.Time
}

// New returns a History over b.
func New(b Backend, o Options) *History {
	h := &History{b: b, log: cmp.Or(o.Logger, slog.Default()), now: o.Now, m: newMetrics()}
	h.ret.MaxAge = cmp.Or(o.Retention.MaxAge, DefaultRetention.MaxAge)
	h.ret.MaxCount = cmp.Or(o.Retention.MaxCount, DefaultRetention.MaxCount)
	if h.now == nil {
		h.now = time.Now
	}
	h.m.size = b.Size
	if w, ok := b.(writeBehind); ok {
		h.behind = true
		w.reportWrites(h.written)
	}
	return h
}

// writeBehind is implemented by the backends that store entries after Put
// returns (SQLite): they tell History of each write, from the goroutine that
// writes, so that the entries a failed write loses are counted as failed
// writes too, and the retention is applied there.
type writeBehind interface {
	reportWrites(fn func(n int, err error))
}

// written counts the n entries a failed write lost and logs the first
// failure of a run, with its reason, and the end of the run: a file that
// stays locked gives one line, not one per write. Every pruneEvery entries
// stored, it prunes, as Record does for the other backends.
func (h *History) written(n int, err error) {
	if err == nil {
		if lost := h.lost.Swap(0); lost > 0 {
			h.log.Info("alert history written again", "entries_lost", lost)
		}
		if s := h.stored.Add(int64(n)); s/pruneEvery != (s-int64(n))/pruneEvery {
			h.prune(context.Background())
		}
		return
	}
	h.m.writeErrors.Add(float64(n))
	if h.lost.Add(int64(n)) == int64(n) {
		h.log.Warn("alert history entries lost: their write failed (the alerts were handled all the same)",
			"entries", n, "error", err)
	}
}

// Metrics returns the Prometheus collector of h's write errors and size.
func (h *History) Metrics() *Metrics { return h.m }

// Record stores one handling of an alert, merged with the entry of earlier
// handlings of the same alert (a redelivery). A failure is counted in the
// metrics and returned; the caller logs it and goes on.
func (h *History) Record(ctx context.Context, e Entry) error {
	err := h.record(ctx, e)
	if err != nil {
		h.m.writeErrors.Inc()
		return fmt.Errorf("history: record %s: %w", e.ID, err)
	}
	h.m.recorded.WithLabelValues(e.Outcome).Inc()
	if !h.behind && h.puts.Add(1)%pruneEvery == 0 {
		h.prune(ctx)
	}
	return nil
}

func (h *History) record(ctx context.Context, e Entry) error {
	now := h.now().UTC()
	if e.Seen.IsZero() {
		e.Seen = now
	}
	if e.Updated.IsZero() {
		e.Updated = now
	}
	var old *Entry
	if b, err := h.b.Get(ctx, e.ID); err != nil {
		return err
	} else if b != nil {
		if old, err = decode(b); err != nil {
			return err
		}
	}
	e = merge(old, e)
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return h.b.Put(ctx, &e, body)
}

// Get returns the entry with id, or ErrNotFound.
func (h *History) Get(ctx context.Context, id string) (*Entry, error) {
	b, err := h.b.Get(ctx, id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("history: %w", err)
	case b == nil:
		return nil, ErrNotFound
	}
	return decode(b)
}

// Find returns a page of the entries f matches, newest first.
func (h *History) Find(ctx context.Context, f Filter) (Page, error) {
	p, err := h.b.Find(ctx, f)
	if err != nil {
		return Page{}, fmt.Errorf("history: %w", err)
	}
	return p, nil
}

// Each calls fn for every entry f matches, newest first (the NDJSON export).
func (h *History) Each(ctx context.Context, f Filter, fn func(*Entry) error) error {
	return h.b.Each(ctx, f, fn)
}

// Prune applies the retention now.
func (h *History) Prune(ctx context.Context) (int, error) {
	n, err := h.b.Prune(ctx, h.now().Add(-h.ret.MaxAge), h.ret.MaxCount)
	h.m.pruned.Add(float64(n))
	if err != nil {
		return n, fmt.Errorf("history: prune: %w", err)
	}
	return n, nil
}

func (h *History) prune(ctx context.Context) {
	if _, err := h.Prune(ctx); err != nil {
		h.log.WarnContext(ctx, "alert history not pruned", "error", err)
	}
}

// Run prunes every interval until ctx ends, so that age-based retention
// holds while no alert comes.
func (h *History) Run(ctx context.Context, interval time.Duration) {
	for {
		h.prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Count is how many entries share a value.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// RuleHits is one rule's entries: how many, and the last one's time.
type RuleHits struct {
	Rule  string    `json:"rule"`
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// Bucket is one interval of the series: entries by severity name.
type Bucket struct {
	Start  time.Time      `json:"start"`
	Counts map[string]int `json:"counts"`
}

// Stats are the overview's numbers for the entries of one Filter.
type Stats struct {
	From          time.Time      `json:"from"`
	To            time.Time      `json:"to"`
	Step          string         `json:"step"`
	Total         int            `json:"total"`
	BySeverity    map[string]int `json:"by_severity"`
	ByOutcome     map[string]int `json:"by_outcome"`
	TopRules      []Count        `json:"top_rules"`
	TopPrincipals []Count        `json:"top_principals"`
	TopAccounts   []Count        `json:"top_accounts"`
	Rules         []RuleHits     `json:"rules"`
	Series        []Bucket       `json:"series"`
}

// TopN is how many values each top list shows.
const TopN = 10

// Stats counts the entries f matches (paging aside), with a series of
// buckets intervals from f.From to f.To (an open end: the oldest or newest
// entry's time); buckets 0: no series.
func (h *History) Stats(ctx context.Context, f Filter, buckets int) (Stats, error) {
	f.Offset, f.Limit = 0, 0
	s := Stats{From: f.From, To: f.To, BySeverity: map[string]int{}, ByOutcome: map[string]int{}}
	rules, principals, accounts := map[string]int{}, map[string]int{}, map[string]int{}
	last := map[string]time.Time{}
	type point struct {
		at  time.Time
		sev string
	}
	var points []point
	err := h.b.Each(ctx, f, func(e *Entry) error {
		a := &e.Alert
		s.Total++
		s.BySeverity[a.Severity.String()]++
		s.ByOutcome[e.Outcome]++
		rules[a.RuleID]++
		principals[a.Principal]++
		accounts[a.AccountID]++
		if e.Seen.After(last[a.RuleID]) {
			last[a.RuleID] = e.Seen
		}
		if buckets > 0 {
			points = append(points, point{e.Seen, a.Severity.String()})
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("history: stats: %w", err)
	}
	if len(points) > 0 { // newest first
		if s.From.IsZero() {
			s.From = points[len(points)-1].at.Truncate(time.Minute)
		}
		if s.To.IsZero() {
			s.To = points[0].at.Add(time.Minute).Truncate(time.Minute)
		}
	}
	if buckets > 0 && s.To.After(s.From) && !s.From.IsZero() {
		step := max(s.To.Sub(s.From)/time.Duration(buckets), time.Second)
		s.Step = step.String()
		for t := s.From; t.Before(s.To); t = t.Add(step) {
			s.Series = append(s.Series, Bucket{Start: t, Counts: map[string]int{}})
		}
		for _, p := range points {
			if i := int(p.at.Sub(s.From) / step); i >= 0 && i < len(s.Series) {
				s.Series[i].Counts[p.sev]++
			}
		}
	}
	s.TopRules, s.TopPrincipals, s.TopAccounts = top(rules), top(principals), top(accounts)
	for r, n := range rules {
		s.Rules = append(s.Rules, RuleHits{Rule: r, Count: n, Last: last[r]})
	}
	slices.SortFunc(s.Rules, func(a, b RuleHits) int { return cmp.Compare(a.Rule, b.Rule) })
	return s, nil
}

// top is the TopN most frequent values, most first, ties by name.
func top(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name))
	})
	return out[:min(len(out), TopN)]
}

// Severities are the severity names from most to least urgent, the order of
// the chart's legend.
func Severities() []string {
	return []string{alert.Critical.String(), alert.High.String(), alert.Medium.String(), alert.Low.String(), alert.Info.String()}
}
