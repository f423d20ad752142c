package engine

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/alert"
)

// A rule may leave its alert's message to the engine: METADATA
// custom.message is a Go template (text/template) over the event and the
// alert object's own keys, rendered only for an alert whose object has no
// message. Building the sentence in Rego (sprintf over the lib.cloudtrail
// helpers) is about half of what evaluating a firing rule costs; rendered
// here it is a few microseconds. The rule stays plain Rego that `opa eval`
// runs: its alert objects are then simply without the message.
//
// Besides the alert object's keys, a template can use:
//
//	call     the usual sentence: lib.cloudtrail.describe_call(input, [])
//	who      lib.cloudtrail.principal(input)
//	action   lib.cloudtrail.action(input)
//	where    lib.cloudtrail.region(input)
//	from     lib.cloudtrail.source(input)
//	outcome  lib.cloudtrail.outcome(input)
//	title    the rule's title
//
// and the alert fields group_by may name (event_name, principal, source_ip,
// …; see alertFieldNames) plus event_time, as the record has them.
// TestMessageHelpersMatchRego holds the Go helpers to the Rego ones.
var messageHelpers = []string{"call", "who", "action", "where", "from", "outcome", "title", "event_time"}

// eventHelpers are the template names read from the record; each writes
// its text to the message as it is rendered.
var eventHelpers = map[string]func(*strings.Builder, event){
	"call":       writeCall,
	"who":        writing(principalOf),
	"action":     writeAction,
	"where":      writing(regionOf),
	"from":       writing(sourceOf),
	"outcome":    writing(outcomeOf),
	"event_time": writing(func(ev event) string { return str(ev, "eventTime") }),
}

func writing(f func(event) string) func(*strings.Builder, event) {
	return func(b *strings.Builder, ev event) { b.WriteString(f(ev)) }
}

// messageTemplate is a parsed custom.message.
type messageTemplate struct {
	names []string // the fields it reads
	// parts are the template in order: text, and fields. Since a template
	// holds only those (parseMessage checks), it is rendered by writing them
	// one after the other, as text/template would, without its reflection.
	parts []messagePart
}

type messagePart struct {
	text  string
	name  string
	field bool
}

// parseMessage reads custom.message: absent is nil.
func parseMessage(v any) (*messageTemplate, error) {
	if v == nil {
		return nil, nil
	}
	src, ok := v.(string)
	if !ok || strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("custom.message must be a non-empty template string, got %v", v)
	}
	t, err := template.New("message").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("custom.message: %w", err)
	}
	m := &messageTemplate{}
	var walk func(parse.Node) error
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.TextNode:
			m.parts = append(m.parts, messagePart{text: string(n.Text)})
		case *parse.ActionNode:
			if len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
				return fmt.Errorf("custom.message: %s: only plain fields ({{.name}}) are supported", n)
			}
			f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
			if !ok || len(f.Ident) != 1 {
				return fmt.Errorf("custom.message: %s: only plain fields ({{.name}}) are supported", n)
			}
			if !slices.Contains(m.names, f.Ident[0]) {
				m.names = append(m.names, f.Ident[0])
			}
			m.parts = append(m.parts, messagePart{name: f.Ident[0], field: true})
		default:
			return fmt.Errorf("custom.message: %s: only text and plain fields ({{.name}}) are supported", n)
		}
		return nil
	}
	if err := walk(t.Root); err != nil {
		return nil, err
	}
	return m, nil
}

// check says which names the template reads that neither the engine nor the
// rule's alert objects provide.
func (m *messageTemplate) check(keys alertKeys) error {
	for _, n := range m.names {
		if !slices.Contains(messageHelpers, n) && !keys.has(n) {
			return fmt.Errorf("custom.message reads %q, which is neither an alert key of the rule nor one of %s",
				n, strings.Join(append(slices.Clone(messageHelpers), keys.describe()), ", "))
		}
	}
	return nil
}

// checkMessages checks every custom.message against the keys its rule's
// alert objects write.
func (e *Engine) checkMessages(keys map[string]alertKeys) []Problem {
	var out []Problem
	for _, r := range e.ordered {
		if r.message == nil {
			continue
		}
		if err := r.message.check(keys[r.Package]); err != nil {
			out = append(out, Problem{File: r.File, Message: fmt.Sprintf("rule %s: %v", r.ID, err)})
		}
	}
	return out
}

// render writes the message of alert a (its event fields and the alert
// object's keys filled in) from the decoded record ev.
func (m *messageTemplate) render(rule *Rule, ev event, a *alert.Alert) (string, error) {
	var b strings.Builder
	b.Grow(m.size())
	for _, p := range m.parts {
		if !p.field {
			b.WriteString(p.text)
			continue
		}
		switch f, ok := eventHelpers[p.name]; {
		case ok:
			f(&b, ev)
		case p.name == "title":
			b.WriteString(rule.Title)
		default:
			v, ok := a.Field(p.name)
			if !ok {
				// The rule's alert object lacks a key its other bodies write.
				return "", fmt.Errorf("rule %s: custom.message reads %q, which this alert does not have", rule.ID, p.name)
			}
			b.WriteString(v)
		}
	}
	return b.String(), nil
}

// size is a guess at a rendered message's length, for one allocation: its
// text, and about a hundred bytes for each field (a call's sentence is
// longer, a region shorter).
func (m *messageTemplate) size() int {
	n := 0
	for _, p := range m.parts {
		if p.field {
			n += 100
		} else {
			n += len(p.text)
		}
	}
	return n
}

func orUnknown(s, unknown string) string {
	if s == "" {
		return unknown
	}
	return s
}

// describeCall is lib.cloudtrail.describe_call(e, []).
func describeCall(ev event) string {
	var b strings.Builder
	writeCall(&b, ev)
	return b.String()
}

// writeCall writes describeCall's sentence to b, piece by piece: the
// message an alert of most rules reads.
func writeCall(b *strings.Builder, ev event) {
	b.WriteString(principalOf(ev))
	b.WriteString(" called ")
	writeAction(b, ev)
	b.WriteString(" in ")
	b.WriteString(regionOf(ev))
	b.WriteString(" from ")
	b.WriteString(sourceOf(ev))
	b.WriteString(outcomeOf(ev))
}

// regionOf is lib.cloudtrail.region(e).
func regionOf(ev event) string { return orUnknown(str(ev, "awsRegion"), "an unknown region") }

// sourceOf is lib.cloudtrail.source(e).
func sourceOf(ev event) string {
	return orUnknown(str(ev, "sourceIPAddress"), "an unknown source")
}

// principalOf is lib.cloudtrail.principal(e).
func principalOf(ev event) string {
	if arn := str(ev, "userIdentity", "arn"); arn != "" {
		return arn
	}
	typ := orUnknown(str(ev, "userIdentity", "type"), "unknown identity")
	if name := str(ev, "userIdentity", "userName"); name != "" {
		return typ + " " + name
	}
	if by := str(ev, "userIdentity", "invokedBy"); by != "" {
		return typ + " " + by
	}
	return typ
}

// actionOf is lib.cloudtrail.action(e).
func actionOf(ev event) string {
	var b strings.Builder
	writeAction(&b, ev)
	return b.String()
}

// writeAction writes actionOf's text to b.
func writeAction(b *strings.Builder, ev event) {
	src, srcOK := strValue(ev, "eventSource")
	name, nameOK := strValue(ev, "eventName")
	switch {
	case srcOK && nameOK:
		b.WriteString(strings.TrimSuffix(src, ".amazonaws.com"))
		b.WriteByte(':')
		b.WriteString(name)
	case nameOK:
		b.WriteString(name)
	default:
		b.WriteString("an unknown action")
	}
}

// outcomeOf is lib.cloudtrail.outcome(e).
func outcomeOf(ev event) string {
	if v := at(ev, "errorCode"); v != nil {
		if s, ok := v.(ast.String); !ok || s != "" {
			if _, null := v.(ast.Null); !null {
				return "; the call failed with " + sprintfV(plainValue(v))
			}
		}
	}
	if msg := str(ev, "errorMessage"); msg != "" {
		return "; it failed (" + msg + ")"
	}
	return ""
}

// sprintfV formats a value as OPA's sprintf formats it for %v.
func sprintfV(v ast.Value) string {
	switch v := v.(type) {
	case ast.String:
		return string(v)
	case ast.Number:
		s := string(v)
		if strings.ContainsAny(s, ".eE") {
			if f, ok := v.Float64(); ok {
				return fmt.Sprint(f)
			}
			return s
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b.String()
		}
		return s
	}
	return v.String()
}

// strValue is a top-level string field, and whether it is a string at all
// (the empty string included).
func strValue(ev event, key string) (string, bool) {
	if l, ok := ev.(*lazyObject); ok {
		return l.textOK(key)
	}
	s, ok := at(ev, key).(ast.String)
	return string(s), ok
}
