package faults

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/internal/fakesmtp"
	th "github.com/trailguard/trailguard/internal/testharness"
)

// What an attacker puts in the event fields a caller controls: Slack
// mentions and a link, mrkdwn formatting, and a CR/LF header injection.
const hostile = " <!channel> <!here> <https://evil|click> *bold* x\r\nBcc: evil@example.com"

const ruleDestroy = "opsworkscm.destructive_action"

// deleteServer is an OpsWorks CM DeleteServer call: opsworkscm.destructive_action
// (high), whose message names the caller and the serverName.
func deleteServer(identity map[string]any, agent, server string) th.Record {
	r := th.Event("opsworks-cm.amazonaws.com", "DeleteServer", identity, "203.0.113.9", agent)
	r["readOnly"] = false
	r["requestParameters"] = map[string]any{"serverName": server}
	return r
}

// codeSpans matches mrkdwn code blocks and inline code spans.
var codeSpans = regexp.MustCompile("```[^`]*```|`[^`]*`")

// Hostile event data reaches every notifier: a DeleteServer call whose
// userAgent, requestParameters.serverName and userIdentity.userName carry
// mentions, a link, formatting and a CR/LF "Bcc:" header (and, in a second
// event, an ARN with the header injection, as the principal, which goes into
// the mail's Subject). Slack gets every event value escaped inside code
// spans: no "<!" and no "<http" from the event anywhere, and one field's
// exact text is checked. The mail has exactly its own headers (no Bcc), a
// one-line Subject, one recipient, and HTML that escapes the markup. stdout
// has one JSON line per alert.
func testHostileInput(t *testing.T, p *shared) {
	row := newRow(t, 16, "hostile event data", "userAgent, requestParameters.serverName, userIdentity.userName (and an ARN) carry <!channel>, <!here>, <https://evil|click>, *bold*, CR/LF Bcc: injection")
	e := newEnv(t, p, 5)
	sl := fakeslack.New(t)
	cert, _ := fakesmtp.SelfSigned(t)
	smtp := fakesmtp.Start(t, fakesmtp.Options{TLS: fakesmtp.StartTLS, Cert: &cert})
	d := startDaemon(t, "hostile", e.config(t,
		"notifiers:\n"+th.SlackNotifier("slack", sl.APIURL(), "xoxb-test-token")+th.EmailNotifier("email", smtp.Addr, "", "")+th.StdoutNotifier("console"),
		"routes:\n  - match:\n      rules: ["+ruleDestroy+"]\n    notifiers: [slack, email, console]\n",
		"rules:\n  packs: [opsworkscm]\n",
	), processEnv(t, pemCert(cert.Leaf)))

	byName := deleteServer(map[string]any{
		"type": "IAMUser", "principalId": "AIDAHOSTILEEXAMPLE", "accountId": th.Account, "userName": "user" + hostile,
	}, "agent"+hostile, "server"+hostile)
	byARN := deleteServer(map[string]any{
		"type": "IAMUser", "principalId": "AIDAHOSTILEEXAMPLE", "accountId": th.Account, "userName": "x",
		"arn": "arn:aws:iam::" + th.Account + ":user/x\r\nBcc: evil@example.com",
	}, "agent"+hostile, "server"+hostile)
	k := th.LogKey("hostile-")
	e.putLog(t, k, byName, byARN)
	e.send(t, th.CTNotification(bucket, k))
	e.waitDrained(t, 0, 30*time.Second)

	want := []string{th.Key(ruleDestroy, byName), th.Key(ruleDestroy, byARN)}
	c := count(want, slackAlerts(t, sl)).add(count(want, mailAlerts(t, smtp))).add(count(want, stdoutAlerts(t, d.Out.String())))
	row.finish(t, e, c)
	c.check(t, "slack+email+stdout", true)

	// Slack: every value from the event is inert.
	for _, post := range sl.Posts() {
		texts := append(blockTexts(t, post.Get("blocks")), post.Get("text"))
		id := slackContext.FindStringSubmatch(strings.Join(texts, "\n"))[2]
		consoleLink := "<https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/" + id + "|View event in CloudTrail>"
		sawAgent := false
		for _, s := range texts {
			if strings.Contains(s, "<!") || strings.Contains(s, "\r") {
				t.Errorf("Slack text with a live mention or a CR: %q", s)
			}
			if rest := strings.ReplaceAll(s, consoleLink, ""); strings.Contains(rest, "<") {
				t.Errorf("Slack text with a '<' other than the console link: %q", s)
			}
			// Outside code spans nothing of the event's may show.
			outside := codeSpans.ReplaceAllString(s, "")
			for _, w := range []string{"evil", "bold", "channel", "click", "Bcc"} {
				if strings.Contains(outside, w) {
					t.Errorf("Slack text shows event data %q outside a code span: %q", w, s)
				}
			}
			if strings.HasPrefix(s, "*User agent*") {
				sawAgent = true
				const exact = "*User agent*\n`agent &lt;!channel&gt; &lt;!here&gt; &lt;https://evil|click&gt; *bold* x Bcc: evil@example.com`"
				if s != exact {
					t.Errorf("Slack user agent field:\n got %q\nwant %q", s, exact)
				}
			}
		}
		if !sawAgent {
			t.Errorf("Slack post without a user agent field")
		}
		if post.Get("unfurl_links") != "false" || post.Get("unfurl_media") != "false" {
			t.Errorf("Slack post unfurls: links %q, media %q", post.Get("unfurl_links"), post.Get("unfurl_media"))
		}
	}

	// Email: no injected header, a one-line subject, escaped HTML.
	wantSubjects := map[string]bool{
		"[HIGH] OpsWorks CM server or backup destroyed or overwritten — IAMUser":                                                      true,
		"[HIGH] OpsWorks CM server or backup destroyed or overwritten — arn:aws:iam::" + th.Account + ":user/x Bcc: evil@example.com": true,
	}
	for _, m := range smtp.Messages() {
		if len(m.To) != 1 || m.To[0] != "secops@example.com" {
			t.Errorf("mail envelope recipients %q", m.To)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("mail does not parse: %v", err)
		}
		for key, vs := range msg.Header {
			switch key {
			case "Bcc", "Cc", "Reply-To":
				t.Errorf("mail has an injected %s header: %q", key, vs)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n") {
					t.Errorf("mail header %s spans lines: %q", key, v)
				}
			}
		}
		if to := msg.Header.Get("To"); to != "<secops@example.com>" && to != "secops@example.com" {
			t.Errorf("mail To: %q", to)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("Subject %q: %v", msg.Header.Get("Subject"), err)
		}
		if !wantSubjects[subject] {
			t.Errorf("mail Subject %q", subject)
		}
		delete(wantSubjects, subject)
		text, html := mailParts(t, msg)
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(l)), "bcc:") {
				t.Errorf("text part has a line of its own from the event: %q", l)
			}
		}
		if !strings.Contains(text, "agent <!channel> <!here> <https://evil|click> *bold* x Bcc: evil@example.com") {
			t.Errorf("text part does not show the user agent on one line:\n%s", text)
		}
		for _, bad := range []string{"<!channel", "<https://evil", `href="https://evil`, "<!here"} {
			if strings.Contains(html, bad) {
				t.Errorf("HTML part carries %q unescaped", bad)
			}
		}
		if !strings.Contains(html, "&lt;!channel&gt;") {
			t.Errorf("HTML part does not show the escaped user agent:\n%s", html)
		}
	}

	// stdout: one JSON line per alert, the raw event kept as it was.
	lines := strings.Split(strings.TrimSpace(d.Out.String()), "\n")
	if len(lines) != 2 {
		t.Errorf("%d stdout lines, want 2", len(lines))
	}
	for _, l := range lines {
		var a struct {
			UserAgent string          `json:"user_agent"`
			Event     json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Errorf("stdout line is not JSON: %v", err)
		}
		if a.UserAgent != "agent"+hostile {
			t.Errorf("stdout user_agent %q, want the event's own", a.UserAgent)
		}
	}
}

// mailParts returns the decoded text/plain and text/html parts.
func mailParts(t *testing.T, msg *mail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("mail Content-Type %q (%v), want multipart", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable itself
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("mail part: %v", err)
		}
		var r io.Reader = part
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, part)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("mail part: %v", err)
		}
		switch pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); pt {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	if text == "" || html == "" {
		t.Fatalf("mail lacks a text or an HTML part")
	}
	return text, html
}
