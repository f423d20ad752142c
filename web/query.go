package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/history"
)

// rangeOpt is a time range the page offers.
type rangeOpt struct {
	Name  string
	Label string
	D     time.Duration
}

// ranges are the time ranges the page offers, besides custom.
var ranges = []rangeOpt{
	{"1h", "last hour", time.Hour},
	{"24h", "last day", 24 * time.Hour},
	{"7d", "last week", 7 * 24 * time.Hour},
	{"all", "everything kept", 0},
}

// defaultRange is the overview's and the table's range when none is asked.
const defaultRange = "24h"

// localTime is how custom range bounds are written (an HTML
// datetime-local input), always in UTC.
const localTime = "2006-01-02T15:04"

// query is a request's filter, as read from its URL, with what the forms
// need to show it again.
type query struct {
	F      history.Filter
	Range  string // one of ranges' names, or "custom"
	FromIn string // the custom bounds as typed
	ToIn   string
	Page   int // 1-based
	vals   url.Values
}

// filterKeys are the URL parameters of a filter, in the order links write them.
var filterKeys = []string{"range", "from", "to", "severity", "rule", "pack", "account", "region", "principal", "source_ip", "outcome", "q"}

// parseQuery reads a filter from v; a value that cannot be read is an
// error naming the parameter.
func parseQuery(v url.Values, now time.Time) (query, error) {
	q := query{Range: v.Get("range"), FromIn: v.Get("from"), ToIn: v.Get("to"), Page: 1, vals: url.Values{}}
	for _, k := range filterKeys {
		if x := strings.TrimSpace(v.Get(k)); x != "" {
			q.vals.Set(k, x)
		}
	}
	if q.Range == "" {
		q.Range = defaultRange
		if q.FromIn != "" || q.ToIn != "" {
			q.Range = "custom"
		}
	}
	switch i := slices.IndexFunc(ranges, func(r rangeOpt) bool { return r.Name == q.Range }); {
	case q.Range == "custom":
		var err error
		if q.F.From, err = parseTime("from", q.FromIn); err != nil {
			return q, err
		}
		if q.F.To, err = parseTime("to", q.ToIn); err != nil {
			return q, err
		}
		if q.F.To.IsZero() {
			q.F.To = now.Add(time.Minute).Truncate(time.Minute)
		}
		if q.F.From.IsZero() {
			q.F.From = q.F.To.Add(-24 * time.Hour)
		}
		if !q.F.From.Before(q.F.To) {
			return q, fmt.Errorf("from (%s) must be before to (%s)", q.FromIn, q.ToIn)
		}
	case i < 0:
		return q, fmt.Errorf("range: %q is not one of 1h, 24h, 7d, all, custom", q.Range)
	case ranges[i].D > 0:
		q.F.To = now.Add(time.Second)
		q.F.From = q.F.To.Add(-ranges[i].D)
	}
	if s := v.Get("severity"); s != "" {
		sev, err := alert.ParseSeverity(s)
		if err != nil {
			return q, fmt.Errorf("severity: %w", err)
		}
		q.F.Severity = sev
	}
	q.F.Rule, q.F.Pack, q.F.Account = v.Get("rule"), v.Get("pack"), v.Get("account")
	q.F.Region, q.F.Principal, q.F.SourceIP = v.Get("region"), v.Get("principal"), v.Get("source_ip")
	q.F.Outcome, q.F.Text = v.Get("outcome"), strings.TrimSpace(v.Get("q"))
	if o := q.F.Outcome; o != "" && !slices.Contains(history.Outcomes(), o) {
		return q, fmt.Errorf("outcome: %q is not one of %s", o, strings.Join(history.Outcomes(), ", "))
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return q, fmt.Errorf("page: %q is not a page number", p)
		}
		q.Page = n
	}
	q.F.Limit = history.DefaultLimit
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > history.MaxLimit {
			return q, fmt.Errorf("limit: %q is not a number from 1 to %d", l, history.MaxLimit)
		}
		q.F.Limit = n
	}
	q.F.Offset = (q.Page - 1) * q.F.Limit
	return q, nil
}

func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{localTime, time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: %q is not a time like 2026-05-01T14:30 (UTC) or RFC 3339", name, s)
}

// With returns the query string of q with key set to val ("" removes it),
// and the page reset: for links that narrow or widen the filter.
func (q query) With(key, val string) string {
	v := url.Values{}
	for k, vs := range q.vals {
		v[k] = vs
	}
	if val == "" {
		v.Del(key)
	} else {
		v.Set(key, val)
	}
	return v.Encode()
}

// PageLink is the query string of page n of q.
func (q query) PageLink(n int) string {
	v := url.Values{}
	for k, vs := range q.vals {
		v[k] = vs
	}
	v.Set("page", strconv.Itoa(n))
	return v.Encode()
}

// Encoded is q's filter as a query string (for the export link).
func (q query) Encoded() string { return q.vals.Encode() }

// Value is the value of a filter parameter, for the forms.
func (q query) Value(key string) string { return q.vals.Get(key) }
