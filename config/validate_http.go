package config

import (
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/trailguard/trailguard/alert"
)

// Checks of the HTTP notifiers' blocks: webhook, pagerduty, teams. URLs,
// header values and keys are credentials here: messages say what is wrong
// with them, never what they are.

// reservedHeaders are set by the webhook notifier itself.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection",
	"X-Trailguard-Signature", "X-Trailguard-Timestamp", "X-Trailguard-Alert-Id", "User-Agent"}

// minHMACSecret is the shortest signing secret accepted: a shorter one could
// be guessed from a signed body.
const minHMACSecret = 16

// maxTemplate bounds a webhook template file.
const maxTemplate = 256 << 10

func (v *validator) webhook(p string, w *Webhook) {
	if w.URL == "" {
		v.errorf(p+".url", "required")
	} else if !isHTTPURL(w.URL.Reveal()) {
		v.errorf(p+".url", "expected an http(s) URL (value not shown)")
	}
	seen := map[string]string{} // canonical header name → key that set it
	for _, set := range []struct {
		key string
		m   map[string]Secret
	}{{"headers", w.Headers}, {"headers_file", w.HeadersFile}} {
		names := make([]string, 0, len(set.m))
		for name := range set.m {
			names = append(names, name)
		}
		slices.Sort(names) // errors in a stable order
		for _, name := range names {
			ph := p + "." + set.key + "." + name
			canon := http.CanonicalHeaderKey(name)
			switch {
			case !validHeaderName(name):
				v.errorf(ph, "invalid header name %q", name)
			case slices.Contains(reservedHeaders, canon):
				v.errorf(ph, "%s is set by trailguard itself", canon)
			case seen[canon] != "":
				v.errorf(ph, "header %s is already set in %s", canon, seen[canon])
			}
			seen[canon] = set.key
			if strings.ContainsAny(set.m[name].Reveal(), "\r\n\x00") {
				v.errorf(ph, "a header value must be one line (value not shown)")
			}
		}
	}
	if w.ContentType == "" || strings.ContainsAny(w.ContentType, "\r\n") {
		v.errorf(p+".content_type", "expected a media type such as application/json")
	}
	if w.HMACSecret != "" && len(w.HMACSecret.Reveal()) < minHMACSecret {
		v.errorf(p+".hmac_secret", "must be at least %d bytes (value not shown)", minHMACSecret)
	}
	if w.TemplateFile != "" {
		w.tmpl = v.template(p+".template_file", w.TemplateFile)
	}
	v.tlsClient(p+".tls", &w.TLS)
}

// template reads and parses a webhook's body template and renders it once
// for a sample alert, so that a misspelt field ({{.Princpal}}) fails at load
// rather than at the first alert.
func (v *validator) template(p, name string) *template.Template {
	b, ok := v.readFile(p, name, maxTemplate)
	if !ok {
		return nil
	}
	tname := filepath.Base(name)
	if _, env := v.fromEnv[p]; env {
		tname = "template" // its errors name it; the name may be a secret
	}
	t, err := template.New(tname).Funcs(webhookFuncs).Parse(string(b))
	if err != nil {
		v.errorf(p, "%w", err) // template: NAME:LINE: …, the template's own line
		return nil
	}
	sample := WebhookData{Alert: &alert.Alert{RuleID: "sample.rule", Title: "Sample", Severity: alert.High,
		EventID: "00000000-0000-0000-0000-000000000000", AccountID: "123456789012", Region: "us-east-1"},
		Note: "note", ConsoleURL: "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home"}
	if err := t.Execute(io.Discard, sample); err != nil {
		v.errorf(p, "rendering a sample alert: %w", err)
		return nil
	}
	return t
}

func (v *validator) tlsClient(p string, t *TLSClient) {
	if t.InsecureSkipVerify {
		v.warnf(p+".insecure_skip_verify", "certificates are not verified: anyone on the path can read and change alerts")
	}
	if t.CAFile == "" {
		return
	}
	b, ok := v.readFile(p+".ca_file", t.CAFile, maxSecretFile)
	if !ok {
		return
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		v.errorf(p+".ca_file", "%s holds no PEM certificate", v.shownName(p+".ca_file", t.CAFile))
		return
	}
	t.roots = pool
}

// readFile reads a file named in the configuration (relative to its
// directory), of at most max bytes. A name that came from the environment
// is not shown, as for secrets' files.
func (v *validator) readFile(p, name string, max int) ([]byte, bool) {
	path := name
	if !filepath.IsAbs(path) && v.file != "" {
		path = filepath.Join(filepath.Dir(v.file), path)
	}
	b, err := readLimited(path, max)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		v.errorf(p, "%s %s: %w", pe.Op, v.shownName(p, name), pe.Err)
		return nil, false
	case err != nil:
		v.errorf(p, "%s: %w", v.shownName(p, name), err)
		return nil, false
	case len(b) > max:
		v.errorf(p, "%s is larger than %d KiB", v.shownName(p, name), max>>10)
		return nil, false
	}
	return b, true
}

// shownName is a file name as messages may show it: quoted with "(value not
// shown)" when it came from the environment.
func (v *validator) shownName(p, name string) string {
	if _, env := v.fromEnv[p]; env {
		return v.show(p, name)
	}
	return name
}

func (v *validator) pagerDuty(p string, pd *PagerDuty) {
	switch key := pd.RoutingKey.Reveal(); {
	case key == "":
		v.errorf(p+".routing_key", "required: the integration key of a PagerDuty service's Events API v2 integration")
	case strings.ContainsAny(key, " \t\r\n"):
		v.errorf(p+".routing_key", "must not contain spaces or line breaks (value not shown)")
	}
	v.httpURL(p+".api_url", pd.APIURL)
	if strings.ContainsAny(pd.Source, "\r\n") {
		v.errorf(p+".source", "must be one line")
	}
}

func (v *validator) teams(p string, t *Teams) {
	switch {
	case t.WebhookURL == "":
		v.errorf(p+".webhook_url", "required: the URL of a Teams Workflows webhook")
	case !isHTTPURL(t.WebhookURL.Reveal()):
		v.errorf(p+".webhook_url", "expected an http(s) URL (value not shown)")
	}
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 5.1).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// readLimited reads up to max+1 bytes of name (one more, to tell a file at
// the limit from a larger one).
func readLimited(name string, max int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(max)+1))
}
