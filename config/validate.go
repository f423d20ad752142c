package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// fieldNames are the alert fields dedup keys and suppressions may name.
var fieldNames = []string{FieldRuleID, FieldPrincipal, FieldEventID, FieldAccountID, FieldSourceIP, FieldEventName, FieldRegion}

// validator checks a decoded Config as a whole, reporting with the lines
// the decoder recorded.
type validator struct {
	file     string
	lines    map[string]int
	fromEnv  map[string]string // values that came from the environment: see show
	failed   []string          // paths the decoder already reported
	errs     Errors
	warnings Errors
	now      time.Time
}

func newValidator(file string, lines map[string]int, decodeErrs Errors) *validator {
	v := &validator{file: file, lines: lines, errs: decodeErrs, now: time.Now()}
	for _, e := range decodeErrs {
		if e.Path != "" {
			v.failed = append(v.failed, e.Path)
		}
	}
	return v
}

// line returns the line of path or, when the key is absent from the file,
// of its closest ancestor that is present.
func (v *validator) line(p string) int {
	for ; p != ""; p = parent(p) {
		if l, ok := v.lines[p]; ok {
			return l
		}
	}
	return 0
}

func (v *validator) errorf(p, format string, args ...any) {
	// A value that failed to decode kept its default; complaining about
	// that default as well would only repeat the problem.
	for _, f := range v.failed {
		if within(p, f) || within(f, p) {
			return
		}
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: v.line(p), Path: p, Err: fmt.Errorf(format, args...)})
}

// show quotes the value val of path p for a message or, when it came from
// the environment and so may be a secret, the text the file wrote instead.
func (v *validator) show(p, val string) string {
	if text, ok := v.fromEnv[p]; ok {
		return fmt.Sprintf("%q (value not shown)", text)
	}
	return strconv.Quote(val)
}

func (v *validator) warnf(p, format string, args ...any) {
	v.warnings = append(v.warnings, &Error{File: v.file, Line: v.line(p), Path: p, Err: fmt.Errorf(format, args...)})
}

// warningStrings returns the warnings in line order, formatted like errors.
func (v *validator) warningStrings() []string {
	v.warnings.sort()
	var ws []string
	for _, w := range v.warnings {
		ws = append(ws, w.Error())
	}
	return ws
}

// parent strips the last ".key" or "[i]" from a path.
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// within reports whether path p is anc or lies under it.
func within(p, anc string) bool {
	if !strings.HasPrefix(p, anc) {
		return false
	}
	return len(p) == len(anc) || p[len(anc)] == '.' || p[len(anc)] == '['
}

func (v *validator) validate(c *Config) {
	if c.Log.Format != FormatJSON && c.Log.Format != FormatText {
		v.errorf("log.format", "expected json or text, got %s", v.show("log.format", c.Log.Format))
	}
	v.hostPort("server.listen", c.Server.Listen)
	v.source(c.Source)
	v.nonEmpty("filter.event_sources", c.Filter.EventSources)
	v.rules(c.Rules)
	v.routes(c.Routes, v.notifiers(c.Notifiers))
	v.unrouted(c.Notifiers, c.Routes)
	v.dedup(c.Dedup)
	v.suppressions(c.Suppressions)
	v.state(c.State)
}

func (v *validator) source(s Source) {
	switch s.Type {
	case SourceSQS:
		q := s.SQS
		if q.QueueURL == "" {
			v.errorf("source.sqs.queue_url", "required when source.type is sqs")
		} else {
			v.httpURL("source.sqs.queue_url", q.QueueURL)
		}
		v.optionalURL("source.sqs.endpoint", q.Endpoint)
		// The limits are SQS's own; beyond them ReceiveMessage fails.
		if q.WaitTime < time.Second || q.WaitTime > 20*time.Second {
			v.errorf("source.sqs.wait_time", "must be between 1s and 20s (long polling), got %s", q.WaitTime)
		}
		if q.MaxMessages < 1 || q.MaxMessages > 10 {
			v.errorf("source.sqs.max_messages", "must be between 1 and 10, got %d", q.MaxMessages)
		}
		if q.VisibilityTimeout < 2*time.Second || q.VisibilityTimeout > 12*time.Hour {
			v.errorf("source.sqs.visibility_timeout", "must be between 2s and 12h, got %s", q.VisibilityTimeout)
		}
		if q.Workers < 1 {
			v.errorf("source.sqs.workers", "must be at least 1, got %d", q.Workers)
		}
		v.optionalURL("source.s3.endpoint", s.S3.Endpoint)
		// Notifications name the bucket to read; without an allow-list
		// anyone able to send to the queue could point trailguard anywhere.
		if len(s.S3.AllowedBuckets) == 0 {
			v.errorf("source.s3.allowed_buckets", "at least one bucket is required when source.type is sqs")
		}
		v.nonEmpty("source.s3.allowed_buckets", s.S3.AllowedBuckets)
		if s.S3.ReadTimeout < time.Second || s.S3.ReadTimeout > time.Hour {
			v.errorf("source.s3.read_timeout", "must be between 1s and 1h, got %s", s.S3.ReadTimeout)
		}
	case SourceDir:
		if s.Dir.Path == "" {
			v.errorf("source.dir.path", "required when source.type is dir")
		}
	default:
		v.errorf("source.type", "expected sqs or dir, got %s", v.show("source.type", s.Type))
	}
}

func (v *validator) rules(r Rules) {
	v.nonEmpty("rules.paths", r.Paths)
	v.nonEmpty("rules.packs", r.Packs)
	v.unique("rules.packs", r.Packs)
	if _, ok := r.Data["rules"]; ok {
		v.errorf("rules.data.rules", `"rules" is reserved: the policies themselves live under data.rules`)
	}

	const p = "rules.data.known_networks"
	var networks []any
	if kn, ok := r.Data["known_networks"]; ok && kn != nil {
		if networks, ok = kn.([]any); !ok {
			v.errorf(p, "expected a list of CIDR blocks such as 203.0.113.0/24")
		}
	}
	for i, n := range networks {
		s, _ := n.(string)
		if _, err := netip.ParsePrefix(s); err != nil {
			pi := fmt.Sprintf("%s[%d]", p, i)
			got := fmt.Sprint(n)
			if _, env := v.fromEnv[pi]; env {
				got = v.show(pi, got)
			}
			v.errorf(pi, "expected a CIDR block such as 203.0.113.0/24, got %s", got)
		}
	}
	// Whether known_networks is empty is for the engine to say: policy
	// directories and data files can provide it too.
}

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

		switch n.Type {
		case NotifierSlack:
			if n.Slack == nil {
				v.errorf(p, "type slack needs a slack block")
			} else {
				v.slack(p+".slack", n.Slack)
			}
		case NotifierEmail:
			if n.Email == nil {
				v.errorf(p, "type email needs an email block")
			} else {
				v.email(p+".email", n.Email)
			}
		case NotifierStdout:
		case "":
			v.errorf(p+".type", "required: slack, email or stdout")
		default:
			v.errorf(p+".type", "expected slack, email or stdout, got %s", v.show(p+".type", n.Type))
		}
		if n.Slack != nil && n.Type != NotifierSlack {
			v.errorf(p+".slack", "only allowed when type is slack")
		}
		if n.Email != nil && n.Type != NotifierEmail {
			v.errorf(p+".email", "only allowed when type is email")
		}
	}
	return names
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
	if e.TLS == TLSNone && e.Password != "" {
		v.warnf(p+".tls", "none: the password is sent unencrypted")
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
		if m.MinSeverity != "" && !slices.Contains(severities, m.MinSeverity) {
			v.errorf(p+".match.min_severity", "expected one of %s, got %s", strings.Join(severities, ", "), v.show(p+".match.min_severity", m.MinSeverity))
		}
		v.globs(p+".match.rules", m.Rules)
		v.nonEmpty(p+".match.event_sources", m.EventSources)
		for j, acct := range m.Accounts {
			if !isAccountID(acct) {
				pj := fmt.Sprintf("%s.match.accounts[%d]", p, j)
				v.errorf(pj, "expected a 12-digit AWS account id, got %s", v.show(pj, acct))
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
	for i, s := range ss {
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
		if s.Expired(v.now) {
			v.warnf(p+".expires", "expired on %s, so the suppression no longer applies", s.Expires.Format(time.RFC3339))
		}
	}
}

func (v *validator) state(s State) {
	switch s.Type {
	case StateMemory, StateSQLite:
	case StateRedis:
		if s.Redis.Addr == "" {
			v.errorf("state.redis.addr", "required when state.type is redis")
		} else {
			v.hostPort("state.redis.addr", s.Redis.Addr)
		}
		if s.Redis.DB < 0 {
			v.errorf("state.redis.db", "must not be negative, got %d", s.Redis.DB)
		}
	default:
		v.errorf("state.type", "expected memory, redis or sqlite, got %s", v.show("state.type", s.Type))
	}
}

// field checks that name is one of the alert fields.
func (v *validator) field(p, name string) bool {
	if slices.Contains(fieldNames, name) {
		return true
	}
	v.errorf(p, "unknown field %s; expected one of %s", v.show(p, name), strings.Join(fieldNames, ", "))
	return false
}

func (v *validator) globs(p string, patterns []string) {
	for i, g := range patterns {
		v.glob(fmt.Sprintf("%s[%d]", p, i), g)
	}
}

// glob checks a path.Match pattern; matching against "" checks its syntax.
func (v *validator) glob(p, pattern string) {
	if pattern == "" {
		v.errorf(p, "empty pattern")
		return
	}
	if _, err := path.Match(pattern, ""); err != nil {
		v.errorf(p, "invalid pattern %s: %w", v.show(p, pattern), err)
	}
}

func (v *validator) nonEmpty(p string, list []string) {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.errorf(fmt.Sprintf("%s[%d]", p, i), "must not be empty")
		}
	}
}

func (v *validator) unique(p string, list []string) {
	for i, s := range list {
		if j := slices.Index(list, s); j < i {
			pi := fmt.Sprintf("%s[%d]", p, i)
			v.errorf(pi, "%s is already listed", v.show(pi, s))
		}
	}
}

func (v *validator) hostPort(p, addr string) {
	_, port, err := net.SplitHostPort(addr) // an empty host means every interface
	if _, env := v.fromEnv[p]; env {
		// Neither err nor the port may be shown: they quote the value.
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			v.errorf(p, "expected host:port with a port from 0 to 65535, got %s", v.show(p, addr))
		}
		return
	}
	if err != nil {
		v.errorf(p, "expected host:port: %w", err)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.errorf(p, "invalid port %q in %q", port, addr)
	}
}

func (v *validator) optionalURL(p, s string) {
	if s != "" {
		v.httpURL(p, s)
	}
}

func (v *validator) httpURL(p, s string) {
	if !isHTTPURL(s) {
		v.errorf(p, "expected an http(s) URL, got %s", v.show(p, s))
	}
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
