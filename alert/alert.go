// Package alert defines what a rule reports: the Alert handed from the engine to
// the notifiers. It is its own package so that notifiers need not import OPA.
package alert

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trailguard/trailguard/attack"
)

// Severity orders alerts; the zero value is invalid so a missing severity is noticed.
type Severity int

// Severities from least to most urgent. Their order is what routes' min_severity compares.
const (
	SeverityInvalid Severity = iota
	Info
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"invalid", "info", "low", "medium", "high", "critical"}

// ParseSeverity reads a severity name case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames[1:] {
		if strings.EqualFold(s, n) {
			return Severity(i + 1), nil
		}
	}
	return SeverityInvalid, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", s)
}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return severityNames[0]
	}
	return severityNames[s]
}

// MarshalText makes severities read as names in JSON and YAML.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Alert is one rule firing on one event. The JSON names are the stable output format
// of `trailguard eval --format json` and of the stdout notifier.
type Alert struct {
	RuleID      string   `json:"rule_id"`
	Title       string   `json:"title"`
	Severity    Severity `json:"severity"`
	Description string   `json:"description,omitempty"`
	Message     string   `json:"message"`
	Tags        []string `json:"tags,omitempty"`
	Runbook     string   `json:"runbook,omitempty"`
	References  []string `json:"references,omitempty"`
	// Attack is where the rule places the behaviour in MITRE ATT&CK.
	Attack []attack.Mapping `json:"attack,omitempty"`

	EventID      string `json:"event_id"`
	EventTime    string `json:"event_time"`
	EventSource  string `json:"event_source"`
	EventName    string `json:"event_name"`
	Region       string `json:"region"`
	AccountID    string `json:"account_id"`
	Principal    string `json:"principal"`
	IdentityType string `json:"identity_type,omitempty"`
	SourceIP     string `json:"source_ip"`
	UserAgent    string `json:"user_agent,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`

	// DedupKey is set by a rule that wants its own grouping (the `dedup_key` key of
	// its result); empty means the dispatcher's configured key applies.
	DedupKey string `json:"dedup_key,omitempty"`
	// Origin names where the event was read (file, s3://bucket/key), for people
	// tracing an alert back to its evidence.
	Origin string `json:"origin,omitempty"`
	// Fields are the extra keys a rule put in its alert object (beyond message,
	// severity and dedup_key), e.g. "session" or "network": stateful rules group
	// by and count them, and Field finds them by name. They are read only: the
	// engine gives every alert that a rule's remembered answer makes the same
	// map (engine/memo.go). Copy it to change it.
	Fields map[string]string `json:"fields,omitempty"`

	// Set on a stateful alert (threshold, new_value, sequence); see Stateful.
	Count          int               `json:"count,omitempty"`
	Window         string            `json:"window,omitempty"` // e.g. "10m0s"
	Group          map[string]string `json:"group,omitempty"`
	FirstEventTime string            `json:"first_event_time,omitempty"`
	LastEventTime  string            `json:"last_event_time,omitempty"`
	EventIDs       []string          `json:"event_ids,omitempty"` // up to 20, in event-time order
	Value          string            `json:"value,omitempty"`
	KnownValues    []string          `json:"known_values,omitempty"` // up to 10

	// Stateful is the rule's stateful declaration, attached by the engine to
	// its candidates for the dispatcher's stateful stage; nil for a plain rule.
	Stateful *Stateful `json:"-"`

	// Raw is the CloudTrail record exactly as read. The engine gives every
	// alert of a record the record's own bytes, and the event fields above
	// may be parts of them: never write to it.
	Raw json.RawMessage `json:"event,omitempty"`
}

// Key is the alert's identity across redeliveries: the same rule on the same event
// is the same alert, however often the SQS message carrying it comes back.
//
// A record without a usable eventID (missing, empty, not a string) is known
// by its content instead: a hash of its bytes, compacted so that the key
// survives the alert being written as JSON and read back. Keyed by the empty
// eventID, every such alert of a rule was one alert, and all but the first
// were dropped as already delivered.
func (a *Alert) Key() string {
	if a.EventID != "" {
		return a.RuleID + "\x00" + a.EventID
	}
	return a.RuleID + "\x00" + ContentKey(a.Raw)
}

// ContentKey names a record by a hash of its bytes (JSON whitespace aside).
func ContentKey(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		raw = b.Bytes()
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Names of the alert fields that configuration can refer to (dedup keys,
// suppressions' where): the keys of Alert's JSON form.
const (
	FieldRuleID       = "rule_id"
	FieldPrincipal    = "principal"
	FieldEventID      = "event_id"
	FieldAccountID    = "account_id"
	FieldSourceIP     = "source_ip"
	FieldEventName    = "event_name"
	FieldEventSource  = "event_source"
	FieldRegion       = "region"
	FieldSeverity     = "severity"
	FieldIdentityType = "identity_type"
	FieldUserAgent    = "user_agent"
)

// fields is the one table of field names and how to read them; FieldNames
// and Field both come from it, so a name cannot be listed without a getter.
var fields = [...]struct {
	name string
	get  func(*Alert) string
}{
	{FieldRuleID, func(a *Alert) string { return a.RuleID }},
	{FieldPrincipal, func(a *Alert) string { return a.Principal }},
	{FieldEventID, func(a *Alert) string { return a.EventID }},
	{FieldAccountID, func(a *Alert) string { return a.AccountID }},
	{FieldSourceIP, func(a *Alert) string { return a.SourceIP }},
	{FieldEventName, func(a *Alert) string { return a.EventName }},
	{FieldEventSource, func(a *Alert) string { return a.EventSource }},
	{FieldRegion, func(a *Alert) string { return a.Region }},
	{FieldSeverity, func(a *Alert) string { return a.Severity.String() }},
	{FieldIdentityType, func(a *Alert) string { return a.IdentityType }},
	{FieldUserAgent, func(a *Alert) string { return a.UserAgent }},
}

// FieldNames returns the names Field knows, in a fixed order (for messages).
func FieldNames() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// Field returns the value of a field by its configuration name (as used by dedup
// keys and suppressions), and whether the name is known.
func (a *Alert) Field(name string) (string, bool) {
	for _, f := range fields {
		if f.name == name {
			return f.get(a), true
		}
	}
	// error_code is not a configuration field, but stateful rules may group
	// by it.
	if name == "error_code" {
		return a.ErrorCode, true
	}
	v, ok := a.Fields[name]
	return v, ok
}
