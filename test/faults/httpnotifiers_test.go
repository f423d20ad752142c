package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakehttp"
	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// httpOutage is how long each HTTP service is down: well inside the
// dispatcher's default retry policy (up to 2 minutes per alert).
const httpOutage = 10 * time.Second

// httpService is one HTTP notifier's row: how the service fails, how it
// comes back and how to read alert keys from what it accepted.
type httpService struct {
	order      int
	name, how  string
	notifier   func(url string) string // the notifiers entry, pointing at url
	viaProxy   bool                    // down = a TCP proxy resetting connections
	down       fakehttp.Reply          // otherwise: the answer while down
	up         func(fakehttp.Request) fakehttp.Reply
	keys       func(t *testing.T, body []byte) string
	pathSuffix string
}

var httpServices = map[string]httpService{
	"webhook": {
		order: 17, name: "webhook", how: "webhook receiver answers 503 to every request for 10 s, then 200",
		notifier: func(u string) string { return th.WebhookNotifier("webhook", u, "fault-suite-hmac-secret-0123") },
		down:     fakehttp.Reply{Status: http.StatusServiceUnavailable, Body: "upstream unavailable"},
		up:       func(fakehttp.Request) fakehttp.Reply { return fakehttp.Reply{Status: http.StatusOK} },
		keys: func(t *testing.T, b []byte) string {
			var a struct {
				RuleID  string `json:"rule_id"`
				EventID string `json:"event_id"`
			}
			if err := json.Unmarshal(b, &a); err != nil {
				t.Fatalf("webhook body %s: %v", b, err)
			}
			return a.RuleID + " " + a.EventID
		},
		pathSuffix: "/hook",
	},
	"pagerduty": {
		order: 18, name: "pagerduty", how: "TCP proxy in front of the PagerDuty Events API v2 peer resets every connection for 10 s",
		notifier: func(u string) string { return th.PagerDutyNotifier("pagerduty", u, "R0123456789abcdef0123456789abcde") },
		viaProxy: true,
		up:       fakehttp.PagerDuty,
		keys: func(t *testing.T, b []byte) string {
			var ev struct {
				Payload struct {
					CustomDetails struct {
						RuleID  string `json:"rule_id"`
						EventID string `json:"event_id"`
					} `json:"custom_details"`
				} `json:"payload"`
			}
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("PagerDuty event %s: %v", b, err)
			}
			return ev.Payload.CustomDetails.RuleID + " " + ev.Payload.CustomDetails.EventID
		},
	},
	"teams": {
		order: 19, name: "teams", how: "Teams Workflows peer answers 502 for 10 s, then 202",
		notifier: func(u string) string { return th.TeamsNotifier("teams", u) },
		down:     fakehttp.Reply{Status: http.StatusBadGateway},
		up:       fakehttp.Teams,
		keys: func(t *testing.T, b []byte) string {
			var m struct {
				Attachments []struct {
					Content struct {
						Body []struct{ Text string } `json:"body"`
					} `json:"content"`
				} `json:"attachments"`
			}
			if err := json.Unmarshal(b, &m); err != nil || len(m.Attachments) != 1 {
				t.Fatalf("Teams message %s: %v", b, err)
			}
			for _, tb := range m.Attachments[0].Content.Body {
				if c := teamsContext.FindStringSubmatch(tb.Text); c != nil {
					return unescapeMD(c[1]) + " " + unescapeMD(c[2])
				}
			}
			t.Fatalf("Teams card names no alert: %s", b)
			return ""
		},
		pathSuffix: "/workflows/x/triggers/manual/paths/invoke?sig=s",
	},
}

// teamsContext is the card's last line: "Rule ID · Event ID".
var teamsContext = regexp.MustCompile(`^Rule (\S+) · Event (\S+)`)

// unescapeMD reads a Markdown-escaped value as Teams shows it.
func unescapeMD(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// testHTTPDown: the service is down from the daemon's start for httpOutage,
// then back. The dispatcher retries each alert, the consumer keeps the
// messages invisible; nothing is deleted until the service is back, then
// every alert arrives once.
func testHTTPDown(kind string) func(*testing.T, *shared) {
	return func(t *testing.T, p *shared) {
		s := httpServices[kind]
		row := newRow(t, s.order, s.name+" down 10 s, then back", s.how+"; default retry policy")
		e := newEnv(t, p, 5)
		srv := fakehttp.New(t, s.down)
		target := srv.URL
		var px *testpeers.Proxy
		if s.viaProxy {
			srv.SetAnswer(s.up)
			px = testpeers.StartProxy(t, srv.URL, false)
			target = px.Endpoint()
		}
		down := time.Now()
		d := startDaemon(t, kind+"-down", e.config(t, "notifiers:\n"+s.notifier(target+s.pathSuffix),
			fmt.Sprintf("routes:\n  - notifiers: [%s]\n", s.name)), nil)

		want := alertLogs(t, e, 2, kind)
		d.waitMetric(t, fmt.Sprintf(`trailguard_notification_retries_total{notifier=%q}`, s.name), 2, 20*time.Second)
		time.Sleep(time.Until(down.Add(httpOutage))) // only the clock ends an outage
		if n := len(srv.Delivered()); n != 0 {
			t.Fatalf("%d requests accepted while %s was down", n, kind)
		}
		wantMetrics(t, d, map[string]float64{
			"trailguard_sqs_messages_deleted_total":                0,
			`trailguard_sqs_messages_failed_total{reason="error"}`: 0,
		})
		if px != nil {
			px.Up()
		} else {
			srv.SetAnswer(s.up)
		}
		e.waitDrained(t, 0, 60*time.Second)
		var got []string
		for _, r := range srv.Delivered() {
			got = append(got, s.keys(t, r.Body))
		}
		c := count(want, got)
		row.finish(t, e, c)
		c.check(t, kind, true)
		wantMetrics(t, d, map[string]float64{
			"trailguard_sqs_messages_deleted_total":                                           2,
			fmt.Sprintf(`trailguard_notifications_total{notifier=%q,outcome="sent"}`, s.name): 4,
		})
	}
}
