package dispatch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/notifiers/email"
	"github.com/trailguard/trailguard/notifiers/slack"
	"github.com/trailguard/trailguard/notifiers/stdout"
)

// The dispatcher is tested with real notifiers: stdout into a buffer where only
// the routing or dedup decision matters, Slack against a Slack-shaped HTTP server
// and email against an in-process SMTP server where failures matter.

const slackToken = "xoxb-secret-test-token"

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// outLine is one stdout notifier line.
type outLine struct {
	alert.Alert
	Note string `json:"note"`
}

func (s *syncBuffer) lines(t *testing.T) []outLine {
	t.Helper()
	var out []outLine
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var o outLine
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		out = append(out, o)
	}
	return out
}

func newStdout(name string) (*stdout.Notifier, *syncBuffer) {
	b := &syncBuffer{}
	return stdout.New(name, b), b
}

func newSlack(t *testing.T, srv *fakeslack.Server) *slack.Notifier {
	t.Helper()
	return slack.New("slack", &config.Slack{Token: slackToken, Channel: "C0123456789", APIURL: srv.APIURL()},
		slog.New(slog.DiscardHandler))
}

func newEmail(t *testing.T, addr string) *email.Notifier {
	t.Helper()
	h, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	n, err := email.New("email", &config.Email{Host: h, Port: port, TLS: config.TLSNone,
		From: "trailguard@example.com", To: []string{"secops@example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testLogger captures logs as JSON lines.
func testLogger() (*slog.Logger, *syncBuffer) {
	b := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// fastRetry keeps tests quick; MaxElapsedTime still allows several attempts.
var fastRetry = RetryPolicy{InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond,
	MaxElapsedTime: 2 * time.Second, AttemptTimeout: 2 * time.Second}

// recorder is an Observer that counts.
type recorder struct {
	mu       sync.Mutex
	outcomes map[string]int // "notifier/outcome"
	retries  map[string]int
}

func newRecorder() *recorder {
	return &recorder{outcomes: map[string]int{}, retries: map[string]int{}}
}

func (r *recorder) Notified(n string, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes[n+"/"+string(o)]++
}

func (r *recorder) Retried(n string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries[n]++
}

func (r *recorder) get(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outcomes[key]
}

func (r *recorder) retried(n string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retries[n]
}

// clock is a manual clock for dedup windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_714_557_600_000).UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var eventSeq int

// mkAlert returns an alert with a fresh event ID.
func mkAlert(rule string, sev alert.Severity, principal string) *alert.Alert {
	eventSeq++
	return &alert.Alert{
		RuleID: rule, Title: "Title of " + rule, Severity: sev, Message: "something happened",
		EventID: fmt.Sprintf("00000000-0000-0000-0000-%012d", eventSeq), EventTime: "2024-05-01T10:00:00Z",
		EventSource: "iam.amazonaws.com", EventName: "CreateUser", Region: "us-east-1",
		AccountID: "111122223333", Principal: principal, SourceIP: "203.0.113.7",
	}
}

func mustNew(t *testing.T, cfg Config) *Dispatcher {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Retry == (RetryPolicy{}) {
		cfg.Retry = fastRetry
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func everything(names ...string) []config.Route {
	return []config.Route{{Notifiers: names}}
}

// dedup is the configuration's default dedup (the dispatcher has none of its
// own) with window w.
func dedup(w time.Duration) config.Dedup {
	d := config.Default().Dedup
	d.Window = w
	return d
}
