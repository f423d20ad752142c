package dispatch

// Outcome is what happened to one alert for one notifier.
type Outcome string

// Outcomes reported to the Observer, once per alert (or summary) and routed
// notifier.
const (
	OutcomeSent       Outcome = "sent"
	OutcomeFailed     Outcome = "failed"     // gave up: permanent error, retries exhausted or cancelled
	OutcomeSuppressed Outcome = "suppressed" // a Suppression matched
	// OutcomeDeduplicated: held back (and counted) by the dedup window.
	OutcomeDeduplicated Outcome = "deduplicated"
	// OutcomeAlreadyDelivered: a redelivered alert this notifier had already sent.
	OutcomeAlreadyDelivered Outcome = "already_delivered"
	// OutcomeInFlight: another dispatcher (replica) is sending it right now; the
	// alert is reported as failed-retryable so its message comes back.
	OutcomeInFlight Outcome = "in_flight"
)

// Observer receives the dispatcher's metrics events. Implementations must be
// safe for concurrent use and fast (they are called inline). See the
// notifiers/metrics package for a Prometheus implementation.
type Observer interface {
	// Notified is called once per alert and routed notifier.
	Notified(notifier string, outcome Outcome)
	// Retried is called before each retry of a failed attempt.
	Retried(notifier string)
}

type nopObserver struct{}

func (nopObserver) Notified(string, Outcome) {}
func (nopObserver) Retried(string)           {}
