package daemon_test

// The daemon's end-to-end tests run it whole, through the real AWS SDK, against
// real protocol peers: fauxqs (SQS, under Node.js), gofakes3 (S3) behind a
// recording proxy, a Slack-shaped HTTP recorder, go-smtp and miniredis. This
// file holds the harness; the scenarios are in the other _test files.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/notifiers/dispatch"
)

// TestDaemon runs every scenario as a parallel subtest sharing one fauxqs
// (each with queues of its own). The AWS environment is set once here:
// t.Setenv is not allowed in parallel tests, and the parallel subtests all
// finish before this test's cleanup restores it.
func TestDaemon(t *testing.T) {
	testpeers.AWSEnv(t)
	p := &peers{sqs: testpeers.StartFauxqs(t)}
	th.RunParallel(t, p, []th.Scenario[*peers]{
		// The slowest first: they wait out SQS retry delays.
		{Name: "Refused", Run: testRefused},
		{Name: "LargeLog", Run: testLargeLog},
		{Name: "RestartRedis", Run: testRestart(true)},
		{Name: "RestartMemory", Run: testRestart(false)},
		{Name: "Envelopes", Run: testEnvelopes},
		{Name: "MultiKey", Run: testMultiKey},
		{Name: "S3TestEvent", Run: testS3TestEvent},
		{Name: "SlackRetry", Run: testSlackRetry},
		{Name: "SlackOutageRedelivery", Run: testSlackOutageRedelivery},
		{Name: "SlackRateLimited", Run: testSlackRateLimited},
		{Name: "SMTPLater", Run: testSMTPLater},
		{Name: "HTTPNotifiers", Run: testHTTPNotifiers},
		{Name: "Suppression", Run: testSuppression},
		{Name: "Dedup", Run: testDedup},
		{Name: "Routing", Run: testRouting},
		{Name: "SharedStdout", Run: testSharedStdout},
		{Name: "HotReload", Run: testHotReload},
		{Name: "HotReloadConfigMap", Run: testHotReloadConfigMap},
		{Name: "Health", Run: testHealthAndMetrics},
		{Name: "DirSource", Run: testDirSource},
		{Name: "StatefulBatch", Run: testStatefulBatch},
		{Name: "SigmaLikeEval", Run: testSigmaLikeEval},
	})
}

// ---- peers ----------------------------------------------------------------

// peers are shared by all scenarios.
type peers struct {
	sqs *testpeers.Fauxqs
}

var queueSeq atomic.Int64

// queueName is unique in the test binary and tells whose queue it is.
func queueName(t *testing.T) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, strings.TrimPrefix(t.Name(), "TestDaemon/"))
	if len(n) > 50 {
		n = n[:50]
	}
	return fmt.Sprintf("%s-%d", n, queueSeq.Add(1))
}

// s3Peer is gofakes3 with a recording proxy in front: the daemon talks to
// the proxy (Endpoint), the test fills buckets through the direct client, so
// Requests lists exactly what the daemon asked S3 for.
type s3Peer struct {
	*testpeers.S3
	endpoint string

	// Delay holds each request this long (nanoseconds) before it is
	// answered, or until the daemon gives up on it.
	Delay atomic.Int64

	mu   sync.Mutex
	reqs []string // "GET /bucket/key", path decoded
}

func startS3(t *testing.T) *s3Peer {
	t.Helper()
	p := &s3Peer{S3: testpeers.StartS3(t)}
	p.endpoint = p.Front(t, func(w http.ResponseWriter, r *http.Request) bool {
		p.mu.Lock()
		p.reqs = append(p.reqs, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		if d := time.Duration(p.Delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return true
			}
		}
		return false
	})
	return p
}

// Requests returns the daemon's requests so far.
func (s *s3Peer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

// sqsEnv is one scenario's queue, bucket and the configuration pointing at
// them.
type sqsEnv struct {
	p        *peers
	queueURL string
	dlqURL   string // set by newSQSEnvDLQ
	s3       *s3Peer

	// Source settings, changed before config is called.
	Workers    int
	Visibility string
	Buckets    []string
}

const bucket = "trail-logs"

func newSQSEnv(t *testing.T, p *peers) *sqsEnv {
	t.Helper()
	e := &sqsEnv{p: p, queueURL: p.sqs.CreateQueue(t, queueName(t), nil), s3: startS3(t),
		Workers: 2, Visibility: "4s", Buckets: []string{bucket}}
	e.s3.CreateBucket(t, bucket)
	return e
}

// newSQSEnvDLQ is newSQSEnv with a dead-letter queue after maxReceiveCount.
func newSQSEnvDLQ(t *testing.T, p *peers, maxReceiveCount int) *sqsEnv {
	t.Helper()
	e := &sqsEnv{p: p, s3: startS3(t), Workers: 2, Visibility: "4s", Buckets: []string{bucket}}
	e.queueURL, e.dlqURL = p.sqs.CreateQueueWithDLQ(t, queueName(t), maxReceiveCount, nil)
	e.s3.CreateBucket(t, bucket)
	return e
}

func (e *sqsEnv) send(t *testing.T, body string) string {
	t.Helper()
	return e.p.sqs.Send(t, e.queueURL, body)
}

// waitQueue waits for the queue's visible and in-flight counts.
func (e *sqsEnv) waitQueue(t *testing.T, visible, inflight int, timeout time.Duration) {
	t.Helper()
	e.p.sqs.WaitCounts(t, e.queueURL, visible, inflight, timeout)
}

func (e *sqsEnv) counts(t *testing.T) (visible, inflight int) {
	t.Helper()
	return e.p.sqs.ApproxCounts(t, e.queueURL)
}

// putLog stores a CloudTrail log file (gzipped, as CloudTrail writes them).
func (e *sqsEnv) putLog(t *testing.T, key string, recs ...th.Record) {
	t.Helper()
	e.s3.Put(t, bucket, key, th.Gzip(t, th.Log(recs...)))
}

// config builds the configuration with config.Parse from YAML text: the
// source section pointing at this env's peers, and defaults for the other
// sections that the given top-level fragments ("notifiers:\n  - …") replace.
func (e *sqsEnv) config(t *testing.T, fragments ...string) *config.Config {
	t.Helper()
	source := th.SQSSource{QueueURL: e.queueURL, Endpoint: e.p.sqs.Endpoint(), Visibility: e.Visibility,
		MaxMessages: 10, Workers: e.Workers, S3Endpoint: e.s3.endpoint, Buckets: e.Buckets}
	return parseConfig(t, append([]string{source.YAML()}, fragments...)...)
}

// parseConfig joins top-level YAML fragments over th.JoinConfig's defaults
// (a fragment replaces the default with the same top-level key) and parses
// them.
func parseConfig(t *testing.T, fragments ...string) *config.Config {
	t.Helper()
	doc := th.JoinConfig(t, "text", fragments...)
	cfg, err := config.Parse("trailguard.yaml", []byte(doc), nil)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, doc)
	}
	return cfg
}

// ---- the daemon ------------------------------------------------------------

// fastRetry keeps the dispatcher's retries quick; MaxElapsedTime leaves room
// for the scenarios that keep a peer down for a while.
var fastRetry = dispatch.RetryPolicy{
	InitialInterval:     20 * time.Millisecond,
	MaxInterval:         200 * time.Millisecond,
	RandomizationFactor: -1,
	MaxElapsedTime:      15 * time.Second,
	AttemptTimeout:      5 * time.Second,
}

// run is one daemon running in a goroutine.
type run struct {
	D    *daemon.Daemon
	Addr string      // the metrics server
	Out  *syncBuffer // what the stdout notifiers wrote (unless Options.Stdout was set)
	Logs *syncBuffer // the daemon's log

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startDaemon builds a daemon with daemon.New and runs it until the test
// ends or Stop is called. Options left zero get test values: a log kept for
// failure reports, stdout to Out, fastRetry, a 3s shutdown grace.
func startDaemon(t *testing.T, cfg *config.Config, opts daemon.Options) *run {
	t.Helper()
	r := &run{Out: &syncBuffer{}, Logs: &syncBuffer{}, done: make(chan struct{})}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(r.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Stdout == nil {
		opts.Stdout = r.Out
	}
	if opts.Retry == (dispatch.RetryPolicy{}) {
		opts.Retry = fastRetry
	}
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = 3 * time.Second
	}
	ready := make(chan string, 1)
	opts.Ready = func(addr string) { ready <- addr }

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	d, err := daemon.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		t.Fatalf("daemon.New: %v\nlog:\n%s", err, r.Logs)
	}
	r.D = d
	go func() {
		defer close(r.done)
		r.err = d.Run(ctx)
	}()
	t.Cleanup(func() {
		r.Stop(t)
		if t.Failed() {
			t.Logf("daemon log:\n%s", r.Logs)
		}
	})
	select {
	case r.Addr = <-ready:
	case <-r.done:
		t.Fatalf("daemon stopped at start: %v\nlog:\n%s", r.err, r.Logs)
	case <-time.After(15 * time.Second):
		t.Fatalf("daemon not listening after 15s\nlog:\n%s", r.Logs)
	}
	return r
}

// Stop cancels the daemon's context and waits for Run to return; it returns
// Run's error. It may be called more than once.
func (r *run) Stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Errorf("daemon did not stop within 30s of its context being cancelled")
	}
	return r.err
}

// Stopped reports whether Run has returned.
func (r *run) Stopped() bool { return th.Closed(r.done) }

// get fetches a path of the daemon's HTTP server.
func (r *run) get(t *testing.T, path string) (int, string) { return th.Get(t, r.Addr, path) }

// Metrics scrapes /metrics (see th.ParseMetrics).
func (r *run) Metrics(t *testing.T) map[string]float64 { return th.Scrape(t, r.Addr) }

// Metric is one series' value (0 when absent).
func (r *run) Metric(t *testing.T, series string) float64 { return r.Metrics(t)[series] }

// waitMetric waits until series has value want.
func (r *run) waitMetric(t *testing.T, series string, want float64, timeout time.Duration) {
	t.Helper()
	th.WaitMetric(t, r.Addr, series, timeout, fmt.Sprint(want), func(v float64) bool { return v == want })
}

// waitMetricAtLeast waits until series is at least min.
func (r *run) waitMetricAtLeast(t *testing.T, series string, min float64, timeout time.Duration) {
	t.Helper()
	th.WaitMetric(t, r.Addr, series, timeout, fmt.Sprint("at least ", min), func(v float64) bool { return v >= min })
}

// outAlert is one line of the stdout notifier.
type outAlert struct {
	RuleID    string `json:"rule_id"`
	Severity  string `json:"severity"`
	Message   string `json:"message"`
	EventID   string `json:"event_id"`
	Principal string `json:"principal"`
	AccountID string `json:"account_id"`
	Origin    string `json:"origin"`
	Note      string `json:"note"`
}

// Alerts parses what the stdout notifiers wrote.
// syncBuffer holds what a daemon wrote while it runs, with helpers to read
// the stdout notifier's alerts from it.
type syncBuffer struct{ testpeers.SyncBuffer }

func (b *syncBuffer) Alerts(t *testing.T) []outAlert {
	t.Helper()
	var out []outAlert
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var a outAlert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("stdout notifier line %q: %v", line, err)
		}
		out = append(out, a)
	}
	return out
}

// waitAlerts waits until the stdout notifiers wrote n alerts and returns them.
func (b *syncBuffer) waitAlerts(t *testing.T, n int, timeout time.Duration) []outAlert {
	t.Helper()
	var got []outAlert
	testpeers.WaitFor(t, timeout, func() error {
		got = b.Alerts(t)
		if len(got) < n {
			return fmt.Errorf("%d alerts on stdout, want %d", len(got), n)
		}
		return nil
	})
	return got
}

// ---- assertions -------------------------------------------------------------

// alertKeys maps "rule event" to how often it was notified.
func alertKeys(as []outAlert) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		m[a.RuleID+" "+a.EventID]++
	}
	return m
}

// wantAlerts checks that got holds exactly the alerts of want ("rule event"),
// each once.
func wantAlerts(t *testing.T, got []outAlert, want ...string) {
	t.Helper()
	keys := alertKeys(got)
	for _, w := range want {
		if keys[w] != 1 {
			t.Errorf("alert %s notified %d times, want once", w, keys[w])
		}
		delete(keys, w)
	}
	for k, n := range keys {
		t.Errorf("unexpected alert %s (%d times)", k, n)
	}
}
