package daemon_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/daemon"
	"github.com/trailguard/trailguard/internal/fakehttp"
	th "github.com/trailguard/trailguard/internal/testharness"
)

const (
	hookSecret = "daemon-test-hmac-secret-0123456789"
	pdKey      = "R0123456789abcdef0123456789abcde"
)

// httpPeers are a webhook receiver, PagerDuty's /v2/enqueue and a Teams
// Workflows webhook, each answering like the real service.
type httpPeers struct{ hook, pd, teams *fakehttp.Server }

func startHTTPPeers(t *testing.T) httpPeers {
	p := httpPeers{
		hook:  fakehttp.New(t, fakehttp.Reply{Status: http.StatusOK}),
		pd:    fakehttp.New(t, fakehttp.Reply{}),
		teams: fakehttp.New(t, fakehttp.Reply{}),
	}
	p.pd.SetAnswer(fakehttp.PagerDuty)
	p.teams.SetAnswer(fakehttp.Teams)
	return p
}

// notifiersYAML routes every alert to the three notifiers.
func (p httpPeers) notifiersYAML() []string {
	return []string{"notifiers:\n" +
		th.WebhookNotifier("hook", p.hook.URL+"/trailguard", hookSecret) +
		th.PagerDutyNotifier("pd", p.pd.URL, pdKey) +
		th.TeamsNotifier("teams", p.teams.URL+"/workflows/x/triggers/manual/paths/invoke?sig=abc"),
		"routes:\n  - notifiers: [hook, pd, teams]\n"}
}

// delivered maps each event id to how many accepted requests name it.
func delivered(s *fakehttp.Server, recs []th.Record) map[string]int {
	m := map[string]int{}
	for _, r := range s.Delivered() {
		for _, rec := range recs {
			if strings.Contains(string(r.Body), rec.ID()) {
				m[rec.ID()]++
			}
		}
	}
	return m
}

// Two alerts of one log go out through the webhook, PagerDuty and Teams, each
// of which fails once first (503, 429 with Retry-After, 502): every service
// ends up with each alert exactly once, in its own format, and the message is
// deleted only then.
func testHTTPNotifiers(t *testing.T, p *peers) {
	e := newSQSEnv(t, p)
	hp := startHTTPPeers(t)
	hp.hook.Script(fakehttp.Reply{Status: http.StatusServiceUnavailable, Body: "down for maintenance"})
	hp.pd.Script(fakehttp.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"},
		Body: fakehttp.PagerDutyThrottled.Body})
	hp.teams.Script(fakehttp.Reply{Status: http.StatusBadGateway})
	r := startDaemon(t, e.config(t, hp.notifiersYAML()...), daemon.Options{})

	root, denied := th.RootCall(th.Account), th.DeniedCall("hannah")
	recs := []th.Record{root, denied}
	k := th.LogKey("http-notifiers")
	e.putLog(t, k, th.Benign(1), root, denied)
	e.send(t, th.SNSWrapped(th.CTNotification(bucket, k)))
	e.waitQueue(t, 0, 0, 20*time.Second)
	r.waitMetric(t, "trailguard_sqs_messages_deleted_total", 1, 5*time.Second)

	for name, s := range map[string]*fakehttp.Server{"hook": hp.hook, "pd": hp.pd, "teams": hp.teams} {
		got := delivered(s, recs)
		for _, rec := range recs {
			if got[rec.ID()] != 1 {
				t.Errorf("%s got event %s %d times, want once", name, rec.ID(), got[rec.ID()])
			}
		}
		if n := len(s.Requests()); n != 3 {
			t.Errorf("%s: %d requests, want 3 (one failed, two delivered)", name, n)
		}
		if n := r.Metric(t, fmt.Sprintf(`trailguard_notification_retries_total{notifier=%q}`, name)); n != 1 {
			t.Errorf("%s: %v retries, want 1", name, n)
		}
	}

	// The webhook: the alert's JSON with the event, signed.
	for _, req := range hp.hook.Delivered() {
		mac := hmac.New(sha256.New, []byte(hookSecret))
		mac.Write([]byte(req.Header.Get("X-Trailguard-Timestamp") + "."))
		mac.Write(req.Body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); req.Header.Get("X-Trailguard-Signature") != want || req.Header.Get("X-Team") != "sec" {
			t.Errorf("webhook request not signed or without its header: %v", req.Header)
		}
		var body struct {
			RuleID  string          `json:"rule_id"`
			EventID string          `json:"event_id"`
			Event   json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(req.Body, &body); err != nil || body.RuleID == "" || !strings.Contains(string(body.Event), body.EventID) {
			t.Errorf("webhook body %s: %v", req.Body, err)
		}
	}
	// PagerDuty: the root alert is critical; the dedup key is the group's.
	for _, req := range hp.pd.Delivered() {
		var ev struct {
			Key      string `json:"routing_key"`
			Action   string `json:"event_action"`
			DedupKey string `json:"dedup_key"`
			Payload  struct{ Severity, Summary string }
		}
		if err := json.Unmarshal(req.Body, &ev); err != nil || ev.Key != pdKey || ev.Action != "trigger" || !strings.HasPrefix(ev.DedupKey, "trailguard-") {
			t.Errorf("PagerDuty event %s: %v", req.Body, err)
		}
		if strings.Contains(string(req.Body), root.ID()) && ev.Payload.Severity != "critical" {
			t.Errorf("root alert sent to PagerDuty as %q", ev.Payload.Severity)
		}
	}
	// Teams: an Adaptive Card (the fake answers 400 to anything else).
	for _, req := range hp.teams.Delivered() {
		if !strings.Contains(string(req.Body), `"contentType":"application/vnd.microsoft.card.adaptive"`) {
			t.Errorf("Teams message %s", req.Body)
		}
	}
	// The 429's Retry-After: 1 was honoured (the retry policy alone waits 20ms).
	if at := hp.pd.Requests(); len(at) == 3 {
		if gap := at[1].At.Sub(at[0].At); gap < 900*time.Millisecond && at[2].At.Sub(at[0].At) < 900*time.Millisecond {
			t.Errorf("PagerDuty retried %s after a 429 with Retry-After: 1", gap)
		}
	}
}
