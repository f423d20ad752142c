package daemon_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard/daemon"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// Every notification shape names (or carries) a log; the daemon fetches
// exactly the objects named, evaluates every record, prints the alerts and
// deletes the message.
func testEnvelopes(t *testing.T, p *peers) {
	cases := []struct {
		name string
		// key is the object the log is stored under ("" when the message
		// carries the record itself); body builds the message.
		key  string
		body func(key string, r th.Record) string
	}{
		{"SNS", th.LogKey("sns"), func(k string, _ th.Record) string { return th.SNSWrapped(th.CTNotification(bucket, k)) }},
		{"Raw", th.LogKey("raw"), func(k string, _ th.Record) string { return th.CTNotification(bucket, k) }},
		// S3 event keys are form-encoded: "+" stands for a space, %2B for "+".
		{"S3Event", "AWSLogs/" + th.Account + "/CloudTrail/us-east-1/odd dir/log+plus=eq %41 &x.json.gz",
			func(k string, _ th.Record) string { return th.S3Event(bucket, k) }},
		{"SNSS3Event", th.LogKey("sns s3+event"), func(k string, _ th.Record) string { return th.SNSWrapped(th.S3Event(bucket, k)) }},
		{"EventBridgeCloudTrail", "", func(_ string, r th.Record) string { return th.EBCloudTrail(r) }},
		{"EventBridgeObjectCreated", th.LogKey("eventbridge"), func(k string, _ th.Record) string { return th.EBObjectCreated(bucket, k) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newSQSEnv(t, p)
			r := startDaemon(t, e.config(t, "notifiers:\n"+th.StdoutNotifier("console"),
				"routes:\n  - notifiers: [console]\n"), daemon.Options{})

			root := th.RootCall(th.Account)
			if c.key != "" {
				e.putLog(t, c.key, th.Benign(1), root, th.Benign(2))
			}
			e.send(t, c.body(c.key, root))

			got := r.Out.waitAlerts(t, 1, 20*time.Second)
			e.waitQueue(t, 0, 0, 10*time.Second)
			r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 1, 5*time.Second)
			wantAlerts(t, r.Out.Alerts(t), th.Key(th.RuleRoot, root))
			if c.key != "" {
				if want := "s3://" + bucket + "/" + c.key; got[0].Origin != want {
					t.Errorf("alert origin %q, want %q", got[0].Origin, want)
				}
				if reqs, want := e.s3.Requests(), []string{"GET /" + bucket + "/" + c.key}; !slices.Equal(reqs, want) {
					t.Errorf("S3 requests %q, want %q", reqs, want)
				}
				if n := r.Metric(t, "trailguard_events_read_total"); n != 3 {
					t.Errorf("events read: %v, want 3", n)
				}
			} else if reqs := e.s3.Requests(); len(reqs) != 0 {
				t.Errorf("an EventBridge CloudTrail event needs no S3 read, got %q", reqs)
			}
			if got[0].Severity != "critical" || got[0].Principal != "arn:aws:iam::"+th.Account+":root" {
				t.Errorf("alert %+v", got[0])
			}
		})
	}
}

// One CloudTrail notification naming several logs (and a digest file, which
// holds no events and is not read): every log is read, every alert sent,
// then the message deleted.
func testMultiKey(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	r := startDaemon(t, e.config(t, "notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n"), daemon.Options{})

	var keys, want []string
	for i := range 3 {
		k := th.LogKey(fmt.Sprintf("multi%d-", i))
		c, d := th.ConsoleFailure(fmt.Sprintf("user%d", i)), th.DeniedCall(fmt.Sprintf("user%d", i))
		e.putLog(t, k, th.Benign(i), c, d)
		keys = append(keys, k)
		want = append(want, th.Key(th.RuleConsole, c), th.Key(th.RuleDenied, d))
	}
	digest := "AWSLogs/" + th.Account + "/CloudTrail-Digest/us-east-1/2026/11/25/" + th.Account + "_CloudTrail-Digest_us-east-1_trail_us-east-1_20261125T1000Z.json.gz"
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, append(slices.Clone(keys), digest)...)))

	r.Out.waitAlerts(t, len(want), 20*time.Second)
	e.waitQueue(t, 0, 0, 10*time.Second)
	wantAlerts(t, r.Out.Alerts(t), want...)
	reqs := e.s3.Requests()
	slices.Sort(reqs)
	var wantReqs []string
	for _, k := range keys {
		wantReqs = append(wantReqs, "GET /"+bucket+"/"+k)
	}
	slices.Sort(wantReqs)
	if !slices.Equal(reqs, wantReqs) {
		t.Errorf("S3 requests %q, want %q", reqs, wantReqs)
	}
	m := r.Metrics(t)
	for series, want := range map[string]float64{
		`trailguard_s3_objects_total{outcome="ok"}`: 3,
		`trailguard_events_read_total`:              9,
		`trailguard_sqs_messages_deleted_total`:     1,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
}

// A gzip log of several thousand realistic events: the exact number of
// alerts comes out, each once, and the message is deleted.
func testLargeLog(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	r := startDaemon(t, e.config(t, "notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n"), daemon.Options{})

	const n = 6000
	recs := make([]th.Record, 0, n)
	want := map[string]int{}
	var wantKeys []string
	for i := range n {
		var x th.Record
		switch {
		case i%97 == 5:
			x = th.RootCall(th.Account)
			wantKeys = append(wantKeys, th.Key(th.RuleRoot, x))
			want[th.RuleRoot]++
		case i%23 == 7:
			x = th.ConsoleFailure(fmt.Sprintf("user%d", i%13))
			wantKeys = append(wantKeys, th.Key(th.RuleConsole, x))
			want[th.RuleConsole]++
		case i%41 == 11:
			x = th.DeniedCall(fmt.Sprintf("svc%d", i%5))
			wantKeys = append(wantKeys, th.Key(th.RuleDenied, x))
			want[th.RuleDenied]++
		default:
			x = th.Benign(i)
		}
		recs = append(recs, x)
	}
	k := th.LogKey("large")
	e.putLog(t, k, recs...)
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))

	e.waitQueue(t, 0, 0, 60*time.Second)
	got := r.Out.Alerts(t)
	if len(got) != len(wantKeys) {
		t.Errorf("%d alerts, want %d", len(got), len(wantKeys))
	}
	wantAlerts(t, got, wantKeys...)
	m := r.Metrics(t)
	for series, v := range map[string]float64{
		`trailguard_events_read_total`:                                                n,
		`trailguard_events_evaluated_total`:                                           n,
		`trailguard_event_errors_total`:                                               0,
		`trailguard_sqs_messages_deleted_total`:                                       1,
		`trailguard_alerts_total{rule="aws.root_usage",severity="critical"}`:          float64(want[th.RuleRoot]),
		`trailguard_alerts_total{rule="aws.console_login_failure",severity="medium"}`: float64(want[th.RuleConsole]),
		`trailguard_alerts_total{rule="aws.unauthorized_api_call",severity="low"}`:    float64(want[th.RuleDenied]),
		`trailguard_notifications_total{notifier="console",outcome="sent"}`:           float64(len(wantKeys)),
	} {
		if m[series] != v {
			t.Errorf("%s = %v, want %v", series, m[series], v)
		}
	}
	t.Logf("%d events, %d alerts (%v)", n, len(wantKeys), want)
}

// Messages the daemon must not act on are refused and left in the queue, so
// that they reach the dead-letter queue with their evidence: a bucket outside
// allowed_buckets (never fetched, though the object exists), a body that is
// no notification, a key that climbs out of its prefix. A message naming a
// missing object fails each time and ends there too.
func testRefused(t *testing.T, p *peers) {
	e := newSQSEnvDLQ(t, p, 2)
	const foreign = "someone-elses-bucket"
	e.s3.CreateBucket(t, foreign)
	k := th.LogKey("foreign")
	e.s3.Put(t, foreign, k, th.Gzip(t, th.Log(th.RootCall(th.Account))))
	r := startDaemon(t, e.config(t, "notifiers:\n"+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [console]\n"), daemon.Options{})

	bodies := map[string]string{
		"bucket_not_allowed": th.SNSWrapped(th.CTNotification(foreign, k)),
		"malformed":          `{"hello": "this is not a notification"}`,
		"forged":             th.CTNotification(bucket, "AWSLogs/../../etc/passwd"),
	}
	for _, b := range bodies {
		e.send(t, b)
	}
	// Not refused, but failing as surely: an object that does not exist.
	missingKey := th.LogKey("missing")
	missing := th.SNSWrapped(th.CTNotification(bucket, missingKey))
	e.send(t, missing)
	total := len(bodies) + 1

	// Each receive is refused and counted; after the second the messages
	// wait out the retry delay, and the third receive moves them to the DLQ.
	for reason := range bodies {
		r.waitMetric(t, fmt.Sprintf(`trailguard_notifications_refused_total{reason=%q}`, reason), 1, 15*time.Second)
	}
	if v, inflight := e.counts(t); v+inflight != total {
		t.Errorf("refused messages not kept in the queue: %d visible, %d in flight", v, inflight)
	}
	e.p.sqs.WaitCounts(t, e.dlqURL, total, 0, 40*time.Second)
	e.waitQueue(t, 0, 0, 5*time.Second)

	var got []string
	testpeers.WaitFor(t, 10*time.Second, func() error {
		for _, m := range e.p.sqs.Receive(t, e.dlqURL, 10, time.Second) {
			got = append(got, aws.ToString(m.Body))
		}
		if len(got) < total {
			return fmt.Errorf("received %d messages from the DLQ, want %d", len(got), total)
		}
		return nil
	})
	for reason, b := range bodies {
		if !slices.Contains(got, b) {
			t.Errorf("%s message not in the DLQ unchanged", reason)
		}
		if n := r.Metric(t, fmt.Sprintf(`trailguard_notifications_refused_total{reason=%q}`, reason)); n != 2 {
			t.Errorf("%s refused %v times, want 2 (maxReceiveCount)", reason, n)
		}
	}
	if !slices.Contains(got, missing) {
		t.Errorf("message naming a missing object not in the DLQ")
	}
	// The missing object was asked for once per receive; nothing else.
	wantReq := "GET /" + bucket + "/" + missingKey
	if reqs := e.s3.Requests(); !slices.Equal(reqs, []string{wantReq, wantReq}) {
		t.Errorf("S3 requests %q, want only %q twice", reqs, wantReq)
	}
	if out := r.Out.String(); out != "" {
		t.Errorf("refused messages produced alerts:\n%s", out)
	}
	m := r.Metrics(t)
	for series, want := range map[string]float64{
		`trailguard_sqs_messages_failed_total{reason="refused"}`: 6,
		`trailguard_sqs_messages_failed_total{reason="error"}`:   2,
		`trailguard_s3_objects_total{outcome="not_found"}`:       2,
		`trailguard_sqs_messages_deleted_total`:                  0,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
}

// An S3 test event asks nothing: it is deleted, nothing is read or sent.
func testS3TestEvent(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	sl := newSlack(t)
	r := startDaemon(t, e.config(t, "notifiers:\n"+th.SlackNotifier("slack", sl.APIURL(), "xoxb-test-token")+th.StdoutNotifier("console"),
		"routes:\n  - notifiers: [slack, console]\n"), daemon.Options{})
	e.send(t, th.S3TestEvent(bucket))
	e.send(t, th.SNSWrapped(th.S3TestEvent(bucket)))
	r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 2, 15*time.Second)
	e.waitQueue(t, 0, 0, 5*time.Second)
	if reqs := e.s3.Requests(); len(reqs) != 0 {
		t.Errorf("S3 requests for a test event: %q", reqs)
	}
	if n := sl.Attempts(); n != 0 || r.Out.String() != "" {
		t.Errorf("test event notified: %d Slack posts, stdout %q", n, r.Out.String())
	}
}
