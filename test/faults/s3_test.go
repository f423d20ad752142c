package faults

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// consoleOnly routes every alert to one stdout notifier.
var consoleOnly = []string{"notifiers:\n" + th.StdoutNotifier("console"), "routes:\n  - notifiers: [console]\n"}

// s3InternalError is S3's answer to a request it failed.
const s3InternalError = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`

// logHas waits until some record of d's log has every key/value of want
// (values compared as strings, a "~" prefix meaning "contains").
func logHas(t *testing.T, d *daemon, timeout time.Duration, want map[string]string) map[string]any {
	t.Helper()
	var found map[string]any
	testpeers.WaitFor(t, timeout, func() error {
	records:
		for _, r := range d.Records(t) {
			for k, v := range want {
				got := fmt.Sprint(r[k])
				if c, ok := strings.CutPrefix(v, "~"); ok {
					if !strings.Contains(got, c) {
						continue records
					}
				} else if got != v {
					continue records
				}
			}
			found = r
			return nil
		}
		return fmt.Errorf("%s logged nothing with %q", d.name, want)
	})
	return found
}

// wantMetrics checks series of d's /metrics.
func wantMetrics(t *testing.T, d *daemon, want map[string]float64) {
	t.Helper()
	m := d.Metrics(t)
	for series, v := range want {
		if m[series] != v {
			t.Errorf("%s: %s = %v, want %v", d.name, series, m[series], v)
		}
	}
}

// S3 fails the first four GETs with 500 InternalError. The SDK makes three
// attempts per GetObject, so the first receive fails; the message comes
// back after the consumer's retry delay (5 s), and on its second receive the
// fourth GET fails and the SDK's retry succeeds. Every alert once.
func testS3Error500(t *testing.T, p *shared) {
	const failing = 4
	row := newRow(t, 1, "S3 answers 500", fmt.Sprintf("front of gofakes3 fails the first %d GETs with 500 InternalError", failing))
	e := newEnv(t, p, 5)
	e.s3.Fault(func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n > failing {
			return false
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(s3InternalError))
		return true
	})
	d := startDaemon(t, "s3-500", e.config(t, consoleOnly...), nil)

	root, denied := th.RootCall(th.Account), th.DeniedCall("alice")
	k := th.LogKey("s3-500-")
	e.putLog(t, k, th.Benign(0), root, denied, th.Benign(1))
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))

	e.waitDrained(t, 0, 45*time.Second)
	want := []string{th.Key(th.RuleRoot, root), th.Key(th.RuleDenied, denied)}
	c := count(want, stdoutAlerts(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	if gets := e.s3.Gets(); len(gets) != failing+1 {
		t.Errorf("%d GETs, want %d (3 SDK attempts, the message again, 2 SDK attempts)", len(gets), failing+1)
	}
	wantMetrics(t, d, map[string]float64{
		"trailguard_sqs_messages_received_total":                            2,
		`trailguard_sqs_messages_failed_total{reason="error"}`:              1,
		"trailguard_sqs_messages_deleted_total":                             1,
		`trailguard_s3_objects_total{outcome="error"}`:                      1,
		`trailguard_s3_objects_total{outcome="ok"}`:                         1,
		`trailguard_notifications_total{notifier="console",outcome="sent"}`: 2,
	})
	logHas(t, d, 5*time.Second, map[string]string{"msg": "cannot read log object", "bucket": bucket, "key": k, "error": "~InternalError"})
}

// S3 accepts the connection but never sends the response headers. The
// fetcher's read timeout (30 s, not configurable: see the report) gives up,
// the message comes back 5 s later and the second GET is answered.
func testS3Timeout(t *testing.T, p *shared) {
	row := newRow(t, 2, "S3 times out", "front holds the first GET without answering (no headers); the fetcher's fixed 30 s read timeout ends it")
	e := newEnv(t, p, 5)
	e.s3.Fault(func(n int, _ http.ResponseWriter, r *http.Request) bool {
		if n > 1 {
			return false
		}
		e.s3.hang(r)
		return true
	})
	d := startDaemon(t, "s3-timeout", e.config(t, consoleOnly...), nil)

	root := th.RootCall(th.Account)
	k := th.LogKey("s3-timeout-")
	e.putLog(t, k, root, th.Benign(0))
	e.send(t, th.CTNotification(bucket, k))

	// Held: no alert, the message in flight (its visibility extended).
	testpeers.WaitFor(t, 10*time.Second, func() error {
		if n := len(e.s3.Gets()); n != 1 {
			return fmt.Errorf("%d GETs, want 1", n)
		}
		return nil
	})
	logHas(t, d, 45*time.Second, map[string]string{"msg": "cannot read log object", "key": k, "error": "~no response for 30s: read timeout"})
	e.waitDrained(t, 0, 30*time.Second)
	want := []string{th.Key(th.RuleRoot, root)}
	c := count(want, stdoutAlerts(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	if n := len(e.s3.Gets()); n != 2 {
		t.Errorf("%d GETs, want 2", n)
	}
	wantMetrics(t, d, map[string]float64{
		`trailguard_s3_objects_total{outcome="error"}`: 1,
		`trailguard_s3_objects_total{outcome="ok"}`:    1,
		"trailguard_sqs_messages_deleted_total":        1,
	})
}

// trickle writes b in n pieces, pause apart, flushing each.
func trickle(w http.ResponseWriter, b []byte, n int, pause time.Duration) {
	f := w.(http.Flusher)
	size := (len(b) + n - 1) / n
	for len(b) > 0 {
		k := min(size, len(b))
		_, _ = w.Write(b[:k])
		f.Flush()
		b = b[k:]
		time.Sleep(pause) // the point: a slow peer
	}
}

// S3 sends the body slowly and, the first time, stalls half way (after a
// sync flush point, so that the records before it are readable). The alerts
// of those records go out; the stall ends in the read timeout and the
// message comes back. The second transfer trickles too, slower than any
// sane S3 but never idle for long, and completes: the timeout is an idle
// timeout. The first records' alerts are not sent again.
func testS3Trickle(t *testing.T, p *shared) {
	row := newRow(t, 3, "S3 body trickles, then stalls", "front sends the gzip body in small flushed pieces; the first transfer stops mid-body and hangs, the second completes slowly")
	e := newEnv(t, p, 5)
	head := []th.Record{th.RootCall(th.Account), th.Benign(0), th.DeniedCall("bob")}
	rest := []th.Record{th.Benign(1), th.DeniedCall("carol"), th.RootCall(th.Account)}
	file, cut := gzSplit(t, head, rest)
	e.s3.Fault(func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(file)))
		w.WriteHeader(http.StatusOK)
		if n == 1 {
			trickle(w, file[:cut], 4, 50*time.Millisecond)
			e.s3.hang(r)
			return true
		}
		trickle(w, file, 8, 100*time.Millisecond)
		return true
	})
	d := startDaemon(t, "s3-trickle", e.config(t, consoleOnly...), nil)
	k := th.LogKey("s3-trickle-")
	e.s3.Put(t, bucket, k, file) // the front answers for it; stored for completeness
	e.send(t, th.S3Event(bucket, k))

	logHas(t, d, 45*time.Second, map[string]string{"msg": "handler failed; message left in the queue", "error": "~no data for 30s: read timeout"})
	e.waitDrained(t, 0, 30*time.Second)
	want := []string{th.Key(th.RuleRoot, head[0]), th.Key(th.RuleDenied, head[2]), th.Key(th.RuleDenied, rest[1]), th.Key(th.RuleRoot, rest[2])}
	c := count(want, stdoutAlerts(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	wantMetrics(t, d, map[string]float64{
		// The head's two alerts went out during the stalled transfer.
		`trailguard_notifications_total{notifier="console",outcome="sent"}`:              4,
		`trailguard_notifications_total{notifier="console",outcome="already_delivered"}`: 2,
		"trailguard_sqs_messages_deleted_total":                                          1,
	})
	if n := len(e.s3.Gets()); n != 2 {
		t.Errorf("%d GETs, want 2", n)
	}
}

// A notification names an object that was deleted before it was read: 404,
// a permanent error, but the message is kept so that it reaches the
// dead-letter queue unchanged (the evidence), after maxReceiveCount (2)
// receives. A healthy message beside it is unaffected.
func testS3NotFound(t *testing.T, p *shared) {
	row := newRow(t, 4, "S3 object deleted (404)", "object put, then deleted before the notification is read; queue maxReceiveCount 2")
	e := newEnv(t, p, 2)
	d := startDaemon(t, "s3-404", e.config(t, consoleOnly...), nil)

	gone := th.LogKey("deleted-")
	e.putLog(t, gone, th.RootCall(th.Account))
	e.s3.Delete(t, bucket, gone)
	body := th.SNSWrapped(th.CTNotification(bucket, gone))
	e.send(t, body)
	root := th.RootCall(th.Account)
	ok := th.LogKey("healthy-")
	e.putLog(t, ok, root)
	e.send(t, th.CTNotification(bucket, ok))

	e.waitDrained(t, 1, 45*time.Second)
	want := []string{th.Key(th.RuleRoot, root)}
	c := count(want, stdoutAlerts(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)

	logHas(t, d, 5*time.Second, map[string]string{"msg": "cannot read log object", "bucket": bucket, "key": gone, "error": "~object not found"})
	wantMetrics(t, d, map[string]float64{
		`trailguard_s3_objects_total{outcome="not_found"}`: 2,
		`trailguard_s3_objects_total{outcome="ok"}`:        1,
		"trailguard_sqs_messages_deleted_total":            1,
	})
	dead := e.p.sqs.Receive(t, e.dlqURL, 10, time.Second)
	if len(dead) != 1 || aws.ToString(dead[0].Body) != body {
		t.Errorf("DLQ holds %d messages, want the notification unchanged", len(dead))
	}
	wantGet := "/" + bucket + "/" + gone
	if gets := e.s3.Gets(); slices.Index(gets, wantGet) < 0 || len(slices.DeleteFunc(gets, func(g string) bool { return g == wantGet })) != 1 {
		t.Errorf("GETs %q: want the deleted object twice (once per receive) and the healthy one once", e.s3.Gets())
	}
}

// A log file cut short: its gzip stream ends after the first records (a
// sync flush point). Those records' alerts go out once; the read fails with
// an error naming s3://bucket/key and saying the gzip file looks truncated;
// the message is retried (the readable alerts are not sent again) and ends
// in the dead-letter queue. The records after the cut cannot be read by
// anyone: their alerts are not expected, the file is the evidence.
func testTruncatedGzip(t *testing.T, p *shared) {
	row := newRow(t, 5, "truncated gzip log", "object stored cut off after the first records' sync flush point; maxReceiveCount 2")
	e := newEnv(t, p, 2)
	d := startDaemon(t, "truncated", e.config(t, consoleOnly...), nil)

	head := []th.Record{th.RootCall(th.Account), th.Benign(0), th.DeniedCall("dave")}
	rest := []th.Record{th.DeniedCall("erin"), th.RootCall(th.Account), th.Benign(1)}
	file, cut := gzSplit(t, head, rest)
	k := th.LogKey("truncated-")
	e.s3.Put(t, bucket, k, file[:cut])
	e.send(t, th.CTNotification(bucket, k))

	e.waitDrained(t, 1, 45*time.Second)
	want := []string{th.Key(th.RuleRoot, head[0]), th.Key(th.RuleDenied, head[2])}
	c := count(want, stdoutAlerts(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)

	r := logHas(t, d, 5*time.Second, map[string]string{"msg": "handler failed; message left in the queue", "error": "~truncated gzip file?"})
	if s := fmt.Sprint(r["error"]); !strings.Contains(s, "s3://"+bucket+"/"+k) {
		t.Errorf("the error does not name s3://%s/%s: %s", bucket, k, s)
	}
	wantMetrics(t, d, map[string]float64{
		`trailguard_s3_objects_total{outcome="error"}`:                                   2,
		`trailguard_notifications_total{notifier="console",outcome="sent"}`:              2,
		`trailguard_notifications_total{notifier="console",outcome="already_delivered"}`: 2,
		"trailguard_sqs_messages_deleted_total":                                          0,
	})
}
