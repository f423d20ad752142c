package faults

import (
	"bytes"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// slackOutage is how long Slack is down: the 30 seconds. The
// dispatcher's default retry policy (up to 2 minutes per alert) must ride it
// out inside one receive of each message.
const slackOutage = 30 * time.Second

// smtpRefusal is how long nothing listens on the SMTP port.
const smtpRefusal = 5 * time.Second

// slackOnly routes every alert to one Slack notifier at apiURL.
func slackOnly(apiURL string) []string {
	return []string{"notifiers:\n" + th.SlackNotifier("slack", apiURL, "xoxb-test-token"), "routes:\n  - notifiers: [slack]\n"}
}

// alertLogs puts n logs of a root call and a denied call each, sends their
// notifications and returns the alert keys they should raise.
func alertLogs(t *testing.T, e *env, n int, name string) []string {
	t.Helper()
	var want []string
	for i := range n {
		root, denied := th.RootCall(th.Account), th.DeniedCall(fmt.Sprintf("%s%d", name, i))
		k := th.LogKey(name + "-")
		e.putLog(t, k, th.Benign(i), root, denied)
		e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
		want = append(want, th.Key(th.RuleRoot, root), th.Key(th.RuleDenied, denied))
	}
	return want
}

// Slack is unreachable (a TCP proxy in front of the recorder resets every
// connection) from the daemon's start for slackOutage, then back. /readyz
// names Slack meanwhile; the dispatcher keeps retrying each alert, the
// consumer keeps the messages invisible; nothing is delivered, failed or
// deleted until Slack is back, and then every alert once. /readyz recovers
// at the next check (every 30 s while one fails).
func testSlackDown(t *testing.T, p *shared) {
	row := newRow(t, 6, "Slack down 30 s, then back", "TCP proxy in front of the Slack recorder resets every connection for 30 s (auth.test too); default retry policy")
	e := newEnv(t, p, 5)
	sl := fakeslack.New(t)
	px := testpeers.StartProxy(t, sl.URL, false)
	down := time.Now()
	d := startDaemon(t, "slack-down", e.config(t, slackOnly(px.Endpoint()+"/")...), nil)
	d.waitReady(t, http.StatusServiceUnavailable, 10*time.Second, "notifiers: slack: slack auth.test")

	want := alertLogs(t, e, 3, "outage")
	d.waitMetric(t, `trailguard_notification_retries_total{notifier="slack"}`, 3, 20*time.Second)
	time.Sleep(time.Until(down.Add(slackOutage))) // only the clock ends an outage
	if n := sl.Attempts(); n != 0 {
		t.Fatalf("%d requests reached Slack through a proxy that is down", n)
	}
	wantMetrics(t, d, map[string]float64{
		"trailguard_sqs_messages_deleted_total":                0,
		`trailguard_sqs_messages_failed_total{reason="error"}`: 0, // still retrying, not given up
	})
	if q, _ := e.left(t); q != 3 {
		t.Fatalf("during the outage %d messages in the queue, want 3", q)
	}
	px.Up()
	e.waitDrained(t, 0, 60*time.Second)
	c := count(want, slackAlerts(t, sl))
	row.finish(t, e, c)
	c.check(t, "slack", true)
	wantMetrics(t, d, map[string]float64{
		"trailguard_sqs_messages_received_total":                          3,
		"trailguard_sqs_messages_deleted_total":                           3,
		`trailguard_notifications_total{notifier="slack",outcome="sent"}`: 6,
	})
	d.waitReady(t, http.StatusOK, 45*time.Second)
}

// Slack answers 429 with Retry-After: 2 twice: each retry waits those 2
// seconds (the default backoff would retry after about 0.5 s), then the
// alert is accepted once.
func testSlackRateLimited(t *testing.T, p *shared) {
	const retryAfter = 2 * time.Second
	row := newRow(t, 7, "Slack 429 Retry-After", "Slack recorder answers chat.postMessage twice with 429 and Retry-After: 2, then ok")
	e := newEnv(t, p, 5)
	sl := fakeslack.New(t)
	limited := fakeslack.Reply{Status: http.StatusTooManyRequests,
		Header: map[string]string{"Retry-After": fmt.Sprint(int(retryAfter / time.Second))},
		Body:   `{"ok":false,"error":"ratelimited"}`}
	sl.Script(limited, limited)
	d := startDaemon(t, "slack-429", e.config(t, slackOnly(sl.APIURL())...), nil)

	root := th.RootCall(th.Account)
	e.send(t, th.EBCloudTrail(root))
	e.waitDrained(t, 0, 30*time.Second)
	c := count([]string{th.Key(th.RuleRoot, root)}, slackAlerts(t, sl))
	row.finish(t, e, c)
	c.check(t, "slack", true)

	at := sl.AttemptTimes()
	if len(at) != 3 {
		t.Fatalf("%d Slack attempts, want 3", len(at))
	}
	for i := 1; i < len(at); i++ {
		// The 429 is answered a moment after the attempt arrives; allow for it.
		if gap := at[i].Sub(at[i-1]); gap < retryAfter-100*time.Millisecond || gap > retryAfter+3*time.Second {
			t.Errorf("attempt %d came %s after the 429, want about %s", i+1, gap.Round(time.Millisecond), retryAfter)
		}
	}
	wantMetrics(t, d, map[string]float64{
		`trailguard_notification_retries_total{notifier="slack"}`: 2,
		"trailguard_sqs_messages_received_total":                  1,
	})
}

// mailAlerts reads the alert keys of accepted mails: the rule from the
// X-Trailguard-Rule header, the event from the body.
func mailAlerts(t *testing.T, srv *fakesmtp.Server) []string {
	t.Helper()
	var keys []string
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("mail does not parse: %v\n%s", err, m.Data)
		}
		id := eventIDRE.FindString(string(m.Data))
		if id == "" {
			t.Fatalf("mail names no event:\n%s", m.Data)
		}
		keys = append(keys, msg.Header.Get("X-Trailguard-Rule")+" "+id)
	}
	return keys
}

// eventIDRE matches this run's event IDs (see newEventID).
var eventIDRE = regexp.MustCompile(fmt.Sprintf("%08x-7e4a-4a6e-9c1d-[0-9a-f]{12}", th.RunID))

// Nothing listens on the SMTP port for smtpRefusal (connections refused),
// then a STARTTLS server starts there. The alerts are retried meanwhile,
// the message kept, and each mail arrives once, over TLS. /readyz names the
// notifier and recovers.
func testSMTPRefused(t *testing.T, p *shared) {
	row := newRow(t, 8, "SMTP refuses connections, then accepts", "nothing listens on the SMTP port for 5 s, then a STARTTLS go-smtp server starts on it")
	e := newEnv(t, p, 5)
	cert, _ := fakesmtp.SelfSigned(t)
	addr := fakesmtp.FreeAddr(t)
	d := startDaemon(t, "smtp-refused", e.config(t,
		"notifiers:\n"+th.EmailNotifier("email", addr, "", ""), "routes:\n  - notifiers: [email]\n"),
		processEnv(t, pemCert(cert.Leaf)))
	d.waitReady(t, http.StatusServiceUnavailable, 10*time.Second, "notifiers: email: ")

	refused := time.Now()
	want := alertLogs(t, e, 1, "smtp")
	d.waitMetric(t, `trailguard_notification_retries_total{notifier="email"}`, 2, 20*time.Second)
	time.Sleep(time.Until(refused.Add(smtpRefusal))) // only the clock ends the refusal
	wantMetrics(t, d, map[string]float64{"trailguard_sqs_messages_deleted_total": 0})

	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS, Addr: addr, Cert: &cert})
	e.waitDrained(t, 0, 60*time.Second)
	c := count(want, mailAlerts(t, srv))
	row.finish(t, e, c)
	c.check(t, "email", true)
	for _, m := range srv.Messages() {
		if !m.TLS {
			t.Errorf("mail sent without TLS")
		}
	}
	wantMetrics(t, d, map[string]float64{
		`trailguard_sqs_messages_failed_total{reason="error"}`:            0,
		`trailguard_notifications_total{notifier="email",outcome="sent"}`: 2,
	})
	d.waitReady(t, http.StatusOK, 45*time.Second)
}
