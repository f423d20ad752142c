package dispatch

import (
	"log/slog"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// Config is what the dispatcher needs: the notifiers built, and the blocks of
// the configuration file as package config validated them (New does not check
// them again; it only resolves the notifier names routes use).
type Config struct {
	// Notifiers by Name(); names must be unique.
	Notifiers []notifiers.Notifier
	// Routes decide which notifiers get an alert: every matching route's
	// notifiers do, each notifier at most once per alert. Without routes
	// nothing is sent (config warns about that).
	Routes []config.Route
	// Suppressions silence alerts before dedup and delivery. One expired
	// already when config.Parse read it (ExpiredAtLoad) was warned about
	// there; one that expires later is warned about once, when it first would
	// have applied.
	Suppressions []config.Suppression
	// Dedup holds back alerts similar to one sent within Window, counts them,
	// and reports the count with the next alert sent for the same key, or in
	// a summary (see Dispatcher.Flush) when none comes. Key lists alert.Field
	// names; an alert's own DedupKey (set by its rule) replaces them, scoped to
	// the rule. A zero Window turns dedup off. The default key is config's.
	Dedup config.Dedup
	// Retry bounds how each notifier's failures are retried.
	Retry RetryPolicy
	// Timeouts bound each attempt of the named notifiers (config's
	// notifiers[].timeout); a notifier not listed gets Retry.AttemptTimeout.
	// A call that does not return within its timeout fails that delivery, and
	// the notifier's later deliveries fail at once until it returns (ErrStuck).
	Timeouts map[string]time.Duration

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
	// Retry.MaxElapsedTime + the longest attempt timeout + 30s.
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
	// Seen, if set, is called with every alert that passed routing,
	// suppression and stateful rules, whether the dedup window then holds it
	// back or not: what `trailguard run` counts for its summary at shutdown.
	Seen func(*alert.Alert)
	// History records every alert handled and its outcome per notifier (see
	// the history package); default none. A failed write is logged, and the
	// alert goes on.
	History Recorder
	// Now is the clock for dedup windows; default time.Now.
	Now func() time.Time
}

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
	// AttemptTimeout bounds each attempt of a notifier without a timeout of
	// its own (Config.Timeouts). Default 30s.
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
