package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestWebAndHistoryErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"history:\n  max_age: 10s\n", "t.yaml:2: history.max_age: must be between 1m and 8760h, got 10s"},
		{"history:\n  max_alerts: 5\n", "t.yaml:2: history.max_alerts: must be between 100 and 10000000, got 5"},
		{"server:\n  web:\n    bearer_token: a\n    username: u\n    password: p\n",
			"t.yaml:3: server.web.bearer_token: set a bearer token or a username and password, not both"},
		{"server:\n  web:\n    username: u\n", "t.yaml:3: server.web.username: username and password go together (basic auth)"},
	} {
		if got := errLines(t, tc.src, nil); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%q: %q, want %q", tc.src, got, tc.want)
		}
	}
}

func TestWebSecretsAndWarnings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte("server:\n  listen: 0.0.0.0:9090\n  web:\n    bearer_token_file: token\nhistory:\n  max_age: 24h\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Web.BearerToken.Reveal() != "s3cret" || !cfg.Server.Web.Enabled || cfg.History.MaxAge != 24*time.Hour || cfg.History.MaxAlerts != 10000 {
		t.Errorf("web %+v history %+v", cfg.Server.Web, cfg.History)
	}
	if w := cfg.Warnings(); len(w) != 0 {
		t.Errorf("warnings with a token: %q", w)
	}
	open := mustParse(t, "server:\n  listen: 0.0.0.0:9090\n", nil)
	if w := open.Warnings(); len(w) != 1 || !slices.ContainsFunc(w, func(s string) bool {
		return s == "t.yaml:1: server.web: the web page on 0.0.0.0:9090 has no authentication: anyone who reaches it reads the alerts (set server.web.bearer_token_file or username and password_file)"
	}) {
		t.Errorf("warnings without auth on all interfaces: %q", w)
	}
}
