package faults

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakeslack"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// loopingRule never finishes on PutMarker events (a billion steps), and
// looks at nothing else.
const loopingRule = `# METADATA
# title: Looping on markers
# description: A rule whose evaluation does not end on one event name.
# custom:
#   id: custom.looping
#   severity: low
package rules.custom.looping

import rego.v1

alert contains {"message": "never"} if {
	input.eventName == "PutMarker"
	some i in numbers.range(1, 1000)
	some j in numbers.range(1, 1000)
	some k in numbers.range(1, 1000)
	i * j * k < 0
}
`

// A rule that loops on one event name (PutMarker) sits beside the aws pack
// and the marker rule, which alerts on the same events. Each marker's
// evaluation is cut at rules.eval_timeout: the looping rule is named (log,
// metric, /readyz) and every other alert of the same records is delivered,
// once. A log of so many markers that its budgets add up past max_hold is
// let go at the bound on each receive and ends in the dead-letter queue;
// no message is held longer than max_hold.
func testSlowRule(t *testing.T, p *shared) {
	const logs, longMarkers = 3, 30
	const evalTimeout, maxHold = 300 * time.Millisecond, 5 * time.Second
	row := newRow(t, 30, "a rule that loops on one event name",
		fmt.Sprintf("custom rule loops (numbers.range³) on PutMarker beside the aws pack and a marker rule; rules.eval_timeout %s, max_hold %s; %d logs of root + denied + 2 markers, and one log of %d markers (budgets past max_hold)", evalTimeout, maxHold, logs, longMarkers))
	e := newEnv(t, p, 2)
	e.Visibility, e.MaxHold = "2s", maxHold.String()
	dir := t.TempDir()
	th.Publish(t, filepath.Join(dir, "marker.rego"), []byte(th.MarkerRule("v1")))
	th.Publish(t, filepath.Join(dir, "looping.rego"), []byte(loopingRule))
	d := startDaemon(t, "slow-rule", e.config(t, append(consoleOnly,
		fmt.Sprintf("rules:\n  packs: [aws]\n  paths: [%s]\n  eval_timeout: %s\n", dir, evalTimeout))...), nil)

	var want []string
	for i := range logs {
		root, denied, m1, m2 := th.RootCall(th.Account), th.DeniedCall(fmt.Sprintf("slow%d", i)), th.Marker(), th.Marker()
		k := th.LogKey(fmt.Sprintf("slow-rule-%d-", i))
		e.putLog(t, k, root, m1, th.Benign(i), denied, m2)
		e.send(t, th.CTNotification(bucket, k))
		want = append(want, th.Key(th.RuleRoot, root), th.Key(th.RuleDenied, denied),
			th.Key("custom.marker", m1), th.Key("custom.marker", m2))
	}
	testpeers.WaitFor(t, 30*time.Second, func() error {
		if n := d.Metric(t, "trailguard_sqs_messages_deleted_total"); n != logs {
			return fmt.Errorf("%v of %d messages deleted", n, logs)
		}
		return nil
	})
	d.waitReady(t, http.StatusServiceUnavailable, 5*time.Second, "rules: custom.looping exceeded rules.eval_timeout")
	logHas(t, d, 5*time.Second, map[string]string{"msg": "~rule exceeded rules.eval_timeout", "rules": "custom.looping", "level": "ERROR"})

	// The log whose evaluation cannot end within max_hold.
	long := map[string]bool{}
	var recs []th.Record
	for range longMarkers {
		m := th.Marker()
		long[m.ID()] = true
		recs = append(recs, m)
	}
	longKey := th.LogKey("slow-rule-long-")
	e.putLog(t, longKey, recs...)
	e.send(t, th.CTNotification(bucket, longKey))
	e.waitDrained(t, 1, 60*time.Second)

	var got []string
	longAlerts := 0
	for _, k := range stdoutAlerts(t, d.Out.String()) {
		if long[k[strings.LastIndexByte(k, ' ')+1:]] {
			longAlerts++
			continue
		}
		got = append(got, k)
	}
	c := count(want, got)
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	t.Logf("the long log gave %d of its %d marker alerts before the bound; the rest wait in the DLQ", longAlerts, longMarkers)
	// Each marker of the short logs once, and those of the long log that
	// were reached before the bound, on each of its two receives.
	if n := d.Metric(t, `trailguard_rule_timeouts_total{rule="custom.looping"}`); n < 2*logs+float64(longAlerts) {
		t.Errorf("trailguard_rule_timeouts_total{rule=\"custom.looping\"} = %v, want at least %d", n, 2*logs+longAlerts)
	}
	wantMetrics(t, d, map[string]float64{
		"trailguard_sqs_messages_deleted_total":                        logs,
		`trailguard_sqs_messages_failed_total{reason="held_too_long"}`: 2,
		`trailguard_sqs_messages_failed_total{reason="error"}`:         0,
	})
	for _, r := range d.Records(t) {
		var held float64
		switch r["msg"] {
		case "message handled and deleted":
			held, _ = r["took"].(float64)
		case "message held for source.sqs.max_hold; its work is abandoned and the message left to come back":
			held, _ = r["running_for"].(float64)
		default:
			continue
		}
		if d := time.Duration(held); d > maxHold+time.Second {
			t.Errorf("a message was held %s, past max_hold %s: %v", d, maxHold, r)
		}
	}
	d.waitReady(t, http.StatusOK, 45*time.Second)
}

// Slack accepts auth.test but answers every post with not_in_channel (a
// permanent error): /readyz names Slack after the first failed post and
// the messages are kept; once the bot is in the channel the redeliveries
// post every alert once and /readyz is 200 again.
func testSlackPermanent(t *testing.T, p *shared) {
	row := newRow(t, 31, "Slack answers every post with not_in_channel, then is fixed",
		"auth.test ok; chat.postMessage answers not_in_channel (permanent) until /readyz said so, then ok")
	e := newEnv(t, p, 5)
	sl := fakeslack.New(t)
	sl.SetDefault(fakeslack.Error("not_in_channel"))
	d := startDaemon(t, "slack-permanent", e.config(t, slackOnly(sl.APIURL())...), nil)
	d.waitReady(t, http.StatusOK, 10*time.Second)

	want := alertLogs(t, e, 2, "permanent")
	d.waitReady(t, http.StatusServiceUnavailable, 20*time.Second, "notifiers: slack: the last send failed permanently", "not_in_channel")
	sl.SetDefault(fakeslack.OK)
	e.waitDrained(t, 0, 60*time.Second)
	c := count(want, slackAlerts(t, sl))
	row.finish(t, e, c)
	c.check(t, "slack", true)
	d.waitReady(t, http.StatusOK, 10*time.Second)
}

// Slack holds every post without answering: after 20 s /readyz names the
// send that waits; when Slack answers again every alert is posted once and
// /readyz is 200 again.
func testSlackHangs(t *testing.T, p *shared) {
	row := newRow(t, 32, "Slack holds every post without answering, then answers",
		"auth.test ok; chat.postMessage held open until /readyz named the waiting send (20 s), then answered ok")
	e := newEnv(t, p, 5)
	e.Visibility = "10s"
	sl := fakeslack.New(t)
	hold := make(chan struct{})
	held := fakeslack.OK
	held.Hold = hold
	sl.SetDefault(held)
	defer func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	}()
	d := startDaemon(t, "slack-hangs", e.config(t, slackOnly(sl.APIURL())...), nil)
	d.waitReady(t, http.StatusOK, 10*time.Second)

	want := alertLogs(t, e, 2, "hang")
	d.waitReady(t, http.StatusServiceUnavailable, 35*time.Second, "notifiers: slack: a send has been waiting for")
	sl.SetDefault(fakeslack.OK)
	close(hold)
	e.waitDrained(t, 0, 60*time.Second)
	c := count(want, slackAlerts(t, sl))
	row.finish(t, e, c)
	c.check(t, "slack", true)
	d.waitReady(t, http.StatusOK, 10*time.Second)
}

// Redis (Debian's redis-server) is killed while the daemon runs and started
// again on the same port 15 s later, empty. /readyz names the state store
// within its probe period and is 200 again after the restart; the alerts
// raised meanwhile are kept (their claims fail) and delivered once after.
func testRedisDown(t *testing.T, p *shared) {
	row := newRow(t, 33, "Redis stopped for 15 s, then restarted",
		"redis-server killed while the daemon runs, started again (empty) on the same port 15 s later; 1 log before, 2 during")
	e := newEnv(t, p, 5)
	rd := testpeers.StartRedisProcess(t)
	d := startDaemon(t, "redis-down", e.config(t, append(consoleOnly, "state:\n  type: redis\n  redis:\n    addr: "+rd.Addr+"\n")...), nil)
	d.waitReady(t, http.StatusOK, 10*time.Second)
	want := alertLogs(t, e, 1, "before")
	e.waitDrained(t, 0, 30*time.Second)

	rd.Stop()
	down := time.Now()
	d.waitReady(t, http.StatusServiceUnavailable, 15*time.Second, "state: redis")
	want = append(want, alertLogs(t, e, 2, "during")...)
	time.Sleep(time.Until(down.Add(15 * time.Second))) // only the clock ends an outage
	if q, _ := e.left(t); q != 2 {
		t.Errorf("during the outage %d messages in the queue, want 2", q)
	}
	rd.Start(t)
	d.waitReady(t, http.StatusOK, 15*time.Second)
	e.waitDrained(t, 0, 90*time.Second)
	c := count(want, stdoutAlerts(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	// go-redis' own complaints during the outage came through slog: no
	// plain-text line in the JSON log.
	text := d.Log.String()
	text = text[:strings.LastIndexByte(text, '\n')+1] // a line being written
	redisLines := 0
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("a log line that is not JSON: %q", l)
		}
		if strings.Contains(l, `"msg":"redis client"`) {
			redisLines++
		}
	}
	t.Logf("%d lines of go-redis' own in the JSON log", redisLines)
}

// An SMTP server that accepts connections and never says a word: the start-up
// check waits on it in the background, so /healthz answers at once and
// /readyz says the checks are still running.
func testSilentSMTPAtStart(t *testing.T, p *shared) {
	row := newRow(t, 34, "SMTP server silent at start-up",
		"a TCP listener that accepts and never answers as the email notifier's server")
	e := newEnv(t, p, 5)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, silent
		}
	}()
	started := time.Now()
	d := startDaemon(t, "smtp-silent", e.config(t,
		"notifiers:\n"+th.EmailNotifier("email", ln.Addr().String(), "", ""), "routes:\n  - notifiers: [email]\n"), nil)
	if code, body := d.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d %q while the SMTP check waits", code, body)
	}
	if took := time.Since(started); took > 15*time.Second {
		t.Errorf("/healthz answered %s after the start", took)
	}
	d.waitReady(t, http.StatusServiceUnavailable, 5*time.Second, "start-up checks still running")
	row.finish(t, e, count(nil, nil))
}
