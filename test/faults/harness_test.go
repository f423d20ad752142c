package faults

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// ---- the daemon as a child process ------------------------------------------

// daemon is one `trailguard run` process. Its stdout (the stdout notifier's
// alerts) and stderr (its JSON log) are kept in full.
type daemon struct {
	name string
	cmd  *exec.Cmd
	Out  *testpeers.SyncBuffer
	Log  *testpeers.SyncBuffer
	Addr string // its metrics server, host:port

	done  chan struct{}
	state *os.ProcessState
}

// processEnv is a child daemon's whole environment: nothing is inherited
// but PATH, so a developer's AWS_* or proxy settings cannot reach it. The
// AWS variables are testpeers.AWSEnv's; the TLS roots are caPEM alone (a
// test SMTP server's certificate) when it is set.
func processEnv(t *testing.T, caPEM []byte, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + os.TempDir()},
		testpeers.AWSEnviron(dir)...)
	roots := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(roots, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// An empty file, and a directory without certificates: Go then trusts
	// caPEM only.
	env = append(env, "SSL_CERT_FILE="+roots, "SSL_CERT_DIR="+dir)
	return append(env, extra...)
}

// pemCert encodes a certificate for SSL_CERT_FILE.
func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// startDaemon writes cfg to a file and runs `trailguard run --config FILE`
// with env (see processEnv; nil: processEnv without a CA). It returns once
// the daemon logged that it listens. The test's cleanup stops it (SIGTERM,
// then SIGKILL) and, when the test failed, prints its log.
func startDaemon(t *testing.T, name, cfg string, env []string) *daemon {
	t.Helper()
	return startDaemonOut(t, name, cfg, env, nil)
}

// startDaemonOut is startDaemon with the daemon's stdout going to out (a
// pipe, say) instead of d.Out, when out is not nil.
func startDaemonOut(t *testing.T, name, cfg string, env []string, out *os.File) *daemon {
	t.Helper()
	if env == nil {
		env = processEnv(t, nil)
	}
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{name: name, Out: &testpeers.SyncBuffer{}, Log: &testpeers.SyncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(trailguardBin, "run", "--config", path)
	d.cmd.Env = env
	d.cmd.Stdout, d.cmd.Stderr = d.Out, d.Log
	if out != nil {
		d.cmd.Stdout = out
	}
	d.cmd.SysProcAttr = childAttr()
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = d.cmd.Wait() // the exit status is in ProcessState
		d.state = d.cmd.ProcessState
		close(d.done)
	}()
	t.Cleanup(func() {
		d.Stop(t)
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", d.name, d.state, tail(d.Log.String(), 24<<10))
		}
	})
	deadline := time.Now().Add(60 * time.Second) // two shared cores: compiling the policies can take a while
	for d.Addr == "" {
		d.Addr = d.logged(t, "trailguard started")["listen"].(string)
		if d.Addr != "" {
			break
		}
		select {
		case <-d.done:
			t.Fatalf("%s exited at start (%s):\n%s\nconfig:\n%s", name, d.state, d.Log, cfg)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening after 60s:\n%s", name, d.Log)
		}
	}
	return d
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// logged returns the first log record with message msg, or an empty map
// (with "listen" "") when there is none yet.
func (d *daemon) logged(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, r := range d.Records(t) {
		if r["msg"] == msg {
			return r
		}
	}
	return map[string]any{"listen": ""}
}

// Records parses the daemon's JSON log.
func (d *daemon) Records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(d.Log.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a partial last line, or a panic's stack
		}
		out = append(out, r)
	}
	return out
}

// Exited reports whether the process has ended.
func (d *daemon) Exited() bool { return th.Closed(d.done) }

// Kill ends the process with SIGKILL, as the OOM killer or a lost node
// would: nothing is flushed, released or deleted.
func (d *daemon) Kill(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil && !d.Exited() {
		t.Fatalf("kill %s: %v", d.name, err)
	}
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running 10s after SIGKILL", d.name)
	}
	if ws, ok := d.state.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s ended with %s, not by SIGKILL", d.name, d.state)
	}
}

// Stop asks the daemon to stop (SIGTERM) and waits; after 25s (its grace is
// 20s) it kills it. It may be called more than once.
func (d *daemon) Stop(t *testing.T) {
	t.Helper()
	if d.Exited() {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(25 * time.Second):
		t.Errorf("%s did not stop within 25s of SIGTERM; killing it", d.name)
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// get fetches a path of the daemon's HTTP server.
func (d *daemon) get(t *testing.T, path string) (int, string) { return th.Get(t, d.Addr, path) }

// Metrics scrapes /metrics (see th.ParseMetrics).
func (d *daemon) Metrics(t *testing.T) map[string]float64 { return th.Scrape(t, d.Addr) }

// Metric is one series' value (0 when absent).
func (d *daemon) Metric(t *testing.T, series string) float64 { return d.Metrics(t)[series] }

// waitMetric waits until series is at least min.
func (d *daemon) waitMetric(t *testing.T, series string, min float64, timeout time.Duration) {
	t.Helper()
	th.WaitMetric(t, d.Addr, series, timeout, fmt.Sprint("at least ", min), func(v float64) bool { return v >= min })
}

// waitReady waits until /readyz answers want, with a body containing each
// of parts.
func (d *daemon) waitReady(t *testing.T, want int, timeout time.Duration, parts ...string) string {
	t.Helper()
	var body string
	testpeers.WaitFor(t, timeout, func() error {
		var code int
		code, body = d.get(t, "/readyz")
		if code != want {
			return fmt.Errorf("%s: /readyz %d %q, want %d", d.name, code, body, want)
		}
		for _, p := range parts {
			if !strings.Contains(body, p) {
				return fmt.Errorf("%s: /readyz %d %q does not say %q", d.name, code, body, p)
			}
		}
		return nil
	})
	return body
}

// ---- a scenario's queue and bucket -------------------------------------------

// env is one scenario's queue (with a dead-letter queue), its bucket behind
// a fault-injecting S3 front, and the configuration pointing at them.
type env struct {
	p        *shared
	queueURL string
	dlqURL   string
	s3       *s3Front

	// Source settings, changed before config is called.
	SQSEndpoint string // default fauxqs itself
	Workers     int
	Visibility  string
	MaxMessages int
	MaxHold     string // source.sqs.max_hold; "" for the default
}

const bucket = "trail-logs"

var queueSeq atomic.Int64

// newEnv makes the queues (messages go to the DLQ after maxReceiveCount
// receives) and the bucket.
func newEnv(t *testing.T, p *shared, maxReceiveCount int) *env {
	t.Helper()
	name := fmt.Sprintf("%s-%d", strings.ReplaceAll(strings.TrimPrefix(t.Name(), "TestFaults/"), "/", "-"), queueSeq.Add(1))
	e := &env{p: p, s3: startS3Front(t), Workers: 2, Visibility: "4s", MaxMessages: 10}
	e.queueURL, e.dlqURL = p.sqs.CreateQueueWithDLQ(t, name, maxReceiveCount, nil)
	e.s3.CreateBucket(t, bucket)
	return e
}

func (e *env) send(t *testing.T, body string) string {
	t.Helper()
	return e.p.sqs.Send(t, e.queueURL, body)
}

// left returns the messages still in the queue (visible or in flight) and
// in the dead-letter queue.
func (e *env) left(t *testing.T) (queue, dlq int) {
	t.Helper()
	v, i := e.p.sqs.ApproxCounts(t, e.queueURL)
	dv, di := e.p.sqs.ApproxCounts(t, e.dlqURL)
	return v + i, dv + di
}

// waitDrained waits until the queue is empty (nothing visible or in
// flight) and the DLQ holds dlq messages.
func (e *env) waitDrained(t *testing.T, dlq int, timeout time.Duration) {
	t.Helper()
	testpeers.WaitFor(t, timeout, func() error {
		if q, d := e.left(t); q != 0 || d != dlq {
			return fmt.Errorf("%d messages in the queue and %d in the DLQ, want 0 and %d", q, d, dlq)
		}
		return nil
	})
}

// putLog stores a gzipped CloudTrail log file and returns its bytes.
func (e *env) putLog(t *testing.T, key string, recs ...th.Record) []byte {
	t.Helper()
	b := th.Gzip(t, th.Log(recs...))
	e.s3.Put(t, bucket, key, b)
	return b
}

// config is the daemon's YAML: the source section pointing at this env's
// peers, and defaults for the other sections that the given top-level
// fragments ("notifiers:\n  - …") replace.
func (e *env) config(t *testing.T, fragments ...string) string {
	t.Helper()
	sqsEndpoint := e.SQSEndpoint
	if sqsEndpoint == "" {
		sqsEndpoint = e.p.sqs.Endpoint()
	}
	source := th.SQSSource{QueueURL: e.queueURL, Endpoint: sqsEndpoint, Visibility: e.Visibility,
		MaxMessages: e.MaxMessages, Workers: e.Workers, S3Endpoint: e.s3.URL, Buckets: []string{bucket}, MaxHold: e.MaxHold}
	return th.JoinConfig(t, "json", append([]string{source.YAML()}, fragments...)...)
}

// ---- S3 with faults ----------------------------------------------------------

// s3Front is gofakes3 behind a front server: the daemon talks to URL, the
// test fills buckets through the direct client. The front records the
// daemon's GETs and lets a scenario answer any of them itself.
type s3Front struct {
	*testpeers.S3
	URL string

	mu    sync.Mutex
	gets  []string
	fault func(n int, w http.ResponseWriter, r *http.Request) bool
	quit  chan struct{} // closed when the test ends: unblocks hanging answers
}

func startS3Front(t *testing.T) *s3Front {
	t.Helper()
	f := &s3Front{S3: testpeers.StartS3(t), quit: make(chan struct{})}
	f.URL = f.Front(t, func(w http.ResponseWriter, r *http.Request) bool {
		f.mu.Lock()
		fault := f.fault
		n := 0
		if r.Method == http.MethodGet {
			f.gets = append(f.gets, r.URL.Path)
			n = len(f.gets)
		}
		f.mu.Unlock()
		return n > 0 && fault != nil && fault(n, w, r)
	})
	t.Cleanup(func() { close(f.quit) }) // runs before the front closes
	return f
}

// Fault makes fn see every GET first: n counts them from 1; fn returns
// true when it answered the request itself.
func (f *s3Front) Fault(fn func(n int, w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fn
}

// Gets returns the paths the daemon GET so far.
func (f *s3Front) Gets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.gets...)
}

// hang holds a request without answering until the client gives up or the
// test ends.
func (f *s3Front) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.quit:
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
