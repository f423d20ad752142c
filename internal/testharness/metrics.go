package testharness

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/testpeers"
)

// ParseMetrics reads the Prometheus text format of /metrics: series as
// written (`name{label="v",…}`, labels sorted by name) to values.
func ParseMetrics(body string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out, nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// Get fetches path from the HTTP server at addr (host:port).
func Get(t testing.TB, addr, path string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// Scrape reads http://addr/metrics.
func Scrape(t testing.TB, addr string) map[string]float64 {
	t.Helper()
	code, body := Get(t, addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	out, err := ParseMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WaitMetric waits until series, scraped from addr (0 when absent),
// satisfies ok; want says what ok wants, for the failure message.
func WaitMetric(t testing.TB, addr, series string, timeout time.Duration, want string, ok func(float64) bool) {
	t.Helper()
	testpeers.WaitFor(t, timeout, func() error {
		if got := Scrape(t, addr)[series]; !ok(got) {
			return fmt.Errorf("%s = %v, want %s", series, got, want)
		}
		return nil
	})
}
