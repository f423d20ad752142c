//go:build linux

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The browser loads every page in turn, opens the newest alert once the
// API has named one, and counts a refused request as a failure.
func TestBrowser(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/health":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "/api/alerts":
			_, _ = w.Write([]byte(`{"alerts":[{"id":"rule.x/ev 1"}],"total":1}`))
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	b := newBrowser(strings.TrimPrefix(srv.URL, "http://"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.run(ctx, time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := seen["/api/alerts/rule.x/ev 1"]
		mu.Unlock()
		if n > 0 && b.stats().errors > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	st := b.stats()
	mu.Lock()
	defer mu.Unlock()
	for _, p := range append(append([]string{"/static/app.js", "/static/style.css", "/alerts/rule.x/ev 1", "/api/alerts/rule.x/ev 1"}, "/", "/alerts", "/rules"), "/api/stats", "/api/rules") {
		if seen[p] == 0 {
			t.Errorf("%s never requested; seen %v", p, seen)
		}
	}
	if st.errors == 0 || !strings.Contains(st.lastErr, "/health") {
		t.Errorf("the refused /health is not counted: %+v", st)
	}
	if st.requests < st.errors || st.requests < 8 {
		t.Errorf("stats %+v", st)
	}
}
