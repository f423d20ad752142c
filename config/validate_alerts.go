package config

import (
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/glob"
)

// Checks of what alerts go through: notifiers, routes, dedup, suppressions.

// notifiers checks each notifier and returns the set of their names.
func (v *validator) notifiers(ns []Notifier) map[string]bool {
	names := map[string]bool{}
	for i, n := range ns {
		p := fmt.Sprintf("notifiers[%d]", i)
		switch {
		case n.Name == "":
			v.errorf(p+".name", "required")
		case names[n.Name]:
			v.errorf(p+".name", "duplicate notifier name %s", v.show(p+".name", n.Name))
		}
		if n.Name != "" {
			names[n.Name] = true
		}

		v.notifierBlock(p, n)
		if n.Timeout != 0 && (n.Timeout < MinNotifierTimeout || n.Timeout > MaxNotifierTimeout) {
			v.errorf(p+".timeout", "must be between %s and %s (each attempt to send one alert), got %s",
				MinNotifierTimeout, MaxNotifierTimeout, n.Timeout)
		}
	}
	return names
}

// notifierBlock checks that n has exactly the block its type needs, and
// checks that block.
func (v *validator) notifierBlock(p string, n Notifier) {
	blocks := []struct {
		typ   string
		set   bool
		check func(string)
	}{
		{NotifierSlack, n.Slack != nil, func(p string) { v.slack(p, n.Slack) }},
		{NotifierEmail, n.Email != nil, func(p string) { v.email(p, n.Email) }},
		{NotifierWebhook, n.Webhook != nil, func(p string) { v.webhook(p, n.Webhook) }},
		{NotifierPagerDuty, n.PagerDuty != nil, func(p string) { v.pagerDuty(p, n.PagerDuty) }},
		{NotifierTeams, n.Teams != nil, func(p string) { v.teams(p, n.Teams) }},
	}
	const types = "slack, email, stdout, webhook, pagerduty or teams"
	known := n.Type == NotifierStdout
	for _, b := range blocks {
		switch {
		case n.Type == b.typ && b.set:
			known = true
			b.check(p + "." + b.typ)
		case n.Type == b.typ:
			known = true
			v.errorf(p, "type %s needs a %s block", b.typ, b.typ)
		case b.set:
			v.errorf(p+"."+b.typ, "only allowed when type is %s", b.typ)
		}
	}
	switch {
	case n.Type == "":
		v.errorf(p+".type", "required: %s", types)
	case !known:
		v.errorf(p+".type", "expected %s, got %s", types, v.show(p+".type", n.Type))
	}
}

func (v *validator) slack(p string, s *Slack) {
	hasToken, hasHook := s.Token != "", s.WebhookURL != ""
	switch {
	case hasToken && hasHook:
		v.errorf(p, "set token (with channel) or webhook_url, not both")
	case hasToken:
		if s.Channel == "" {
			v.errorf(p+".channel", "required with token")
		}
	case hasHook:
		if s.Channel != "" {
			v.errorf(p+".channel", "not used with webhook_url, which posts to its own channel")
		}
		// The URL is a credential: say what is wrong, never what it is.
		if !isHTTPURL(s.WebhookURL.Reveal()) {
			v.errorf(p+".webhook_url", "expected an http(s) URL (value not shown)")
		}
	default:
		v.errorf(p, "needs token and channel, or webhook_url")
	}
	// The Slack client appends method names to the base URL.
	if !isHTTPURL(s.APIURL) || !strings.HasSuffix(s.APIURL, "/") {
		v.errorf(p+".api_url", "expected an http(s) URL ending in /, got %s", v.show(p+".api_url", s.APIURL))
	}
}

func (v *validator) email(p string, e *Email) {
	if e.Host == "" {
		v.errorf(p+".host", "required")
	}
	if e.Port < 1 || e.Port > 65535 {
		v.errorf(p+".port", "required, between 1 and 65535 (got %d)", e.Port)
	}
	switch e.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		v.errorf(p+".tls", "expected starttls, tls or none, got %s", v.show(p+".tls", e.TLS))
	}
	if (e.Username == "") != (e.Password == "") {
		v.errorf(p, "set username and password together, or neither")
	}
	// Only a relay on this machine may see the password in clear; the email
	// notifier has no switch to send it across a network unencrypted.
	if e.TLS == TLSNone && e.Password != "" && !isLoopback(e.Host) {
		v.errorf(p+".tls", "none would send the password unencrypted to %s; use starttls or tls, or a relay on localhost", v.show(p+".host", e.Host))
	}
	if e.From == "" {
		v.errorf(p+".from", "required")
	} else {
		v.address(p+".from", e.From)
	}
	if len(e.To) == 0 {
		v.errorf(p+".to", "at least one address is required")
	}
	for i, to := range e.To {
		v.address(fmt.Sprintf("%s.to[%d]", p, i), to)
	}
}

func (v *validator) address(p, addr string) {
	if _, err := mail.ParseAddress(addr); err != nil {
		if _, env := v.fromEnv[p]; env {
			v.errorf(p, "invalid address %s", v.show(p, addr)) // the cause may quote it
			return
		}
		v.errorf(p, "invalid address %q: %w", addr, err)
	}
}

func (v *validator) routes(routes []Route, notifiers map[string]bool) {
	if len(routes) == 0 {
		v.warnf("routes", "no routes: alerts are not sent anywhere")
	}
	for i, r := range routes {
		p := fmt.Sprintf("routes[%d]", i)
		if len(r.Notifiers) == 0 {
			v.errorf(p+".notifiers", "at least one notifier is required")
		}
		for j, name := range r.Notifiers {
			if !notifiers[name] {
				pj := fmt.Sprintf("%s.notifiers[%d]", p, j)
				v.errorf(pj, "unknown notifier %s", v.show(pj, name))
			}
		}
		m := r.Match
		v.globs(p+".match.rules", m.Rules)
		v.globs(p+".match.event_sources", m.EventSources)
		for j, acct := range m.Accounts {
			pj := fmt.Sprintf("%s.match.accounts[%d]", p, j)
			if !canMatchAccountID(acct) {
				v.errorf(pj, "expected a 12-digit AWS account id or a pattern of digits, * and ? that can match one (such as 1234*), got %s", v.show(pj, acct))
			}
		}
	}
}

// unrouted warns about notifiers no route uses: alerts never reach them.
func (v *validator) unrouted(ns []Notifier, routes []Route) {
	if len(routes) == 0 {
		return // routes already warned
	}
	for i, n := range ns {
		used := slices.ContainsFunc(routes, func(r Route) bool { return slices.Contains(r.Notifiers, n.Name) })
		if !used && n.Name != "" {
			v.warnf(fmt.Sprintf("notifiers[%d]", i), "notifier %q is not used by any route", n.Name)
		}
	}
}

func (v *validator) dedup(d Dedup) {
	if d.Window < 0 {
		v.errorf("dedup.window", "must not be negative, got %s", d.Window)
	}
	if d.Window > 0 && len(d.Key) == 0 {
		v.errorf("dedup.key", "at least one field is required unless window is 0s")
	}
	for i, k := range d.Key {
		v.field(fmt.Sprintf("dedup.key[%d]", i), k)
	}
	v.unique("dedup.key", d.Key)
}

func (v *validator) suppressions(ss []Suppression) {
	for i := range ss {
		s := &ss[i]
		p := fmt.Sprintf("suppressions[%d]", i)
		if s.Rule == "" {
			v.errorf(p+".rule", "required")
		} else {
			v.glob(p+".rule", s.Rule)
		}
		// Map order is random; sort so the messages come out the same each run.
		keys := make([]string, 0, len(s.Where))
		for k := range s.Where {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v.field(p+".where."+k, k) {
				v.glob(p+".where."+k, s.Where[k])
			}
		}
		// Suppressions silence alerts; who and why must be on record.
		if s.Reason == "" {
			v.errorf(p+".reason", "required")
		}
		if s.Owner == "" {
			v.errorf(p+".owner", "required")
		}
		if s.expiredAtLoad = s.Expired(v.now); s.expiredAtLoad {
			v.warnf(p+".expires", "expired on %s, so the suppression no longer applies", s.Expires.Format(time.RFC3339))
		}
	}
}

// field checks that name is one of the alert fields.
func (v *validator) field(p, name string) bool {
	if _, ok := (&alert.Alert{}).Field(name); ok {
		return true
	}
	v.errorf(p, "unknown field %s; expected one of %s", v.show(p, name), strings.Join(alert.FieldNames(), ", "))
	return false
}

func (v *validator) globs(p string, patterns []string) {
	for i, g := range patterns {
		v.glob(fmt.Sprintf("%s[%d]", p, i), g)
	}
}

// glob checks a pattern with the rule matching will use.
func (v *validator) glob(p, pattern string) {
	if strings.TrimSpace(pattern) == "" {
		v.errorf(p, "empty pattern")
		return
	}
	if _, err := glob.Compile(pattern); err != nil {
		v.errorf(p, "invalid pattern %s: %w", v.show(p, pattern), err)
	}
}

// isLoopback names the hosts go-mail (like net/smtp) sends a PLAIN password
// to without TLS.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// canMatchAccountID reports whether pattern, a glob on account ids, holds
// only digits, * and ?, and can match some 12-digit id: a pattern that never
// can (a typo, a missing digit) would silently route nothing.
func canMatchAccountID(pattern string) bool {
	n, star := 0, false
	for _, c := range pattern {
		switch {
		case c == '*':
			star = true
		case c == '?' || c >= '0' && c <= '9':
			n++
		default:
			return false
		}
	}
	return n == 12 || star && n < 12
}
