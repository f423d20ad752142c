package teams

import (
	"strings"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// Rendering rules, because everything taken from the event is
// attacker-influenced (a caller picks its own userAgent; resource names flow
// into the message). Teams renders a Markdown subset in TextBlocks and in
// FactSet values: **bold**, _italic_, [links](…), lists and headings. So
// every event-derived value is
//
//   - made one line (no list or heading can start on a line of its own) and
//     cut to a length before escaping, so no escape is cut in half;
//   - backslash-escaped (CommonMark) for every character that starts markup:
//     \ ` * _ [ ] ( ) < > & ~ ! | {}, and #, -, + or "1. " at its start;
//   - kept from auto-linking: "://" is written ":\/\/" .
//
// Links are only ever Action.OpenUrl buttons built from checked URLs, never
// Markdown. Mentions in Teams need an explicit entity, so "@channel" in a
// value stays plain text.

// Lengths, in characters, before escaping.
const (
	maxTitle   = 150
	maxMessage = 3000
	maxValue   = 600
)

// Card is an Adaptive Card.
type Card struct {
	Type    string         `json:"type"`
	Schema  string         `json:"$schema"`
	Version string         `json:"version"`
	Body    []any          `json:"body"`
	Actions []Action       `json:"actions,omitempty"`
	MSTeams map[string]any `json:"msteams,omitempty"`
}

// TextBlock is a card element of text (Markdown subset).
type TextBlock struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Wrap     bool   `json:"wrap"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	FontType string `json:"fontType,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
}

// FactSet is a list of title/value pairs.
type FactSet struct {
	Type  string `json:"type"`
	Facts []Fact `json:"facts"`
}

// Fact is one pair of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is an Action.OpenUrl button.
type Action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

var severityColor = map[alert.Severity]string{
	alert.Info:     "default",
	alert.Low:      "accent",
	alert.Medium:   "warning",
	alert.High:     "attention",
	alert.Critical: "attention",
}

var escaper = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_[]()<>&~!|{}" {
		pairs = append(pairs, string(c), `\`+string(c))
	}
	return strings.NewReplacer(append(pairs, "://", `:\/\/`)...)
}()

// Escape makes an event-derived value inert in Adaptive Card Markdown: one
// line, at most max characters, every markup character escaped.
func Escape(s string, max int) string {
	s = notifiers.Truncate(notifiers.OneLine(s), max)
	if s == "" {
		return "—"
	}
	e := escaper.Replace(s)
	// What starts a list, heading or quote only does so at a line's start.
	if strings.ContainsRune("#-+>", rune(e[0])) {
		e = `\` + e
	}
	// "1. " starts an ordered list ("1)" is escaped already); "203.0.113.9" does not.
	if i := strings.IndexFunc(e, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && e[i] == '.' &&
		(i+1 == len(e) || e[i+1] == ' ') {
		e = e[:i] + `\` + e[i:]
	}
	return e
}

// card renders a as an Adaptive Card with the content of the Slack message.
func card(a *alert.Alert, note string) Card {
	body := []any{
		TextBlock{Type: "TextBlock", Size: "Large", Weight: "Bolder", Wrap: true, Color: severityColor[a.Severity],
			Text: notifiers.SeverityLabel(a.Severity) + ": " + Escape(a.Title, maxTitle)},
	}
	if notifiers.OneLine(a.Message) != "" {
		body = append(body, TextBlock{Type: "TextBlock", Wrap: true, FontType: "Monospace", Text: Escape(a.Message, maxMessage)})
	}
	who := Escape(a.Principal, maxValue)
	if a.IdentityType != "" {
		who += " (" + Escape(a.IdentityType, 100) + ")"
	}
	facts := []Fact{
		{"Who", who},
		{"What", Escape(a.EventName, maxValue) + " on " + Escape(a.EventSource, maxValue)},
		{"Where", "account " + Escape(a.AccountID, maxValue) + " in " + Escape(a.Region, maxValue)},
		{"Source IP", Escape(a.SourceIP, maxValue)},
		{"When", Escape(a.EventTime, maxValue)},
	}
	if a.UserAgent != "" {
		facts = append(facts, Fact{"User agent", Escape(a.UserAgent, 2*maxValue)})
	}
	if a.ErrorCode != "" {
		facts = append(facts, Fact{"Error", Escape(a.ErrorCode, maxValue)})
	}
	body = append(body, FactSet{Type: "FactSet", Facts: facts})
	if notifiers.OneLine(note) != "" {
		body = append(body, TextBlock{Type: "TextBlock", Wrap: true, IsSubtle: true, Text: "ℹ " + Escape(note, maxMessage)})
	}
	ctx := "Rule " + Escape(a.RuleID, maxValue) + " · Event " + Escape(a.EventID, maxValue)
	if a.Origin != "" {
		ctx += " · " + Escape(a.Origin, maxValue)
	}
	body = append(body, TextBlock{Type: "TextBlock", Wrap: true, Size: "Small", IsSubtle: true, Text: ctx})

	var actions []Action
	if u, ok := notifiers.ConsoleURL(a); ok {
		actions = append(actions, Action{Type: "Action.OpenUrl", Title: "View event in CloudTrail", URL: u})
	}
	if u, ok := notifiers.HTTPURL(a.Runbook); ok {
		actions = append(actions, Action{Type: "Action.OpenUrl", Title: "Runbook", URL: u})
	}
	return Card{
		Type: "AdaptiveCard", Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Version: "1.4",
		Body: body, Actions: actions, MSTeams: map[string]any{"width": "Full"},
	}
}
