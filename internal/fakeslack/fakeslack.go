// Package fakeslack is a Slack Web API and incoming-webhook peer for tests: an
// httptest server in Slack's shape that records what was posted and answers from
// a script. chat.postMessage answers with a ts of its own per message and
// records thread_ts (Messages); chat.update edits a message posted before, by
// channel ID and ts, as Slack requires (Updates). It is used by tests only.
package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/fakehttp"
)

// Reply is one scripted answer: an HTTP status, optional headers and a body,
// held back by Hold or Delay (a slow Slack).
type Reply = fakehttp.Reply

// OK is Slack's answer to a successful chat.postMessage. The server answers
// it in Slack's full shape: the channel's ID, a ts of its own for every
// message (threads and chat.update refer to messages by it), and the message.
var OK = Reply{Status: http.StatusOK, Body: `{"ok":true,"channel":"C1","ts":"1.000001"}`}

// Message is one message chat.postMessage delivered, as Slack keeps it.
type Message struct {
	Channel  string // the channel's ID
	TS       string // the message's timestamp, its ID in the channel
	ThreadTS string // the thread's parent message, for a reply
	Form     url.Values
}

// Update is one chat.update that Slack accepted: the message (Channel, TS)
// and its new form (text, blocks).
type Update struct {
	Channel, TS string
	Form        url.Values
}

// Error is Slack's answer for an API error code, e.g. Error("invalid_auth").
func Error(code string) Reply {
	b, _ := json.Marshal(map[string]any{"ok": false, "error": code})
	return Reply{Status: http.StatusOK, Body: string(b)}
}

// Server records chat.postMessage forms and webhook bodies.
type Server struct {
	*httptest.Server
	// Script and SetDefault (initially OK) set the answers for the next
	// posts and webhooks.
	fakehttp.Answers

	mu       sync.Mutex
	posts    []url.Values // delivered (answered with ok) chat.postMessage forms
	requests []url.Values // every chat.postMessage form, answered or not
	attempts int          // chat.postMessage requests, including failed ones
	times    []time.Time  // when each of those attempts arrived
	hooks    [][]byte     // delivered webhook bodies
	messages []Message    // delivered messages, with their ts
	updates  []Update     // accepted chat.update calls

	// Channels that conversations.info knows; AuthError, when set, is the error
	// code auth.test answers with.
	Channels  map[string]bool
	AuthError string
}

// New starts a server; it is closed when the test ends. Point a slack-go client at
// URL()+"/" and a webhook notifier at WebhookURL().
func New(t testing.TB) *Server {
	s := &Server{Channels: map[string]bool{"C0123456789": true}}
	s.SetDefault(OK)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /chat.postMessage", s.post)
	mux.HandleFunc("POST /chat.update", s.update)
	mux.HandleFunc("POST /auth.test", s.authTest)
	mux.HandleFunc("POST /conversations.info", s.conversationsInfo)
	mux.HandleFunc("POST /services/T000/B000/XXXX", s.webhook)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// SetAuthError makes auth.test answer with the error code ("" for success).
func (s *Server) SetAuthError(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.AuthError = code
}

// APIURL is the base URL to hand to slack.OptionAPIURL.
func (s *Server) APIURL() string { return s.URL + "/" }

// WebhookURL is the incoming-webhook URL this server answers.
func (s *Server) WebhookURL() string { return s.URL + "/services/T000/B000/XXXX" }

// Posts returns the chat.postMessage forms that were answered with ok.
func (s *Server) Posts() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.posts...)
}

// Requests returns every chat.postMessage form received so far, whatever
// the answer, including posts still held: what a client tried to send.
func (s *Server) Requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.requests...)
}

// Attempts returns how many chat.postMessage and webhook requests arrived.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Hooks returns the webhook bodies that were answered with 200.
func (s *Server) Hooks() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.hooks...)
}

// AttemptTimes returns when each chat.postMessage or webhook request
// arrived, in order: a test of Retry-After or backoff measures the gaps,
// also when the client runs in another process.
func (s *Server) AttemptTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

func (s *Server) next() Reply {
	s.attempts++
	s.times = append(s.times, time.Now())
	return s.Next(fakehttp.Request{})
}

func write(w http.ResponseWriter, r Reply) {
	for k, v := range r.Header {
		w.Header().Set(k, v)
	}
	if r.Body != "" && r.Body[0] == '{' {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, r.Body)
}

func (s *Server) post(w http.ResponseWriter, req *http.Request) {
	if err := req.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	r := s.next()
	s.requests = append(s.requests, req.PostForm)
	s.mu.Unlock()
	if !fakehttp.Wait(req, r) {
		return
	}
	if r.Status == http.StatusOK && r.Body == OK.Body {
		s.mu.Lock()
		s.posts = append(s.posts, req.PostForm)
		m := Message{Channel: channelID(req.PostForm.Get("channel")), ThreadTS: req.PostForm.Get("thread_ts"), Form: req.PostForm}
		m.TS = fmt.Sprintf("1700000000.%06d", len(s.messages)+1)
		s.messages = append(s.messages, m)
		s.mu.Unlock()
		msg := map[string]any{"type": "message", "subtype": "bot_message", "bot_id": "B000", "text": m.Form.Get("text"), "ts": m.TS}
		if m.ThreadTS != "" {
			msg["thread_ts"] = m.ThreadTS
		}
		b, _ := json.Marshal(map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "message": msg})
		r.Body = string(b)
	}
	write(w, r)
}

// isChannelID tells a conversation ID (C…, G…, D…) from a name.
func isChannelID(ch string) bool {
	return len(ch) > 1 && strings.ContainsRune("CGD", rune(ch[0])) && strings.ToUpper(ch) == ch
}

// channelID is the ID Slack answers with for a channel given by ID or name
// (a name is taken for the fake's one known channel).
func channelID(ch string) string {
	if isChannelID(ch) {
		return ch
	}
	return "C0123456789"
}

// update answers chat.update as Slack does: it needs the channel's ID (not
// its name) and the ts of a message posted there.
func (s *Server) update(w http.ResponseWriter, req *http.Request) {
	if err := req.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ch, ts := req.PostForm.Get("channel"), req.PostForm.Get("ts")
	s.mu.Lock()
	found := false
	for _, m := range s.messages {
		found = found || (m.Channel == ch && m.TS == ts)
	}
	if found && isChannelID(ch) {
		s.updates = append(s.updates, Update{Channel: ch, TS: ts, Form: req.PostForm})
	}
	s.mu.Unlock()
	switch {
	case !isChannelID(ch):
		write(w, Error("channel_not_found"))
	case !found:
		write(w, Error("message_not_found"))
	default:
		b, _ := json.Marshal(map[string]any{"ok": true, "channel": ch, "ts": ts, "text": req.PostForm.Get("text"),
			"message": map[string]any{"type": "message", "bot_id": "B000", "text": req.PostForm.Get("text")}})
		write(w, Reply{Status: http.StatusOK, Body: string(b)})
	}
}

// Messages returns the messages chat.postMessage delivered, in order, with
// the ts each was given and the thread it was posted in.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Updates returns the chat.update calls accepted, in order.
func (s *Server) Updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Update(nil), s.updates...)
}

func (s *Server) webhook(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	r := s.next()
	if r.Body == OK.Body {
		r = Reply{Status: http.StatusOK, Body: "ok"} // webhooks answer plain "ok"
	}
	if r.Status == http.StatusOK {
		s.hooks = append(s.hooks, body)
	}
	s.mu.Unlock()
	write(w, r)
}

func (s *Server) authTest(w http.ResponseWriter, req *http.Request) {
	_ = req.ParseForm()
	s.mu.Lock()
	code := s.AuthError
	s.mu.Unlock()
	if code != "" || req.PostForm.Get("token") == "" {
		if code == "" {
			code = "not_authed"
		}
		write(w, Error(code))
		return
	}
	write(w, Reply{Status: http.StatusOK, Body: `{"ok":true,"url":"https://example.slack.com/","team":"T","user":"bot","team_id":"T000","user_id":"U000"}`})
}

func (s *Server) conversationsInfo(w http.ResponseWriter, req *http.Request) {
	_ = req.ParseForm()
	ch := req.PostForm.Get("channel")
	s.mu.Lock()
	known := s.Channels[ch]
	s.mu.Unlock()
	if !known {
		write(w, Error("channel_not_found"))
		return
	}
	b, _ := json.Marshal(map[string]any{"ok": true, "channel": map[string]any{"id": ch, "name": "alerts", "is_member": true}})
	write(w, Reply{Status: http.StatusOK, Body: string(b)})
}
