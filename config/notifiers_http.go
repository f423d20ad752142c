package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"text/template"

	"github.com/trailguard/trailguard/alert"
)

// The notifiers that POST to an HTTP service: a generic webhook, PagerDuty's
// Events API v2 and Microsoft Teams through a Workflows webhook.

// Webhook POSTs each alert to URL, as the JSON of `trailguard eval --format
// json` (plus the event unless IncludeEvent is false) or as Template renders
// it.
type Webhook struct {
	URL Secret `yaml:"url" json:"url"` // or url_file; required, http(s); a URL may carry a token, so it is never shown
	// Headers are added to every request. Values are secrets: ${NAME} in them
	// is expanded from the environment and they are never shown; HeadersFile
	// reads a header's value from a file instead (Authorization:
	// /run/secrets/hook-auth). A name may be in one of the two only.
	Headers     map[string]Secret `yaml:"headers" json:"headers"`
	HeadersFile map[string]Secret `yaml:"headers_file,files" json:"headers_file"`
	// TemplateFile holds a Go text/template rendering the body, with a
	// WebhookData as data; parsed and tried on a sample alert at load.
	// Relative to the configuration file's directory. Default: the JSON form.
	TemplateFile string `yaml:"template_file" json:"template_file"`
	ContentType  string `yaml:"content_type" json:"content_type"` // default application/json
	// HMACSecret, when set, signs every body: see the README's "Webhook
	// signatures".
	HMACSecret   Secret    `yaml:"hmac_secret" json:"hmac_secret"`     // or hmac_secret_file
	IncludeEvent bool      `yaml:"include_event" json:"include_event"` // the CloudTrail record under "event"; default true
	TLS          TLSClient `yaml:"tls" json:"tls"`

	tmpl *template.Template
}

// Template returns the body template parsed at load, or nil for the JSON form.
func (w *Webhook) Template() *template.Template { return w.tmpl }

// WebhookData is what a webhook's template sees: the alert's fields
// ({{.RuleID}}, {{.Principal}} …), Note (the dispatcher's remark, such as how
// many similar alerts the dedup window held back) and ConsoleURL. The
// template function json writes a value as a JSON literal, quotes
// included, for building JSON bodies safely.
type WebhookData struct {
	*alert.Alert
	Note       string
	ConsoleURL string
}

// webhookFuncs are the functions a webhook template may call.
var webhookFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// PagerDuty triggers incidents through the Events API v2.
type PagerDuty struct {
	RoutingKey Secret `yaml:"routing_key" json:"routing_key"` // or routing_key_file; the integration key, required
	APIURL     string `yaml:"api_url" json:"api_url"`         // default https://events.pagerduty.com; /v2/enqueue is appended
	// Source is the payload's source, the affected system; default
	// "aws:<account id>:<region>" of each alert.
	Source string `yaml:"source" json:"source"`
}

// Teams posts an Adaptive Card to a Microsoft Teams Workflows webhook.
type Teams struct {
	WebhookURL Secret `yaml:"webhook_url" json:"webhook_url"` // or webhook_url_file; required, a credential
}

// TLSClient configures how an HTTP notifier verifies its peer.
type TLSClient struct {
	// CAFile is a PEM bundle of extra roots (a private CA), added to the
	// system's; relative to the configuration file's directory.
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// InsecureSkipVerify turns certificate checks off: for tests only, and
	// warned about at load.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify" json:"insecure_skip_verify"`

	roots *x509.CertPool
}

// Config returns the tls.Config these settings describe (TLS 1.2 or later).
func (t *TLSClient) Config() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            t.roots,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // only when configured, and warned about at load
	}
}

func (w *Webhook) setDefaults() {
	w.IncludeEvent = true
	w.ContentType = "application/json"
}

func (p *PagerDuty) setDefaults() { p.APIURL = "https://events.pagerduty.com" }
