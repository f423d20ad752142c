package slack

import (
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// Rendering rules, because everything taken from the event is attacker-influenced
// (a caller picks its own userAgent; resource names flow into the message):
//
//   - Event-derived values appear only in mrkdwn, with &, <, > escaped, so
//     "<!channel>" or "<https://evil|click>" cannot become a mention or a link.
//   - Each value sits inside a code span (or a code block for the message) with
//     backticks replaced, so *bold*, _italic_ and ~strike~ stay literal.
//   - mrkdwn objects are verbatim, so Slack does not auto-link bare URLs or
//     #channel names found in the data, and unfurling is off.
//   - Values are made one line and cut to Slack's limits before they are sent.
//
// The header is plain_text (the only type Slack allows there), which Slack never
// parses for mentions or links; it carries the rule's title, not event data.

// Slack's limits, in characters.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxValue   = 600 // one value in a field; a field holds at most three
)

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes text safe for mrkdwn: Slack decodes exactly these three entities.
func escape(s string) string { return escaper.Replace(s) }

// escapeMax escapes s and cuts the result to at most max characters, never inside
// an entity, marking a cut with "…".
func escapeMax(s string, max int) string {
	e := escape(s)
	if utf8.RuneCountInString(e) <= max {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := escape(string(r))
		if n+utf8.RuneCountInString(piece) > max-1 {
			break
		}
		b.WriteString(piece)
		n += utf8.RuneCountInString(piece)
	}
	b.WriteString("…")
	return b.String()
}

// inert neutralises s for use inside a code span or block: one line, no backticks.
func inert(s string) string {
	return strings.ReplaceAll(notifiers.OneLine(s), "`", "'")
}

// code renders an event-derived value as an inert inline code span of at most max
// characters; an empty value is shown as an em dash.
func code(s string, max int) string {
	s = inert(s)
	if s == "" {
		return "—"
	}
	return "`" + escapeMax(s, max-2) + "`"
}

// link renders a Slack link to an http(s) URL; ok is false for anything else.
func link(raw, label string) (string, bool) {
	u, ok := notifiers.HTTPURL(raw)
	if !ok {
		return "", false
	}
	// Inside <…|…> a '|' would end the URL early and '>' the link.
	u = strings.ReplaceAll(escape(u), "|", "%7C")
	return "<" + u + "|" + escape(label) + ">", true
}

var severityEmoji = map[alert.Severity]string{
	alert.Info:     "⚪",
	alert.Low:      "🔵",
	alert.Medium:   "🟡",
	alert.High:     "🟠",
	alert.Critical: "🔴",
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

// fallback is the message's top-level text: what notifications and clients
// without Block Kit show. It is mrkdwn too, so it gets the same treatment.
func fallback(a *alert.Alert) string {
	return "[" + notifiers.SeverityLabel(a.Severity) + "] " +
		escapeMax(notifiers.OneLine(a.Title), maxHeader) + " — " + code(a.Principal, maxValue)
}

// blocks renders a as Block Kit.
func blocks(a *alert.Alert, note string) []slack.Block {
	header := notifiers.Truncate(notifiers.OneLine(
		severityEmoji[a.Severity]+" "+notifiers.SeverityLabel(a.Severity)+": "+a.Title), maxHeader)
	out := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, header, true, false)),
	}

	if msg := inert(a.Message); msg != "" {
		out = append(out, slack.NewSectionBlock(mrkdwn("```"+escapeMax(msg, maxSection-6)+"```"), nil, nil))
	}

	who := "*Who*\n" + code(a.Principal, maxValue)
	if a.IdentityType != "" {
		who += " (" + code(a.IdentityType, 100) + ")"
	}
	fields := []*slack.TextBlockObject{
		mrkdwn(who),
		mrkdwn("*What*\n" + code(a.EventName, maxValue) + " on " + code(a.EventSource, maxValue)),
		mrkdwn("*Where*\naccount " + code(a.AccountID, maxValue) + " in " + code(a.Region, maxValue)),
		mrkdwn("*Source IP*\n" + code(a.SourceIP, maxValue)),
		mrkdwn("*When*\n" + code(a.EventTime, maxValue)),
	}
	if a.UserAgent != "" {
		fields = append(fields, mrkdwn("*User agent*\n"+code(a.UserAgent, maxField-20)))
	}
	if a.ErrorCode != "" {
		fields = append(fields, mrkdwn("*Error*\n"+code(a.ErrorCode, maxValue)))
	}
	out = append(out, slack.NewSectionBlock(nil, fields, nil))

	var links []string
	if u, ok := notifiers.ConsoleURL(a); ok {
		l, _ := link(u, "View event in CloudTrail")
		links = append(links, l)
	}
	if l, ok := link(a.Runbook, "Runbook"); ok {
		links = append(links, l)
	}
	if len(links) > 0 {
		out = append(out, slack.NewSectionBlock(mrkdwn(strings.Join(links, " · ")), nil, nil))
	}

	if note = notifiers.OneLine(note); note != "" {
		out = append(out, slack.NewContextBlock("", mrkdwn(":information_source: "+escapeMax(note, maxSection-30))))
	}

	ctx := "Rule " + code(a.RuleID, maxValue) + " · Event " + code(a.EventID, maxValue)
	if a.Origin != "" {
		ctx += " · " + code(a.Origin, maxValue)
	}
	out = append(out, slack.NewContextBlock("", mrkdwn(ctx)))
	return out
}
