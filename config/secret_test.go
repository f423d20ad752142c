package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecretFormatting(t *testing.T) {
	s := Secret("hunter2")
	outputs := map[string]string{
		"String":   s.String(),
		"GoString": s.GoString(),
		"Reveal":   s.Reveal(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%T"} {
		outputs[verb] = fmt.Sprintf(verb, s)
	}
	outputs["pointer %v"] = fmt.Sprintf("%v", &s)
	outputs["Sprint"] = fmt.Sprint(s)
	j, _ := json.Marshal(s)
	outputs["json"] = string(j)
	txt, _ := s.MarshalText()
	outputs["text"] = string(txt)
	y, _ := yaml.Marshal(struct{ S Secret }{s})
	outputs["yaml"] = string(y)
	outputs["LogValue"] = s.LogValue().String()

	for how, out := range outputs {
		leaks := strings.Contains(out, "hunter2")
		if how == "Reveal" {
			if out != "hunter2" {
				t.Errorf("Reveal() = %q", out)
			}
		} else if leaks {
			t.Errorf("%s leaks the secret: %q", how, out)
		}
	}
	if got := fmt.Sprintf("%v|%s|%q", Secret(""), Secret(""), Secret("")); got != `||""` {
		t.Errorf("an unset secret prints %q, want empty", got)
	}
	if got := s.String(); got != "[redacted]" {
		t.Errorf("String() = %q", got)
	}
}

// secretValues are the secrets the leak tests configure; none may appear in
// any output.
var secretValues = []string{"xoxb-ENV-SECRET", "SMTP-ENV-SECRET", "HOOK-FILE-SECRET", "REDIS-FILE-SECRET"}

func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range secretValues {
		if strings.Contains(out, s) {
			t.Errorf("%s leaks %q:\n%s", what, s, out)
		}
	}
}

func TestConfigDoesNotLeakSecrets(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"hook": "https://hooks.example.com/HOOK-FILE-SECRET\n", "redis": "REDIS-FILE-SECRET"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := `notifiers:
  - {name: bot, type: slack, slack: {token: "${SLACK_BOT_TOKEN}", channel: "#sec"}}
  - {name: hook, type: slack, slack: {webhook_url_file: hook}}
  - name: mail
    type: email
    email: {host: h, port: 587, username: u, password: "${SMTP_PASSWORD}", from: a@example.com, to: [b@example.com]}
routes: [{notifiers: [bot, hook, mail]}]
state: {type: redis, redis: {addr: "localhost:6379", password_file: redis}}
`
	env := envOf(map[string]string{"SLACK_BOT_TOKEN": "xoxb-ENV-SECRET", "SMTP_PASSWORD": "SMTP-ENV-SECRET"})
	cfg, err := Parse(filepath.Join(dir, "t.yaml"), []byte(src), env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Notifiers[0].Slack.Token.Reveal() != "xoxb-ENV-SECRET" || cfg.State.Redis.Password.Reveal() != "REDIS-FILE-SECRET" {
		t.Fatal("secrets were not loaded")
	}

	assertNoSecrets(t, "%v %+v", fmt.Sprintf("%v %+v", cfg, cfg))
	assertNoSecrets(t, "%v %+v %#v of *cfg", fmt.Sprintf("%v %+v %#v", *cfg, *cfg, *cfg))
	for i, n := range cfg.Notifiers {
		assertNoSecrets(t, fmt.Sprintf("notifier %d", i), fmt.Sprintf("%v %+v %#v %+v %+v", n, n, n, n.Slack, n.Email))
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "json", string(j))

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("loaded", "config", cfg, "slack", cfg.Notifiers[0].Slack, "token", cfg.Notifiers[0].Slack.Token)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", "config", cfg, "email", cfg.Notifiers[2].Email, "password", cfg.Notifiers[2].Email.Password)
	assertNoSecrets(t, "slog", buf.String())
	if !strings.Contains(buf.String(), `"token":"[redacted]"`) {
		t.Errorf("slog JSON output does not show the redacted token:\n%s", buf.String())
	}
}

// Invalid configurations holding secrets must not quote them in errors.
func TestErrorsDoNotLeakSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook"), []byte("not a url HOOK-FILE-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := envOf(map[string]string{"SLACK_BOT_TOKEN": "xoxb-ENV-SECRET", "SMTP_PASSWORD": "SMTP-ENV-SECRET"})
	tests := []string{
		// A secret in a field that must be an integer, a duration, a boolean.
		"notifiers:\n  - {name: m, type: email, email: {host: h, port: \"${SMTP_PASSWORD}\", from: a@example.com, to: [b@example.com]}}\nroutes: [{notifiers: [m]}]\n",
		"dedup: {window: \"${SLACK_BOT_TOKEN}\"}\n",
		"source: {dir: {watch: \"${SMTP_PASSWORD}\"}}\n",
		"log: {level: \"${SMTP_PASSWORD}\"}\n",
		"suppressions: [{rule: r, reason: r, owner: o, expires: \"${SMTP_PASSWORD}\"}]\n",
		// A malformed webhook URL, which is itself a credential.
		"notifiers:\n  - {name: s, type: slack, slack: {webhook_url_file: hook}}\nroutes: [{notifiers: [s]}]\n",
		// Secrets set twice, or with the wrong companions.
		"notifiers:\n  - {name: s, type: slack, slack: {token: \"${SLACK_BOT_TOKEN}\", token_file: hook, channel: c}}\nroutes: [{notifiers: [s]}]\n",
		"notifiers:\n  - {name: s, type: slack, slack: {token: \"${SLACK_BOT_TOKEN}\", webhook_url_file: hook}}\nroutes: [{notifiers: [s]}]\n",
		"notifiers:\n  - {name: m, type: email, email: {host: h, port: 25, password: \"${SMTP_PASSWORD}\", from: a@example.com, to: [b@example.com]}}\nroutes: [{notifiers: [m]}]\n",
	}
	for _, src := range tests {
		_, err := Parse(filepath.Join(dir, "t.yaml"), []byte(src), env)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", src)
			continue
		}
		assertNoSecrets(t, "error", err.Error())
	}
}
