package daemon

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/trailguard/trailguard/engine"
)

// metrics are the daemon's Prometheus series. Each is registered on the daemon's
// own registry, so tests can run several daemons in one process.
type metrics struct {
	reg *prometheus.Registry

	messagesReceived prometheus.Counter
	messagesDeleted  prometheus.Counter
	messagesFailed   *prometheus.CounterVec // by reason
	visibilityExtend prometheus.Counter
	receiveErrors    prometheus.Counter
	sqsCallErrors    *prometheus.CounterVec // DeleteMessage / ChangeMessageVisibility failures, by op
	refused          *prometheus.CounterVec // notifications or objects refused, by reason
	objectsFetched   *prometheus.CounterVec // by outcome
	filesProcessed   *prometheus.CounterVec // dir source, by outcome

	eventsRead      prometheus.Counter
	eventsEvaluated prometheus.Counter
	eventsFiltered  prometheus.Counter
	eventErrors     prometheus.Counter
	eventsNoID      prometheus.Counter
	evalSeconds     prometheus.Histogram
	lagSeconds      prometheus.Histogram

	alerts *prometheus.CounterVec // by rule, severity (notifications: notifiers/metrics)

	ruleTimeouts *prometheus.CounterVec // by rule: evaluations cut short by rules.eval_timeout

	reloads     *prometheus.CounterVec // by outcome
	rulesLoaded prometheus.Gauge

	// fallbacks are the engines' records evaluated on OPA's evaluator rather
	// than their rules' plans.
	fallbacks *engine.Fallbacks
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{reg: reg}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "trailguard", Name: name, Help: help})
		f(c)
		return c
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "trailguard", Name: name, Help: help}, labels)
		f(c)
		return c
	}
	m.messagesReceived = counter("sqs_messages_received_total", "SQS messages received.")
	m.messagesDeleted = counter("sqs_messages_deleted_total", "SQS messages deleted after every object was read and every alert handed off.")
	m.messagesFailed = vec("sqs_messages_failed_total", "SQS messages left in the queue for redelivery (and, in the end, the dead-letter queue).", "reason")
	m.visibilityExtend = counter("sqs_visibility_extensions_total", "Visibility timeout extensions of messages still being worked on.")
	m.receiveErrors = counter("sqs_receive_errors_total", "Failed ReceiveMessage calls.")
	m.sqsCallErrors = vec("sqs_call_errors_total", "Failed DeleteMessage or ChangeMessageVisibility calls (the message then comes back: at least once).", "op")
	m.refused = vec("notifications_refused_total", "Notifications or objects refused (bucket not allowed, forged key, malformed body).", "reason")
	m.objectsFetched = vec("s3_objects_total", "S3 log objects, by outcome: ok, not_found, error (unreadable), undelivered (read, but an alert could not be delivered).", "outcome")
	m.filesProcessed = vec("files_total", "Local log files read by the dir source, by outcome.", "outcome")
	m.eventsRead = counter("events_read_total", "CloudTrail records read.")
	m.eventsEvaluated = counter("events_evaluated_total", "CloudTrail records evaluated against the rules.")
	m.eventsFiltered = counter("events_filtered_total", "CloudTrail records skipped by filter.event_sources.")
	m.eventsNoID = counter("events_without_id_total", "Records with alerts but no usable eventID (missing or not a string): their alerts are keyed by a hash of the record's bytes.")
	m.eventErrors = counter("event_errors_total", "Records that could not be read or evaluated (each is logged with its position).")
	m.evalSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "trailguard", Name: "evaluation_duration_seconds", Help: "Time to evaluate one record against every rule.",
		Buckets: prometheus.ExponentialBuckets(5e-6, 2.5, 12),
	})
	f(m.evalSeconds)
	m.lagSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "trailguard", Name: "event_lag_seconds", Help: "Now minus eventTime when a record is evaluated (CloudTrail itself delivers within about 5 minutes).",
		Buckets: []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400},
	})
	f(m.lagSeconds)
	m.alerts = vec("alerts_total", "Alerts raised, before suppression, dedup and routing.", "rule", "severity")
	m.ruleTimeouts = vec("rule_timeouts_total", "Records on which a rule ran past rules.eval_timeout and was cancelled (the record's other rules were evaluated without it).", "rule")
	m.reloads = vec("rule_reloads_total", "Policy reloads by outcome (ok, failed).", "outcome")
	m.rulesLoaded = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "trailguard", Name: "rules_loaded", Help: "Rules in the serving rule set."})
	f(m.rulesLoaded)
	m.fallbacks = &engine.Fallbacks{}
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: "trailguard", Name: "plan_fallbacks_total",
		Help: "Records evaluated on OPA's evaluator instead of their rules' query plans (rules.evaluator: plan): a candidate rule without a plan, or a plan evaluation that failed; `trailguard validate` names the rules without a plan.",
	}, func() float64 { return float64(m.fallbacks.Count()) }))
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchStateSize registers trailguard_stateful_records, read from size at
// each scrape: the records stateful rules keep (one per rule and group; each
// expires with its window or forget), so a growth that does not level off
// once windows have turned over is seen. A failed read (Redis down) reports
// NaN rather than a stale number.
func (m *metrics) watchStateSize(size func(context.Context) (int, error)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "trailguard", Name: "stateful_records",
		Help: "Records kept by stateful rules (threshold windows, known values, sequence steps), one per rule and group.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := size(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
}
