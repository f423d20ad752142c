package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/notifiers"
)

// hostileAlert carries event-derived values an attacker controls: the userAgent
// and, through resource names, the message.
func hostileAlert() *alert.Alert {
	return &alert.Alert{
		RuleID: "opsworkscm.create_server_without_mfa", Title: "OpsWorks CM server created without MFA",
		Severity: alert.High,
		Message:  "Server *prod* created by `arn:aws:iam::123456789012:user/mallory` <!here>",
		Runbook:  "https://runbooks.example.com/opsworks?x=1&y=2",
		EventID:  "3f0c5a4e-1111-2222-3333-444455556666", EventTime: "2024-05-01T10:00:00Z",
		EventSource: "opsworks-cm.amazonaws.com", EventName: "CreateServer", Region: "us-east-1",
		AccountID: "123456789012", Principal: "arn:aws:iam::123456789012:user/mallory", IdentityType: "IAMUser",
		SourceIP: "203.0.113.7", UserAgent: "<!channel> <https://evil|click> *bold*",
	}
}

const wantBlocks = `[
 {"type":"header","text":{"type":"plain_text","text":"🟠 HIGH: OpsWorks CM server created without MFA","emoji":true}},
 {"type":"section","text":{"type":"mrkdwn","verbatim":true,
   "text":"` + "```" + `Server *prod* created by 'arn:aws:iam::123456789012:user/mallory' &lt;!here&gt;` + "```" + `"}},
 {"type":"section","fields":[
   {"type":"mrkdwn","verbatim":true,"text":"*Who*\n` + "`arn:aws:iam::123456789012:user/mallory` (`IAMUser`)" + `"},
   {"type":"mrkdwn","verbatim":true,"text":"*What*\n` + "`CreateServer` on `opsworks-cm.amazonaws.com`" + `"},
   {"type":"mrkdwn","verbatim":true,"text":"*Where*\naccount ` + "`123456789012` in `us-east-1`" + `"},
   {"type":"mrkdwn","verbatim":true,"text":"*Source IP*\n` + "`203.0.113.7`" + `"},
   {"type":"mrkdwn","verbatim":true,"text":"*When*\n` + "`2024-05-01T10:00:00Z`" + `"},
   {"type":"mrkdwn","verbatim":true,"text":"*User agent*\n` + "`&lt;!channel&gt; &lt;https://evil|click&gt; *bold*`" + `"}]},
 {"type":"section","text":{"type":"mrkdwn","verbatim":true,
   "text":"<https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/3f0c5a4e-1111-2222-3333-444455556666|View event in CloudTrail> · <https://runbooks.example.com/opsworks?x=1&amp;y=2|Runbook>"}},
 {"type":"context","elements":[{"type":"mrkdwn","verbatim":true,"text":":information_source: 12 similar alerts suppressed &lt;since&gt; 10:00"}]},
 {"type":"context","elements":[{"type":"mrkdwn","verbatim":true,
   "text":"Rule ` + "`opsworkscm.create_server_without_mfa` · Event `3f0c5a4e-1111-2222-3333-444455556666`" + `"}]}
]`

const wantText = "[HIGH] OpsWorks CM server created without MFA — `arn:aws:iam::123456789012:user/mallory`"

func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(g, "", " ")
		wb, _ := json.MarshalIndent(w, "", " ")
		t.Fatalf("JSON differs:\n got %s\nwant %s", gb, wb)
	}
}

func newBot(t *testing.T, srv *fakeslack.Server, channel string) *Notifier {
	t.Helper()
	return New("slack", &config.Slack{Token: "xoxb-test-token", Channel: channel, APIURL: srv.APIURL()}, slog.New(slog.DiscardHandler))
}

func TestPostMessageSendsEscapedBlocks(t *testing.T) {
	srv := fakeslack.New(t)
	n := newBot(t, srv, "C0123456789")
	if n.Name() != "slack" {
		t.Errorf("Name() = %q", n.Name())
	}
	if err := n.Notify(context.Background(), hostileAlert(), "12 similar alerts suppressed <since> 10:00"); err != nil {
		t.Fatal(err)
	}
	posts := srv.Posts()
	if len(posts) != 1 {
		t.Fatalf("got %d posts", len(posts))
	}
	p := posts[0]
	if p.Get("token") != "xoxb-test-token" || p.Get("channel") != "C0123456789" {
		t.Errorf("token/channel = %q/%q", p.Get("token"), p.Get("channel"))
	}
	if p.Get("text") != wantText {
		t.Errorf("text:\n got %q\nwant %q", p.Get("text"), wantText)
	}
	if p.Get("unfurl_links") != "false" || p.Get("unfurl_media") != "false" {
		t.Errorf("unfurling not disabled: %v", p)
	}
	jsonEqual(t, p.Get("blocks"), wantBlocks)
}

// TestHostileTextIsInert checks, beyond the golden output, that no event value can
// open a Slack control sequence or formatting outside a code span.
func TestHostileTextIsInert(t *testing.T) {
	a := hostileAlert()
	a.Principal = "x` *bold* <@U123> `y"
	a.Message = "line1\r\n<!everyone> ```break out``` ~strike~ _it_"
	a.EventName = "<https://evil|click>"
	a.Region = "us-east-1>" // not a region: no console link
	a.Runbook = "javascript:alert(1)"
	bs := blocks(a, "")
	raw, _ := json.Marshal(bs)
	var decoded any
	_ = json.Unmarshal(raw, &decoded)

	var texts []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "mrkdwn" {
				texts = append(texts, v["text"].(string))
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(decoded)
	for _, s := range append(texts, fallback(a)) {
		if strings.ContainsAny(s, "<>") {
			t.Errorf("raw angle bracket in mrkdwn (no link expected here): %q", s)
		}
		// Outside code spans nothing of the event may remain: strip the spans and
		// look for the attacker's markup.
		outside := stripCode(s)
		for _, bad := range []string{"bold", "strike", "_it_", "everyone", "evil", "U123"} {
			if strings.Contains(outside, bad) {
				t.Errorf("%q escaped its code span in %q", bad, s)
			}
		}
	}
	msg := bs[1].(*slack.SectionBlock).Text.Text
	who := bs[2].(*slack.SectionBlock).Fields[0].Text
	if len(bs) != 4 {
		t.Errorf("got %d blocks; the link section should be gone (bad region, bad runbook)", len(bs))
	}
	if got, want := msg, "```line1 &lt;!everyone&gt; '''break out''' ~strike~ _it_```"; got != want {
		t.Errorf("message block:\n got %q\nwant %q", got, want)
	}
	if got, want := who, "*Who*\n`x' *bold* &lt;@U123&gt; 'y` (`IAMUser`)"; got != want {
		t.Errorf("who field:\n got %q\nwant %q", got, want)
	}
}

// stripCode removes ```blocks``` and `spans`.
func stripCode(s string) string {
	for _, fence := range []string{"```", "`"} {
		for {
			i := strings.Index(s, fence)
			if i < 0 {
				break
			}
			j := strings.Index(s[i+len(fence):], fence)
			if j < 0 {
				break
			}
			s = s[:i] + s[i+len(fence)+j+len(fence):]
		}
	}
	return s
}

func TestLongValuesAreCutToSlackLimits(t *testing.T) {
	a := hostileAlert()
	a.UserAgent = strings.Repeat("<&>", 5000)
	a.Message = strings.Repeat("é<", 5000)
	a.Title = strings.Repeat("T", 400)
	bs := blocks(a, strings.Repeat("n", 5000))
	raw, _ := json.Marshal(bs)
	var decoded []map[string]any
	_ = json.Unmarshal(raw, &decoded)
	header := decoded[0]["text"].(map[string]any)["text"].(string)
	if n := utf8.RuneCountInString(header); n > maxHeader {
		t.Errorf("header has %d runes", n)
	}
	msg := decoded[1]["text"].(map[string]any)["text"].(string)
	if n := utf8.RuneCountInString(msg); n > maxSection || !strings.HasSuffix(msg, "…```") {
		t.Errorf("message has %d runes, ends %q", n, msg[len(msg)-10:])
	}
	for _, f := range decoded[2]["fields"].([]any) {
		text := f.(map[string]any)["text"].(string)
		if n := utf8.RuneCountInString(text); n > maxField {
			t.Errorf("field has %d runes", n)
		}
		// A cut never splits an entity.
		if strings.Contains(text, "&…") || strings.Contains(text, "&l…") || strings.Contains(text, "&am…") {
			t.Errorf("entity split: %q", text[len(text)-20:])
		}
	}
}

func TestErrorClassification(t *testing.T) {
	srv := fakeslack.New(t)
	n := newBot(t, srv, "C0123456789")
	cases := []struct {
		name      string
		reply     fakeslack.Reply
		permanent bool
		after     time.Duration
	}{
		{"rate limited", fakeslack.Reply{Status: 429, Header: map[string]string{"Retry-After": "1"}}, false, time.Second},
		{"429 without Retry-After", fakeslack.Reply{Status: 429}, false, 0},
		{"invalid_auth", fakeslack.Error("invalid_auth"), true, 0},
		{"channel_not_found", fakeslack.Error("channel_not_found"), true, 0},
		{"not_in_channel", fakeslack.Error("not_in_channel"), true, 0},
		{"account_inactive", fakeslack.Error("account_inactive"), true, 0},
		{"token_revoked", fakeslack.Error("token_revoked"), true, 0},
		{"missing_scope", fakeslack.Error("missing_scope"), true, 0},
		{"internal_error", fakeslack.Error("internal_error"), false, 0},
		{"500", fakeslack.Reply{Status: 500, Body: "<html>oops</html>"}, false, 0},
		{"503", fakeslack.Reply{Status: 503}, false, 0},
		{"400", fakeslack.Reply{Status: 400}, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv.Script(c.reply)
			err := n.Notify(context.Background(), hostileAlert(), "")
			if err == nil {
				t.Fatal("no error")
			}
			if got := notifiers.IsPermanent(err); got != c.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", got, c.permanent, err)
			}
			d, ok := notifiers.RetryDelay(err)
			if ok != (c.after > 0) || d != c.after {
				t.Errorf("RetryDelay = %v, %v; want %v (%v)", d, ok, c.after, err)
			}
		})
	}
	if len(srv.Posts()) != 0 {
		t.Errorf("failed posts were recorded as delivered")
	}
}

func TestTransportErrorIsRetryable(t *testing.T) {
	srv := fakeslack.New(t)
	n := newBot(t, srv, "C0123456789")
	srv.Close()
	err := n.Notify(context.Background(), hostileAlert(), "")
	if err == nil || notifiers.IsPermanent(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
}

func TestWebhook(t *testing.T) {
	srv := fakeslack.New(t)
	n := New("slack-hook", &config.Slack{WebhookURL: config.Secret(srv.WebhookURL())}, nil)
	if err := n.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), hostileAlert(), "12 similar alerts suppressed <since> 10:00"); err != nil {
		t.Fatal(err)
	}
	hooks := srv.Hooks()
	if len(hooks) != 1 {
		t.Fatalf("got %d webhook posts", len(hooks))
	}
	var body struct {
		Text        string          `json:"text"`
		Blocks      json.RawMessage `json:"blocks"`
		UnfurlLinks *bool           `json:"unfurl_links"`
	}
	if err := json.Unmarshal(hooks[0], &body); err != nil {
		t.Fatal(err)
	}
	if body.Text != wantText || body.UnfurlLinks == nil || *body.UnfurlLinks {
		t.Errorf("text %q, unfurl_links %v", body.Text, body.UnfurlLinks)
	}
	jsonEqual(t, string(body.Blocks), wantBlocks)

	for _, c := range []struct {
		reply     fakeslack.Reply
		permanent bool
		after     time.Duration
	}{
		{fakeslack.Reply{Status: 500, Body: "internal"}, false, 0},
		{fakeslack.Reply{Status: 404, Body: "no_team"}, true, 0},
		{fakeslack.Reply{Status: 403, Body: "invalid_token"}, true, 0},
		{fakeslack.Reply{Status: 429, Header: map[string]string{"Retry-After": "3"}}, false, 3 * time.Second},
	} {
		srv.Script(c.reply)
		err := n.Notify(context.Background(), hostileAlert(), "")
		d, _ := notifiers.RetryDelay(err)
		if err == nil || notifiers.IsPermanent(err) != c.permanent || d != c.after {
			t.Errorf("reply %d: err %v, permanent %v, delay %v", c.reply.Status, err, notifiers.IsPermanent(err), d)
		}
	}
}

func TestWebhookURLNeverInErrors(t *testing.T) {
	srv := fakeslack.New(t)
	n := New("slack", &config.Slack{WebhookURL: config.Secret(srv.WebhookURL())}, nil)
	srv.Close()
	err := n.Notify(context.Background(), hostileAlert(), "")
	if err == nil || notifiers.IsPermanent(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
	if strings.Contains(err.Error(), "XXXX") || strings.Contains(err.Error(), "/services/") {
		t.Errorf("webhook URL leaked: %v", err)
	}
}

func TestCheck(t *testing.T) {
	srv := fakeslack.New(t)
	if err := newBot(t, srv, "C0123456789").Check(context.Background()); err != nil {
		t.Errorf("good config: %v", err)
	}
	// A channel name cannot be verified; that is a warning, not a failure.
	if err := newBot(t, srv, "#alerts").Check(context.Background()); err != nil {
		t.Errorf("channel name: %v", err)
	}
	err := newBot(t, srv, "C9999999999").Check(context.Background())
	if !notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "channel_not_found") {
		t.Errorf("unknown channel: %v", err)
	}
	srv.SetAuthError("invalid_auth")
	err = newBot(t, srv, "C0123456789").Check(context.Background())
	if !notifiers.IsPermanent(err) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("bad token: %v", err)
	}
	var perm *notifiers.PermanentError
	if !errors.As(err, &perm) {
		t.Errorf("errors.As(PermanentError) failed for %v", err)
	}
}

func TestStatusOfSlackHTTPErrors(t *testing.T) {
	// Guard against slack-go changing how it reports 5xx: the classification above
	// relies on slack.StatusCodeError.
	srv := fakeslack.New(t)
	srv.Script(fakeslack.Reply{Status: http.StatusBadGateway})
	err := newBot(t, srv, "C0123456789").Notify(context.Background(), hostileAlert(), "")
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v", err)
	}
}
