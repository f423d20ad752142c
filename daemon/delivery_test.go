package daemon_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/trailguard/trailguard/daemon"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

func newSlack(t *testing.T) *fakeslack.Server { return fakeslack.New(t) }

// slackCounts maps each event id to the number of Slack posts naming it.
func slackCounts(sl *fakeslack.Server, recs []th.Record) map[string]int {
	m := map[string]int{}
	for _, p := range sl.Posts() {
		for _, r := range recs {
			if strings.Contains(p.Get("blocks"), r.ID()) {
				m[r.ID()]++
			}
		}
	}
	return m
}

func slackConfig(sl *fakeslack.Server, more ...string) []string {
	return append([]string{"notifiers:\n" + th.SlackNotifier("slack", sl.APIURL(), "xoxb-test-token"), "routes:\n  - notifiers: [slack]\n"}, more...)
}

// Slack fails (500) twice, then accepts: the alert arrives exactly once, and
// the message is deleted only after Slack accepted it. The first failure is
// slow, longer than the visibility timeout: the message's visibility is
// extended meanwhile, so it is not delivered again.
func testSlackRetry(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	sl := newSlack(t)
	failing, accepting := make(chan struct{}), make(chan struct{})
	okHeld := fakeslack.OK
	okHeld.Hold = accepting
	sl.Script(
		fakeslack.Reply{Status: http.StatusInternalServerError, Body: "upstream connect error", Hold: failing},
		fakeslack.Reply{Status: http.StatusInternalServerError, Body: "upstream connect error"},
		okHeld,
	)
	retry := fastRetry
	retry.AttemptTimeout = 30 * time.Second // the slow failure is no timeout
	r := startDaemon(t, e.config(t, slackConfig(sl)...), daemon.Options{Retry: retry})

	root := th.RootCall(th.Account)
	k := th.LogKey("retry")
	e.putLog(t, k, th.Benign(1), root)
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))

	testpeers.WaitFor(t, 15*time.Second, func() error {
		if n := sl.Attempts(); n != 1 {
			return fmt.Errorf("%d Slack attempts, want 1", n)
		}
		return nil
	})
	// Past the 4s visibility timeout of the receive: two extensions, at 2s
	// and 4s, have kept the message invisible and with this worker.
	r.waitMetric(t, "trailguard_sqs_visibility_extensions_total", 2, 15*time.Second)
	// Slack is failing: the message is being worked on, not deleted.
	if v, inflight := e.counts(t); v != 0 || inflight != 1 {
		t.Fatalf("while Slack fails: %d visible, %d in flight; want 0 and 1", v, inflight)
	}
	close(failing)
	testpeers.WaitFor(t, 10*time.Second, func() error {
		if n := sl.Attempts(); n != 3 {
			return fmt.Errorf("%d Slack attempts, want 3", n)
		}
		return nil
	})
	// Slack has the accepted post in hand but has not answered: still kept.
	if v, inflight := e.counts(t); v != 0 || inflight != 1 {
		t.Fatalf("before Slack answered ok: %d visible, %d in flight; want 0 and 1", v, inflight)
	}
	if n := r.Metric(t, "trailguard_sqs_messages_deleted_total"); n != 0 {
		t.Fatalf("message deleted before the alert was delivered")
	}
	close(accepting)
	e.waitQueue(t, 0, 0, 10*time.Second)
	r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 1, 5*time.Second)

	if got := slackCounts(sl, []th.Record{root}); len(sl.Posts()) != 1 || got[root.ID()] != 1 {
		t.Errorf("Slack posts: %d, naming the alert %d; want exactly one", len(sl.Posts()), got[root.ID()])
	}
	m := r.Metrics(t)
	for series, want := range map[string]float64{
		`trailguard_notification_retries_total{notifier="slack"}`:         2,
		`trailguard_notifications_total{notifier="slack",outcome="sent"}`: 1,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
}

// Slack stays down longer than the dispatcher retries: the message fails and
// comes back (after the consumer's retry delay of 5s); on that second receive
// the notifier that already has the alert is skipped and Slack, now up, gets
// it once.
func testSlackOutageRedelivery(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	sl := newSlack(t)
	sl.SetDefault(fakeslack.Reply{Status: http.StatusServiceUnavailable, Body: "no healthy upstream"})
	retry := fastRetry
	retry.MaxElapsedTime = 500 * time.Millisecond
	r := startDaemon(t, e.config(t,
		"notifiers:\n"+th.SlackNotifier("slack", sl.APIURL(), "xoxb-test-token")+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [slack, console]\n"), daemon.Options{Retry: retry})

	d := th.DeniedCall("ivan")
	e.send(t, th.EBCloudTrail(d))
	r.waitMetric(t, `trailguard_sqs_messages_failed_total{reason="error"}`, 1, 15*time.Second)
	if v, inflight := e.counts(t); v+inflight != 1 {
		t.Fatalf("failed message not kept: %d visible, %d in flight", v, inflight)
	}
	sl.SetDefault(fakeslack.OK)
	e.waitQueue(t, 0, 0, 30*time.Second)
	r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 1, 5*time.Second)

	if got := slackCounts(sl, []th.Record{d}); got[d.ID()] != 1 {
		t.Errorf("Slack got the alert %d times, want once", got[d.ID()])
	}
	wantAlerts(t, r.Out.Alerts(t), th.Key(th.RuleDenied, d))
	m := r.Metrics(t)
	for series, want := range map[string]float64{
		"trailguard_sqs_messages_received_total":                                         2,
		`trailguard_notifications_total{notifier="console",outcome="sent"}`:              1,
		`trailguard_notifications_total{notifier="console",outcome="already_delivered"}`: 1,
		`trailguard_notifications_total{notifier="slack",outcome="sent"}`:                1,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
}

// Slack answers 429 with Retry-After: 1: the next attempt waits that second
// (the retry policy alone would retry after 20ms).
func testSlackRateLimited(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	sl := newSlack(t)
	limited := make(chan struct{})
	sl.Script(fakeslack.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"},
		Body: `{"ok":false,"error":"ratelimited"}`, Hold: limited})
	r := startDaemon(t, e.config(t, slackConfig(sl)...), daemon.Options{})

	c := th.ConsoleFailure("mallory")
	e.send(t, th.EBCloudTrail(c))
	testpeers.WaitFor(t, 15*time.Second, func() error {
		if n := sl.Attempts(); n != 1 {
			return fmt.Errorf("%d Slack attempts, want 1", n)
		}
		return nil
	})
	start := time.Now() // the 429 goes out after this
	close(limited)
	testpeers.WaitFor(t, 10*time.Second, func() error {
		if n := len(sl.Posts()); n != 1 {
			return fmt.Errorf("%d Slack posts, want 1", n)
		}
		return nil
	})
	if took := time.Since(start); took < time.Second || took > 5*time.Second {
		t.Errorf("retry after a 429 with Retry-After: 1 came %s later, want about 1s", took)
	}
	e.waitQueue(t, 0, 0, 10*time.Second)
	if n := sl.Attempts(); n != 2 {
		t.Errorf("%d Slack attempts, want 2", n)
	}
	if got := slackCounts(sl, []th.Record{c}); got[c.ID()] != 1 {
		t.Errorf("alert posted %d times, want once", got[c.ID()])
	}
	if n := r.Metric(t, `trailguard_notification_retries_total{notifier="slack"}`); n != 1 {
		t.Errorf("retries: %v, want 1", n)
	}
}

// The SMTP server refuses connections (nothing listens on its port yet),
// then starts: the alert is delivered once, over STARTTLS with the test CA,
// and the message deleted after that.
func testSMTPLater(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	cert, pool := fakesmtp.SelfSigned(t)
	addr := fakesmtp.FreeAddr(t)
	r := startDaemon(t, e.config(t, "notifiers:\n"+th.EmailNotifier("email", addr, "", ""), "routes:\n  - notifiers: [email]\n"),
		daemon.Options{EmailTLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})

	// The start-up check (in the background) finds the server down.
	testpeers.WaitFor(t, 10*time.Second, func() error {
		if code, body := r.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "notifiers: email:") {
			return fmt.Errorf("/readyz with the SMTP server down: %d %q", code, body)
		}
		return nil
	})

	root := th.RootCall(th.Account)
	k := th.LogKey("smtp")
	e.putLog(t, k, root, th.Benign(3))
	e.send(t, th.CTNotification(bucket, k))

	testpeers.WaitFor(t, 15*time.Second, func() error {
		if n := r.Metric(t, `trailguard_notification_retries_total{notifier="email"}`); n < 2 {
			return fmt.Errorf("%v email retries, want at least 2", n)
		}
		return nil
	})
	if v, inflight := e.counts(t); v != 0 || inflight != 1 {
		t.Fatalf("while SMTP refuses connections: %d visible, %d in flight; want 0 and 1", v, inflight)
	}
	if n := r.Metric(t, "trailguard_sqs_messages_deleted_total"); n != 0 {
		t.Fatalf("message deleted before the mail was accepted")
	}

	srv := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS, Addr: addr, Cert: &cert})
	e.waitQueue(t, 0, 0, 15*time.Second)
	r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 1, 5*time.Second)
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want 1", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.From != "trailguard@example.com" || len(m.To) != 1 || m.To[0] != "secops@example.com" {
		t.Errorf("mail: TLS %v, from %q, to %q", m.TLS, m.From, m.To)
	}
	if !strings.Contains(string(m.Data), root.ID()) {
		t.Errorf("mail does not name event %s:\n%s", root.ID(), m.Data)
	}
	r.Stop(t)
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d mails after shutdown, want 1", n)
	}
}

// The daemon is stopped while a slow Slack holds one delivery of a batch; a
// new daemon on the same queue finishes the work. With Redis state shared
// by both, every alert arrives exactly once. With in-memory state the second
// daemon knows nothing of the first one's deliveries, so alerts delivered
// before the stop may come again; none may be lost.
func testRestart(redis bool) func(t *testing.T, p *peers) {
	return func(t *testing.T, p *peers) {
		e := newSQSEnv(t, p)
		sl := newSlack(t)
		stateYAML := "state:\n  type: memory\n"
		if redis {
			mr := miniredis.RunT(t)
			stateYAML = "state:\n  type: redis\n  redis:\n    addr: " + mr.Addr() + "\n"
		}
		cfg := func() []string { return slackConfig(sl, stateYAML) }

		// Two messages of three alerts each, handled concurrently.
		var all []th.Record
		for m := range 2 {
			var recs []th.Record
			for i := range 3 {
				recs = append(recs, th.DeniedCall(fmt.Sprintf("batch%d-user%d", m, i)), th.Benign(i))
				all = append(all, recs[len(recs)-2])
			}
			k := th.LogKey(fmt.Sprintf("batch%d-", m))
			e.putLog(t, k, recs...)
			e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
		}
		// The fifth post hangs until the daemon gives up on it.
		held := fakeslack.OK
		held.Hold = make(chan struct{})
		sl.Script(fakeslack.OK, fakeslack.OK, fakeslack.OK, fakeslack.OK, held)

		first := startDaemon(t, e.config(t, cfg()...), daemon.Options{ShutdownGrace: 500 * time.Millisecond})
		testpeers.WaitFor(t, 20*time.Second, func() error {
			if n := sl.Attempts(); n < 5 {
				return fmt.Errorf("%d Slack attempts, want 5", n)
			}
			return nil
		})
		if err := first.Stop(t); err != nil {
			t.Fatalf("first daemon: %v", err)
		}
		before := len(sl.Posts())
		if before >= len(all) {
			t.Fatalf("all %d alerts delivered before the stop; the stop interrupted nothing", before)
		}

		second := startDaemon(t, e.config(t, cfg()...), daemon.Options{})
		e.waitQueue(t, 0, 0, 30*time.Second)
		skipped := second.Metric(t, `trailguard_notifications_total{notifier="slack",outcome="already_delivered"}`)
		if err := second.Stop(t); err != nil {
			t.Fatalf("second daemon: %v", err)
		}

		counts := slackCounts(sl, all)
		dups := 0
		for _, r := range all {
			switch n := counts[r.ID()]; {
			case n == 0:
				t.Errorf("alert for event %s lost", r.ID())
			case n > 1:
				dups += n - 1
				if redis {
					t.Errorf("alert for event %s delivered %d times with shared Redis state", r.ID(), n)
				}
			}
		}
		if n := len(sl.Posts()); n != len(all)+dups {
			t.Errorf("%d Slack posts for %d alerts and %d duplicates", n, len(all), dups)
		}
		t.Logf("state %s: %d alerts, %d delivered before the stop, %d duplicates after the restart",
			map[bool]string{true: "redis", false: "memory"}[redis], len(all), before, dups)
		if redis && skipped < 1 {
			t.Errorf("second daemon skipped %v already delivered alerts, want at least 1", skipped)
		}
	}
}
