package httpsend

import (
	"net/http"
	"testing"
	"time"

	"github.com/trailguard/trailguard/notifiers"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"7":                             7 * time.Second,
		" 0 ":                           0,
		"-3":                            0,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0, // past: no wait
	} {
		if got, ok := RetryAfter(v, now); !ok || got != want {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "soon", "1.5"} {
		if got, ok := RetryAfter(v, now); ok {
			t.Errorf("RetryAfter(%q) = %v, want none", v, got)
		}
	}
}

func TestClassifyDetail(t *testing.T) {
	err := Classify("svc", &Answer{Status: 418, Header: http.Header{}, Body: []byte("I'm\na teapot")}, "")
	if !notifiers.IsPermanent(err) || err.Error() != "svc answered 418 I'm a teapot: I'm a teapot" {
		t.Errorf("Classify(418) = %v", err)
	}
	if err := Classify("svc", &Answer{Status: 204}, ""); err != nil {
		t.Errorf("Classify(204) = %v", err)
	}
}
