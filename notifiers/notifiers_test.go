package notifiers

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
)

func TestErrorClassesSurviveWrapping(t *testing.T) {
	p := fmt.Errorf("slack: %w", Permanent(io.EOF))
	if !IsPermanent(p) || !errors.Is(p, io.EOF) {
		t.Errorf("Permanent lost through wrapping: %v", p)
	}
	r := fmt.Errorf("slack: %w", RetryAfter(io.EOF, 3*time.Second))
	if d, ok := RetryDelay(r); !ok || d != 3*time.Second || IsPermanent(r) || !errors.Is(r, io.EOF) {
		t.Errorf("RetryAfter lost through wrapping: %v %v", d, ok)
	}
	if IsPermanent(io.EOF) || Permanent(nil) != nil || RetryAfter(nil, time.Second) != nil {
		t.Error("nil or plain errors misclassified")
	}
	if _, ok := RetryDelay(io.EOF); ok {
		t.Error("plain error has a retry delay")
	}
}

func TestConsoleURL(t *testing.T) {
	cases := []struct {
		region, id, want string
	}{
		{"us-east-1", "3f0c5a4e-1111-2222-3333-444455556666",
			"https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/3f0c5a4e-1111-2222-3333-444455556666"},
		{"us-gov-west-1", "abc", "https://console.amazonaws-us-gov.com/cloudtrailv2/home?region=us-gov-west-1#/events/abc"},
		{"cn-north-1", "abc", "https://console.amazonaws.cn/cloudtrailv2/home?region=cn-north-1#/events/abc"},
		{"us-isob-east-1", "abc", ""},
		{"evil.com/x?", "abc", ""},
		{"us-east-1", "abc/../x", ""},
		{"us-east-1", "<!channel>", ""},
		{"us-east-1", "", ""},
		{"", "abc", ""},
	}
	for _, c := range cases {
		got, ok := ConsoleURL(&alert.Alert{Region: c.region, EventID: c.id})
		if got != c.want || ok != (c.want != "") {
			t.Errorf("ConsoleURL(%q, %q) = %q, %v; want %q", c.region, c.id, got, ok, c.want)
		}
	}
}

func TestHTTPURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://wiki.example.com/runbook#x": "https://wiki.example.com/runbook#x",
		" http://x.example/a ":               "http://x.example/a",
		"javascript:alert(1)":                "",
		"//evil.example/":                    "",
		"/relative":                          "",
		"":                                   "",
	} {
		got, ok := HTTPURL(in)
		if got != want || ok != (want != "") {
			t.Errorf("HTTPURL(%q) = %q, %v", in, got, ok)
		}
	}
}

func TestOneLineAndTruncate(t *testing.T) {
	if got := OneLine(" a\r\nBcc: x\u2028y\t\x00z\xff "); got != "a Bcc: x y z" {
		t.Errorf("OneLine = %q", got)
	}
	if got := Truncate("héllo", 3); got != "hé…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("héllo", 5); got != "héllo" {
		t.Errorf("Truncate = %q", got)
	}
	if SeverityLabel(alert.Critical) != "CRITICAL" {
		t.Error(SeverityLabel(alert.Critical))
	}
}
