package lambda

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakelambda"
	"github.com/trailguard/trailguard/internal/fakeslack"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

const bucket = "trail-logs"

// config is a function's configuration: objects from s3 (gofakes3 at
// endpoint), the given notifiers, routes and state, and the aws pack, whose
// rules raise exactly one alert for each of testharness's records.
func config(t *testing.T, endpoint string, fragments ...string) string {
	t.Helper()
	return testpeers.JoinYAML(t, append([]string{
		"log:\n  level: debug\n  format: json\n",
		"source:\n  type: lambda\n  s3:\n    endpoint: " + endpoint + "\n    region: us-east-1\n    path_style: true\n    allowed_buckets: [" + bucket + "]\n",
		"rules:\n  packs: [aws]\n",
		// No dedup window: only the delivery claims keep an alert from
		// being sent twice.
		"dedup:\n  window: 0s\n",
	}, fragments...)...)
}

func writeConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	path := filepath.Join(dir, "trailguard.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// slackContext is the context block that ends each Slack message:
// "Rule `ID` · Event `ID`".
var slackContext = regexp.MustCompile("Rule `([^`]+)` · Event `([^`]+)`")

// slackKeys are the alert keys ("rule eventID") of the posts Slack
// accepted, sorted.
func slackKeys(t *testing.T, sl *fakeslack.Server) []string {
	t.Helper()
	var keys []string
	for _, p := range sl.Posts() {
		var blocks any
		if err := json.Unmarshal([]byte(p.Get("blocks")), &blocks); err != nil {
			t.Fatalf("Slack post with blocks %q: %v", p.Get("blocks"), err)
		}
		m := slackContext.FindStringSubmatch(strings.Join(texts(blocks), "\n"))
		if m == nil {
			t.Fatalf("Slack post without its rule and event: %s", p.Get("blocks"))
		}
		keys = append(keys, m[1]+" "+m[2])
	}
	slices.Sort(keys)
	return keys
}

// texts collects every "text" string in a Block Kit document.
func texts(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "text" {
				out = append(out, s)
			} else {
				out = append(out, texts(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, texts(x)...)
		}
	}
	return out
}

func sorted(keys ...string) []string {
	slices.Sort(keys)
	return keys
}

// One function, two batches, then a second execution environment on the
// same Redis: each batch's answer names exactly the messages that must come
// back (an object not there yet, a body that is no notification, a bucket not
// allowed), every alert reaches Slack once, redelivered messages send
// nothing again, not even from a new environment, and SIGTERM (which Lambda
// sends at shutdown, as the function registered for it) ends the function
// cleanly.
func TestBatches(t *testing.T) {
	s3 := testpeers.StartS3(t)
	s3.CreateBucket(t, bucket)
	sl := fakeslack.New(t)
	redis := testpeers.StartRedisServer(t)
	cfg := config(t, s3.Endpoint(),
		"notifiers:\n"+th.SlackNotifier("slack", sl.APIURL(), "xoxb-test-token"),
		"routes:\n  - notifiers: [slack]\n",
		"state:\n  type: redis\n  redis:\n    addr: "+redis+"\n")
	dir := t.TempDir()
	path := writeConfig(t, dir, cfg)

	console, root, denied := th.ConsoleFailure("alice"), th.RootCall(th.Account), th.DeniedCall("mallory")
	keyA, keyB, keyC := th.LogKey("a"), th.LogKey("b"), th.LogKey("c")
	s3.Put(t, bucket, keyA, th.Gzip(t, th.Log(console, th.Benign(1))))
	s3.Put(t, bucket, keyC, th.Gzip(t, th.Log(th.Benign(2), denied)))
	// keyB is not there yet: its message must come back.
	mA := message{id: "11111111-aaaa-4aaa-8aaa-000000000001", body: th.S3Event(bucket, keyA)}
	mB := message{id: "11111111-aaaa-4aaa-8aaa-000000000002", body: th.S3Event(bucket, keyB)}
	mC := message{id: "11111111-aaaa-4aaa-8aaa-000000000003", body: th.SNSWrapped(th.CTNotification(bucket, keyC))}
	junk := message{id: "11111111-aaaa-4aaa-8aaa-000000000004", body: `{"hello": "not a notification"}`}
	foreign := message{id: "11111111-aaaa-4aaa-8aaa-000000000005", body: th.S3Event("someone-elses-bucket", keyA)}

	rt := fakelambda.New(t)
	fn := startFunction(t, rt, "TRAILGUARD_CONFIG="+path)

	failed, _ := invoke(t, rt, mA, mB, mC, junk, foreign)
	sameList(t, "batch 1: batchItemFailures", failed, []string{mB.id, junk.id, foreign.id})
	// The answer comes once the alerts are delivered: no waiting here.
	sameList(t, "batch 1: Slack", slackKeys(t, sl), sorted(th.Key(th.RuleConsole, console), th.Key(th.RuleDenied, denied)))

	// Redelivered: mA again (already notified) and mB, whose object arrived.
	s3.Put(t, bucket, keyB, th.Gzip(t, th.Log(root)))
	mA.receives, mB.receives = 2, 2
	failed, _ = invoke(t, rt, mA, mB)
	sameList(t, "batch 2: batchItemFailures", failed, nil)
	all := sorted(th.Key(th.RuleConsole, console), th.Key(th.RuleDenied, denied), th.Key(th.RuleRoot, root))
	sameList(t, "batch 2: Slack", slackKeys(t, sl), all)

	// An invocation that is not an SQS batch fails as a whole, and says why.
	res, err := rt.Invoke(t.Context(), []byte(`{"version":"0","source":"aws.s3","detail-type":"Object Created"}`), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Error || !strings.Contains(string(res.Body), "not an SQS batch") {
		t.Errorf("an EventBridge event: error=%v, body %s; want an invocation error saying it is not an SQS batch", res.Error, res.Body)
	}

	if exts := rt.Extensions(); !slices.Contains(exts, "GoLangEnableSIGTERM") {
		t.Errorf("extensions registered: %q; the function asks for SIGTERM at shutdown through one", exts)
	}
	rt.Shutdown()
	if err := fn.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := fn.wait(t, 20*time.Second); code != 0 || fn.logged(t, "trailguard stopped") == nil {
		t.Errorf("after SIGTERM: exit code %d, stopped logged: %v; want 0 and a goodbye", code, fn.logged(t, "trailguard stopped") != nil)
	}

	// A new execution environment, with the configuration bundled in its
	// task root: the claims in Redis keep it from notifying again.
	rt2 := fakelambda.New(t)
	fn2 := startFunction(t, rt2, "LAMBDA_TASK_ROOT="+dir)
	mA.receives, mC.receives = 3, 2
	failed, _ = invoke(t, rt2, mC, mA)
	sameList(t, "new environment: batchItemFailures", failed, nil)
	sameList(t, "new environment: Slack", slackKeys(t, sl), all)
	if rec := fn2.logged(t, "lambda function ready"); rec == nil || rec["config"] != path {
		t.Errorf("new environment: ready line %v; want the bundled %s", rec, path)
	}
}

// A function that cannot start tells the Runtime API why (init/error, with
// the file and line) and exits; the daemon's dir source is refused.
func TestInitError(t *testing.T) {
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"bad value", "log:\n  level: loud\n", "trailguard.yaml:2: log.level: expected one of debug, info, warn, error"},
		{"dir source", "source:\n  type: dir\n", "source.type dir: a Lambda function reads SQS batches"},
		{"no buckets", "source:\n  type: lambda\n", "trailguard.yaml:1: source.s3.allowed_buckets: at least one bucket is required when source.type is lambda"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeConfig(t, t.TempDir(), c.yaml)
			rt := fakelambda.New(t)
			fn := startFunction(t, rt, "TRAILGUARD_CONFIG="+path)
			if code := fn.wait(t, 60*time.Second); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			errs := rt.InitErrors()
			if len(errs) != 1 {
				t.Fatalf("init errors posted: %d, want 1; log:\n%s", len(errs), fn.Log)
			}
			var body struct {
				Message string `json:"errorMessage"`
				Type    string `json:"errorType"`
			}
			if err := json.Unmarshal(errs[0].Body, &body); err != nil {
				t.Fatalf("init error body %q: %v", errs[0].Body, err)
			}
			if errs[0].Type != "Runtime.TrailguardInitError" || body.Type != errs[0].Type || !strings.Contains(body.Message, c.want) {
				t.Errorf("init error %s %q; want Runtime.TrailguardInitError with %q", errs[0].Type, errs[0].Body, c.want)
			}
			if n := len(rt.Nexts()); n != 0 {
				t.Errorf("a function that failed to start asked for %d invocations", n)
			}
		})
	}
}

// The cold start with every built-in pack: from the process's start to its
// first request for an invocation (the policies compiled), and to its first
// answer. The policies are compiled once per environment: each invocation
// takes less than the start did.
func TestColdStart(t *testing.T) {
	s3 := testpeers.StartS3(t)
	s3.CreateBucket(t, bucket)
	cfg := config(t, s3.Endpoint(), "rules:\n  packs: [aws, opsworkscm, threats]\n",
		"notifiers:\n"+th.StdoutNotifier("out"), "routes:\n  - notifiers: [out]\n")
	path := writeConfig(t, t.TempDir(), cfg)
	rt := fakelambda.New(t)
	fn := startFunction(t, rt, "TRAILGUARD_CONFIG="+path)

	var recs []th.Record
	var msgs []message
	for i := range 3 {
		r := th.RootCall(th.Account)
		key := th.LogKey("cold")
		s3.Put(t, bucket, key, th.Gzip(t, th.Log(th.Benign(i), r)))
		recs = append(recs, r)
		msgs = append(msgs, message{id: "22222222-bbbb-4bbb-8bbb-00000000000" + string(rune('1'+i)), body: th.S3Event(bucket, key)})
	}
	var took []time.Duration
	var firstAnswer time.Duration
	for i, m := range msgs {
		failed, res := invoke(t, rt, m)
		sameList(t, "batchItemFailures", failed, nil)
		if i == 0 {
			firstAnswer = time.Since(fn.started)
		}
		took = append(took, res.Took)
	}
	nexts := rt.Nexts()
	if len(nexts) == 0 {
		t.Fatal("no request for an invocation")
	}
	ready := nexts[0].Sub(fn.started)
	for i, d := range took {
		if d >= ready {
			t.Errorf("invocation %d took %s, the start %s: the policies are not compiled once per environment", i, d, ready)
		}
	}
	// The function wrote each alert before it answered; the copy of its
	// stdout into fn.Out may lag the answer by a moment.
	testpeers.WaitFor(t, 10*time.Second, func() error {
		for _, r := range recs {
			if !strings.Contains(fn.Out.String(), `"event_id":"`+r.ID()+`"`) {
				return fmt.Errorf("no alert for event %s on stdout:\n%s", r.ID(), fn.Out)
			}
		}
		return nil
	})
	rec := fn.logged(t, "lambda function ready")
	if rec == nil {
		t.Fatal(`no "lambda function ready" line`)
	}
	t.Logf("cold start, all packs: first /next %s after exec (function's own init_ms %v), first answer %s; invocations took %v",
		ready.Round(time.Millisecond), rec["init_ms"], firstAnswer.Round(time.Millisecond), took)
}
