package history

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are History's Prometheus series: records by outcome, failed
// writes, pruned entries, and the size read at each scrape.
type Metrics struct {
	recorded    *prometheus.CounterVec
	writeErrors prometheus.Counter
	pruned      prometheus.Counter
	entries     *prometheus.Desc
	bytes       *prometheus.Desc
	size        func(context.Context) (int, int64, error)
}

func newMetrics() *Metrics {
	return &Metrics{
		recorded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "trailguard", Name: "history_records_total",
			Help: "Alerts recorded in the alert history, by outcome."}, []string{"outcome"}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "trailguard", Name: "history_write_errors_total",
			Help: "Alert history entries whose write failed (the alert was handled all the same; the failure is logged)."}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "trailguard", Name: "history_pruned_total",
			Help: "Alert history entries deleted by the retention (history.max_age, history.max_alerts)."}),
		entries: prometheus.NewDesc("trailguard_history_entries", "Alerts kept in the alert history.", nil, nil),
		bytes: prometheus.NewDesc("trailguard_history_bytes",
			"Bytes the alert history takes (SQLite: its pages; Redis: its keys' memory; memory: the encoded entries).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.recorded.Describe(ch)
	m.writeErrors.Describe(ch)
	m.pruned.Describe(ch)
	ch <- m.entries
	ch <- m.bytes
}

// Collect implements prometheus.Collector. A failed size read (Redis down)
// reports NaN rather than a stale number.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.recorded.Collect(ch)
	m.writeErrors.Collect(ch)
	m.pruned.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, b, err := m.size(ctx)
	en, by := float64(n), float64(b)
	if err != nil {
		en, by = math.NaN(), math.NaN()
	}
	ch <- prometheus.MustNewConstMetric(m.entries, prometheus.GaugeValue, en)
	ch <- prometheus.MustNewConstMetric(m.bytes, prometheus.GaugeValue, by)
}
