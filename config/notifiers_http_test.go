package config

import (
	"bytes"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/alert"
)

// write creates dir/name holding text and returns its path.
func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHTTPNotifiers(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewTLSServer(nil)
	srv.Close()
	write(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	write(t, dir, "hook.tmpl", `{"text": {{json .Title}}, "who": {{json .Principal}}, "note": {{json .Note}}}`)
	write(t, dir, "hmac", "0123456789abcdef0123\n")
	write(t, dir, "apikey", "k-from-file\n")
	write(t, dir, "teams", "https://example.webhook.office.com/workflows/abc\n")
	src := `
notifiers:
  - name: hook
    type: webhook
    webhook:
      url: "https://hooks.example.com/${HOOK_PATH}"
      headers: {X-Team: sec, Authorization: "Bearer ${HOOK_TOKEN}"}
      headers_file: {X-Api-Key: apikey}
      template_file: hook.tmpl
      hmac_secret_file: hmac
      include_event: false
      tls: {ca_file: ca.pem}
  - {name: plain, type: webhook, webhook: {url: "http://127.0.0.1:1/x"}}
  - name: pd
    type: pagerduty
    pagerduty: {routing_key: "${PD_ROUTING_KEY}"}
  - {name: teams, type: teams, teams: {webhook_url_file: teams}}
routes:
  - notifiers: [hook, plain, pd, teams]
`
	cfg, err := Parse(write(t, dir, "c.yaml", src), []byte(src), envOf(map[string]string{
		"HOOK_PATH": "in", "HOOK_TOKEN": "tok", "PD_ROUTING_KEY": "R0123456789abcdef0123456789abcde"}))
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Notifiers[0].Webhook
	if w.URL.Reveal() != "https://hooks.example.com/in" || w.Headers["Authorization"].Reveal() != "Bearer tok" ||
		w.HeadersFile["X-Api-Key"].Reveal() != "k-from-file" || w.HMACSecret.Reveal() != "0123456789abcdef0123" ||
		w.IncludeEvent || w.ContentType != "application/json" || w.TLS.Config().RootCAs == nil {
		t.Errorf("webhook block = %+v", w)
	}
	var body bytes.Buffer
	if err := w.Template().Execute(&body, WebhookData{Alert: &alert.Alert{Title: `a "b"`, Principal: "p"}, Note: "n"}); err != nil ||
		body.String() != `{"text": "a \"b\"", "who": "p", "note": "n"}` {
		t.Errorf("template rendered %s, %v", body.String(), err)
	}
	if p := cfg.Notifiers[1].Webhook; !p.IncludeEvent || p.Template() != nil || p.TLS.Config().RootCAs != nil {
		t.Errorf("defaults of a bare webhook block = %+v", p)
	}
	if pd := cfg.Notifiers[2].PagerDuty; pd.APIURL != "https://events.pagerduty.com" || pd.RoutingKey.Reveal() != "R0123456789abcdef0123456789abcde" {
		t.Errorf("pagerduty block = %+v", pd)
	}
	if tm := cfg.Notifiers[3].Teams; tm.WebhookURL.Reveal() != "https://example.webhook.office.com/workflows/abc" {
		t.Errorf("teams block = %+v", tm)
	}
	if len(cfg.Warnings()) != 0 {
		t.Errorf("warnings: %q", cfg.Warnings())
	}
}

func TestHTTPNotifierErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.tmpl", "{\n  \"x\": {{.Title}\n}")
	write(t, dir, "typo.tmpl", "{{.Princpal}}")
	write(t, dir, "notpem", "hello")
	src := `notifiers:
  - name: hook
    type: webhook
    webhook:
      url: "ftp://secret-host/${TOKEN}"
      headers: {"Bad Name": x, Content-Type: text/plain, X-A: "${MULTI}"}
      headers_file: {x-a: missing-file}
      template_file: bad.tmpl
      hmac_secret: short
      tls: {ca_file: notpem, insecure_skip_verify: true}
  - {name: hook2, type: webhook, webhook: {url: "https://h.example.com", template_file: typo.tmpl}}
  - {name: pd, type: pagerduty, pagerduty: {routing_key: "has space", api_url: "events.pagerduty.com"}}
  - {name: pd2, type: pagerduty}
  - {name: teams, type: teams, teams: {webhook_url: "${TEAMS_URL}"}}
  - {name: teams2, type: slack, teams: {}}
routes:
  - notifiers: [hook, hook2, pd, pd2, teams, teams2]
`
	path := write(t, dir, "t.yaml", src)
	_, err := Parse(path, []byte(src), envOf(map[string]string{
		"TOKEN": "s3cr3t-token", "MULTI": "a\nb-s3cr3t", "TEAMS_URL": "not-a-url-s3cr3t"}))
	if err == nil {
		t.Fatal("Parse accepted the file")
	}
	got := strings.ReplaceAll(err.Error(), path, "t.yaml")
	got = strings.ReplaceAll(got, dir+"/", "")
	for _, want := range []string{
		`t.yaml:5: notifiers[0].webhook.url: expected an http(s) URL (value not shown)`,
		`t.yaml:6: notifiers[0].webhook.headers.Bad Name: invalid header name "Bad Name"`,
		`t.yaml:6: notifiers[0].webhook.headers.Content-Type: Content-Type is set by trailguard itself`,
		`t.yaml:6: notifiers[0].webhook.headers.X-A: a header value must be one line (value not shown)`,
		`t.yaml:7: notifiers[0].webhook.headers_file.x-a: open missing-file: no such file or directory`,
		`t.yaml:8: notifiers[0].webhook.template_file: template: bad.tmpl:2: bad character U+007D '}'`,
		`t.yaml:9: notifiers[0].webhook.hmac_secret: must be at least 16 bytes (value not shown)`,
		`t.yaml:10: notifiers[0].webhook.tls.ca_file: notpem holds no PEM certificate`,
		`t.yaml:11: notifiers[1].webhook.template_file: rendering a sample alert: template: typo.tmpl:1:2: executing "typo.tmpl" at <.Princpal>: can't evaluate field Princpal`,
		`t.yaml:12: notifiers[2].pagerduty.routing_key: must not contain spaces or line breaks (value not shown)`,
		`t.yaml:12: notifiers[2].pagerduty.api_url: expected an http(s) URL, got "events.pagerduty.com"`,
		`t.yaml:13: notifiers[3]: type pagerduty needs a pagerduty block`,
		`t.yaml:14: notifiers[4].teams.webhook_url: expected an http(s) URL (value not shown)`,
		`t.yaml:15: notifiers[5].teams: only allowed when type is teams`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack\n  %s\ngot:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cr3t") {
		t.Errorf("a secret is shown:\n%s", got)
	}
}

// File names from the environment may be secrets too: a problem with the
// file names the variable, not its value.
func TestHTTPNotifierFileNamesFromEnvNotShown(t *testing.T) {
	lines := errLines(t, `notifiers:
  - name: hook
    type: webhook
    webhook:
      url: https://h.example.com
      template_file: "${TMPL}"
      tls: {ca_file: "${CA}"}
routes:
  - notifiers: [hook]
`, map[string]string{"TMPL": "/nonexistent/s3cr3t.tmpl", "CA": "/nonexistent/s3cr3t.pem"})
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		`t.yaml:6: notifiers[0].webhook.template_file: open "${TMPL}" (value not shown): no such file or directory`,
		`t.yaml:7: notifiers[0].webhook.tls.ca_file: open "${CA}" (value not shown): no such file or directory`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack\n  %s\ngot:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cr3t") {
		t.Errorf("a file name from the environment is shown:\n%s", got)
	}
}
