package faults

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	th "github.com/trailguard/trailguard/internal/testharness"
)

// stdoutAlertsByRequest reads the stdout notifier's lines as "rule
// requestID" (the raw event's), for alerts on records without an eventID.
func stdoutAlertsByRequest(t *testing.T, out string) []string {
	t.Helper()
	var keys []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		var a struct {
			RuleID string `json:"rule_id"`
			Event  struct {
				RequestID string `json:"requestID"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("stdout notifier line %q: %v", line, err)
		}
		keys = append(keys, a.RuleID+" "+a.Event.RequestID)
	}
	return keys
}

// Four root calls of one rule without a usable eventID (absent, a number,
// null, an object): each is its own alert, keyed by a hash of its bytes.
// They all shared the empty eventID's key, so three of four were dropped as
// already delivered. Each record is counted and logged at warn.
func testNoEventID(t *testing.T, p *shared) {
	row := newRow(t, 17, "records without a usable eventID", "four root calls: eventID absent, 42, null, {}; one log")
	e := newEnv(t, p, 2)
	d := startDaemon(t, "no-event-id", e.config(t, consoleOnly...), nil)

	var recs []th.Record
	var want []string
	for i, id := range []any{"absent", 42, nil, map[string]any{}} {
		r := th.RootCall(th.Account)
		r["requestID"] = fmt.Sprintf("NOID-%d", i)
		if id == "absent" {
			delete(r, "eventID")
		} else {
			r["eventID"] = id
		}
		recs = append(recs, r)
		want = append(want, th.RuleRoot+" "+r["requestID"].(string))
	}
	k := th.LogKey("no-event-id-")
	e.putLog(t, k, recs...)
	e.send(t, th.CTNotification(bucket, k))

	e.waitDrained(t, 0, 45*time.Second)
	c := count(want, stdoutAlertsByRequest(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	wantMetrics(t, d, map[string]float64{
		"trailguard_events_without_id_total":                                4,
		`trailguard_notifications_total{notifier="console",outcome="sent"}`: 4,
		"trailguard_sqs_messages_deleted_total":                             1,
	})
	r := logHas(t, d, 5*time.Second, map[string]string{"msg": "~no usable eventID", "level": "WARN"})
	if s := fmt.Sprint(r["origin"]); s != "s3://"+bucket+"/"+k {
		t.Errorf("the warning names %q, not s3://%s/%s", s, bucket, k)
	}
}

// Logs whose "Records" is an object (holding a root call), a string, a
// number or null are malformed logs: each is refused with an error naming
// the object, counted, and its message left for the dead-letter queue
// (maxReceiveCount 2), as a truncated gzip is. A good log in the same run is
// delivered, and read once although its notification names it 1000 times;
// the root call inside the object is not read as an event.
func testRecordsNotArray(t *testing.T, p *shared) {
	row := newRow(t, 18, "log whose Records is not an array", `{"Records": {…root call…}}, "x", 42, null; a good log named 1000 times in its notification; maxReceiveCount 2`)
	e := newEnv(t, p, 2)
	d := startDaemon(t, "records-not-array", e.config(t, consoleOnly...), nil)

	hidden := th.RootCall(th.Account)
	var bad []string
	for i, v := range []string{th.MustJSON(hidden), `"x"`, `42`, `null`} {
		k := th.LogKey(fmt.Sprintf("records-not-array-%d-", i))
		e.s3.Put(t, bucket, k, th.Gzip(t, []byte(`{"Records":`+v+`}`)))
		e.send(t, th.CTNotification(bucket, k))
		bad = append(bad, k)
	}
	root := th.RootCall(th.Account)
	good := th.LogKey("records-good-")
	e.putLog(t, good, th.Benign(0), root)
	// Named 1000 times: read once (one GET per distinct key).
	many := make([]string, 1000)
	for i := range many {
		many[i] = good
	}
	e.send(t, th.CTNotification(bucket, many...))

	e.waitDrained(t, len(bad), 60*time.Second)
	c := count([]string{th.Key(th.RuleRoot, root)}, stdoutAlerts(t, d.Out.String()))
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	var goodGets int
	for _, g := range e.s3.Gets() {
		if strings.HasSuffix(g, "/"+good) {
			goodGets++
		}
	}
	if goodGets != 1 {
		t.Errorf("%d GETs of the log named 1000 times in one notification, want 1 (all GETs: %d)", goodGets, len(e.s3.Gets()))
	}
	for i, k := range bad {
		kind := []string{"an object", "a string", "a number", "null"}[i]
		logHas(t, d, 5*time.Second, map[string]string{"msg": "handler failed; message left in the queue",
			"error": fmt.Sprintf(`~s3://%s/%s:1:12: malformed log: "Records" is %s, not an array`, bucket, k, kind)})
	}
	wantMetrics(t, d, map[string]float64{
		`trailguard_s3_objects_total{outcome="error"}`:                      float64(2 * len(bad)),
		`trailguard_s3_objects_total{outcome="ok"}`:                         1,
		`trailguard_notifications_total{notifier="console",outcome="sent"}`: 1,
		"trailguard_sqs_messages_deleted_total":                             1,
	})
}
