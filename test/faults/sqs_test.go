package faults

import (
	"net/http"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakeslack"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// sqsOutage is how long the SQS endpoint is unreachable.
const sqsOutage = 10 * time.Second

// The daemon reaches SQS through a TCP proxy that goes down while a message
// is being worked on (its Slack post held) and others wait in the queue.
// /readyz turns 503 naming sqs; the held alert is then delivered but the
// message cannot be deleted. When the proxy is back, /readyz recovers, the
// waiting messages are processed, and the undeleted one comes back and is
// recognised as delivered: every alert once.
func testSQSUnreachable(t *testing.T, p *shared) {
	row := newRow(t, 9, "SQS unreachable 10 s, then back", "daemon's SQS endpoint is a TCP proxy to fauxqs, taken Down (connections closed, new ones refused) while one message is mid-delivery")
	e := newEnv(t, p, 5)
	px := testpeers.StartProxy(t, p.sqs.Endpoint(), true)
	e.SQSEndpoint = px.Endpoint()
	sl := fakeslack.New(t)
	release := make(chan struct{})
	held := fakeslack.OK
	held.Hold = release
	sl.Script(held)
	d := startDaemon(t, "sqs-down", e.config(t, slackOnly(sl.APIURL())...), nil)
	d.waitReady(t, http.StatusOK, 15*time.Second)

	first := th.RootCall(th.Account)
	e.send(t, th.EBCloudTrail(first))
	want := []string{th.Key(th.RuleRoot, first)}
	testpeers.WaitFor(t, 15*time.Second, func() error {
		if n := sl.Attempts(); n != 1 {
			return errorf("%d Slack attempts, want 1", n)
		}
		return nil
	})

	px.Down()
	down := time.Now()
	body := d.waitReady(t, http.StatusServiceUnavailable, 15*time.Second, "sqs: receive from queue")
	t.Logf("/readyz while SQS is unreachable: %q", body)
	// Sent while the daemon cannot see the queue.
	want = append(want, alertLogs(t, e, 2, "sqsdown")...)
	close(release) // the first alert is delivered; its message cannot be deleted
	d.waitMetric(t, `trailguard_sqs_call_errors_total{op="DeleteMessage"}`, 1, 30*time.Second)
	time.Sleep(time.Until(down.Add(sqsOutage))) // only the clock ends the outage

	px.Up()
	d.waitReady(t, http.StatusOK, 60*time.Second)
	e.waitDrained(t, 0, 60*time.Second)
	c := count(want, slackAlerts(t, sl))
	row.finish(t, e, c)
	c.check(t, "slack", true)
	m := d.Metrics(t)
	if m["trailguard_sqs_receive_errors_total"] < 1 {
		t.Errorf("no receive errors counted during the outage")
	}
	wantMetrics(t, d, map[string]float64{
		`trailguard_notifications_total{notifier="slack",outcome="sent"}`:              5,
		`trailguard_notifications_total{notifier="slack",outcome="already_delivered"}`: 1,
		"trailguard_sqs_messages_deleted_total":                                        3,
	})
}
