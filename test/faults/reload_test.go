package faults

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	th "github.com/trailguard/trailguard/internal/testharness"
)

// While a stream of logs (three marker events each) flows through the
// daemon, its one policy file is replaced by one that does not compile, and
// then by a good one that says something else. The broken one is refused
// (counted, logged with file:row:col) and the first version keeps serving;
// the good one is swapped in. Every event raises exactly one alert, from
// exactly one complete rule set: never "broken", never a mix within one
// message, and every message received after the swap was seen is evaluated
// by the new version.
func testReloadBroken(t *testing.T, p *shared) {
	const perLog, total, pace = 3, 30, 150 * time.Millisecond
	row := newRow(t, 14, "policy reload that fails to compile, while events flow",
		fmt.Sprintf("rules.paths dir with one custom rule; %d logs × %d events sent every %s; rule file atomically replaced by a broken one, then by a different good one", total, perLog, pace))
	e := newEnv(t, p, 5)
	dir := t.TempDir()
	rule := filepath.Join(dir, "marker.rego")
	th.Publish(t, rule, []byte(th.MarkerRule("v1")))
	d := startDaemon(t, "reload", e.config(t, append(consoleOnly, fmt.Sprintf("rules:\n  packs: []\n  paths: [%s]\n", dir))...), nil)

	const ok, failed = `trailguard_rule_reloads_total{outcome="ok"}`, `trailguard_rule_reloads_total{outcome="failed"}`
	var want []string
	origin := map[string]int{} // s3 URL → index of the log
	phase, brokenAt, goodAt, afterSwap := "v1", -1, -1, -1
	for i := 0; i < total || afterSwap < 0 || i < afterSwap+5; i++ {
		if i == 4*total {
			t.Fatalf("after %d logs the reloads have not both happened (phase %s, broken at log %d, good at %d)", i, phase, brokenAt, goodAt)
		}
		var recs []th.Record
		for range perLog {
			r := th.Marker()
			recs = append(recs, r)
			want = append(want, th.Key("custom.marker", r))
		}
		k := th.LogKey(fmt.Sprintf("reload%02d-", i))
		e.putLog(t, k, recs...)
		origin["s3://"+bucket+"/"+k] = i
		e.send(t, th.CTNotification(bucket, k))

		m := d.Metrics(t)
		switch {
		case phase == "v1" && i == 8:
			th.Publish(t, rule, []byte(th.BrokenRule))
			phase, brokenAt = "broken", i
		case phase == "broken" && m[failed] >= 1 && i >= brokenAt+4:
			th.Publish(t, rule, []byte(th.MarkerRule("v2")))
			phase, goodAt = "v2", i
		case phase == "v2" && afterSwap < 0 && m[ok] >= 1:
			afterSwap = i + 1 // the logs sent from now on meet v2 only
		}
		time.Sleep(pace) // the stream's pace, not a wait for anything
	}
	if afterSwap < 0 || goodAt < 0 {
		t.Fatalf("the reloads did not happen while events flowed (broken at log %d, good at %d)", brokenAt, goodAt)
	}

	e.waitDrained(t, 0, 60*time.Second)
	type line struct {
		RuleID  string `json:"rule_id"`
		EventID string `json:"event_id"`
		Message string `json:"message"`
		Origin  string `json:"origin"`
	}
	var got []string
	version := map[int]string{} // log index → the version that evaluated it
	perVersion := map[string]int{}
	for _, s := range strings.Split(strings.TrimSpace(d.Out.String()), "\n") {
		var a line
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			t.Fatalf("stdout line %q: %v", s, err)
		}
		got = append(got, a.RuleID+" "+a.EventID)
		v, okMsg := strings.CutPrefix(a.Message, "marker ")
		if !okMsg || (v != "v1" && v != "v2") {
			t.Errorf("alert for %s from no complete rule set: %q", a.EventID, a.Message)
			continue
		}
		perVersion[v]++
		i, known := origin[a.Origin]
		if !known {
			t.Errorf("alert from unknown origin %q", a.Origin)
			continue
		}
		if prev, seen := version[i]; seen && prev != v {
			t.Errorf("log %d evaluated partly by %s, partly by %s", i, prev, v)
		}
		version[i] = v
		if i >= afterSwap && v != "v2" {
			t.Errorf("log %d, sent after the new rule set was loaded, evaluated by %s", i, v)
		}
	}
	c := count(want, got)
	row.finish(t, e, c)
	c.check(t, "stdout", true)
	if perVersion["v1"] == 0 || perVersion["v2"] == 0 {
		t.Errorf("alerts by version %v: want both versions to have served", perVersion)
	}
	t.Logf("%d logs: broken rule published at log %d, good v2 at log %d, seen loaded before log %d; alerts by version %v",
		len(origin), brokenAt, goodAt, afterSwap, perVersion)
	wantMetrics(t, d, map[string]float64{
		failed:                    1,
		ok:                        1,
		"trailguard_rules_loaded": 1,
	})
	logHas(t, d, time.Second, map[string]string{
		"msg":   "policy reload refused; the previous rules keep serving",
		"error": "~" + rule + ":13:1: ",
	})
}
