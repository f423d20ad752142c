// Package webhook POSTs alerts to any HTTP endpoint: as the JSON of
// `trailguard eval --format json` (with the CloudTrail record unless
// include_event is false) or as a configured text/template renders them,
// optionally signed with HMAC-SHA256 (see Sign).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"text/template"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/httpsend"
)

// Headers trailguard sets on every request.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with the
	// configured secret, of HeaderTimestamp's value, a '.', and the body.
	HeaderSignature = "X-Trailguard-Signature"
	// HeaderTimestamp is the Unix time of signing, in seconds: receivers
	// reject old ones, so a captured request cannot be replayed later.
	HeaderTimestamp = "X-Trailguard-Timestamp"
	// HeaderAlertID is the same for every attempt at one alert (rule and
	// event), so a receiver can drop a retry it already has.
	HeaderAlertID = "X-Trailguard-Alert-Id"
)

// Notifier POSTs alerts to one URL. It is safe for concurrent use.
type Notifier struct {
	name         string
	client       *httpsend.Client
	header       http.Header
	tmpl         *template.Template
	secret       []byte
	includeEvent bool
	now          func() time.Time
}

// New returns a notifier named name for the block cfg, as config.Parse
// validated it (template parsed, CA bundle read).
func New(name string, cfg *config.Webhook) *Notifier {
	h := http.Header{}
	for k, v := range cfg.Headers {
		h.Set(k, v.Reveal())
	}
	for k, v := range cfg.HeadersFile {
		h.Set(k, v.Reveal())
	}
	h.Set("Content-Type", cfg.ContentType)
	h.Set("User-Agent", "trailguard")
	return &Notifier{
		name:         name,
		client:       httpsend.New(cfg.URL.Reveal(), cfg.TLS.Config()),
		header:       h,
		tmpl:         cfg.Template(),
		secret:       []byte(cfg.HMACSecret.Reveal()),
		includeEvent: cfg.IncludeEvent,
		now:          time.Now,
	}
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// body is the default payload: the alert's JSON form with the dispatcher's
// note as one more key, like the stdout notifier's lines.
type body struct {
	*alert.Alert
	Note string `json:"note,omitempty"`
}

// Notify implements notifiers.Notifier: one POST, its answer classified
// (2xx delivered; 429 and 5xx retried, after Retry-After when given; other
// answers permanent).
func (n *Notifier) Notify(ctx context.Context, a *alert.Alert, note string) error {
	b, err := n.render(a, note)
	if err != nil {
		return notifiers.Permanent(fmt.Errorf("webhook %s: %w", n.name, err))
	}
	h := n.header.Clone()
	sum := sha256.Sum256([]byte(a.Key()))
	h.Set(HeaderAlertID, hex.EncodeToString(sum[:16]))
	if len(n.secret) > 0 {
		ts := strconv.FormatInt(n.now().Unix(), 10)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign(n.secret, ts, b))
	}
	ans, err := n.client.Post(ctx, b, h)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", n.name, err)
	}
	return httpsend.Classify("webhook "+n.name, ans, "")
}

func (n *Notifier) render(a *alert.Alert, note string) ([]byte, error) {
	if n.tmpl != nil {
		console, _ := notifiers.ConsoleURL(a)
		var buf bytes.Buffer
		if err := n.tmpl.Execute(&buf, config.WebhookData{Alert: a, Note: note, ConsoleURL: console}); err != nil {
			return nil, fmt.Errorf("rendering the body template: %w", err)
		}
		return buf.Bytes(), nil
	}
	c := *a
	if !n.includeEvent {
		c.Raw = nil
	}
	b, err := json.Marshal(body{Alert: &c, Note: note})
	if err != nil {
		return nil, fmt.Errorf("encoding the alert: %w", err)
	}
	return b, nil
}

// Sign returns the signature header's value for body sent at timestamp ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

var _ notifiers.Notifier = (*Notifier)(nil)
