package daemon_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/daemon"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// A suppression with a principal glob silences the root alerts of one
// account and only those.
func testSuppression(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	r := startDaemon(t, e.config(t,
		"notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n",
		`suppressions:
  - rule: aws.root_*
    where:
      principal: "arn:aws:iam::111111111111:*"
    reason: break-glass drills in the sandbox th.Account
    owner: secops@example.com
    expires: 2999-01-01
`), daemon.Options{})

	sandbox, prod := th.RootCall("111111111111"), th.RootCall(th.Account)
	c := th.ConsoleFailure("carol")
	k := th.LogKey("suppress")
	e.putLog(t, k, sandbox, c, prod)
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
	e.waitQueue(t, 0, 0, 15*time.Second)
	r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 1, 5*time.Second)

	wantAlerts(t, r.Out.Alerts(t), th.Key(th.RuleRoot, prod), th.Key(th.RuleConsole, c))
	m := r.Metrics(t)
	for series, want := range map[string]float64{
		`trailguard_notifications_total{notifier="console",outcome="suppressed"}`: 1,
		`trailguard_notifications_total{notifier="console",outcome="sent"}`:       2,
		`trailguard_alerts_total{rule="aws.root_usage",severity="critical"}`:      2, // counted before suppression
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
}

// The dedup window holds back similar alerts and counts them: the first alert
// after the window carries the count in its note, and what the window still
// holds at shutdown comes out as a summary.
func testDedup(t *testing.T, p *peers) {
	const window = 3 * time.Second
	e := newSQSEnv(t, p)
	r := startDaemon(t, e.config(t,
		"notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n",
		fmt.Sprintf("dedup:\n  window: %s\n  key: [rule_id, principal]\n", window),
		// Memory state drains its open windows at shutdown (SQLite, the
		// default, keeps them for the next start): the summary checked below.
		"state:\n  type: memory\n",
	), daemon.Options{})

	// Failed sign-ins of four users share the principal "IAMUser": one
	// group. One log, so all four meet the dedup window within one run.
	var first []th.Record
	for i := range 4 {
		first = append(first, th.ConsoleFailure(fmt.Sprintf("dedup%d", i)))
	}
	k := th.LogKey("dedup")
	e.putLog(t, k, first...)
	e.send(t, th.CTNotification(bucket, k))
	r.waitMetric(t, `trailguard_notifications_total{notifier="console",outcome="deduplicated"}`, 3, 15*time.Second)
	r.Out.waitAlerts(t, 1, 5*time.Second)
	sent := time.Now() // the window opened before this

	// Only the clock ends a window. The first alert after it carries the
	// count; the two after that fall into its new window.
	time.Sleep(time.Until(sent.Add(window + 200*time.Millisecond)))
	next := th.ConsoleFailure("dedup-next")
	late := []th.Record{th.ConsoleFailure("dedup-late1"), th.ConsoleFailure("dedup-late2")}
	k = th.LogKey("dedup-late")
	e.putLog(t, k, next, late[0], late[1])
	e.send(t, th.CTNotification(bucket, k))
	r.waitMetric(t, `trailguard_notifications_total{notifier="console",outcome="deduplicated"}`, 5, 15*time.Second)
	got := r.Out.waitAlerts(t, 2, 5*time.Second)
	if got[0].EventID != first[0].ID() || got[0].Note != "" {
		t.Errorf("first alert: event %s, note %q; want %s without a note", got[0].EventID, got[0].Note, first[0].ID())
	}
	if got[1].EventID != next.ID() || !strings.HasPrefix(got[1].Note, "3 more ") || !strings.HasSuffix(got[1].Note, "held back by the 3s dedup window") {
		t.Errorf("first alert after the window: event %s, note %q; want event %s with the count 3", got[1].EventID, got[1].Note, next.ID())
	}

	// Shutdown: a summary reports what the open window holds.
	e.waitQueue(t, 0, 0, 10*time.Second)
	if err := r.Stop(t); err != nil {
		t.Fatal(err)
	}
	got = r.Out.Alerts(t)
	if len(got) != 3 {
		t.Fatalf("%d alerts after shutdown, want 3: %+v", len(got), got)
	}
	if s := got[2]; s.EventID != late[1].ID() || !strings.HasPrefix(s.Note, "Summary: 2 more ") || !strings.Contains(s.Note, "held back by the 3s dedup window") {
		t.Errorf("shutdown summary: event %s, note %q; want the latest held-back event %s and the count 2", s.EventID, s.Note, late[1].ID())
	}
}

// Routes: critical alerts go to Slack, the console_* rules to stdout; an
// alert matching neither goes nowhere.
func testRouting(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	sl := newSlack(t)
	r := startDaemon(t, e.config(t,
		"notifiers:\n"+th.SlackNotifier("pager", sl.APIURL(), "xoxb-test-token")+th.StdoutNotifier("console"),
		`routes:
  - match:
      min_severity: critical
    notifiers: [pager]
  - match:
      rules: ["aws.console_*"]
    notifiers: [console]
`), daemon.Options{})

	root, c, d := th.RootCall(th.Account), th.ConsoleFailure("dave"), th.DeniedCall("erin")
	k := th.LogKey("routes")
	e.putLog(t, k, d, th.Benign(0), c, root)
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
	e.waitQueue(t, 0, 0, 15*time.Second)

	wantAlerts(t, r.Out.Alerts(t), th.Key(th.RuleConsole, c))
	posts := sl.Posts()
	if got := slackCounts(sl, []th.Record{root, c, d}); len(posts) != 1 || got[root.ID()] != 1 {
		t.Fatalf("Slack got %d posts naming %v; want only the root alert", len(posts), got)
	}
	if !strings.Contains(posts[0].Get("text"), "CRITICAL") || posts[0].Get("channel") != "C0123456789" {
		t.Errorf("Slack post text %q channel %q", posts[0].Get("text"), posts[0].Get("channel"))
	}
	if n := r.Metric(t, `trailguard_alerts_total{rule="aws.unauthorized_api_call",severity="low"}`); n != 1 {
		t.Errorf("unrouted alert not counted as raised: %v", n)
	}
}

// Two stdout notifiers routed the same alert write to the same
// Options.Stdout, concurrently (the dispatcher delivers to an alert's
// notifiers in parallel); the writer need not be safe for that. With watch
// false the dir source reads what is there and Run returns by itself.
func testSharedStdout(t *testing.T, _ *peers) {
	dir := t.TempDir()
	var recs []th.Record
	for range 40 {
		recs = append(recs, th.RootCall(th.Account))
	}
	if err := os.WriteFile(filepath.Join(dir, "root.json"), th.Log(recs...), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer // not safe for concurrent use; read only after Run returned
	r := startDaemon(t, parseConfig(t,
		fmt.Sprintf("source:\n  type: dir\n  dir:\n    path: %s\n    watch: false\n", dir),
		"notifiers:\n"+th.StdoutNotifier("console")+th.StdoutNotifier("audit"),
		"routes:\n  - notifiers: [console, audit]\n",
	), daemon.Options{Stdout: &out})
	testpeers.WaitFor(t, 20*time.Second, func() error {
		if !r.Stopped() {
			return errors.New("Run has not returned after the last file")
		}
		return nil
	})
	if err := r.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	seen := map[string]int{}
	for _, l := range lines {
		var a outAlert
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("mangled line %q: %v", l, err)
		}
		seen[a.EventID]++
	}
	for _, x := range recs {
		if seen[x.ID()] != 2 {
			t.Errorf("event %s printed %d times, want twice (once per notifier)", x.ID(), seen[x.ID()])
		}
	}
	if len(lines) != 2*len(recs) {
		t.Errorf("%d lines, want %d", len(lines), 2*len(recs))
	}
}
