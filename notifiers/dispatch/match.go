package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// glob matches like path.Match, except that '/' is an ordinary character (ARNs
// are full of them; "arn:aws:iam::*" should match roles too).
func glob(pattern, s string) bool {
	ok, _ := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return ok
}

func checkGlobs(what string, patterns ...string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%s: pattern %q: %w", what, p, err)
		}
	}
	return nil
}

func anyGlob(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if glob(p, s) {
			return true
		}
	}
	return false
}

type route struct {
	name    string
	match   Match
	targets []int // indexes into Dispatcher.notifiers
}

func (m Match) matches(a *alert.Alert) bool {
	return a.Severity >= m.MinSeverity &&
		anyGlob(m.Rules, a.RuleID) &&
		anyGlob(m.EventSources, a.EventSource) &&
		anyGlob(m.Accounts, a.AccountID)
}

// compileRoutes checks routes against the known notifiers.
func compileRoutes(routes []Route, index map[string]int) ([]route, error) {
	if len(routes) == 0 {
		return nil, fmt.Errorf("at least one route is required")
	}
	out := make([]route, 0, len(routes))
	for i, r := range routes {
		what := fmt.Sprintf("route %d", i)
		if r.Name != "" {
			what = fmt.Sprintf("route %q", r.Name)
		}
		m := r.Match
		if err := checkGlobs(what, append(append(append([]string(nil), m.Rules...), m.EventSources...), m.Accounts...)...); err != nil {
			return nil, err
		}
		if m.MinSeverity < alert.SeverityInvalid || m.MinSeverity > alert.Critical {
			return nil, fmt.Errorf("%s: min_severity %d out of range", what, m.MinSeverity)
		}
		if len(r.Notifiers) == 0 {
			return nil, fmt.Errorf("%s: no notifiers", what)
		}
		cr := route{name: r.Name, match: m}
		for _, n := range r.Notifiers {
			idx, ok := index[n]
			if !ok {
				return nil, fmt.Errorf("%s: unknown notifier %q", what, n)
			}
			cr.targets = append(cr.targets, idx)
		}
		out = append(out, cr)
	}
	return out, nil
}

// route returns the notifiers for a, each once, in configuration order.
func (d *Dispatcher) route(a *alert.Alert) []notifiers.Notifier {
	seen := make([]bool, len(d.notifiers))
	var out []notifiers.Notifier
	for _, r := range d.routes {
		if !r.match.matches(a) {
			continue
		}
		for _, i := range r.targets {
			if !seen[i] {
				seen[i] = true
				out = append(out, d.notifiers[i])
			}
		}
	}
	return out
}

type suppression struct {
	Suppression
	warned atomic.Bool // the expiry warning is logged once
}

func compileSuppressions(ss []Suppression) ([]*suppression, error) {
	var probe alert.Alert
	out := make([]*suppression, 0, len(ss))
	for i, s := range ss {
		what := fmt.Sprintf("suppression %d", i)
		if s.Rule == "" && len(s.Where) == 0 {
			return nil, fmt.Errorf("%s: needs a rule or a where (it would silence everything)", what)
		}
		if err := checkGlobs(what, s.Rule); err != nil {
			return nil, err
		}
		for field, p := range s.Where {
			if _, ok := probe.Field(field); !ok {
				return nil, fmt.Errorf("%s: unknown field %q", what, field)
			}
			if err := checkGlobs(what, p); err != nil {
				return nil, err
			}
		}
		out = append(out, &suppression{Suppression: s})
	}
	return out, nil
}

func (s *suppression) expired(now time.Time) bool {
	return !s.Expires.IsZero() && !now.Before(s.Expires)
}

func (s *suppression) matches(a *alert.Alert) bool {
	if s.Rule != "" && !glob(s.Rule, a.RuleID) {
		return false
	}
	for field, p := range s.Where {
		v, _ := a.Field(field)
		if !glob(p, v) {
			return false
		}
	}
	return true
}

func (s *suppression) warnExpired(ctx context.Context, log *slog.Logger) {
	if s.warned.CompareAndSwap(false, true) {
		log.WarnContext(ctx, "suppression expired; ignoring it (remove it from the configuration or extend it)",
			"rule", s.Rule, "where", s.Where, "reason", s.Reason, "owner", s.Owner, "expired", s.Expires)
	}
}

// suppressedBy returns the first live suppression matching a.
func (d *Dispatcher) suppressedBy(ctx context.Context, a *alert.Alert) *suppression {
	now := d.now()
	for _, s := range d.suppressions {
		if s.expired(now) {
			s.warnExpired(ctx, d.log)
			continue
		}
		if s.matches(a) {
			return s
		}
	}
	return nil
}
