package faults

import (
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/trailguard/trailguard/internal/fakeslack"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// stateKind is where the daemons keep delivery state.
type stateKind int

const (
	stateMemory      stateKind = iota
	stateMiniredis             // miniredis in the test process; daemons connect over TCP
	stateRedisServer           // a real redis-server, started for the test
)

func (k stateKind) String() string {
	return [...]string{"memory", "miniredis", "redis-server"}[k]
}

// stateConfig is the daemons' state section; mr is the miniredis, if any.
// The real server is started for the test (testpeers.StartRedisServer).
func stateConfig(t *testing.T, k stateKind) (yaml string, mr *miniredis.Miniredis) {
	t.Helper()
	switch k {
	case stateMiniredis:
		mr = miniredis.RunT(t)
		return "state:\n  type: redis\n  redis:\n    addr: " + mr.Addr() + "\n", mr
	case stateRedisServer:
		addr := testpeers.StartRedisServer(t)
		return "state:\n  type: redis\n  redis:\n    addr: " + addr + "\n", nil
	}
	return "state:\n  type: memory\n", nil
}

// The daemon is SIGKILLed while four messages are in the middle of their
// deliveries (Slack holds a post of each, never answering) and more wait in
// the queue; a new process on the same queue finishes the work.
//
// With Redis state nothing is delivered twice: the alerts delivered before
// the kill are recorded, and the held deliveries' claims expire (after
// ClaimTTL, 3 minutes with the default retry policy: miniredis is
// fast-forwarded past it, as it does not follow the wall clock). With memory
// state the new process knows nothing: alerts already delivered from
// messages that were not yet deleted come again; none may be lost, and only
// those may be duplicated.
func testKill(k stateKind) func(*testing.T, *shared) {
	return func(t *testing.T, p *shared) {
		const messages, perMessage, answered = 12, 3, 10
		order, promise := 10, "Redis state: none twice"
		if k == stateMemory {
			order, promise = 11, "memory state: duplicates counted"
		}
		row := newRow(t, order, "daemon SIGKILLed mid-batch, restarted ("+promise+")",
			fmt.Sprintf("%d messages × %d alerts, 4 workers; Slack answers %d posts then holds every post; SIGKILL with 4 held; a new process on the queue", messages, perMessage, answered))
		e := newEnv(t, p, 5)
		e.Workers, e.Visibility = 4, "3s"
		sl := fakeslack.New(t)
		stateYAML, mr := stateConfig(t, k)
		cfg := e.config(t, append(slackOnly(sl.APIURL()), stateYAML)...)

		var want []string
		alertsOf := map[string][]string{} // message id → its alert keys
		for m := range messages {
			recs := []th.Record{th.Benign(m)}
			var keys []string
			for i := range perMessage {
				r := th.DeniedCall(fmt.Sprintf("kill%d-%d", m, i))
				recs = append(recs, r)
				keys = append(keys, th.Key(th.RuleDenied, r))
			}
			key := th.LogKey("kill-")
			e.putLog(t, key, recs...)
			alertsOf[e.send(t, th.SNSWrapped(th.CTNotification(bucket, key)))] = keys
			want = append(want, keys...)
		}
		for range answered {
			sl.Script(fakeslack.OK)
		}
		held := fakeslack.OK
		held.Hold = make(chan struct{}) // never closed: the kill ends these posts
		sl.SetDefault(held)

		first := startDaemon(t, "kill-1", cfg, nil)
		testpeers.WaitFor(t, 30*time.Second, func() error {
			if n := sl.Attempts(); n < answered+e.Workers {
				return fmt.Errorf("%d Slack attempts, want %d answered and one held per worker", n, answered+e.Workers)
			}
			return nil
		})
		attempted := map[string]bool{}
		for _, k := range slackKeys(t, sl.Requests()) {
			attempted[k] = true
		}
		first.Kill(t)
		before := slackAlerts(t, sl)

		// In flight at the kill: alerts posted (answered or held) whose
		// message had not been deleted.
		deleted := map[string]bool{}
		for _, r := range first.Records(t) {
			if r["msg"] == "message handled and deleted" {
				deleted[fmt.Sprint(r["message_id"])] = true
			}
		}
		inFlight := 0
		for id, keys := range alertsOf {
			if deleted[id] {
				continue
			}
			for _, key := range keys {
				if attempted[key] {
					inFlight++
				}
			}
		}
		if mr != nil {
			mr.FastForward(4 * time.Minute) // past ClaimTTL: the held deliveries' claims expire
		}
		sl.SetDefault(fakeslack.OK)

		second := startDaemon(t, "kill-2", cfg, nil)
		e.waitDrained(t, 0, 90*time.Second)
		c := count(want, slackAlerts(t, sl))
		row.finish(t, e, c)
		c.check(t, "slack", k != stateMemory)
		t.Logf("%s state: %d alerts; %d delivered before the kill; %d messages deleted before it; %d alerts in flight at the kill; %d duplicates after the restart",
			k, len(want), len(before), len(deleted), inFlight, c.dups)
		if c.dups > inFlight {
			t.Errorf("%d duplicates, more than the %d alerts in flight at the kill", c.dups, inFlight)
		}
		if k != stateMemory {
			second.waitMetric(t, `trailguard_notifications_total{notifier="slack",outcome="already_delivered"}`, 1, 5*time.Second)
		}
	}
}

// Two daemon processes share one queue and one Redis. Every log is
// notified twice (CloudTrail's SNS notification and an S3 event
// notification, as when both are configured; SQS itself may also deliver a
// message twice), so the replicas race for the same alerts: the Redis
// claims let exactly one deliver each, the other skips it (delivered) or
// defers it (claimed, in flight) and its message comes back. Every alert
// exactly once.
func testReplicas(k stateKind) func(*testing.T, *shared) {
	return func(t *testing.T, p *shared) {
		const logs = 10
		order := 12
		if k == stateRedisServer {
			order = 13
		}
		row := newRow(t, order, "two replicas on one queue ("+k.String()+")",
			fmt.Sprintf("two daemon processes, Redis state; %d logs × 2 alerts, each log notified twice (SNS + S3 event); Slack answers after 100 ms", logs))
		stateYAML, _ := stateConfig(t, k)
		e := newEnv(t, p, 5)
		e.Workers, e.MaxMessages = 2, 2
		sl := fakeslack.New(t)
		slow := fakeslack.OK
		slow.Delay = 100 * time.Millisecond
		sl.SetDefault(slow)
		cfg := e.config(t, append(slackOnly(sl.APIURL()), stateYAML)...)
		a := startDaemon(t, "replica-a", cfg, nil)
		b := startDaemon(t, "replica-b", cfg, nil)

		var want, keys []string
		for i := range logs {
			root, denied := th.RootCall(th.Account), th.DeniedCall(fmt.Sprintf("replica%d", i))
			key := th.LogKey("replica-")
			e.putLog(t, key, root, th.Benign(i), denied)
			want = append(want, th.Key(th.RuleRoot, root), th.Key(th.RuleDenied, denied))
			keys = append(keys, key)
		}
		for _, key := range keys {
			e.send(t, th.SNSWrapped(th.CTNotification(bucket, key)))
		}
		for _, key := range keys {
			e.send(t, th.S3Event(bucket, key))
		}

		e.waitDrained(t, 0, 90*time.Second)
		c := count(want, slackAlerts(t, sl))
		row.finish(t, e, c)
		c.check(t, "slack", true)
		deleted := 0.0
		for _, d := range []*daemon{a, b} {
			m := d.Metrics(t)
			deleted += m["trailguard_sqs_messages_deleted_total"]
			t.Logf("%s: %v messages deleted; slack: %v sent, %v already delivered, %v deferred (in flight elsewhere)", d.name,
				m["trailguard_sqs_messages_deleted_total"],
				m[`trailguard_notifications_total{notifier="slack",outcome="sent"}`],
				m[`trailguard_notifications_total{notifier="slack",outcome="already_delivered"}`],
				m[`trailguard_notifications_total{notifier="slack",outcome="in_flight"}`])
		}
		// More is possible (a message redelivered after a long stall and
		// deleted by both); fewer would mean one was never finished.
		if deleted < 2*logs {
			t.Errorf("%v messages deleted by the replicas, want %d", deleted, 2*logs)
		}
	}
}
