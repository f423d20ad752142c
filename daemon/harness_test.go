package daemon_test

// The daemon's end-to-end tests run it whole, through the real AWS SDK, against
// real protocol peers: fauxqs (SQS, under Node.js), gofakes3 (S3) behind a
// recording proxy, a Slack-shaped HTTP recorder, go-smtp and miniredis. This
// file holds the harness; the scenarios are in the other _test files.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
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
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, p *peers)
	}{
		// The slowest first: they wait out SQS retry delays.
		{"Refused", testRefused},
		{"LargeLog", testLargeLog},
		{"RestartRedis", testRestart(true)},
		{"RestartMemory", testRestart(false)},
		{"Envelopes", testEnvelopes},
		{"MultiKey", testMultiKey},
		{"S3TestEvent", testS3TestEvent},
		{"SlackRetry", testSlackRetry},
		{"SlackOutageRedelivery", testSlackOutageRedelivery},
		{"SlackRateLimited", testSlackRateLimited},
		{"SMTPLater", testSMTPLater},
		{"Suppression", testSuppression},
		{"Dedup", testDedup},
		{"Routing", testRouting},
		{"SharedStdout", testSharedStdout},
		{"HotReload", testHotReload},
		{"HotReloadConfigMap", testHotReloadConfigMap},
		{"Health", testHealthAndMetrics},
		{"DirSource", testDirSource},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, p)
		})
	}
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
	s := testpeers.StartS3(t)
	u, err := url.Parse(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &s3Peer{S3: s}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.reqs = append(p.reqs, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		if d := time.Duration(p.Delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.endpoint = srv.URL
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
func (e *sqsEnv) putLog(t *testing.T, key string, recs ...rec) {
	t.Helper()
	e.s3.Put(t, bucket, key, gz(t, ctLog(recs...)))
}

// config builds the configuration with config.Parse from YAML text: the
// source section pointing at this env's peers, and defaults for the other
// sections that the given top-level fragments ("notifiers:\n  - …") replace.
func (e *sqsEnv) config(t *testing.T, fragments ...string) *config.Config {
	t.Helper()
	source := fmt.Sprintf(`source:
  type: sqs
  sqs:
    queue_url: %s
    endpoint: %s
    region: us-east-1
    wait_time: 1s
    visibility_timeout: %s
    max_messages: 10
    workers: %d
  s3:
    endpoint: %s
    region: us-east-1
    path_style: true
    allowed_buckets: [%s]
`, e.queueURL, e.p.sqs.Endpoint(), e.Visibility, e.Workers, e.s3.endpoint, strings.Join(e.Buckets, ", "))
	return parseConfig(t, append([]string{source}, fragments...)...)
}

// parseConfig joins top-level YAML fragments over the defaults below (a
// fragment replaces the default with the same top-level key) and parses them.
func parseConfig(t *testing.T, fragments ...string) *config.Config {
	t.Helper()
	defaults := []string{
		"log:\n  level: debug\n  format: text\n",
		"server:\n  listen: 127.0.0.1:0\n",
		"rules:\n  packs: [aws]\n",
		// Most scenarios count alerts one by one.
		"dedup:\n  window: 0s\n",
	}
	doc := testpeers.JoinYAML(t, append(defaults, fragments...)...)
	cfg, err := config.Parse("trailguard.yaml", []byte(doc), nil)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, doc)
	}
	return cfg
}

// Notifier blocks for the configurations.

func slackNotifier(name, apiURL string) string {
	return fmt.Sprintf(`  - name: %s
    type: slack
    slack:
      token: xoxb-test-token
      channel: C0123456789
      api_url: %s
`, name, apiURL)
}

func stdoutNotifier(name string) string {
	return fmt.Sprintf("  - name: %s\n    type: stdout\n", name)
}

func emailNotifier(name, addr string) string {
	host, port, _ := strings.Cut(addr, ":")
	return fmt.Sprintf(`  - name: %s
    type: email
    email:
      host: %s
      port: %s
      tls: starttls
      from: Trailguard <trailguard@example.com>
      to: [secops@example.com]
`, name, host, port)
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
func (r *run) Stopped() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// get fetches a path of the daemon's HTTP server.
func (r *run) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.Addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// Metrics scrapes /metrics: series as written in the text format
// (`name{label="v",…}`, labels sorted by name) to values.
func (r *run) Metrics(t *testing.T) map[string]float64 {
	t.Helper()
	code, body := r.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics: bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// Metric is one series' value (0 when absent).
func (r *run) Metric(t *testing.T, series string) float64 {
	t.Helper()
	return r.Metrics(t)[series]
}

// waitMetric waits until series has value want.
func (r *run) waitMetric(t *testing.T, series string, want float64, timeout time.Duration) {
	t.Helper()
	testpeers.WaitFor(t, timeout, func() error {
		if got := r.Metric(t, series); got != want {
			return fmt.Errorf("%s = %v, want %v", series, got, want)
		}
		return nil
	})
}

// waitMetricAtLeast waits until series is at least min.
func (r *run) waitMetricAtLeast(t *testing.T, series string, min float64, timeout time.Duration) {
	t.Helper()
	testpeers.WaitFor(t, timeout, func() error {
		if got := r.Metric(t, series); got < min {
			return fmt.Errorf("%s = %v, want at least %v", series, got, min)
		}
		return nil
	})
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

// ---- CloudTrail data --------------------------------------------------------

const account = "123456789012"

// rec is one CloudTrail record.
type rec map[string]any

var eventSeq atomic.Int64

// newEventID is a unique, UUID-shaped CloudTrail eventID.
func newEventID() string {
	return fmt.Sprintf("5f1d2c3b-7e4a-4a6e-9c1d-%012x", eventSeq.Add(1))
}

func (r rec) id() string { return r["eventID"].(string) }

// event is a management event with the fields CloudTrail always writes.
func event(source, name string, identity map[string]any, ip, agent string) rec {
	acct, _ := identity["accountId"].(string)
	if acct == "" {
		acct = account
	}
	return rec{
		"eventVersion":       "1.09",
		"userIdentity":       identity,
		"eventTime":          time.Now().UTC().Add(-3 * time.Minute).Format(time.RFC3339),
		"eventSource":        source,
		"eventName":          name,
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    ip,
		"userAgent":          agent,
		"requestParameters":  nil,
		"responseElements":   nil,
		"requestID":          fmt.Sprintf("%08X-REQ", eventSeq.Load()),
		"eventID":            newEventID(),
		"readOnly":           true,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": acct,
		"eventCategory":      "Management",
		"tlsDetails": map[string]any{
			"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
			"clientProvidedHostHeader": strings.TrimSuffix(source, ".amazonaws.com") + ".us-east-1.amazonaws.com",
		},
	}
}

func iamUser(name string) map[string]any {
	return map[string]any{
		"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(name) + "EXAMPLE",
		"arn": "arn:aws:iam::" + account + ":user/" + name, "accountId": account,
		"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": name,
	}
}

// consoleFailure is a failed console sign-in: rule aws.console_login_failure
// (medium). Its principal is "IAMUser" (no ARN for a failed sign-in).
func consoleFailure(user string) rec {
	r := event("signin.amazonaws.com", "ConsoleLogin", map[string]any{
		"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(user) + "EXAMPLE",
		"accountId": account, "accessKeyId": "", "userName": user,
	}, "203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	r["eventType"] = "AwsConsoleSignIn"
	r["readOnly"] = false
	r["errorMessage"] = "Failed authentication"
	r["responseElements"] = map[string]any{"ConsoleLogin": "Failure"}
	r["additionalEventData"] = map[string]any{
		"LoginTo":       "https://console.aws.amazon.com/console/home",
		"MobileVersion": "No", "MFAUsed": "No",
	}
	delete(r, "tlsDetails")
	return r
}

// rootCall is the root user listing buckets: rule aws.root_usage (critical),
// principal arn:aws:iam::ACCT:root.
func rootCall(acct string) rec {
	r := event("s3.amazonaws.com", "ListBuckets", map[string]any{
		"type": "Root", "principalId": acct, "arn": "arn:aws:iam::" + acct + ":root", "accountId": acct,
		"accessKeyId": "ASIAEXAMPLEROOT",
		"sessionContext": map[string]any{"attributes": map[string]any{
			"creationDate": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "mfaAuthenticated": "true"}},
	}, "198.51.100.23", "console.amazonaws.com")
	r["requestParameters"] = map[string]any{"Host": "s3.amazonaws.com"}
	return r
}

// deniedCall is a call refused by IAM: rule aws.unauthorized_api_call (low).
func deniedCall(user string) rec {
	r := event("iam.amazonaws.com", "ListUsers", iamUser(user), "192.0.2.44", "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64")
	r["errorCode"] = "AccessDenied"
	r["errorMessage"] = "User: arn:aws:iam::" + account + ":user/" + user + " is not authorized to perform: iam:ListUsers"
	return r
}

// benignCalls are read-only calls by ordinary users that no shipped rule
// alerts on.
var benignCalls = []struct{ source, name, agent string }{
	{"ec2.amazonaws.com", "DescribeInstances", "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64"},
	{"sts.amazonaws.com", "GetCallerIdentity", "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5"},
	{"iam.amazonaws.com", "GetUser", "Boto3/1.34.100 md/Botocore#1.34.100 Python/3.12.3"},
	{"monitoring.amazonaws.com", "DescribeAlarms", "aws-sdk-java/2.25.40 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.11"},
	{"lambda.amazonaws.com", "ListFunctions20150331", "terraform-provider-aws/5.50.0 (+https://registry.terraform.io)"},
	{"s3.amazonaws.com", "GetBucketLocation", "[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5]"},
}

func benign(i int) rec {
	c := benignCalls[i%len(benignCalls)]
	users := []string{"deploy", "grafana", "ci-runner", "backup"}
	return event(c.source, c.name, iamUser(users[i%len(users)]), fmt.Sprintf("10.%d.%d.%d", i%7, i%251, 1+i%250), c.agent)
}

// ctLog is a CloudTrail log file.
func ctLog(recs ...rec) []byte {
	if recs == nil {
		recs = []rec{}
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		panic(err)
	}
	return b
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var keySeq atomic.Int64

// logKey is a key where CloudTrail delivers logs; suffix makes it unique.
func logKey(suffix string) string {
	now := time.Now().UTC()
	return fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%s_%s%d.json.gz",
		account, now.Format("2006/01/02"), account, now.Format("20060102T1504Z"), suffix, keySeq.Add(1))
}

// ---- notification bodies ----------------------------------------------------

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ctNotification is CloudTrail's own SNS message: {"s3Bucket","s3ObjectKey"}.
// Sent to SQS as is, it is what a subscription with raw message delivery
// carries.
func ctNotification(bucket string, keys ...string) string {
	return mustJSON(map[string]any{"s3Bucket": bucket, "s3ObjectKey": keys})
}

// snsWrapped is an SNS notification envelope around message.
func snsWrapped(message string) string {
	return mustJSON(map[string]any{
		"Type":             "Notification",
		"MessageId":        "8c9b3d7e-2f1a-5b6c-9d8e-7f6a5b4c3d2e",
		"TopicArn":         "arn:aws:sns:us-east-1:" + account + ":cloudtrail-logs",
		"Message":          message,
		"Timestamp":        time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"SignatureVersion": "1",
		"Signature":        "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
		"SigningCertURL":   "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
		"UnsubscribeURL":   "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:" + account + ":cloudtrail-logs:1",
	})
}

// s3Event is an S3 event notification (ObjectCreated:Put) for keys, which it
// form-URL-encodes as S3 does (a space becomes "+", "+" becomes "%2B").
func s3Event(bucket string, keys ...string) string {
	var recs []any
	for _, k := range keys {
		segs := strings.Split(k, "/")
		for i, s := range segs {
			segs[i] = url.QueryEscape(s)
		}
		recs = append(recs, map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
			"eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "eventName": "ObjectCreated:Put",
			"userIdentity":      map[string]any{"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
			"requestParameters": map[string]any{"sourceIPAddress": "10.0.0.1"},
			"responseElements":  map[string]any{"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
			"s3": map[string]any{
				"s3SchemaVersion": "1.0", "configurationId": "trailguard",
				"bucket": map[string]any{"name": bucket, "ownerIdentity": map[string]any{"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::" + bucket},
				"object": map[string]any{"key": strings.Join(segs, "/"), "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"},
			},
		})
	}
	return mustJSON(map[string]any{"Records": recs})
}

// s3TestEvent is what S3 sends when a notification is configured.
func s3TestEvent(bucket string) string {
	return mustJSON(map[string]any{
		"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": time.Now().UTC().Format(time.RFC3339),
		"Bucket": bucket, "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
	})
}

// ebCloudTrail is an EventBridge event carrying one CloudTrail record.
func ebCloudTrail(r rec) string {
	detailType, source := "AWS API Call via CloudTrail", "aws."+strings.TrimSuffix(r["eventSource"].(string), ".amazonaws.com")
	if r["eventType"] == "AwsConsoleSignIn" {
		detailType = "AWS Console Sign In via CloudTrail"
	}
	return mustJSON(map[string]any{
		"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": detailType,
		"source": source, "account": account, "time": r["eventTime"], "region": "us-east-1",
		"resources": []any{}, "detail": r,
	})
}

// ebObjectCreated is an EventBridge S3 "Object Created" event.
func ebObjectCreated(bucket, key string) string {
	return mustJSON(map[string]any{
		"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
		"source": "aws.s3", "account": account, "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []any{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]any{"name": bucket},
			"object":     map[string]any{"key": key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189"},
			"request-id": "N4N7GDK58NMKJ12R", "requester": "cloudtrail.amazonaws.com",
			"source-ip-address": "cloudtrail.amazonaws.com", "reason": "PutObject",
		},
	})
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

func key(rule string, r rec) string { return rule + " " + r.id() }

const (
	ruleConsole = "aws.console_login_failure"
	ruleRoot    = "aws.root_usage"
	ruleDenied  = "aws.unauthorized_api_call"
)
