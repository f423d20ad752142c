// Package metrics is a Prometheus dispatch.Observer. The daemon registers it:
//
//	m := metrics.New("trailguard")
//	registry.MustRegister(m)
//	d, err := dispatch.New(dispatch.Config{Observer: m, …})
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailguard/trailguard/notifiers/dispatch"
)

// Metrics counts notifications and retries. It implements dispatch.Observer and
// prometheus.Collector.
type Metrics struct {
	notifications *prometheus.CounterVec
	retries       *prometheus.CounterVec
}

// New returns unregistered metrics under namespace (e.g. "trailguard"):
//
//	<ns>_notifications_total{notifier, outcome}  alerts per notifier and dispatch.Outcome
//	<ns>_notification_retries_total{notifier}    retried attempts
func New(namespace string) *Metrics {
	return &Metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "notifications_total",
			Help:      "Alerts per notifier by outcome: sent, failed, suppressed, deduplicated, already_delivered, in_flight.",
		}, []string{"notifier", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "notification_retries_total",
			Help:      "Notification attempts that failed and were retried.",
		}, []string{"notifier"}),
	}
}

// Notified implements dispatch.Observer.
func (m *Metrics) Notified(notifier string, o dispatch.Outcome) {
	m.notifications.WithLabelValues(notifier, string(o)).Inc()
}

// Retried implements dispatch.Observer.
func (m *Metrics) Retried(notifier string) { m.retries.WithLabelValues(notifier).Inc() }

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.notifications.Describe(ch)
	m.retries.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.notifications.Collect(ch)
	m.retries.Collect(ch)
}

var _ dispatch.Observer = (*Metrics)(nil)
