package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard/daemon"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// ownerLabel marks, with a pprof label, every goroutine that the daemon
// under test starts: goroutines inherit the labels of the one that starts
// them, so the label follows ownership, not stack shapes.
const ownerLabel = "trailguard-owner"

// TestStopUnderLoadLeavesNoGoroutines stops a daemon while its SQS source has
// many messages in flight (S3 answers slowly) and checks that, once Run has
// returned, no goroutine it started is left: not the source's workers, the
// visibility heartbeats, the batch deleters, the helpers, the metrics server,
// nor the AWS clients' connections. It also checks that nothing was lost: every
// message was either deleted (handled) or is back in the queue.
func TestStopUnderLoadLeavesNoGoroutines(t *testing.T) {
	testpeers.AWSEnv(t)
	p := &peers{sqs: testpeers.StartFauxqs(t)}
	e := newSQSEnv(t, p)
	// A receive cut short by the stop may have been answered already: its
	// messages come back after the queue's visibility timeout, kept as short
	// as the daemon's here so that the test sees them back soon.
	e.queueURL = p.sqs.CreateQueue(t, queueName(t), map[string]string{"VisibilityTimeout": "4"})
	e.Workers = 8
	const messages = 40
	var want []string
	sent := map[string]bool{}
	for i := range messages {
		k := th.LogKey(fmt.Sprintf("load%d-", i))
		r := th.DeniedCall(fmt.Sprintf("user%d", i))
		e.putLog(t, k, th.Benign(i), r, th.Benign(i+1))
		sent[e.send(t, th.CTNotification(bucket, k))] = true
		want = append(want, th.Key(th.RuleDenied, r))
	}
	e.s3.Delay.Store(int64(150 * time.Millisecond))
	cfg := e.config(t, "notifiers:\n"+th.StdoutNotifier("console"), "routes:\n  - notifiers: [console]\n")

	var r *run
	pprof.Do(context.Background(), pprof.Labels(ownerLabel, t.Name()), func(context.Context) {
		r = startDaemon(t, cfg, daemon.Options{ShutdownGrace: 300 * time.Millisecond})
	})
	// Stop in the middle: some messages done, more in the handlers. Waiting
	// on the stdout notifier makes no HTTP call, whose idle connections would
	// be the test's, not the daemon's.
	r.Out.waitAlerts(t, 10, 30*time.Second)
	// Make sure of the load at the stop rather than hope for it: once S3
	// holds its answers far longer than the shutdown grace, a held GET is a
	// message the daemon is handling (the grace then cuts it short).
	// A request recorded after the store reads the new delay (the proxy
	// records a request before it reads Delay).
	e.s3.Delay.Store(int64(time.Minute))
	n0 := len(e.s3.Requests())
	for deadline := time.Now().Add(30 * time.Second); len(e.s3.Requests()) == n0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the daemon made no S3 request in 30s after its tenth alert")
		}
	}
	if err := r.Stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// A connection closed as Run ends has its read loop notice a moment
	// later; a goroutine still there after that outlived Run.
	var left []string
	for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		if left = ownedGoroutines(t, t.Name()); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("%d goroutines started by the daemon outlived Run:\n%s", len(left), strings.Join(left, "\n\n"))
	}

	logs := r.Logs.String()
	if !strings.Contains(logs, "stopping: waiting for in-flight messages") {
		t.Fatal("no message was in flight when the daemon stopped: no load at shutdown")
	}

	// Nothing lost: each message was deleted once its alert was notified,
	// or comes back (released at shutdown, or after its visibility timeout).
	// A message cut short after its alert was sent is both notified and
	// back: at least once.
	deleted := map[string]bool{}
	for _, m := range deletedRE.FindAllStringSubmatch(logs, -1) {
		deleted[m[1]] = true
	}
	got := r.Out.Alerts(t)
	if len(deleted) == messages || len(got) < len(deleted) {
		t.Errorf("%d messages deleted and %d alerts notified, of %d", len(deleted), len(got), messages)
	}
	back := map[string]bool{}
	accounted := func() bool {
		for id := range sent {
			if !deleted[id] && !back[id] {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(20 * time.Second); !accounted() && time.Now().Before(deadline); {
		for _, m := range p.sqs.Receive(t, e.queueURL, 10, time.Second) {
			back[aws.ToString(m.MessageId)] = true
		}
	}
	for id := range sent {
		if deleted[id] == back[id] {
			t.Errorf("message %s: deleted %v, back in the queue %v", id, deleted[id], back[id])
		}
	}
	keys := alertKeys(got)
	for k, n := range keys {
		if n != 1 {
			t.Errorf("alert %s notified %d times", k, n)
		}
	}
	for _, w := range want {
		delete(keys, w)
	}
	for k := range keys {
		t.Errorf("unexpected alert %s", k)
	}
}

// deletedRE finds the ids of the messages the daemon deleted in its log.
var deletedRE = regexp.MustCompile(`msg="message handled and deleted" .*message_id=(\S+)`)

// ownedGoroutines returns the stacks of the live goroutines labelled as
// owned by owner, except those that are not the daemon's: kept goroutines of
// internal/gopool waiting for work (the pool is the process's and lets them go
// after a minute idle), os/signal's receiving loop, and the test's own.
func ownedGoroutines(t *testing.T, owner string) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	// debug=1: records separated by blank lines; "N @ pcs", then
	// "# labels: {...}" when labelled, then "#\t0xPC func+off\tfile:line".
	var left []string
	for _, group := range strings.Split(buf.String(), "\n\n") {
		if !strings.Contains(group, fmt.Sprintf("%q:%q", ownerLabel, owner)) {
			continue
		}
		var funcs []string
		sc := bufio.NewScanner(strings.NewReader(group))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "#" && strings.HasPrefix(f[1], "0x") {
				funcs = append(funcs, f[2])
			}
		}
		if idlePool(funcs) || processWide(funcs) || testOwn(funcs) {
			continue
		}
		left = append(left, group)
	}
	return left
}

// processWide reports whether a stack is os/signal's receiving loop, which
// the first signal.Notify starts for good.
func processWide(funcs []string) bool {
	return len(funcs) > 0 && strings.HasPrefix(funcs[len(funcs)-1], "os/signal.loop")
}

// testOwn reports whether a goroutine is the harness's: the one that calls
// Run may still be on its way out when Run's result has been seen.
func testOwn(funcs []string) bool {
	return len(funcs) > 0 && strings.HasPrefix(funcs[len(funcs)-1], "github.com/trailguard/trailguard/daemon_test.")
}

// idlePool reports whether a stack is a gopool goroutine waiting for work:
// nothing but the runtime above gopool.loop.
func idlePool(funcs []string) bool {
	for _, f := range funcs {
		if strings.Contains(f, "internal/gopool.loop") {
			return true
		}
		if !strings.HasPrefix(f, "runtime.") {
			return false
		}
	}
	return false
}
