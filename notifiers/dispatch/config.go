package dispatch

import (
	"log/slog"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// Config is the dispatcher's configuration as plain values; the daemon translates
// its YAML into it. Only Notifiers and Routes are required.
type Config struct {
	// Notifiers by Name(); names must be unique.
	Notifiers []notifiers.Notifier
	// Routes decide which notifiers get an alert: every matching route's
	// notifiers do, each notifier at most once per alert. At least one is needed.
	Routes []Route
	// Suppressions silence alerts before dedup and routing.
	Suppressions []Suppression
	// Dedup holds back similar alerts; the zero value turns it off.
	Dedup Dedup
	// Retry bounds how each notifier's failures are retried.
	Retry RetryPolicy

	// State remembers deliveries and dedup counters; default an in-memory State.
	// Use a state.Redis shared by all replicas when there is more than one.
	State state.State
	// Records keeps stateful rules' counts; default State when it is also
	// state.Records (SQLite, Redis), else memory.
	Records state.Records
	// DeliveredTTL is how long a delivery is remembered, so a redelivered SQS
	// message does not notify twice; make it longer than a message can keep
	// coming back. Default 24h.
	DeliveredTTL time.Duration
	// ClaimTTL is how long a replica may hold a delivery while sending before
	// another may take over (it outlives a crash). Default
	// Retry.MaxElapsedTime + Retry.AttemptTimeout + 30s.
	ClaimTTL time.Duration
	// PendingTTL is how long held-back counts wait for their report after their
	// window ends (Flush normally reports them within FlushInterval). Default 24h.
	PendingTTL time.Duration
	// FlushInterval is how often Run reports held-back counts. Default 1m.
	FlushInterval time.Duration

	// Logger receives the dispatcher's logs; default slog.Default().
	Logger *slog.Logger
	// Observer receives metrics events; default none.
	Observer Observer
	// Now is the clock for dedup windows; default time.Now.
	Now func() time.Time
}

// Route sends matching alerts to the named notifiers.
type Route struct {
	// Name is for logs only.
	Name      string
	Match     Match
	Notifiers []string
}

// Match selects alerts; the zero Match selects every alert. Lists are ORed
// within a field and ANDed across fields; an empty list matches anything.
// Patterns are globs (path.Match syntax: *, ?, [a-z], \ escapes) in which '/' is
// an ordinary character, so "arn:aws:iam::*" matches "arn:aws:iam::1:role/x".
type Match struct {
	MinSeverity  alert.Severity // alerts at least this severe; zero means any
	Rules        []string       // globs on the rule id, e.g. "iam.*"
	EventSources []string       // globs on eventSource, e.g. "*.amazonaws.com"
	Accounts     []string       // globs on the account id
}

// Suppression silences alerts that match Rule and every Where entry, until
// Expires.
type Suppression struct {
	// Rule is a glob on the rule id; empty matches any rule (then Where must not
	// be empty).
	Rule string
	// Where maps alert field names (as alert.Field knows them: principal,
	// source_ip, account_id, …) to globs.
	Where map[string]string
	// Reason and Owner say why and who to ask; they are logged with each
	// suppressed alert.
	Reason, Owner string
	// Expires ends the suppression; zero means never. Expired suppressions are
	// ignored, with a warning logged once.
	Expires time.Time
}

// Dedup holds back alerts similar to one sent within Window, counts them, and
// reports the count with the next alert sent for the same key, or in a summary
// (see Dispatcher.Flush) when none comes.
type Dedup struct {
	// Window is how long after an alert similar ones are held back; 0 turns
	// dedup off.
	Window time.Duration
	// Key lists the alert fields (alert.Field names) that make alerts similar;
	// default rule_id, account_id, principal. An alert's own DedupKey (set by its
	// rule) replaces these fields; it is scoped to the rule.
	Key []string
}

// DefaultDedupKey is used when Dedup.Key is empty.
var DefaultDedupKey = []string{"rule_id", "account_id", "principal"}

// RetryPolicy bounds retries of one notifier for one alert: exponential backoff
// with jitter, or the delay the peer asked for (RetryAfter errors).
type RetryPolicy struct {
	InitialInterval     time.Duration // default 500ms
	MaxInterval         time.Duration // default 30s
	Multiplier          float64       // default 2
	RandomizationFactor float64       // jitter, ±factor of the interval; default 0.5; negative means none
	// MaxElapsedTime stops retrying once the next attempt would start later than
	// this after the first; the alert then fails with a retryable error (and its
	// SQS message comes back). Default 2m.
	MaxElapsedTime time.Duration
	// AttemptTimeout bounds each attempt. Default 30s.
	AttemptTimeout time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.InitialInterval <= 0 {
		p.InitialInterval = 500 * time.Millisecond
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 30 * time.Second
	}
	if p.Multiplier < 1 {
		p.Multiplier = 2
	}
	switch {
	case p.RandomizationFactor == 0:
		p.RandomizationFactor = 0.5
	case p.RandomizationFactor < 0:
		p.RandomizationFactor = 0
	}
	if p.MaxElapsedTime <= 0 {
		p.MaxElapsedTime = 2 * time.Minute
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 30 * time.Second
	}
	return p
}
