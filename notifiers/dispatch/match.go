package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/glob"
	"github.com/trailguard/trailguard/notifiers"
)

// Routes and suppressions come validated by package config; here they are
// only compiled (globs, notifier names to indexes) for matching.

// globs compiles patterns; config has checked them with the same rule, so an
// error means a Config that did not come from config.Parse.
func globs(what string, patterns []string) ([]glob.Pattern, error) {
	out := make([]glob.Pattern, len(patterns))
	for i, p := range patterns {
		g, err := glob.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: pattern %q: %w", what, p, err)
		}
		out[i] = g
	}
	return out, nil
}

// anyMatch reports whether s matches one of gs; no patterns match anything.
func anyMatch(gs []glob.Pattern, s string) bool {
	for _, g := range gs {
		if g.Match(s) {
			return true
		}
	}
	return len(gs) == 0
}

// route is a config.Route compiled.
type route struct {
	minSeverity              alert.Severity
	rules, sources, accounts []glob.Pattern
	targets                  []int // indexes into Dispatcher.notifiers
}

func (r *route) matches(a *alert.Alert) bool {
	return a.Severity >= r.minSeverity &&
		anyMatch(r.rules, a.RuleID) && anyMatch(r.sources, a.EventSource) && anyMatch(r.accounts, a.AccountID)
}

// compileRoutes resolves the notifiers each route names, which only the
// dispatcher can do: config knows names, not the notifiers built from them.
func compileRoutes(routes []config.Route, index map[string]int) ([]route, error) {
	out := make([]route, len(routes))
	for i, r := range routes {
		what := fmt.Sprintf("routes[%d]", i)
		cr := &out[i]
		cr.minSeverity = r.Match.MinSeverity
		var err error
		if cr.rules, err = globs(what+".match.rules", r.Match.Rules); err != nil {
			return nil, err
		}
		if cr.sources, err = globs(what+".match.event_sources", r.Match.EventSources); err != nil {
			return nil, err
		}
		if cr.accounts, err = globs(what+".match.accounts", r.Match.Accounts); err != nil {
			return nil, err
		}
		for _, n := range r.Notifiers {
			idx, ok := index[n]
			if !ok {
				return nil, fmt.Errorf("%s: notifier %q was not built", what, n)
			}
			cr.targets = append(cr.targets, idx)
		}
	}
	return out, nil
}

// route returns the notifiers for a, each once, in configuration order.
func (d *Dispatcher) route(a *alert.Alert) []notifiers.Notifier {
	seen := make([]bool, len(d.notifiers))
	var out []notifiers.Notifier
	for i := range d.routes {
		if !d.routes[i].matches(a) {
			continue
		}
		for _, t := range d.routes[i].targets {
			if !seen[t] {
				seen[t] = true
				out = append(out, d.notifiers[t])
			}
		}
	}
	return out
}

// suppression is a config.Suppression compiled.
type suppression struct {
	config.Suppression
	rule  glob.Pattern
	where []fieldGlob
	// warned is set once the expiry has been logged; config.Parse already
	// warned about a suppression expired when the file was loaded.
	warned atomic.Bool
}

type fieldGlob struct {
	field string
	glob  glob.Pattern
}

func compileSuppressions(ss []config.Suppression) ([]*suppression, error) {
	out := make([]*suppression, len(ss))
	for i, s := range ss {
		what := fmt.Sprintf("suppressions[%d]", i)
		cs := &suppression{Suppression: s}
		gs, err := globs(what+".rule", []string{s.Rule})
		if err != nil {
			return nil, err
		}
		cs.rule = gs[0]
		for field, p := range s.Where {
			gs, err := globs(what+".where."+field, []string{p})
			if err != nil {
				return nil, err
			}
			cs.where = append(cs.where, fieldGlob{field, gs[0]})
		}
		cs.warned.Store(s.ExpiredAtLoad())
		out[i] = cs
	}
	return out, nil
}

func (s *suppression) expired(now time.Time) bool { return s.Expired(now) }

func (s *suppression) matches(a *alert.Alert) bool {
	if !s.rule.Match(a.RuleID) {
		return false
	}
	for _, w := range s.where {
		v, _ := a.Field(w.field)
		if !w.glob.Match(v) {
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
