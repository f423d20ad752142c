package teams_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakehttp"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/teams"
)

func testAlert() *alert.Alert {
	return &alert.Alert{
		RuleID: "aws.root_login", Title: "Root login", Severity: alert.Critical, Message: "root signed in",
		Runbook: "https://runbooks.example.com/root", Origin: "s3://trail/key.json.gz",
		EventID: "3f2d8c1e-7e4a-4a6e-9c1d-0123456789ab", EventTime: "2026-01-02T03:04:05Z",
		EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", Region: "us-east-1",
		AccountID: "123456789012", Principal: "arn:aws:iam::123456789012:root", IdentityType: "Root",
		SourceIP: "203.0.113.9", UserAgent: "aws-cli/2", ErrorCode: "AccessDenied",
	}
}

// The Workflows webhook's request shape.
type message struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string `json:"contentType"`
		Content     struct {
			Type    string `json:"type"`
			Schema  string `json:"$schema"`
			Version string `json:"version"`
			Body    []struct {
				Type  string `json:"type"`
				Text  string `json:"text"`
				Facts []struct {
					Title string `json:"title"`
					Value string `json:"value"`
				} `json:"facts"`
			} `json:"body"`
			Actions []struct {
				Type, Title, URL string
			} `json:"actions"`
		} `json:"content"`
	} `json:"attachments"`
}

func post(t *testing.T, a *alert.Alert, note string) (fakehttp.Request, message) {
	t.Helper()
	srv := fakehttp.New(t, fakehttp.Reply{})
	srv.SetAnswer(fakehttp.Teams)
	n := teams.New("teams", &config.Teams{WebhookURL: config.Secret(srv.URL + "/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t")})
	if err := n.Notify(context.Background(), a, note); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Answered != http.StatusAccepted {
		t.Fatalf("the Workflows fake answered %d to\n%s", r.Answered, r.Body)
	}
	var m message
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	return r, m
}

// texts returns every text a card shows: TextBlocks and FactSet values.
func texts(m message) []string {
	var out []string
	for _, b := range m.Attachments[0].Content.Body {
		if b.Text != "" {
			out = append(out, b.Text)
		}
		for _, f := range b.Facts {
			out = append(out, f.Title+": "+f.Value)
		}
	}
	return out
}

func TestCardShape(t *testing.T) {
	r, m := post(t, testAlert(), "2 similar alerts suppressed")
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Path != "/workflows/abc/triggers/manual/paths/invoke" {
		t.Errorf("request %s %s %q", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("message %+v", m)
	}
	c := m.Attachments[0].Content
	if c.Type != "AdaptiveCard" || c.Version != "1.4" || c.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" {
		t.Errorf("card type %q version %q schema %q", c.Type, c.Version, c.Schema)
	}
	all := strings.Join(texts(m), "\n")
	for _, want := range []string{
		"CRITICAL: Root login",
		"Who: arn:aws:iam::123456789012:root (Root)",
		"What: ConsoleLogin on signin.amazonaws.com",
		"Where: account 123456789012 in us-east-1",
		"Source IP: 203.0.113.9", "When: 2026-01-02T03:04:05Z", "User agent: aws-cli/2", "Error: AccessDenied",
		"2 similar alerts suppressed",
		"Rule aws.root\\_login · Event 3f2d8c1e\\-7e4a", // - inside a value needs no escape, but the start does
	} {
		if !strings.Contains(all, want) && !strings.Contains(all, strings.ReplaceAll(want, `\-`, "-")) {
			t.Errorf("card lacks %q:\n%s", want, all)
		}
	}
	if len(c.Actions) != 2 || c.Actions[0].Type != "Action.OpenUrl" || c.Actions[0].Title != "View event in CloudTrail" ||
		!strings.HasPrefix(c.Actions[0].URL, "https://us-east-1.console.aws.amazon.com/cloudtrailv2/") || c.Actions[1].URL != "https://runbooks.example.com/root" {
		t.Errorf("actions %+v", c.Actions)
	}
}

// Hostile values from the event stay literal text: no markup, link, HTML,
// heading, list or extra line.
func TestHostileValuesEscaped(t *testing.T) {
	a := testAlert()
	a.Principal = "<script>alert(1)</script>"
	a.UserAgent = "[x](http://evil) **bold** _it_ `code` @channel ~~s~~ ![i](http://e/i.png)"
	a.Message = "# heading\n- item\n1. first"
	a.EventName = "- list"
	a.SourceIP = "1. x"
	a.ErrorCode = "> quote"
	a.Runbook = "javascript:alert(1)"
	_, m := post(t, a, "")
	got := map[string]string{}
	for _, s := range texts(m) {
		k, v, _ := strings.Cut(s, ": ")
		got[k] = v
	}
	for key, want := range map[string]string{
		"Who":        `\<script\>alert\(1\)\</script\> (Root)`,
		"User agent": `\[x\]\(http:\/\/evil\) \*\*bold\*\* \_it\_ \` + "`" + `code\` + "`" + ` @channel \~\~s\~\~ \!\[i\]\(http:\/\/e/i.png\)`,
		"What":       `\- list on signin.amazonaws.com`,
		"Source IP":  `1\. x`, // "1. " would start a list
		"Error":      `\> quote`,
	} {
		if got[key] != want {
			t.Errorf("%s = %s\n want %s", key, got[key], want)
		}
	}
	msg := m.Attachments[0].Content.Body[1].Text
	if msg != `\# heading - item 1. first` {
		t.Errorf("message = %s", msg)
	}
	for _, s := range texts(m) {
		if strings.ContainsAny(s, "\n\r") {
			t.Errorf("a value spans lines: %q", s)
		}
	}
	if acts := m.Attachments[0].Content.Actions; len(acts) != 1 {
		t.Errorf("a javascript: runbook became an action: %+v", acts)
	}
}

func TestEscapeUnescapesToTheValue(t *testing.T) {
	// CommonMark drops a backslash before ASCII punctuation: what the reader
	// sees is the value itself.
	for _, v := range []string{"<b>", "a_b*c", "[l](u)", "#1", "-x", "10. y", `back\slash`, "https://x.example/"} {
		e := teams.Escape(v, 100)
		var b strings.Builder
		for i := 0; i < len(e); i++ {
			if e[i] == '\\' && i+1 < len(e) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", e[i+1]) >= 0 {
				i++
			}
			b.WriteByte(e[i])
		}
		if b.String() != v {
			t.Errorf("Escape(%q) = %q reads as %q", v, e, b.String())
		}
	}
}

func TestAnswersClassified(t *testing.T) {
	for _, tc := range []struct {
		reply     fakehttp.Reply
		ok        bool
		permanent bool
		after     time.Duration
	}{
		{reply: fakehttp.Reply{Status: 200}, ok: true},
		{reply: fakehttp.Reply{Status: 202}, ok: true},
		{reply: fakehttp.Reply{Status: 429, Header: map[string]string{"Retry-After": "5"}}, after: 5 * time.Second},
		{reply: fakehttp.Reply{Status: 502}},
		{reply: fakehttp.Reply{Status: 400, Body: `{"error":{"code":"InvalidRequestContent"}}`}, permanent: true},
		{reply: fakehttp.Reply{Status: 404, Body: `{"error":{"code":"WorkflowNotFound"}}`}, permanent: true},
	} {
		srv := fakehttp.New(t, tc.reply)
		n := teams.New("teams", &config.Teams{WebhookURL: config.Secret(srv.URL + "/invoke?sig=s3cr3t")})
		err := n.Notify(context.Background(), testAlert(), "")
		d, isAfter := notifiers.RetryDelay(err)
		switch {
		case tc.ok != (err == nil):
			t.Errorf("%d: %v", tc.reply.Status, err)
		case tc.ok:
		case notifiers.IsPermanent(err) != tc.permanent:
			t.Errorf("%d: permanent = %v (%v)", tc.reply.Status, notifiers.IsPermanent(err), err)
		case tc.after != d || (tc.after > 0) != isAfter:
			t.Errorf("%d: retry after %v, want %v", tc.reply.Status, d, tc.after)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error shows the webhook URL: %v", err)
		}
	}
}
