package dispatch

import (
	"errors"
	"strings"
)

// ErrInFlight is reported for a notifier whose delivery of the alert is claimed
// by another dispatcher at this moment. It is retryable: when the message comes
// back, the delivery is either done (and skipped) or free to try again.
var ErrInFlight = errors.New("another dispatcher is delivering this alert right now")

// ErrStuck is reported for a notifier with a call that has not returned
// although its timeout passed (a write to a pipe nobody reads ignores every
// context). Its deliveries fail at once, without retries, until that call
// returns: the message comes back for them, and the other notifiers go on.
var ErrStuck = errors.New("notifier stuck: an earlier call has not returned past its timeout")

// Failure is one notifier's final error for an alert.
type Failure struct {
	Notifier string
	Err      error
}

// Error is returned by Dispatch when notifiers failed. It deliberately does not
// unwrap to the individual errors: whether the whole dispatch is permanent is
// decided here (it is wrapped in notifiers.Permanent only when every failure
// was), not by whichever failure errors.As finds first.
type Error struct {
	What     string // "alert <rule> <event>" or "summary …"
	Failures []Failure
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.What)
	b.WriteString(": ")
	for i, f := range e.Failures {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Notifier)
		b.WriteString(": ")
		b.WriteString(f.Err.Error())
	}
	return b.String()
}
