// Package state holds what the dispatcher must remember between deliveries and,
// with Redis, share between replicas: which alerts each notifier has already
// delivered (so a redelivered SQS message does not notify twice) and the dedup
// windows' counters (so similar alerts are counted, and reported, once).
//
// Three implementations: Memory (tests, eval), SQLite for a single replica
// that must not forget across restarts, Redis for several.
package state

import (
	"context"
	"time"
)

// State is implemented by Memory and Redis. Keys and groups are opaque strings
// chosen by the dispatcher (hashes); implementations may prefix them.
type State interface {
	// Claim reserves the delivery identified by key for ttl, so that of two
	// replicas handling the same alert only one sends it. The result says whether
	// the caller now holds the claim, the delivery already happened, or another
	// holder is sending it right now.
	Claim(ctx context.Context, key string, ttl time.Duration) (Claim, error)
	// MarkDelivered records that the delivery happened; it is remembered for ttl.
	MarkDelivered(ctx context.Context, key string, ttl time.Duration) error
	// Release gives up a claim that did not lead to a delivery, so a redelivery
	// can try again. Only the holder's token releases it.
	Release(ctx context.Context, key, token string) error

	// Observe records one alert in its dedup group and says whether to send it.
	Observe(ctx context.Context, o Occurrence) (Verdict, error)
	// TakePending removes and returns the held-back counts that are due for a
	// summary: those whose window has ended, or all of them with includeOpen.
	TakePending(ctx context.Context, now time.Time, includeOpen bool) ([]Pending, error)
	// Requeue puts back counts taken by TakePending whose summary could not be
	// sent, so a later flush tries again; ttl is how long they may wait.
	Requeue(ctx context.Context, p Pending, now time.Time, ttl time.Duration) error
}

// ClaimStatus is the outcome of Claim.
type ClaimStatus int

const (
	// Claimed: the caller holds the claim and should send, then MarkDelivered or
	// Release.
	Claimed ClaimStatus = iota
	// Delivered: the delivery already happened; do not send again.
	Delivered
	// InFlight: someone else holds the claim and may be sending right now.
	InFlight
)

func (s ClaimStatus) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Delivered:
		return "delivered"
	case InFlight:
		return "in flight"
	}
	return "unknown"
}

// Claim is Claim's result; Token is set when Status is Claimed.
type Claim struct {
	Status ClaimStatus
	Token  string
}

// Occurrence is one alert seen by the dedup window.
type Occurrence struct {
	Group    string // the dedup group (the hashed dedup key)
	AlertKey string // the alert's identity (hashed alert.Key()), stable across redeliveries
	// Alert is the alert encoded as JSON; the latest held-back one is kept to
	// represent the group in a summary.
	Alert []byte
	Now   time.Time
	// EventTime is when the alert's event happened (zero: unknown); the
	// held-back counts keep the earliest and latest, so a summary speaks of
	// the events' time, not of when they were processed.
	EventTime  time.Time
	Window     time.Duration
	PendingTTL time.Duration // how long held-back counts wait for a report after their window
}

// Verdict is Observe's answer.
type Verdict struct {
	// Lead is true for the first alert of a window and for redeliveries of that
	// same alert: send it. Otherwise the alert was held back and counted (once,
	// however often it is redelivered).
	Lead bool
	// HeldBack and Since, for a lead, report the alerts held back before this
	// window that no summary has reported yet.
	HeldBack int
	Since    time.Time
	// EventFirst and EventLast, for a lead, span the event times of the
	// alerts HeldBack counts (zero when none was known).
	EventFirst, EventLast time.Time
	// Window names the dedup window the alert fell in (its first alert's key):
	// a lead and the alerts it holds back share it, the next window differs.
	// For an alert held back, HeldBack is how many the window holds back so
	// far, this one included.
	Window string
}

// Threads is implemented by the States that remember, per dedup window and
// notifier, the message holding the window's thread (a Slack ts), so that
// every replica posts a window's repeats as replies to one first message.
type Threads interface {
	// SetThread records ref under key for ttl, replacing what was there.
	SetThread(ctx context.Context, key, ref string, ttl time.Duration) error
	// Thread returns the ref recorded under key, or "" when none is.
	Thread(ctx context.Context, key string) (string, error)
}

// Pending is a group's held-back count awaiting a report.
type Pending struct {
	Group       string
	Count       int
	First, Last time.Time
	// EventFirst and EventLast span the held-back alerts' event times (zero
	// when none was known).
	EventFirst, EventLast time.Time
	Alert                 []byte // the latest held-back alert, JSON
}

// spanEvents widens [first, last] to include t (a zero t changes nothing; a
// zero first or last is unset).
func spanEvents(first, last *time.Time, t time.Time) {
	if t.IsZero() {
		return
	}
	if first.IsZero() || t.Before(*first) {
		*first = t
	}
	if last.IsZero() || t.After(*last) {
		*last = t
	}
}
