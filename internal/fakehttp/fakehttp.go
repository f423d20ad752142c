// Package fakehttp is an HTTP peer for the tests of the HTTP notifiers
// (webhook, PagerDuty, Teams): an httptest server that records every request
// and answers from a script, in the shape of the service a test names (see
// PagerDuty and Teams). It is used by tests only.
package fakehttp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Reply is one scripted answer: status, headers and body, held back by Hold
// or Delay when set. The Slack fake answers with the same type.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
	// Hold, when set, delays the answer until it is closed (a slow peer).
	Hold <-chan struct{}
	// Delay, when set, delays the answer by that long.
	Delay time.Duration
}

// Request is one request as received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	At           time.Time
	Answered     int // the status it was answered with
}

// Server records requests and answers them.
type Server struct {
	*httptest.Server

	Answers

	mu   sync.Mutex
	reqs []Request
}

// Answers is a script of replies and what to answer when it is used up;
// the Slack fake answers from one too. It is safe for concurrent use.
type Answers struct {
	mu     sync.Mutex
	script []Reply
	dflt   Reply
	// answer, when set, computes the answer to requests the script has no
	// answer for (a service that validates what it gets); it replaces dflt.
	answer func(Request) Reply
}

// New starts a server answering dflt when no scripted answer is left; it is
// closed when the test ends.
func New(t testing.TB, dflt Reply) *Server {
	s := &Server{Answers: Answers{dflt: dflt}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// NewTLS is New over HTTPS with httptest's certificate (see Certificate).
func NewTLS(t testing.TB, dflt Reply) *Server {
	s := &Server{Answers: Answers{dflt: dflt}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Script queues answers for the next requests.
func (a *Answers) Script(replies ...Reply) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.script = append(a.script, replies...)
}

// SetDefault sets the answer for requests the script has no answer for:
// SetDefault(Reply{Status: 503}) takes the service down until it is set back.
func (a *Answers) SetDefault(r Reply) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dflt, a.answer = r, nil
}

// SetAnswer makes f compute the answer for requests the script has no answer
// for.
func (a *Answers) SetAnswer(f func(Request) Reply) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answer = f
}

// Next takes the answer to req: the script's next, else the computed or
// default one.
func (a *Answers) Next(req Request) Reply {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case len(a.script) > 0:
		r := a.script[0]
		a.script = a.script[1:]
		return r
	case a.answer != nil:
		return a.answer(req)
	}
	return a.dflt
}

// Requests returns every request received so far, answered or not.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Delivered returns the requests answered with a 2xx status.
func (s *Server) Delivered() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Answered >= 200 && r.Answered < 300 {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body) // chunked or not
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()}
	s.mu.Lock()
	i := len(s.reqs)
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	rep := s.Next(req)
	if !Wait(r, rep) {
		return
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	s.mu.Lock()
	s.reqs[i].Answered = status
	s.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rep.Body)
}

// PagerDuty's answers on /v2/enqueue.

// PagerDutyAccepted is the 202 answer to a valid event.
func PagerDutyAccepted(dedupKey string) Reply {
	b, _ := json.Marshal(map[string]string{"status": "success", "message": "Event processed", "dedup_key": dedupKey})
	return Reply{Status: http.StatusAccepted, Header: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

// PagerDutyInvalid is the 400 answer to an invalid event.
func PagerDutyInvalid(errs ...string) Reply {
	b, _ := json.Marshal(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
	return Reply{Status: http.StatusBadRequest, Header: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

// PagerDutyThrottled is the 429 answer when the integration is rate limited.
var PagerDutyThrottled = Reply{Status: http.StatusTooManyRequests, Body: `{"status":"throttle exceeded","message":"Requests for this service are arriving too quickly. Please retry later."}`}

// PagerDuty answers like /v2/enqueue: 404 off that path; 400 for an event
// lacking what the Events API v2 requires; 202 with the dedup key otherwise.
func PagerDuty(r Request) Reply {
	if r.Method != http.MethodPost || r.Path != "/v2/enqueue" {
		return Reply{Status: http.StatusNotFound, Body: "Not Found"}
	}
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     *struct {
			Summary  string `json:"summary"`
			Source   string `json:"source"`
			Severity string `json:"severity"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		return PagerDutyInvalid("Event object is not valid JSON")
	}
	var errs []string
	if len(ev.RoutingKey) != 32 {
		errs = append(errs, "'routing_key' must be a 32 character Integration Key")
	}
	if ev.EventAction != "trigger" {
		errs = append(errs, "'event_action' must be one of trigger, acknowledge or resolve")
	}
	switch {
	case ev.Payload == nil:
		errs = append(errs, "'payload' is missing or blank")
	case ev.Payload.Summary == "" || len([]rune(ev.Payload.Summary)) > 1024:
		errs = append(errs, "'payload.summary' is missing, blank or longer than 1024 characters")
	case ev.Payload.Source == "":
		errs = append(errs, "'payload.source' is missing or blank")
	case ev.Payload.Severity != "critical" && ev.Payload.Severity != "error" && ev.Payload.Severity != "warning" && ev.Payload.Severity != "info":
		errs = append(errs, "'payload.severity' must be one of critical, error, warning or info")
	}
	if len(errs) > 0 {
		return PagerDutyInvalid(errs...)
	}
	return PagerDutyAccepted(ev.DedupKey)
}

// Teams answers like a Workflows webhook: 202 for a message carrying an
// Adaptive Card attachment, 400 otherwise.
func Teams(r Request) Reply {
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			Content     json.RawMessage `json:"content"`
		} `json:"attachments"`
	}
	if r.Method != http.MethodPost || json.Unmarshal(r.Body, &m) != nil || m.Type != "message" || len(m.Attachments) == 0 ||
		m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		return Reply{Status: http.StatusBadRequest, Body: `{"error":{"code":"InvalidRequestContent","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}`}
	}
	return Reply{Status: http.StatusAccepted}
}

// Wait applies r's Hold and Delay; it is false when the client went away
// meanwhile (then nothing counts as delivered).
func Wait(req *http.Request, r Reply) bool {
	if r.Hold != nil {
		select {
		case <-r.Hold:
		case <-req.Context().Done():
			return false
		}
	}
	if r.Delay > 0 {
		t := time.NewTimer(r.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done():
			return false
		}
	}
	return true
}
