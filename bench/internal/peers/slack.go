// Package peers holds the protocol peers the benchmarks and the soak tool run on
// loopback: a Slack Web API recorder that time-stamps what it receives, and
// fauxqs (the SQS emulator the tests use) started as a process. Unlike
// internal/testpeers, nothing here needs a testing.TB, so commands can use it.
package peers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Slack answers chat.postMessage (and the auth.test and conversations.info
// calls of trailguard's start-up check) like Slack does, counts the posts and
// tells when a post containing a given marker arrived. It keeps no bodies, so
// it can run for hours.
type Slack struct {
	srv   *httptest.Server
	posts atomic.Int64
	bytes atomic.Int64

	mu      sync.Mutex
	waiting map[string]chan time.Time
}

// NewSlack starts a recorder on 127.0.0.1.
func NewSlack() *Slack {
	s := &Slack{waiting: map[string]chan time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /chat.postMessage", s.post)
	mux.HandleFunc("POST /auth.test", func(w http.ResponseWriter, r *http.Request) {
		reply(w, `{"ok":true,"url":"https://bench.slack.com/","team":"bench","user":"trailguard","team_id":"T0000000001","user_id":"U0000000001","bot_id":"B0000000001"}`)
	})
	mux.HandleFunc("POST /conversations.info", func(w http.ResponseWriter, r *http.Request) {
		reply(w, `{"ok":true,"channel":{"id":"C0123456789","name":"security-alerts","is_channel":true,"is_member":true}}`)
	})
	s.srv = httptest.NewServer(mux)
	return s
}

// Channel is the channel id the recorder knows.
const Channel = "C0123456789"

func reply(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = io.WriteString(w, body)
}

func (s *Slack) post(w http.ResponseWriter, r *http.Request) {
	at := time.Now() // the receipt time: before the body is read
	body, _ := io.ReadAll(r.Body)
	s.posts.Add(1)
	s.bytes.Add(int64(len(body)))
	s.mu.Lock()
	for marker, ch := range s.waiting {
		if strings.Contains(string(body), marker) {
			ch <- at
			delete(s.waiting, marker)
		}
	}
	s.mu.Unlock()
	reply(w, `{"ok":true,"channel":"C0123456789","ts":"1700000000.000100"}`)
}

// APIURL is the base URL for trailguard's slack api_url (ends in /).
func (s *Slack) APIURL() string { return s.srv.URL + "/" }

// Posts is the number of chat.postMessage requests received.
func (s *Slack) Posts() int64 { return s.posts.Load() }

// Expect returns a channel that receives the arrival time of the first post
// whose form body contains marker (an event id, say).
func (s *Slack) Expect(marker string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.waiting[marker] = ch
	s.mu.Unlock()
	return ch
}

// Forget stops waiting for marker.
func (s *Slack) Forget(marker string) {
	s.mu.Lock()
	delete(s.waiting, marker)
	s.mu.Unlock()
}

// Close stops the server.
func (s *Slack) Close() { s.srv.Close() }
