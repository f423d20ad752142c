package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakehttp"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/webhook"
)

const secret = "0123456789abcdef-shared-secret"

func testAlert() *alert.Alert {
	return &alert.Alert{
		RuleID: "aws.root_login", Title: "Root <login>", Severity: alert.Critical, Message: "root signed in\nfrom 203.0.113.9",
		Runbook: "https://runbooks.example.com/root", Tags: []string{"iam"},
		EventID: "3f2d8c1e-7e4a-4a6e-9c1d-0123456789ab", EventTime: "2026-01-02T03:04:05Z",
		EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", Region: "us-east-1",
		AccountID: "123456789012", Principal: "arn:aws:iam::123456789012:root", SourceIP: "203.0.113.9",
		UserAgent: `Mozilla/5.0 "quoted"`, Raw: json.RawMessage(`{"eventID":"3f2d8c1e-7e4a-4a6e-9c1d-0123456789ab","eventName":"ConsoleLogin"}`),
	}
}

// block parses a configuration with one webhook notifier whose block is
// yaml (indented under webhook:), with files in dir, and returns the block.
func block(t *testing.T, dir, yaml string, env map[string]string) *config.Webhook {
	t.Helper()
	src := "notifiers:\n  - name: hook\n    type: webhook\n    webhook:\n" + yaml + "routes:\n  - notifiers: [hook]\n"
	path := filepath.Join(dir, "c.yaml")
	cfg, err := config.Parse(path, []byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config: %v\n%s", err, src)
	}
	return cfg.Notifiers[0].Webhook
}

func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// verify is the receiver's check exactly as the README's "Webhook" section
// documents it: the timestamp is recent, and the signature is the HMAC of
// timestamp + "." + body, compared in constant time.
func verify(secret []byte, h http.Header, body []byte, now time.Time) error {
	ts := h.Get("X-Trailguard-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no timestamp")
	}
	if math.Abs(now.Sub(time.Unix(sec, 0)).Seconds()) > 300 {
		return errors.New("timestamp too old or in the future: replay?")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("X-Trailguard-Signature")), []byte(want)) {
		return errors.New("bad signature")
	}
	return nil
}

func TestJSONBodyHeadersAndSignature(t *testing.T) {
	srv := fakehttp.New(t, fakehttp.Reply{Status: http.StatusNoContent})
	dir := t.TempDir()
	writeFile(t, dir, "hmac", secret+"\n")
	writeFile(t, dir, "key", "key-from-file\n")
	n := webhook.New("hook", block(t, dir, `      url: "`+srv.URL+`/in?x=1"
      headers: {X-Team: sec, Authorization: "Bearer ${HOOK_TOKEN}"}
      headers_file: {X-Api-Key: key}
      hmac_secret_file: hmac
`, map[string]string{"HOOK_TOKEN": "t0k"}))
	a := testAlert()
	if err := n.Notify(context.Background(), a, "3 similar alerts suppressed"); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/in" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "X-Team": "sec",
		"Authorization": "Bearer t0k", "X-Api-Key": "key-from-file", "User-Agent": "trailguard"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if id := r.Header.Get("X-Trailguard-Alert-Id"); len(id) != 32 {
		t.Errorf("X-Trailguard-Alert-Id = %q", id)
	}
	if err := verify([]byte(secret), r.Header, r.Body, time.Now()); err != nil {
		t.Errorf("signature does not verify by the documented procedure: %v", err)
	}
	if err := verify([]byte(secret), r.Header, append([]byte(" "), r.Body...), time.Now()); err == nil {
		t.Error("a changed body verifies")
	}
	if err := verify([]byte(secret), r.Header, r.Body, time.Now().Add(10*time.Minute)); err == nil {
		t.Error("a replay 10 minutes later verifies")
	}

	// The body is eval --format json's alert, plus the event and the note.
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	c := *a
	c.Raw = nil
	evalJSON, _ := json.Marshal(&c)
	var want map[string]any
	_ = json.Unmarshal(evalJSON, &want)
	want["event"] = map[string]any{"eventID": a.EventID, "eventName": "ConsoleLogin"}
	want["note"] = "3 similar alerts suppressed"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body\n%s\nwant the fields\n%v", r.Body, want)
	}
	if got["severity"] != "critical" || got["rule_id"] != "aws.root_login" || got["message"] != a.Message {
		t.Errorf("body fields: %v", got)
	}
}

func TestIncludeEventFalse(t *testing.T) {
	srv := fakehttp.New(t, fakehttp.Reply{Status: http.StatusOK})
	n := webhook.New("hook", block(t, t.TempDir(), "      url: "+srv.URL+"\n      include_event: false\n", nil))
	if err := n.Notify(context.Background(), testAlert(), ""); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(srv.Requests()[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["event"]; ok || got["event_id"] != testAlert().EventID {
		t.Errorf("include_event: false sent %v", got)
	}
	if _, ok := got["note"]; ok {
		t.Errorf("empty note sent: %v", got)
	}
	if h := srv.Requests()[0].Header; h.Get("X-Trailguard-Signature") != "" || h.Get("X-Trailguard-Timestamp") != "" {
		t.Errorf("signed without a secret: %v", h)
	}
}

func TestTemplate(t *testing.T) {
	srv := fakehttp.New(t, fakehttp.Reply{Status: http.StatusOK})
	dir := t.TempDir()
	writeFile(t, dir, "body.tmpl", `{"text": {{json (printf "%s: %s" .Title .Principal)}}, "link": {{json .ConsoleURL}}, "note": {{json .Note}}}`)
	n := webhook.New("hook", block(t, dir, "      url: "+srv.URL+"\n      template_file: body.tmpl\n      content_type: application/vnd.example+json\n", nil))
	if err := n.Notify(context.Background(), testAlert(), "n1"); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	want := `{"text": "Root \u003clogin\u003e: arn:aws:iam::123456789012:root", "link": "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/3f2d8c1e-7e4a-4a6e-9c1d-0123456789ab", "note": "n1"}`
	if string(r.Body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.Body, want)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/vnd.example+json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestTLSWithCAFile(t *testing.T) {
	srv := fakehttp.NewTLS(t, fakehttp.Reply{Status: http.StatusOK})
	dir := t.TempDir()
	writeFile(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	n := webhook.New("hook", block(t, dir, "      url: "+srv.URL+"\n      tls: {ca_file: ca.pem}\n", nil))
	if err := n.Notify(context.Background(), testAlert(), ""); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	n = webhook.New("hook", block(t, dir, "      url: "+srv.URL+"\n", nil))
	err := n.Notify(context.Background(), testAlert(), "")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}
}

func TestAnswersClassified(t *testing.T) {
	for _, tc := range []struct {
		reply     fakehttp.Reply
		permanent bool
		after     time.Duration // > 0: RetryAfter
		ok        bool
	}{
		{reply: fakehttp.Reply{Status: 200}, ok: true},
		{reply: fakehttp.Reply{Status: 202}, ok: true},
		{reply: fakehttp.Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}}, after: 7 * time.Second},
		{reply: fakehttp.Reply{Status: 429}},
		{reply: fakehttp.Reply{Status: 500, Body: "boom"}},
		{reply: fakehttp.Reply{Status: 503, Header: map[string]string{"Retry-After": "2"}}, after: 2 * time.Second},
		{reply: fakehttp.Reply{Status: 400, Body: "bad payload"}, permanent: true},
		{reply: fakehttp.Reply{Status: 401}, permanent: true},
		{reply: fakehttp.Reply{Status: 404}, permanent: true},
		{reply: fakehttp.Reply{Status: 308, Header: map[string]string{"Location": "https://elsewhere.example/"}}, permanent: true},
	} {
		srv := fakehttp.New(t, tc.reply)
		n := webhook.New("hook", block(t, t.TempDir(), "      url: "+srv.URL+"/secret-path\n", nil))
		err := n.Notify(context.Background(), testAlert(), "")
		d, isAfter := notifiers.RetryDelay(err)
		switch {
		case tc.ok && err != nil:
			t.Errorf("%d: %v", tc.reply.Status, err)
		case tc.ok:
		case err == nil:
			t.Errorf("%d: no error", tc.reply.Status)
		case notifiers.IsPermanent(err) != tc.permanent:
			t.Errorf("%d: permanent = %v, want %v (%v)", tc.reply.Status, !tc.permanent, tc.permanent, err)
		case tc.after > 0 && (!isAfter || d != tc.after):
			t.Errorf("%d: retry after %v %v, want %v (%v)", tc.reply.Status, d, isAfter, tc.after, err)
		case tc.after == 0 && isAfter:
			t.Errorf("%d: unexpected Retry-After %v", tc.reply.Status, d)
		}
		if err != nil && strings.Contains(err.Error(), "secret-path") {
			t.Errorf("%d: error shows the URL: %v", tc.reply.Status, err)
		}
		if got := len(srv.Requests()); got != 1 {
			t.Errorf("%d: %d requests, want 1 (no retries, no redirects followed)", tc.reply.Status, got)
		}
	}
}

func TestRefusedIsRetriedWithoutTheURL(t *testing.T) {
	srv := fakehttp.New(t, fakehttp.Reply{})
	url := srv.URL + "/hooks/tok3n"
	srv.Close()
	n := webhook.New("hook", block(t, t.TempDir(), "      url: "+url+"\n", nil))
	err := n.Notify(context.Background(), testAlert(), "")
	if err == nil || notifiers.IsPermanent(err) || strings.Contains(err.Error(), "tok3n") {
		t.Errorf("refused: %v; want retryable, without the URL's path (its token)", err)
	}
}
