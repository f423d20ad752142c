package pagerduty_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakehttp"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/pagerduty"
)

const routingKey = "R0123456789abcdef0123456789abcde" // 32 characters, like an integration key

var dedupFields = []string{alert.FieldRuleID, alert.FieldAccountID, alert.FieldPrincipal}

func testAlert() *alert.Alert {
	return &alert.Alert{
		RuleID: "aws.root_login", Title: "Root login", Severity: alert.High, Message: "root signed in",
		Runbook: "https://runbooks.example.com/root", Tags: []string{"iam"},
		EventID: "3f2d8c1e-7e4a-4a6e-9c1d-0123456789ab", EventTime: "2026-01-02T03:04:05Z",
		EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", Region: "eu-west-1",
		AccountID: "123456789012", Principal: "arn:aws:iam::123456789012:root", SourceIP: "203.0.113.9",
	}
}

func newPD(t *testing.T, srv *fakehttp.Server, log *slog.Logger) *pagerduty.Notifier {
	cfg := &config.PagerDuty{RoutingKey: routingKey, APIURL: srv.URL + "/"}
	return pagerduty.New("pd", cfg, dedupFields, log)
}

// event is the request body as the Events API v2 documents it.
type event struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Timestamp     string         `json:"timestamp"`
		Component     string         `json:"component"`
		Group         string         `json:"group"`
		Class         string         `json:"class"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Links []struct{ Href, Text string } `json:"links"`
}

func decode(t *testing.T, r fakehttp.Request) event {
	t.Helper()
	var ev event
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	return ev
}

func TestTriggerEvent(t *testing.T) {
	srv := fakehttp.New(t, fakehttp.Reply{})
	srv.SetAnswer(fakehttp.PagerDuty)
	n := newPD(t, srv, nil)
	a := testAlert()
	if err := n.Notify(context.Background(), a, "2 similar alerts suppressed"); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Method != http.MethodPost || r.Path != "/v2/enqueue" || r.Header.Get("Content-Type") != "application/json" || r.Answered != 202 {
		t.Fatalf("request %s %s %q answered %d", r.Method, r.Path, r.Header.Get("Content-Type"), r.Answered)
	}
	ev := decode(t, r)
	p := ev.Payload
	for _, c := range []struct{ name, got, want string }{
		{"routing_key", ev.RoutingKey, routingKey},
		{"event_action", ev.EventAction, "trigger"},
		{"payload.summary", p.Summary, "[HIGH] Root login by arn:aws:iam::123456789012:root in 123456789012"},
		{"payload.source", p.Source, "aws:123456789012:eu-west-1"},
		{"payload.severity", p.Severity, "error"},
		{"payload.timestamp", p.Timestamp, "2026-01-02T03:04:05Z"},
		{"payload.component", p.Component, "signin.amazonaws.com"},
		{"payload.group", p.Group, "123456789012"},
		{"payload.class", p.Class, "ConsoleLogin"},
		{"custom_details.rule_id", p.CustomDetails["rule_id"].(string), "aws.root_login"},
		{"custom_details.event_id", p.CustomDetails["event_id"].(string), a.EventID},
		{"custom_details.source_ip", p.CustomDetails["source_ip"].(string), "203.0.113.9"},
		{"custom_details.message", p.CustomDetails["message"].(string), "root signed in"},
		{"custom_details.note", p.CustomDetails["note"].(string), "2 similar alerts suppressed"},
		{"links[0].href", ev.Links[0].Href, "https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/" + a.EventID},
		{"links[0].text", ev.Links[0].Text, "View event in CloudTrail"},
		{"links[1].href", ev.Links[1].Href, "https://runbooks.example.com/root"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !strings.HasPrefix(ev.DedupKey, "trailguard-") || len(ev.DedupKey) > 255 {
		t.Errorf("dedup_key %q", ev.DedupKey)
	}
}

// Alerts of one dedup group (rule, account, principal) share the incident;
// another principal, account or rule opens another; a rule's own dedup key
// replaces the fields.
func TestDedupKeyFollowsTheDedupGroup(t *testing.T) {
	n := pagerduty.New("pd", &config.PagerDuty{RoutingKey: routingKey, APIURL: "http://127.0.0.1:1"}, dedupFields, nil)
	a := testAlert()
	same := testAlert()
	same.EventID, same.SourceIP, same.EventTime = "other-event", "198.51.100.1", "2026-01-03T00:00:00Z"
	if n.DedupKey(a) != n.DedupKey(same) {
		t.Error("two alerts of one dedup group have different dedup keys")
	}
	for _, change := range []func(*alert.Alert){
		func(b *alert.Alert) { b.Principal = "arn:aws:iam::123456789012:user/bob" },
		func(b *alert.Alert) { b.AccountID = "210987654321" },
		func(b *alert.Alert) { b.RuleID = "aws.other" },
		func(b *alert.Alert) { b.DedupKey = "bucket-x" },
	} {
		b := testAlert()
		change(b)
		if n.DedupKey(a) == n.DedupKey(b) {
			t.Errorf("alerts of different groups share a dedup key: %+v", b)
		}
	}
	x, y := testAlert(), testAlert()
	x.DedupKey, y.DedupKey = "bucket-x", "bucket-x"
	y.Principal = "someone else"
	if n.DedupKey(x) != n.DedupKey(y) {
		t.Error("a rule's own dedup key does not group")
	}
}

func TestSeverityAndSummaryLimits(t *testing.T) {
	for s, want := range map[alert.Severity]string{alert.Critical: "critical", alert.High: "error",
		alert.Medium: "warning", alert.Low: "info", alert.Info: "info"} {
		if got := pagerduty.Severity(s); got != want {
			t.Errorf("Severity(%s) = %s, want %s", s, got, want)
		}
	}
	srv := fakehttp.New(t, fakehttp.Reply{})
	srv.SetAnswer(fakehttp.PagerDuty)
	a := testAlert()
	a.Principal = strings.Repeat("é", 2000) + "\nforged line"
	a.EventTime = "not a time"
	if err := newPD(t, srv, nil).Notify(context.Background(), a, ""); err != nil {
		t.Fatal(err) // the fake rejects summaries over 1024 characters
	}
	ev := decode(t, srv.Requests()[0])
	if n := utf8.RuneCountInString(ev.Payload.Summary); n != 1024 || !utf8.ValidString(ev.Payload.Summary) || strings.Contains(ev.Payload.Summary, "\n") {
		t.Errorf("summary of %d characters (valid UTF-8: %v)", n, utf8.ValidString(ev.Payload.Summary))
	}
	if ev.Payload.Timestamp != "" {
		t.Errorf("timestamp %q sent for an event time that is no RFC 3339 time", ev.Payload.Timestamp)
	}
}

func TestAnswersClassified(t *testing.T) {
	// A 400 is permanent and PagerDuty's errors reach the log and the error.
	srv := fakehttp.New(t, fakehttp.Reply{})
	srv.Script(fakehttp.PagerDutyInvalid("'routing_key' must be a 32 character Integration Key"))
	var logs bytes.Buffer
	err := newPD(t, srv, slog.New(slog.NewTextHandler(&logs, nil))).Notify(context.Background(), testAlert(), "")
	if !notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "invalid event") || !strings.Contains(err.Error(), "32 character") {
		t.Errorf("400: %v, want permanent with PagerDuty's errors", err)
	}
	if !strings.Contains(logs.String(), "32 character Integration Key") || strings.Contains(logs.String(), routingKey) || strings.Contains(err.Error(), routingKey) {
		t.Errorf("log of a 400 lacks the errors or shows the key:\n%s", logs.String())
	}

	for _, tc := range []struct {
		reply     fakehttp.Reply
		permanent bool
		after     time.Duration
	}{
		{reply: fakehttp.PagerDutyThrottled},
		{reply: func() fakehttp.Reply {
			r := fakehttp.PagerDutyThrottled
			r.Header = map[string]string{"Retry-After": "3"}
			return r
		}(), after: 3 * time.Second},
		{reply: fakehttp.Reply{Status: 500, Body: "Internal Server Error"}},
		{reply: fakehttp.Reply{Status: 502}},
		{reply: fakehttp.Reply{Status: 403, Body: `{"status":"forbidden"}`}, permanent: true},
		{reply: fakehttp.Reply{Status: 404, Body: "Not Found"}, permanent: true},
	} {
		srv := fakehttp.New(t, tc.reply)
		err := newPD(t, srv, nil).Notify(context.Background(), testAlert(), "")
		d, isAfter := notifiers.RetryDelay(err)
		switch {
		case err == nil:
			t.Errorf("%d: no error", tc.reply.Status)
		case notifiers.IsPermanent(err) != tc.permanent:
			t.Errorf("%d: permanent = %v (%v)", tc.reply.Status, notifiers.IsPermanent(err), err)
		case tc.after > 0 && (!isAfter || d != tc.after):
			t.Errorf("%d: retry after %v, want %v", tc.reply.Status, d, tc.after)
		case tc.after == 0 && isAfter:
			t.Errorf("%d: unexpected Retry-After", tc.reply.Status)
		}
	}
}
