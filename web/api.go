package web

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/trailguard/trailguard/history"
)

// The JSON API: the same filters as the page (see parseQuery), the same
// answers. Errors are {"error": "..."}.

func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		s.log.DebugContext(r.Context(), "web: writing a response", "error", err)
	}
}

func (s *Server) apiError(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.writeJSON(w, r, status, map[string]string{"error": s.public(r, status, err)})
}

// answer serves a question about the alerts a filter matches: 400 for a
// filter that cannot be read, 500 when the history cannot answer.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ask func(q query) (any, error)) {
	q, err := parseQuery(r.URL.Query(), s.o.Now())
	if err != nil {
		s.apiError(w, r, http.StatusBadRequest, err)
		return
	}
	v, err := ask(q)
	if err != nil {
		s.apiError(w, r, http.StatusInternalServerError, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, v)
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, func(q query) (any, error) {
		p, err := s.o.History.Find(r.Context(), q.F)
		return struct {
			history.Page
			Offset int `json:"offset"`
			Limit  int `json:"limit"`
		}{p, q.F.Offset, q.F.Limit}, err
	})
}

func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request) {
	e, err := s.o.History.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, history.ErrNotFound):
		s.apiError(w, r, http.StatusNotFound, err)
	case err != nil:
		s.apiError(w, r, http.StatusInternalServerError, err)
	default:
		s.writeJSON(w, r, http.StatusOK, e)
	}
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r, func(q query) (any, error) { return s.o.History.Stats(r.Context(), q.F, chartBuckets) })
}

func (s *Server) apiRules(w http.ResponseWriter, r *http.Request) {
	rows, err := s.ruleRows(r)
	if err != nil {
		s.apiError(w, r, http.StatusInternalServerError, err)
		return
	}
	type hits struct {
		Count int    `json:"count"`
		Last  string `json:"last,omitempty"`
	}
	type ruleJSON struct {
		Rule
		Hits hits `json:"hits"`
	}
	out := struct {
		Rules        []ruleJSON    `json:"rules"`
		Suppressions []Suppression `json:"suppressions"`
	}{Rules: []ruleJSON{}, Suppressions: s.o.Suppressions}
	for _, row := range rows {
		h := hits{Count: row.Hits.Count}
		if !row.Hits.Last.IsZero() {
			h.Last = row.Hits.Last.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		out.Rules = append(out.Rules, ruleJSON{row.Rule, h})
	}
	if out.Suppressions == nil {
		out.Suppressions = []Suppression{}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// apiExport writes every alert the filter matches (paging aside), one JSON
// object a line, newest first.
func (s *Server) apiExport(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query(), s.o.Now())
	if err != nil {
		s.apiError(w, r, http.StatusBadRequest, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="trailguard-alerts.ndjson"`)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	err = s.o.History.Each(r.Context(), q.F, func(e *history.Entry) error { return enc.Encode(e) })
	if err != nil {
		// The status is sent; a cut-off export ends without its last line.
		s.log.WarnContext(r.Context(), "web: export cut short", "error", err)
		return
	}
	_ = bw.Flush()
}
