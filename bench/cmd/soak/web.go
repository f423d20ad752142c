//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// browser is the triage page left open during the soak: every tick it loads
// one of the pages (with the page's script and style sheet, which it sends
// no-store) and asks one of the JSON API's questions, the pages and
// questions taken in turn, over one keep-alive client as a browser does, and
// now and then opens the newest alert. It counts requests, failures and the
// slowest answer.
type browser struct {
	base   string
	client *http.Client

	mu       sync.Mutex
	requests int
	errors   int
	slowest  time.Duration
	lastErr  string
	newest   string // id of the newest alert seen in /api/alerts
}

var (
	browserPages = []string{"/", "/alerts", "/rules", "/health", "/alerts?range=all&severity=medium"}
	browserAPI   = []string{"/api/alerts?range=all&limit=50", "/api/stats?range=all", "/api/rules?range=all", "/api/stats"}
)

func newBrowser(addr string) *browser {
	return &browser{base: "http://" + addr, client: &http.Client{Timeout: 10 * time.Second}}
}

// run loads a page every interval until ctx ends.
func (b *browser) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		paths := []string{browserPages[i%len(browserPages)], "/static/app.js", "/static/style.css", browserAPI[i%len(browserAPI)]}
		b.mu.Lock()
		if id := b.newest; id != "" && i%5 == 4 {
			paths = append(paths, "/alerts/"+url.PathEscape(id), "/api/alerts/"+url.PathEscape(id))
		}
		b.mu.Unlock()
		for _, p := range paths {
			if ctx.Err() != nil {
				return
			}
			b.get(ctx, p)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *browser) get(ctx context.Context, path string) {
	start := time.Now()
	body, err := b.fetch(ctx, path)
	took := time.Since(start)
	if ctx.Err() != nil {
		return // the run ended during the request: not the daemon's failure
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests++
	b.slowest = max(b.slowest, took)
	if err != nil {
		b.errors++
		b.lastErr = fmt.Sprintf("GET %s: %v", path, err)
		return
	}
	if path == browserAPI[0] {
		var page struct {
			Alerts []struct {
				ID string `json:"id"`
			} `json:"alerts"`
		}
		if json.Unmarshal(body, &page) == nil && len(page.Alerts) > 0 {
			b.newest = page.Alerts[0].ID
		}
	}
}

func (b *browser) fetch(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/html,application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return body, nil
}

type browserStats struct {
	requests, errors int
	slowest          time.Duration
	lastErr          string
}

func (b *browser) stats() browserStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return browserStats{b.requests, b.errors, b.slowest, b.lastErr}
}

// statefulAlerts asks the page's API how many rules are stateful and how
// many alerts they raised over the run (the history keeps every alert
// handled).
func statefulAlerts(ctx context.Context, addr string) (rules, alerts int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/rules?range=all", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("/api/rules: %s", resp.Status)
	}
	var out struct {
		Rules []struct {
			ID       string `json:"id"`
			Stateful string `json:"stateful"`
			Hits     struct {
				Count int `json:"count"`
			} `json:"hits"`
		} `json:"rules"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, 0, fmt.Errorf("/api/rules: %w", err)
	}
	for _, r := range out.Rules {
		if r.Stateful != "" && r.Stateful != "signal" {
			rules++
			alerts += r.Hits.Count
		}
	}
	return rules, alerts, nil
}
