package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailguard/trailguard/internal/fakelambda"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// bootstrap is the trailguard binary under test, named as in the zip.
var bootstrap string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "trailguard-lambda-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bootstrap = filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-o", bootstrap, "github.com/trailguard/trailguard/cmd/trailguard")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "lambda: go build ./cmd/trailguard: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// function is one execution environment: the bootstrap process.
type function struct {
	cmd     *exec.Cmd
	started time.Time
	Out     *testpeers.SyncBuffer // the stdout notifier's alerts
	Log     *testpeers.SyncBuffer
	done    chan struct{}
	state   *os.ProcessState
}

// startFunction runs bootstrap without arguments, as Lambda does, with the
// Runtime API rt and env beside the test AWS environment. The test's cleanup
// kills it and, when the test failed, prints its log.
func startFunction(t *testing.T, rt *fakelambda.Runtime, env ...string) *function {
	t.Helper()
	f := &function{Out: &testpeers.SyncBuffer{}, Log: &testpeers.SyncBuffer{}, done: make(chan struct{})}
	f.cmd = exec.Command(bootstrap)
	f.cmd.Env = append(testpeers.AWSEnviron(t.TempDir()),
		"AWS_LAMBDA_RUNTIME_API="+rt.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=trailguard", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "_HANDLER=bootstrap", "TZ=:UTC")
	f.cmd.Env = append(f.cmd.Env, env...)
	f.cmd.Stdout, f.cmd.Stderr = f.Out, f.Log
	f.cmd.SysProcAttr = childAttr()
	f.started = time.Now()
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start bootstrap: %v", err)
	}
	go func() {
		_ = f.cmd.Wait() // the exit status is in ProcessState
		f.state = f.cmd.ProcessState
		close(f.done)
	}()
	t.Cleanup(func() {
		_ = f.cmd.Process.Kill()
		<-f.done
		if t.Failed() {
			t.Logf("function log (%s):\n%s", f.state, f.Log)
		}
	})
	return f
}

// wait returns the exit code once the process ended, failing after timeout.
func (f *function) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-f.done:
		return f.state.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("function still running after %s", timeout)
		return -1
	}
}

// logged returns the first JSON log line with message msg, or nil.
func (f *function) logged(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(f.Log.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec
		}
	}
	return nil
}

// message is one SQS message of a batch.
type message struct {
	id, body string
	receives int
}

// sqsEvent is the event Lambda's SQS event source mapping invokes with.
func sqsEvent(msgs ...message) []byte {
	ev := events.SQSEvent{}
	for _, m := range msgs {
		now := strconv.FormatInt(time.Now().UnixMilli(), 10)
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:     m.id,
			ReceiptHandle: "AQEB" + m.id + "-receipt-" + strconv.Itoa(m.receives),
			Body:          m.body,
			Md5OfBody:     "0123456789abcdef0123456789abcdef",
			Attributes: map[string]string{
				"ApproximateReceiveCount":          strconv.Itoa(max(m.receives, 1)),
				"SentTimestamp":                    now,
				"SenderId":                         "AIDAIENQZJOLO23YVJ4VO",
				"ApproximateFirstReceiveTimestamp": now,
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs",
			EventSourceARN:    "arn:aws:sqs:us-east-1:" + th.Account + ":trailguard-cloudtrail",
			AWSRegion:         "us-east-1",
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// invoke hands one batch to the function and returns the ids its partial
// batch response names, in its order.
func invoke(t *testing.T, rt *fakelambda.Runtime, msgs ...message) (failed []string, res fakelambda.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := rt.Invoke(ctx, sqsEvent(msgs...), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Error {
		t.Fatalf("invocation failed (%s): %s", res.ErrorType, res.Body)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(res.Body, &resp); err != nil {
		t.Fatalf("response %q is not a partial batch response: %v", res.Body, err)
	}
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed, res
}

// sameList fails the test when got and want differ (nil and empty agree).
func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}
