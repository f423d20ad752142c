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

// eventHelpers are the template names read from the record, by what they
// write.
var eventHelpers = map[string]helper{
	"call": helperCall, "who": helperWho, "action": helperAction, "where": helperWhere,
	"from": helperFrom, "outcome": helperOutcome, "event_time": helperEventTime,
}

// helper is what a part of a template writes: its text, a helper's text, or
// a field of the alert. A switch over it, rather than a table of functions,
// keeps the message's builder off the heap.
type helper uint8

const (
	helperNone helper = iota // the part's text, or the alert field it names
	helperCall
	helperWho
	helperAction
	helperWhere
	helperFrom
	helperOutcome
	helperEventTime
	helperTitle
)

// appendTo appends helper h's text about the record v to b.
func (h helper) appendTo(b []byte, v recordView) []byte {
	switch h {
	case helperCall:
		return appendCall(b, v)
	case helperAction:
		return appendAction(b, v)
	case helperOutcome:
		return appendOutcome(b, v)
	}
	return append(b, v.field(h)...)
}

// field is the text of a helper that says one thing of the record.
func (v recordView) field(h helper) string {
	switch h {
	case helperWho:
		return v.principal()
	case helperWhere:
		return v.region()
	case helperFrom:
		return v.source()
	case helperEventTime:
		return v.eventTime()
	}
	return ""
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
	text   string
	name   string
	field  bool
	helper helper // what a field writes; helperNone: the alert's field name
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
			p := messagePart{name: f.Ident[0], field: true, helper: eventHelpers[f.Ident[0]]}
			if p.name == "title" {
				p.helper = helperTitle
			}
			m.parts = append(m.parts, p)
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

// render writes the message of the alert v.fields (its event fields and the
// alert object's keys filled in) from the record v.ev; the alert's event
// fields are the record's (fillEventFields made v), so the helpers need not
// search the record for them.
func (m *messageTemplate) render(rule *Rule, v recordView) (string, error) {
	a := v.fields
	// Written on the stack and copied once, at its length: a guess at the
	// length either wastes most of an allocation or, short, makes a second.
	var stack [512]byte
	b := stack[:0]
	for _, p := range m.parts {
		switch {
		case !p.field:
			b = append(b, p.text...)
		case p.helper == helperTitle:
			b = append(b, rule.Title...)
		case p.helper != helperNone:
			b = p.helper.appendTo(b, v)
		default:
			s, ok := a.Field(p.name)
			if !ok {
				// The rule's alert object lacks a key its other bodies write.
				return "", fmt.Errorf("rule %s: custom.message reads %q, which this alert does not have", rule.ID, p.name)
			}
			b = append(b, s...)
		}
	}
	return string(b), nil
}

// recordView is a record as the message helpers read it: the record, and
// the event fields its alert copied from it (fillEventFields), or nil. Most
// of what the helpers say is in those fields, read already; the record is
// searched only for what they do not tell.
type recordView struct {
	ev     event
	fields *alert.Alert
	// noError says the record has no errorCode and no errorMessage, as
	// fillEventFields saw in its pass over the members (false: not known).
	noError bool
}

// principal is lib.cloudtrail.principal(e).
func (v recordView) principal() string {
	// Principal differs from IdentityType only when it is the ARN, and the
	// ARN, when there is one, is the answer.
	if a := v.fields; a != nil && a.Principal != a.IdentityType {
		return a.Principal
	}
	return principalOf(v.ev)
}

// region is lib.cloudtrail.region(e).
func (v recordView) region() string {
	if v.fields != nil {
		return orUnknown(v.fields.Region, unknownRegion)
	}
	return regionOf(v.ev)
}

// source is lib.cloudtrail.source(e).
func (v recordView) source() string {
	if v.fields != nil {
		return orUnknown(v.fields.SourceIP, unknownSource)
	}
	return sourceOf(v.ev)
}

// appendOutcome appends lib.cloudtrail.outcome(e) to b.
func appendOutcome(b []byte, v recordView) []byte {
	if v.fields != nil && v.fields.ErrorCode != "" {
		b = append(b, failedWith...)
		return append(b, v.fields.ErrorCode...) // a string error code, as sprintf writes it
	}
	if v.noError {
		return b // most alerts: no search of the record for what it lacks
	}
	return append(b, outcomeOf(v.ev)...)
}

// eventTime is the record's eventTime, "" when it is not a string.
func (v recordView) eventTime() string {
	if v.fields != nil {
		return v.fields.EventTime
	}
	return str(v.ev, "eventTime")
}

// action is the record's eventSource and eventName, and whether each is a
// string at all (the empty string included): an alert's copy that is not
// empty was one.
func (v recordView) action() (src string, srcOK bool, name string, nameOK bool) {
	if a := v.fields; a != nil {
		src, srcOK, name, nameOK = a.EventSource, a.EventSource != "", a.EventName, a.EventName != ""
	}
	if !srcOK {
		src, srcOK = strValue(v.ev, "eventSource")
	}
	if !nameOK {
		name, nameOK = strValue(v.ev, "eventName")
	}
	return src, srcOK, name, nameOK
}

const (
	unknownRegion = "an unknown region"
	unknownSource = "an unknown source"
	failedWith    = "; the call failed with "
)

func orUnknown(s, unknown string) string {
	if s == "" {
		return unknown
	}
	return s
}

// describeCall is lib.cloudtrail.describe_call(e, []).
func describeCall(ev event) string {
	return string(appendCall(nil, recordView{ev: ev}))
}

// appendCall appends describeCall's sentence to b, piece by piece: the
// message an alert of most rules reads.
func appendCall(b []byte, v recordView) []byte {
	b = append(b, v.principal()...)
	b = append(b, " called "...)
	b = appendAction(b, v)
	b = append(b, " in "...)
	b = append(b, v.region()...)
	b = append(b, " from "...)
	b = append(b, v.source()...)
	return appendOutcome(b, v)
}

// regionOf is lib.cloudtrail.region(e).
func regionOf(ev event) string { return orUnknown(str(ev, "awsRegion"), unknownRegion) }

// sourceOf is lib.cloudtrail.source(e).
func sourceOf(ev event) string {
	return orUnknown(str(ev, "sourceIPAddress"), unknownSource)
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
	return string(appendAction(nil, recordView{ev: ev}))
}

// appendAction appends actionOf's text to b.
func appendAction(b []byte, v recordView) []byte {
	src, srcOK, name, nameOK := v.action()
	switch {
	case srcOK && nameOK:
		b = append(b, strings.TrimSuffix(src, ".amazonaws.com")...)
		b = append(b, ':')
		return append(b, name...)
	case nameOK:
		return append(b, name...)
	}
	return append(b, "an unknown action"...)
}

// outcomeOf is lib.cloudtrail.outcome(e).
func outcomeOf(ev event) string {
	if v := at(ev, "errorCode"); v != nil {
		if s, ok := v.(ast.String); !ok || s != "" {
			if _, null := v.(ast.Null); !null {
				return failedWith + sprintfV(plainValue(v))
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
