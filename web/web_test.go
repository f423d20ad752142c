package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/history"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const hostile = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`

// serve runs the handler on loopback over a history of 60 alerts, one a
// minute up to now: severities cycle info..critical; the 7th (id a06) has
// a hostile userAgent, runbook and reference.
func serve(t *testing.T, o Options) string {
	t.Helper()
	h := history.New(history.NewMemory(), history.Options{Now: func() time.Time { return now }})
	for i := range 60 {
		e := history.Entry{ID: "a" + pad(i), Kind: history.KindAlert, Seen: now.Add(-time.Duration(i) * time.Minute),
			Outcome: history.OutcomeDelivered, Deliveries: []history.Delivery{{Notifier: "console", Outcome: "sent", At: now}},
			Alert: alert.Alert{RuleID: "aws.r" + pad(i%3), Title: "Title", Severity: alert.Severity(1 + i%5), Message: "m" + pad(i),
				EventID: "ev" + pad(i), Region: "us-east-1", AccountID: "111122223333", Principal: "arn:aws:iam::111122223333:user/u",
				Raw: json.RawMessage(`{"eventID":"ev"}`)}}
		if i == 6 {
			e.Alert.UserAgent = hostile
			e.Alert.Runbook = "javascript:alert(3)"
			e.Alert.References = []string{"https://example.com/ref"}
		}
		if err := h.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	o.History = h
	o.Now = func() time.Time { return now }
	o.Suppressions = []Suppression{{Rule: "aws.r00", Reason: "old job", Owner: "ops", Expires: now.Add(-time.Hour)}}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

func pad(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPagesHeadersAndEscaping(t *testing.T) {
	base := serve(t, Options{})
	for _, p := range []string{"/", "/alerts", "/alerts/a06", "/rules", "/health", "/static/style.css", "/static/app.js"} {
		resp, body := get(t, base+p)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || strings.Contains(got, "unsafe") {
			t.Errorf("%s: CSP %q", p, got)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", p)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
			t.Errorf("%s: inline script or hostile markup in the page", p)
		}
	}
	_, body := get(t, base+"/alerts/a06")
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;", // the userAgent, as text
		"Runbook: javascript:alert(3)</p>",                                                 // a javascript: runbook is not a link
		`href="https://example.com/ref"`,                                                   // references are
		"https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/ev06",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("detail lacks %s", want)
		}
	}
	_, body = get(t, base+"/rules")
	if !strings.Contains(body, `class="expired"`) {
		t.Errorf("the expired suppression is not marked")
	}
}

func TestAPI(t *testing.T) {
	base := serve(t, Options{})
	var page struct {
		Alerts []history.Entry
		Total  int
	}
	_, body := get(t, base+"/api/alerts?severity=high&range=1h&limit=5&page=2")
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	// Last hour: seen now-59m..now, ids a00..a59; high = 1+i%5 == 4: i = 3, 8, …, 58 (12).
	if page.Total != 12 || len(page.Alerts) != 5 || page.Alerts[0].ID != "a28" {
		t.Errorf("page 2 of high: total %d, %d alerts, first %v", page.Total, len(page.Alerts), page.Alerts)
	}
	resp, body := get(t, base+"/api/export?severity=high&range=1h")
	if resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("export type %q", resp.Header.Get("Content-Type"))
	}
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(body)); sc.Scan(); lines++ {
		var e history.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Alert.Severity != alert.High {
			t.Errorf("export line %d: %v %v", lines, err, e.Alert.Severity)
		}
	}
	if lines != 12 {
		t.Errorf("export has %d lines, the filter matches 12", lines)
	}
	var st history.Stats
	_, body = get(t, base+"/api/stats?range=1h")
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Total != 60 || st.BySeverity["high"] != 12 || len(st.Series) != chartBuckets {
		t.Errorf("stats: %v total %d high %d series %d", err, st.Total, st.BySeverity["high"], len(st.Series))
	}
	for path, want := range map[string]int{
		"/api/alerts/a06":             200,
		"/api/alerts/nope":            404,
		"/api/alerts?severity=urgent": 400,
		"/api/alerts?range=2d":        400,
		"/api/alerts?page=0":          400,
		"/alerts?from=yesterday":      400,
		"/api/rules":                  200,
	} {
		if resp, body := get(t, base+path); resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}
	_, body = get(t, base+"/api/alerts?severity=urgent")
	if !strings.Contains(body, `severity: unknown severity \"urgent\"`) {
		t.Errorf("bad parameter not named: %s", body)
	}
}

func TestAuth(t *testing.T) {
	bearer := serve(t, Options{BearerToken: "t0ken"})
	basic := serve(t, Options{Username: "oncall", Password: "pw"})
	for _, tc := range []struct {
		base string
		hdr  []string
		want int
	}{
		{bearer, nil, 401},
		{bearer, []string{"Authorization", "Bearer wrong"}, 401},
		{bearer, []string{"Authorization", "Bearer t0ken"}, 200},
		{basic, nil, 401},
		{basic, []string{"Authorization", "Basic b25jYWxsOndyb25n"}, 401}, // oncall:wrong
		{basic, []string{"Authorization", "Basic b25jYWxsOnB3"}, 200},     // oncall:pw
	} {
		for _, p := range []string{"/", "/api/alerts", "/static/app.js"} {
			resp, body := get(t, tc.base+p, tc.hdr...)
			if resp.StatusCode != tc.want {
				t.Errorf("%s %v: %d, want %d", p, tc.hdr, resp.StatusCode, tc.want)
			}
			if tc.want == 401 && (resp.Header.Get("WWW-Authenticate") == "" || strings.Contains(body, "t0ken")) {
				t.Errorf("%s: 401 without a challenge, or with the secret", p)
			}
		}
	}
}
