//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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

// statefulRun is what the stateful rules did over the run, as the page's
// API tells it from the history (which keeps every alert handled, counted
// candidates included).
type statefulRun struct {
	rules      int    // stateful rules loaded (threshold, distinct, new_value, sequence)
	candidates int    // their alerts in the history, whatever the outcome
	fired      int    // those that fired: neither counted nor a signal nor skipped
	byRule     string // "rule (kind) fired/candidates; …", for the log
}

// statefulAlerts asks the page's API which rules are stateful and, for
// each, the outcomes of its alerts over the run.
func statefulAlerts(ctx context.Context, addr string) (statefulRun, error) {
	var run statefulRun
	var rules struct {
		Rules []struct {
			ID       string `json:"id"`
			Stateful string `json:"stateful"`
		} `json:"rules"`
	}
	if err := getJSON(ctx, "http://"+addr+"/api/rules?range=all", &rules); err != nil {
		return run, err
	}
	var parts []string
	for _, r := range rules.Rules {
		if r.Stateful == "" || r.Stateful == "signal" {
			continue
		}
		var st struct {
			Total     int            `json:"total"`
			ByOutcome map[string]int `json:"by_outcome"`
		}
		if err := getJSON(ctx, "http://"+addr+"/api/stats?range=all&rule="+url.QueryEscape(r.ID), &st); err != nil {
			return run, err
		}
		fired := st.Total - st.ByOutcome["counted"] - st.ByOutcome["signal"] - st.ByOutcome["skipped"]
		run.rules++
		run.candidates += st.Total
		run.fired += fired
		parts = append(parts, fmt.Sprintf("%s (%s) %d/%d", r.ID, r.Stateful, fired, st.Total))
	}
	run.byRule = strings.Join(parts, "; ")
	return run, nil
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
