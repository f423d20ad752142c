// Package teams posts alerts to Microsoft Teams through a Workflows (Power
// Automate) webhook, as an Adaptive Card with the content of the Slack
// message and every event-derived value escaped (see render.go).
package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/httpsend"
)

// Notifier posts to one Workflows webhook. It is safe for concurrent use.
type Notifier struct {
	name   string
	client *httpsend.Client // its URL is a credential, never shown
}

// New returns a notifier named name for the block cfg, as config.Parse
// validated it.
func New(name string, cfg *config.Teams) *Notifier {
	return &Notifier{name: name, client: httpsend.New(cfg.WebhookURL.Reveal(), nil)}
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// Message is what a Workflows webhook takes: a message with one Adaptive
// Card attachment.
type Message struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries the card.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Notify implements notifiers.Notifier: 200 and 202 are delivered, 429 and
// 5xx retried (after Retry-After when given), other answers permanent (a
// deleted or disabled workflow answers 4xx).
func (n *Notifier) Notify(ctx context.Context, a *alert.Alert, note string) error {
	b, err := json.Marshal(Message{Type: "message", Attachments: []Attachment{{
		ContentType: "application/vnd.microsoft.card.adaptive", Content: card(a, note)}}})
	if err != nil {
		return notifiers.Permanent(fmt.Errorf("teams %s: encoding the card: %w", n.name, err))
	}
	ans, err := n.client.Post(ctx, b, http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return fmt.Errorf("teams %s: %w", n.name, err)
	}
	return httpsend.Classify("teams "+n.name, ans, "")
}

var _ notifiers.Notifier = (*Notifier)(nil)
