// Package web serves the read-only triage page and its JSON API over the
// alert history: an overview (alerts over time by severity, top rules,
// principals and accounts), the alerts table with filters and paging, one
// alert's detail, the rules with their hits and the suppressions, and the
// daemon's health. Pages are rendered on the server with html/template, so
// the table and the detail work without JavaScript; the one script (live
// refresh) is a static file, as are the styles, all embedded in the binary.
// Every response carries a strict Content-Security-Policy.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/attack"
	"github.com/trailguard/trailguard/history"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// History is what the page reads (history.History is one).
type History interface {
	Find(ctx context.Context, f history.Filter) (history.Page, error)
	Get(ctx context.Context, id string) (*history.Entry, error)
	Each(ctx context.Context, f history.Filter, fn func(*history.Entry) error) error
	Stats(ctx context.Context, f history.Filter, buckets int) (history.Stats, error)
}

// Rule is one loaded rule, as the Rules page and the detail show it.
type Rule struct {
	ID       string         `json:"id"`
	Severity alert.Severity `json:"severity"`
	Pack     string         `json:"pack"`
	Title    string         `json:"title"`
	// Stateful is threshold, distinct, new_value, sequence or signal
	// (engine.StatefulKinds); "" for a per-event rule.
	Stateful    string           `json:"stateful,omitempty"`
	Attack      []attack.Mapping `json:"attack,omitempty"`
	Description string           `json:"description,omitempty"`
	File        string           `json:"file,omitempty"`
	Tags        []string         `json:"tags,omitempty"`
	References  []string         `json:"references,omitempty"`
	Runbook     string           `json:"runbook,omitempty"`
}

// Suppression is one configured suppression.
type Suppression struct {
	Rule    string            `json:"rule"`
	Where   map[string]string `json:"where,omitempty"`
	Reason  string            `json:"reason"`
	Owner   string            `json:"owner"`
	Expires time.Time         `json:"expires,omitzero"`
}

// Health is what /readyz says, with the facts behind it.
type Health struct {
	Problems []string `json:"problems"` // empty: ready
	Facts    []Fact   `json:"facts"`    // source, notifiers, state backend, last reload, …
}

// Fact is one line of the Health page.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Options are what the page shows and who may see it.
type Options struct {
	History      History
	Rules        func() []Rule // the serving rule set (it changes on reload)
	Suppressions []Suppression
	Health       func(ctx context.Context) Health
	// BearerToken, or Username and Password, guard every page and API call;
	// none: open (the listener is on loopback by default).
	BearerToken        string
	Username, Password string
	Logger             *slog.Logger
	Now                func() time.Time
}

// Server is the page's http.Handler.
type Server struct {
	o     Options
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the handler; mount it at / beside the daemon's other paths.
func New(o Options) (*Server, error) {
	s := &Server{o: o, log: o.Logger, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.o.Now == nil {
		s.o.Now = time.Now
	}
	if s.o.Rules == nil {
		s.o.Rules = func() []Rule { return nil }
	}
	if s.o.Health == nil {
		s.o.Health = func(context.Context) Health { return Health{} }
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.overview)
	s.mux.HandleFunc("GET /alerts", s.alerts)
	s.mux.HandleFunc("GET /alerts/{id}", s.detail)
	s.mux.HandleFunc("GET /rules", s.rules)
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /api/alerts", s.apiAlerts)
	s.mux.HandleFunc("GET /api/alerts/{id}", s.apiAlert)
	s.mux.HandleFunc("GET /api/stats", s.apiStats)
	s.mux.HandleFunc("GET /api/rules", s.apiRules)
	s.mux.HandleFunc("GET /api/export", s.apiExport)
	return s, nil
}

// csp allows only the page's own files: no inline script or style, no
// other origin, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// ServeHTTP sets the security headers, checks the credentials, and serves.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if !s.authorized(r) {
		if s.o.Username != "" {
			h.Set("WWW-Authenticate", `Basic realm="trailguard", charset="UTF-8"`)
		} else {
			h.Set("WWW-Authenticate", `Bearer realm="trailguard"`)
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	switch {
	case s.o.BearerToken != "":
		const prefix = "Bearer "
		got := r.Header.Get("Authorization")
		return len(got) > len(prefix) && got[:len(prefix)] == prefix && same(got[len(prefix):], s.o.BearerToken) == 1
	case s.o.Username != "":
		u, p, ok := r.BasicAuth()
		// Both compared, always: the time taken says nothing of which was wrong.
		return ok && same(u, s.o.Username)&same(p, s.o.Password) == 1
	}
	return true
}

// same compares secrets in constant time (of their hashes, so the length
// does not show either).
func same(a, b string) int {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:])
}
