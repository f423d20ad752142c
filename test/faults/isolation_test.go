package faults

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// Slack answers invalid_auth to everything for the whole run, beside a
// working SMTP server and stdout. Each log holds several alerts: every one
// reaches stdout and email once (processing of a log used to stop at its
// first undeliverable alert, so the rest went to the dead-letter queue
// unseen by any channel). The messages come back for Slack only: a
// redelivery sends stdout and email nothing again, and after
// maxReceiveCount the messages wait in the dead-letter queue for Slack to
// be fixed.
func testSlackInvalidAuth(t *testing.T, p *shared) {
	const logs, deniedPerLog = 3, 3
	row := newRow(t, 19, "Slack invalid_auth for the whole run, beside email and stdout",
		fmt.Sprintf("Slack recorder answers auth.test and chat.postMessage invalid_auth; %d logs of a root call and %d denied calls each; every alert routed to slack, email and stdout; maxReceiveCount 2", logs, deniedPerLog))
	e := newEnv(t, p, 2)
	sl := fakeslack.New(t)
	sl.SetAuthError("invalid_auth")
	sl.SetDefault(fakeslack.Error("invalid_auth"))
	cert, _ := fakesmtp.SelfSigned(t)
	smtp := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS, Cert: &cert})
	d := startDaemon(t, "slack-invalid-auth", e.config(t,
		"notifiers:\n"+th.SlackNotifier("slack", sl.APIURL(), "xoxb-revoked-token")+th.EmailNotifier("email", smtp.Addr, "", "")+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [slack, email, console]\n"), processEnv(t, pemCert(cert.Leaf)))

	var want []string
	for i := range logs {
		recs := []th.Record{th.Benign(i), th.RootCall(th.Account)}
		for j := range deniedPerLog {
			recs = append(recs, th.DeniedCall(fmt.Sprintf("auth%d-%d", i, j)))
		}
		k := th.LogKey("invalid-auth-")
		e.putLog(t, k, recs...)
		e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
		want = append(want, th.Key(th.RuleRoot, recs[1]))
		for _, r := range recs[2:] {
			want = append(want, th.Key(th.RuleDenied, r))
		}
	}
	e.waitDrained(t, logs, 90*time.Second) // every message in the DLQ, for Slack
	c := count(want, stdoutAlerts(t, d.Out.String())).add(count(want, mailAlerts(t, smtp)))
	row.finish(t, e, c)
	c.check(t, "stdout+email", true)
	if n := len(sl.Posts()); n != 0 {
		t.Errorf("Slack accepted %d posts with a revoked token", n)
	}
	if n := len(sl.Requests()); n < len(want) {
		t.Errorf("Slack was offered %d posts, want every one of the %d alerts", n, len(want))
	}
	wantMetrics(t, d, map[string]float64{
		`trailguard_notifications_total{notifier="console",outcome="sent"}`: float64(len(want)),
		`trailguard_notifications_total{notifier="email",outcome="sent"}`:   float64(len(want)),
		"trailguard_sqs_messages_deleted_total":                             0,
	})
	// The second receive of each message sent stdout and email nothing.
	if v := d.Metric(t, `trailguard_notifications_total{notifier="console",outcome="already_delivered"}`); v != float64(len(want)) {
		t.Errorf("console already_delivered %v, want %d (one redelivery of each message)", v, len(want))
	}
}

// fillPipe makes a pipe whose buffer is full before the daemon starts: every
// write to w blocks until someone reads r, as stdout does when piped into a
// process that stopped reading.
func fillPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	fd := int(w.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	junk := []byte(strings.Repeat("x", 4095) + "\n")
	for {
		if _, err := syscall.Write(fd, junk); err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatal(err)
			}
			break
		}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	return r, w
}

// The daemon's stdout is a pipe nobody reads (full before the start), with
// the stdout notifier's timeout at 2 s. Slack still gets every alert, once,
// while the messages stay in the queue for stdout; once the pipe is read
// again, the redeliveries give stdout every alert, and the queue drains.
// The whole daemon used to stop once stdout blocked, Slack included.
func testStdoutBlocked(t *testing.T, p *shared) {
	const logs = 5
	row := newRow(t, 20, "stdout a pipe nobody reads, beside Slack",
		fmt.Sprintf("daemon's stdout is a pipe whose buffer the test filled and does not read; stdout notifier timeout: 2s; %d logs of 2 alerts routed to both; the pipe is read again once Slack has them all", logs))
	e := newEnv(t, p, 20)
	sl := fakeslack.New(t)
	r, w := fillPipe(t)
	d := startDaemonOut(t, "stdout-blocked", e.config(t,
		"notifiers:\n"+th.SlackNotifier("slack", sl.APIURL(), "xoxb-test-token")+th.StdoutNotifier("console")+"    timeout: 2s\n",
		"routes:\n  - notifiers: [slack, console]\n"), nil, w)

	want := alertLogs(t, e, logs, "blocked")
	testpeers.WaitFor(t, 60*time.Second, func() error {
		if n := len(sl.Posts()); n < len(want) {
			return fmt.Errorf("Slack has %d of %d alerts while stdout is blocked", n, len(want))
		}
		return nil
	})
	if q, dlq := e.left(t); q != logs || dlq != 0 {
		t.Fatalf("while stdout is blocked: %d messages in the queue and %d in the DLQ, want %d and 0", q, dlq, logs)
	}
	if v := d.Metric(t, `trailguard_notifications_total{notifier="console",outcome="sent"}`); v != 0 {
		t.Fatalf("console sent %v alerts into a full pipe", v)
	}
	logHas(t, d, 5*time.Second, map[string]string{"msg": "alert not delivered", "notifier": "console", "err": "~notifier stuck"})
	// Readiness says so while the write hangs (a send waiting past 20 s).
	d.waitReady(t, http.StatusServiceUnavailable, 45*time.Second, "console")

	// Someone reads stdout again.
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if !strings.HasPrefix(sc.Text(), "xxxx") {
				lines <- sc.Text()
			}
		}
	}()
	e.waitDrained(t, 0, 90*time.Second)
	d.waitReady(t, http.StatusOK, 30*time.Second)
	d.Stop(t)
	_ = w.Close() // the daemon's copy is closed with it: the reader ends
	var out strings.Builder
	for l := range lines {
		out.WriteString(l + "\n")
	}
	slack := count(want, slackAlerts(t, sl))
	console := count(want, stdoutAlerts(t, out.String()))
	row.finish(t, e, slack.add(console))
	slack.check(t, "slack", true)
	console.check(t, "stdout", true)
}
