package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/daemon"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// startMarkers runs a daemon with the rules in dir alone. expect sends a
// marker event and checks the alert's message.
func startMarkers(t *testing.T, e *sqsEnv, dir string) (r *run, expect func(msg string)) {
	t.Helper()
	r = startDaemon(t, e.config(t,
		"notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n",
		fmt.Sprintf("rules:\n  packs: []\n  paths: [%s]\n", dir),
	), daemon.Options{})
	n := 0
	return r, func(msg string) {
		t.Helper()
		ev := th.Marker()
		e.send(t, th.EBCloudTrail(ev))
		n++
		got := r.Out.waitAlerts(t, n, 15*time.Second)
		if a := got[n-1]; a.EventID != ev.ID() || a.Message != msg || a.RuleID != "custom.marker" {
			t.Fatalf("alert %d: %s %s %q; want custom.marker %s %q", n, a.RuleID, a.EventID, a.Message, ev.ID(), msg)
		}
	}
}

// Policies are reloaded when their files change: a good change is served
// from the next event on; a broken one is refused with file:row:col, counted,
// and the rules serving before keep serving. d.Reload does the same on
// demand.
func testHotReload(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	dir := t.TempDir()
	rule := filepath.Join(dir, "marker.rego")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(rule, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(th.MarkerRule("v1"))
	r, expect := startMarkers(t, e, dir)
	const ok, failed = `trailguard_rule_reloads_total{outcome="ok"}`, `trailguard_rule_reloads_total{outcome="failed"}`
	expect("marker v1")

	// A good change, picked up by the watcher after its debounce.
	write(th.MarkerRule("v2"))
	r.waitMetricAtLeast(t, ok, 1, 10*time.Second)
	expect("marker v2")

	// A broken change is refused; v2 keeps serving.
	write(th.BrokenRule)
	r.waitMetricAtLeast(t, failed, 1, 10*time.Second)
	expect("marker v2")
	if !strings.Contains(r.Logs.String(), "policy reload refused") {
		t.Errorf("refused reload not logged")
	}

	// Reloading on demand says why, with the place, and counts.
	before := r.Metric(t, failed)
	err := r.D.Reload(context.Background())
	if err == nil {
		t.Fatal("Reload of a broken policy succeeded")
	}
	if re := regexp.MustCompile(regexp.QuoteMeta(rule) + `:13:1: `); !re.MatchString(err.Error()) {
		t.Errorf("Reload error %q does not name %s:13:1", err, rule)
	}
	if got := r.Metric(t, failed); got != before+1 {
		t.Errorf("%s = %v after a failed Reload, want %v", failed, got, before+1)
	}
	expect("marker v2")

	// Fixed: the watcher and d.Reload both load it.
	okBefore := r.Metric(t, ok)
	write(th.MarkerRule("v3"))
	r.waitMetricAtLeast(t, ok, okBefore+1, 10*time.Second)
	okBefore = r.Metric(t, ok)
	if err := r.D.Reload(context.Background()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got, loaded := r.Metric(t, ok), r.Metric(t, "trailguard_rules_loaded"); got != okBefore+1 || loaded != 1 {
		t.Errorf("after Reload: %s = %v, rules loaded %v; want %v and 1", ok, got, loaded, okBefore+1)
	}
	expect("marker v3")
}

// Kubernetes mounts a ConfigMap as a directory of symlinks into a hidden,
// timestamped directory and updates it by swapping the ..data symlink
// atomically: the visible files themselves never change. Reloads must follow.
func testHotReloadConfigMap(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	dir := t.TempDir()
	var current string
	// publish does what the kubelet's atomic writer does.
	publish := func(version string) {
		t.Helper()
		ts := "..2026_11_25_23_00_00." + version
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(os.Mkdir(filepath.Join(dir, ts), 0o755))
		must(os.WriteFile(filepath.Join(dir, ts, "marker.rego"), []byte(th.MarkerRule(version)), 0o644))
		must(os.Symlink(ts, filepath.Join(dir, "..data_tmp")))
		must(os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		if current == "" {
			must(os.Symlink(filepath.Join("..data", "marker.rego"), filepath.Join(dir, "marker.rego")))
		} else {
			must(os.RemoveAll(filepath.Join(dir, current)))
		}
		current = ts
	}
	publish("v1")
	r, expect := startMarkers(t, e, dir)
	expect("marker v1")
	publish("v2")
	r.waitMetricAtLeast(t, `trailguard_rule_reloads_total{outcome="ok"}`, 1, 10*time.Second)
	expect("marker v2")
}

// /healthz says the process is up; /readyz says whether it can do its job,
// naming what stops it; /metrics counts the work.
func testHealthAndMetrics(t *testing.T, p *peers) {
	t.Run("Ready", func(t *testing.T) {
		t.Parallel()
		e := newSQSEnv(t, p)
		sl := newSlack(t)
		// threats too, for its stateful rules' records.
		r := startDaemon(t, e.config(t, slackConfig(sl, "rules:\n  packs: [aws, threats]\n")...), daemon.Options{})
		if code, body := r.get(t, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz: %d %q", code, body)
		}
		testpeers.WaitFor(t, 10*time.Second, func() error {
			if code, body := r.get(t, "/readyz"); code != http.StatusOK {
				return fmt.Errorf("/readyz: %d %q", code, body)
			}
			return nil
		})

		root, c := th.RootCall(th.Account), th.ConsoleFailure("frank")
		k := th.LogKey("metrics")
		e.putLog(t, k, root, th.Benign(0), c, th.Benign(1))
		e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
		e.send(t, th.EBCloudTrail(th.DeniedCall("grace")))
		e.waitQueue(t, 0, 0, 15*time.Second)
		r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 2, 5*time.Second)

		m := r.Metrics(t)
		for series, want := range map[string]float64{
			"trailguard_sqs_messages_received_total":                                      2,
			"trailguard_sqs_messages_deleted_total":                                       2,
			"trailguard_events_read_total":                                                5,
			"trailguard_events_evaluated_total":                                           5,
			`trailguard_s3_objects_total{outcome="ok"}`:                                   1,
			`trailguard_alerts_total{rule="aws.root_usage",severity="critical"}`:          1,
			`trailguard_alerts_total{rule="aws.console_login_failure",severity="medium"}`: 1,
			`trailguard_alerts_total{rule="aws.unauthorized_api_call",severity="low"}`:    1,
			`trailguard_notifications_total{notifier="slack",outcome="sent"}`:             3,
			// grace's refused call, counted by threats.denied_calls_burst
			"trailguard_stateful_records": 1,
		} {
			if m[series] != want {
				t.Errorf("%s = %v, want %v", series, m[series], want)
			}
		}
		// Every shipped rule runs from its plan: none fell back.
		if n, ok := m["trailguard_plan_fallbacks_total"]; !ok || n != 0 {
			t.Errorf("trailguard_plan_fallbacks_total = %v (exported: %v), want 0", n, ok)
		}
		if m["trailguard_rules_loaded"] < 10 {
			t.Errorf("trailguard_rules_loaded = %v", m["trailguard_rules_loaded"])
		}
		if len(sl.Posts()) != 3 {
			t.Errorf("%d Slack posts, want 3", len(sl.Posts()))
		}
	})
	t.Run("SlackInvalidAuth", func(t *testing.T) {
		t.Parallel()
		e := newSQSEnv(t, p)
		sl := newSlack(t)
		sl.SetAuthError("invalid_auth")
		r := startDaemon(t, e.config(t,
			"notifiers:\n"+th.SlackNotifier("secops-slack", sl.APIURL(), "xoxb-test-token")+th.StdoutNotifier("console"),
			"routes:\n  - notifiers: [secops-slack, console]\n"), daemon.Options{})
		if code, body := r.get(t, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz: %d %q", code, body)
		}
		// The start-up checks run in the background, once /healthz answers.
		var body string
		testpeers.WaitFor(t, 10*time.Second, func() error {
			var code int
			code, body = r.get(t, "/readyz")
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "notifiers: secops-slack: ") || !strings.Contains(body, "invalid_auth") {
				return fmt.Errorf("/readyz with a revoked Slack token: %d %q; want 503 naming secops-slack and invalid_auth", code, body)
			}
			return nil
		})
		if strings.Contains(body, "console") {
			t.Errorf("/readyz blames the healthy notifier: %q", body)
		}
	})
}

// The dir source reads the logs in a directory, then those that appear
// later.
func testDirSource(t *testing.T, _ *peers) {
	dir := t.TempDir()
	first := th.ConsoleFailure("henry")
	if err := os.WriteFile(filepath.Join(dir, "first.json.gz"), th.Gzip(t, th.Log(th.Benign(0), first)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startDaemon(t, parseConfig(t,
		fmt.Sprintf("source:\n  type: dir\n  dir:\n    path: %s\n    watch: true\n", dir),
		"notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n",
	), daemon.Options{})
	r.Out.waitAlerts(t, 1, 15*time.Second)

	second := th.RootCall(th.Account)
	sub := filepath.Join(dir, "AWSLogs", th.Account, "CloudTrail", "us-east-1")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// Written aside, then renamed into place, as a sync tool would.
	final := filepath.Join(sub, "second.json")
	th.Publish(t, final, th.Log(second, th.Benign(1)))
	got := r.Out.waitAlerts(t, 2, 20*time.Second)
	wantAlerts(t, got, th.Key(th.RuleConsole, first), th.Key(th.RuleRoot, second))
	if got[1].Origin != final {
		t.Errorf("origin %q, want %q", got[1].Origin, final)
	}
	r.waitMetric(t, `trailguard_files_total{outcome="ok"}`, 2, 5*time.Second)
	if n := r.Metric(t, "trailguard_events_read_total"); n != 4 {
		t.Errorf("events read %v, want 4", n)
	}
}
