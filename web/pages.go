package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/history"
)

var pageNames = []string{"overview", "alerts", "detail", "rules", "health", "error"}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"join":     strings.Join,
	"sevClass": func(s alert.Severity) string { return "sev-" + s.String() },
	"add":      func(a, b int) int { return a + b },
	// isURL tells a link from prose: a runbook may be either.
	"isURL": func(s string) bool {
		u, err := url.Parse(s)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
	},
}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // the current section
	Q      query
	Ranges []rangeOpt
	Data   any
}

// render writes a page whole, or an error page if it cannot be rendered
// (nothing half-written).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Ranges = ranges
	var b bytes.Buffer
	if err := s.pages[name].Execute(&b, p); err != nil {
		s.log.ErrorContext(r.Context(), "web: rendering a page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.render(w, r, status, "error", page{Title: http.StatusText(status), Data: s.public(r, status, err)})
}

// public is what a visitor is told of err: a bad request's reason; of an
// internal failure only that it happened (the log has the rest, which may
// name files or addresses).
func (s *Server) public(r *http.Request, status int, err error) string {
	if status < 500 {
		return err.Error()
	}
	s.log.ErrorContext(r.Context(), "web", "path", r.URL.Path, "error", err)
	return "the alert history could not be read; the daemon's log says why"
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query(), s.o.Now())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	st, err := s.o.History.Stats(r.Context(), q.F, chartBuckets)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Q: q, Data: struct {
		Stats      history.Stats
		Chart      chart
		Severities []string
	}{st, newChart(st), history.Severities()}})
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query(), s.o.Now())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	p, err := s.o.History.Find(r.Context(), q.F)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	pages := max((p.Total+q.F.Limit-1)/q.F.Limit, 1)
	s.render(w, r, http.StatusOK, "alerts", page{Title: "Alerts", Nav: "alerts", Q: q, Data: struct {
		Page       history.Page
		Pages      int
		First      int
		Severities []string
		Outcomes   []string
	}{p, pages, q.F.Offset + 1, history.Severities(), history.Outcomes()}})
}

// regionRE is what a region must look like to go into a console link.
var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

// consoleURL links to the event in the CloudTrail console, or is "" when
// the alert has no usable region or event id.
func consoleURL(a *alert.Alert) string {
	if !regionRE.MatchString(a.Region) || a.EventID == "" {
		return ""
	}
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudtrailv2/home?region=%s#/events/%s",
		a.Region, a.Region, url.PathEscape(a.EventID))
}

func (s *Server) detail(w http.ResponseWriter, r *http.Request) {
	e, err := s.o.History.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, history.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("no alert %q in the history (it may have been pruned)", r.PathValue("id")))
		return
	case err != nil:
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	var raw bytes.Buffer
	if len(e.Alert.Raw) > 0 && json.Indent(&raw, e.Alert.Raw, "", "  ") != nil {
		raw.Reset()
		raw.Write(e.Alert.Raw)
	}
	var rule *Rule
	rules := s.o.Rules()
	if i := slices.IndexFunc(rules, func(x Rule) bool { return x.ID == e.Alert.RuleID }); i >= 0 {
		rule = &rules[i]
	}
	s.render(w, r, http.StatusOK, "detail", page{Title: e.Alert.Title, Nav: "alerts", Data: struct {
		E       *history.Entry
		Raw     string
		Rule    *Rule
		Console string
	}{e, raw.String(), rule, consoleURL(&e.Alert)}})
}

// ruleRow is one line of the Rules page.
type ruleRow struct {
	Rule
	Hits history.RuleHits
}

// suppressionRow is a suppression and whether it has expired.
type suppressionRow struct {
	Suppression
	Expired bool
}

func (s *Server) ruleRows(r *http.Request) ([]ruleRow, error) {
	st, err := s.o.History.Stats(r.Context(), history.Filter{}, 0)
	if err != nil {
		return nil, err
	}
	hits := map[string]history.RuleHits{}
	for _, h := range st.Rules {
		hits[h.Rule] = h
	}
	var rows []ruleRow
	for _, ru := range s.o.Rules() {
		rows = append(rows, ruleRow{ru, hits[ru.ID]})
	}
	return rows, nil
}

func (s *Server) rules(w http.ResponseWriter, r *http.Request) {
	rows, err := s.ruleRows(r)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	now := s.o.Now()
	var sups []suppressionRow
	for _, sp := range s.o.Suppressions {
		sups = append(sups, suppressionRow{sp, !sp.Expires.IsZero() && !now.Before(sp.Expires)})
	}
	s.render(w, r, http.StatusOK, "rules", page{Title: "Rules", Nav: "rules", Data: struct {
		Rules        []ruleRow
		Suppressions []suppressionRow
	}{rows, sups}})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "health", page{Title: "Health", Nav: "health", Data: s.o.Health(r.Context())})
}
