// Package notifiers defines what every alert channel implements, and the error
// classification the dispatcher uses to decide whether to retry.
//
// The shape follows Prometheus Alertmanager's notify package: each integration
// (slack, email, stdout) is a small sub-package that knows only how to render and
// send one alert once; suppression, deduplication, routing, retries and backoff
// live once in the dispatch package.
package notifiers

import (
	"context"

	"github.com/trailguard/trailguard/alert"
)

// Notifier sends one alert over one channel, once. It must be safe for concurrent
// use. Notify must not retry: it reports what happened with an error that the
// dispatcher classifies (see Permanent and RetryAfter; anything else is retried).
type Notifier interface {
	// Name identifies the notifier in routes, state keys, logs and metrics. It must
	// be stable across restarts: delivery state is keyed by it.
	Name() string
	// Notify delivers a. note is optional text from the dispatcher (for example how
	// many similar alerts the dedup window held back), rendered by the channel next
	// to the alert; it is empty most of the time.
	Notify(ctx context.Context, a *alert.Alert, note string) error
}

// Checker is implemented by notifiers that can verify their configuration against
// the peer at start-up (credentials, channel, TLS), so that permanent problems such
// as a revoked token surface before the first alert instead of at it.
type Checker interface {
	Check(ctx context.Context) error
}

// Threader is implemented by notifiers that can group a dedup window's
// repeats under its first alert (Slack as a bot): the dispatcher sends them
// the first alert with NotifyLead and every alert the window holds back with
// NotifyReply, instead of a summary when the window ends. Like Notify, both
// make one attempt and classify their errors.
type Threader interface {
	Notifier
	// Threads reports whether this notifier threads (a Slack webhook cannot).
	Threads() bool
	// NotifyLead delivers a, a window's first alert, and returns a reference to
	// the message (opaque to the dispatcher, which keeps it in State for every
	// replica) for the replies.
	NotifyLead(ctx context.Context, a *alert.Alert, note string) (ref string, err error)
	// NotifyReply delivers a as a reply to ref's message and shows on that
	// message that repeats alerts are held back in its window so far.
	NotifyReply(ctx context.Context, ref string, a *alert.Alert, repeats int) error
}
