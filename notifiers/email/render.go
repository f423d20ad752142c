package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	gomail "github.com/wneessen/go-mail"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// maxSubject keeps subjects readable in mail clients; header folding handles the
// rest.
const maxSubject = 200

// Subject is the message subject: "[HIGH] <title> — <principal>", on one line.
// Control characters are removed (CR/LF in a principal or title must not start a
// new header), and the result is cut to a readable length.
func Subject(a *alert.Alert) string {
	s := "[" + notifiers.SeverityLabel(a.Severity) + "] " + notifiers.OneLine(a.Title)
	if p := notifiers.OneLine(a.Principal); p != "" {
		s += " — " + p
	}
	return notifiers.Truncate(s, maxSubject)
}

type field struct{ Label, Value string }

// view is what both templates render; every string is one line already, and the
// HTML template escapes it for its context.
type view struct {
	Severity, Title, Message, Description, Note string
	Fields                                      []field
	ConsoleURL, Runbook                         string
	References                                  []string
}

func newView(a *alert.Alert, note string) view {
	v := view{
		Severity:    notifiers.SeverityLabel(a.Severity),
		Title:       notifiers.OneLine(a.Title),
		Message:     notifiers.OneLine(a.Message),
		Description: notifiers.OneLine(a.Description),
		Note:        notifiers.OneLine(note),
	}
	add := func(label, value string) {
		if value = notifiers.OneLine(value); value != "" {
			v.Fields = append(v.Fields, field{label, value})
		}
	}
	who := a.Principal
	if a.IdentityType != "" {
		who += " (" + a.IdentityType + ")"
	}
	add("Who", who)
	what := a.EventName
	if a.EventSource != "" {
		what += " on " + a.EventSource
	}
	add("What", what)
	add("Where", strings.TrimSpace("account "+a.AccountID+" in "+a.Region))
	add("Source IP", a.SourceIP)
	add("User agent", a.UserAgent)
	add("When", a.EventTime)
	add("Error", a.ErrorCode)
	add("Rule", a.RuleID)
	add("Event ID", a.EventID)
	add("Origin", a.Origin)
	v.ConsoleURL, _ = notifiers.ConsoleURL(a)
	v.Runbook, _ = notifiers.HTTPURL(a.Runbook)
	for _, r := range a.References {
		if u, ok := notifiers.HTTPURL(r); ok {
			v.References = append(v.References, u)
		}
	}
	return v
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Parse(
	`[{{.Severity}}] {{.Title}}

{{.Message}}
{{if .Note}}
Note: {{.Note}}
{{end}}
{{range .Fields}}{{printf "%-11s" (print .Label ":")}} {{.Value}}
{{end}}{{if .ConsoleURL}}
CloudTrail console: {{.ConsoleURL}}{{end}}{{if .Runbook}}
Runbook: {{.Runbook}}{{end}}
{{if .Description}}
{{.Description}}
{{end}}{{if .References}}
References:
{{range .References}}- {{.}}
{{end}}{{end}}`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>[{{.Severity}}] {{.Title}}</title></head>
<body style="font-family:sans-serif;font-size:14px">
<h2 style="margin:0 0 8px 0">[{{.Severity}}] {{.Title}}</h2>
<p>{{.Message}}</p>
{{if .Note}}<p style="color:#555"><em>{{.Note}}</em></p>
{{end}}<table cellpadding="4" style="border-collapse:collapse">
{{range .Fields}}<tr><th align="left" valign="top">{{.Label}}</th><td><code>{{.Value}}</code></td></tr>
{{end}}</table>
<p>{{if .ConsoleURL}}<a href="{{.ConsoleURL}}">View event in CloudTrail</a>{{end}}{{if and .ConsoleURL .Runbook}} · {{end}}{{if .Runbook}}<a href="{{.Runbook}}">Runbook</a>{{end}}</p>
{{if .Description}}<p>{{.Description}}</p>
{{end}}{{if .References}}<ul>
{{range .References}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul>
{{end}}</body></html>
`))

// Bodies renders the plain-text and HTML parts.
func Bodies(a *alert.Alert, note string) (text, html string, err error) {
	v := newView(a, note)
	var t, h bytes.Buffer
	if err := textTmpl.Execute(&t, v); err != nil {
		return "", "", err
	}
	if err := htmlTmpl.Execute(&h, v); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}

func (n *Notifier) message(a *alert.Alert, note string) (*gomail.Msg, error) {
	text, html, err := Bodies(a, note)
	if err != nil {
		return nil, err
	}
	m := gomail.NewMsg()
	m.FromMailAddress(n.from)
	m.ToMailAddress(n.to...)
	m.Subject(Subject(a))
	m.SetDate()
	// A Message-ID derived from the alert (and note) lets mail clients collapse
	// the rare duplicate an at-least-once pipeline can still produce.
	sum := sha256.Sum256([]byte(a.Key() + "\x00" + note))
	domain := n.from.Address[strings.LastIndexByte(n.from.Address, '@')+1:]
	m.SetMessageIDWithValue(hex.EncodeToString(sum[:16]) + "@" + domain)
	// RFC 3834: no auto-replies (vacation notices) to alerts.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Trailguard-Rule", notifiers.OneLine(a.RuleID))
	m.SetGenHeader("X-Trailguard-Severity", a.Severity.String())
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	return m, nil
}
