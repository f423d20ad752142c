// Package pagerduty triggers PagerDuty incidents through the Events API v2
// (POST /v2/enqueue). Alerts of one dedup group share a dedup_key, so
// repeats join one open incident instead of paging again.
package pagerduty

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/httpsend"
)

// maxSummary is the Events API's limit on payload.summary, in characters.
const maxSummary = 1024

// Notifier triggers PagerDuty events. It is safe for concurrent use.
type Notifier struct {
	name      string
	key       string // the routing key: a credential
	source    string
	dedupKeys []string
	client    *httpsend.Client
	log       *slog.Logger
}

// New returns a notifier named name for the block cfg, as config.Parse
// validated it. dedupKey is the configuration's dedup.key: the alert fields
// that make up a dedup group, from which the incident's dedup_key is derived
// exactly as the dispatcher derives groups (the rule's own dedup key, scoped
// to the rule, when it sets one). log receives PagerDuty's error details; nil
// means slog.Default().
func New(name string, cfg *config.PagerDuty, dedupKey []string, log *slog.Logger) *Notifier {
	return &Notifier{
		name:      name,
		key:       cfg.RoutingKey.Reveal(),
		source:    cfg.Source,
		dedupKeys: dedupKey,
		client:    httpsend.New(strings.TrimRight(cfg.APIURL, "/")+"/v2/enqueue", nil),
		log:       cmp.Or(log, slog.Default()),
	}
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// Event is an Events API v2 trigger event.
type Event struct {
	RoutingKey  string  `json:"routing_key"`
	EventAction string  `json:"event_action"`
	DedupKey    string  `json:"dedup_key"`
	Payload     Payload `json:"payload"`
	Links       []Link  `json:"links,omitempty"`
	Client      string  `json:"client,omitempty"`
}

// Payload is the event's payload object.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is one entry of the event's links.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// answer is what /v2/enqueue says: {"status":"success","dedup_key":…} with 202,
// {"status":"invalid event","message":…,"errors":[…]} with 400.
type answer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// Notify implements notifiers.Notifier: 202 is delivered; 400 (an invalid
// event, logged with PagerDuty's errors) and other 4xx are permanent; 429 and
// 5xx are retried.
func (n *Notifier) Notify(ctx context.Context, a *alert.Alert, note string) error {
	b, err := json.Marshal(n.event(a, note))
	if err != nil {
		return notifiers.Permanent(fmt.Errorf("pagerduty %s: encoding the event: %w", n.name, err))
	}
	ans, err := n.client.Post(ctx, b, http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return fmt.Errorf("pagerduty %s: %w", n.name, err)
	}
	var pa answer
	detail := ""
	if json.Unmarshal(ans.Body, &pa) == nil && pa.Status != "" {
		detail = notifiers.OneLine(strings.Join(append([]string{pa.Status, pa.Message}, pa.Errors...), "; "))
	}
	if ans.Status == http.StatusBadRequest {
		n.log.ErrorContext(ctx, "pagerduty rejected the event", "notifier", n.name, "rule", a.RuleID,
			"event_id", a.EventID, "message", pa.Message, "errors", pa.Errors)
	}
	return httpsend.Classify("pagerduty "+n.name, ans, detail)
}

// event builds the trigger event for a.
func (n *Notifier) event(a *alert.Alert, note string) *Event {
	summary := "[" + notifiers.SeverityLabel(a.Severity) + "] " + a.Title
	if a.Principal != "" {
		summary += " by " + a.Principal
	}
	if a.AccountID != "" {
		summary += " in " + a.AccountID
	}
	details := map[string]any{}
	for _, f := range alert.FieldNames() {
		if v, _ := a.Field(f); v != "" {
			details[f] = v
		}
	}
	for k, v := range map[string]string{"title": a.Title, "message": a.Message, "description": a.Description,
		"event_time": a.EventTime, "error_code": a.ErrorCode, "origin": a.Origin, "runbook": a.Runbook, "note": note} {
		if v != "" {
			details[k] = v
		}
	}
	if len(a.Tags) > 0 {
		details["tags"] = a.Tags
	}
	if len(a.Attack) > 0 {
		details["attack"] = a.Attack
	}
	var links []Link
	if u, ok := notifiers.ConsoleURL(a); ok {
		links = append(links, Link{Href: u, Text: "View event in CloudTrail"})
	}
	if u, ok := notifiers.HTTPURL(a.Runbook); ok {
		links = append(links, Link{Href: u, Text: "Runbook"})
	}
	return &Event{
		RoutingKey:  n.key,
		EventAction: "trigger",
		DedupKey:    n.DedupKey(a),
		Client:      "trailguard",
		Links:       links,
		Payload: Payload{
			Summary:       notifiers.Truncate(notifiers.OneLine(summary), maxSummary),
			Source:        cmp.Or(n.source, notifiers.OneLine("aws:"+a.AccountID+":"+a.Region)),
			Severity:      Severity(a.Severity),
			Timestamp:     timestamp(a.EventTime),
			Component:     notifiers.OneLine(a.EventSource),
			Group:         a.AccountID,
			Class:         notifiers.OneLine(a.EventName),
			CustomDetails: details,
		},
	}
}

// DedupKey is the incident key of a's dedup group: a hash of the rule's own
// dedup key scoped to the rule when it sets one, otherwise of the rule id and
// the configured dedup fields. PagerDuty allows 255 characters.
func (n *Notifier) DedupKey(a *alert.Alert) string {
	parts := []string{"rule_id", a.RuleID}
	if a.DedupKey != "" {
		parts = append(parts, "dedup_key", a.DedupKey)
	} else {
		for _, f := range n.dedupKeys {
			v, _ := a.Field(f)
			parts = append(parts, f, v)
		}
	}
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "trailguard-" + hex.EncodeToString(h.Sum(nil))
}

// timestamp is t when it is an RFC 3339 time, as PagerDuty requires, else
// "" (PagerDuty then uses the time it received the event).
func timestamp(t string) string {
	if _, err := time.Parse(time.RFC3339, t); err != nil {
		return ""
	}
	return t
}

// Severity maps trailguard's severities onto PagerDuty's four.
func Severity(s alert.Severity) string {
	switch s {
	case alert.Critical:
		return "critical"
	case alert.High:
		return "error"
	case alert.Medium:
		return "warning"
	default:
		return "info"
	}
}

var _ notifiers.Notifier = (*Notifier)(nil)
