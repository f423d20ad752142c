package sqs

import (
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Defaults for Deps.
const (
	DefaultShutdownGrace   = 20 * time.Second
	DefaultErrorBackoffMin = time.Second
	DefaultErrorBackoffMax = 30 * time.Second
)

// Deps is what the daemon supplies beside the queue's configuration
// (config.SQS): where to log and count, and the timings the configuration
// does not expose. Zero fields get the defaults.
type Deps struct {
	// ShutdownGrace is how long in-flight handlers may go on after Run's
	// context is cancelled. Zero means DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// RetryDelay says, for a message whose handler failed, how long until
	// SQS may deliver it again, from its ReceiveCount; nil means
	// DefaultRetryDelay. A negative delay leaves the visibility timeout as
	// it is, so the message returns when it expires.
	RetryDelay func(receiveCount int) time.Duration
	// ErrorBackoffMin and ErrorBackoffMax bound the jittered exponential
	// wait between failed receives. Zero means the defaults.
	ErrorBackoffMin, ErrorBackoffMax time.Duration
	// Logger receives the consumer's logs; nil means slog.Default().
	Logger *slog.Logger
	// Observer is told about what happens, for metrics; nil means none.
	Observer Observer
}

func (d *Deps) setDefaults() {
	if d.ShutdownGrace <= 0 {
		d.ShutdownGrace = DefaultShutdownGrace
	}
	if d.RetryDelay == nil {
		d.RetryDelay = DefaultRetryDelay
	}
	if d.ErrorBackoffMin <= 0 {
		d.ErrorBackoffMin = DefaultErrorBackoffMin
	}
	if d.ErrorBackoffMax <= 0 {
		d.ErrorBackoffMax = DefaultErrorBackoffMax
	}
	d.ErrorBackoffMax = max(d.ErrorBackoffMax, d.ErrorBackoffMin)
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Observer == nil {
		d.Observer = NopObserver{}
	}
}

// DefaultRetryDelay backs off exponentially with the receive count: 5s
// after the first failure, then 10s, 20s, … up to 5 minutes. A failure that
// is about to send the message to the dead-letter queue thus still gets a
// few quick retries for transient trouble (a throttled S3, a Slack outage),
// without waiting a whole visibility timeout each time.
func DefaultRetryDelay(receiveCount int) time.Duration {
	const base, limit = 5 * time.Second, 5 * time.Minute
	if receiveCount < 1 {
		receiveCount = 1
	}
	if receiveCount > 7 { // 5s<<6 is already past the limit
		return limit
	}
	return min(base<<(receiveCount-1), limit)
}

// regionFromQueueURL reads REGION from https://sqs.REGION.amazonaws.com/…
// (and the legacy https://REGION.queue.amazonaws.com/…).
func regionFromQueueURL(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 4 && parts[0] == "sqs" && parts[2] == "amazonaws" {
		return parts[1]
	}
	if len(parts) >= 4 && parts[1] == "queue" && parts[2] == "amazonaws" {
		return parts[0]
	}
	return ""
}
