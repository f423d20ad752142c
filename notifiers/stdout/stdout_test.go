package stdout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/alert"
)

func TestNotifyWritesOneJSONLinePerAlert(t *testing.T) {
	var buf bytes.Buffer
	n := New("", &buf)
	if n.Name() != "stdout" {
		t.Fatalf("Name() = %q", n.Name())
	}
	a := &alert.Alert{RuleID: "r.one", Title: "T", Severity: alert.High, Message: "m\nwith newline", EventID: "e1",
		Raw: json.RawMessage(`{"eventID":"e1"}`)}

	if err := n.Notify(context.Background(), a, ""); err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), a, "3 similar alerts suppressed"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %q", len(lines), buf.String())
	}
	want, _ := json.Marshal(a)
	if lines[0] != string(want) {
		t.Errorf("line without note:\n got %s\nwant %s", lines[0], want)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &got); err != nil {
		t.Fatal(err)
	}
	if got["note"] != "3 similar alerts suppressed" || got["severity"] != "high" || got["rule_id"] != "r.one" {
		t.Errorf("line with note: %v", got)
	}
	if _, ok := got["event"].(map[string]any); !ok {
		t.Errorf("raw event not embedded: %v", got["event"])
	}
}

func TestConcurrentWritesDoNotInterleave(t *testing.T) {
	var buf bytes.Buffer
	n := New("out", &buf)
	a := &alert.Alert{RuleID: "r", Severity: alert.Low, Message: strings.Repeat("x", 4096)}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := n.Notify(context.Background(), a, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	count := 0
	for sc.Scan() {
		var v alert.Alert
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d is not one JSON alert: %v", count, err)
		}
		count++
	}
	if count != 20 {
		t.Fatalf("got %d lines, want 20", count)
	}
}

func TestTextFormat(t *testing.T) {
	var buf bytes.Buffer
	n := NewFormat("console", &buf, Text)
	a := &alert.Alert{RuleID: "r.one", Severity: alert.High, Message: "m\nforged line", EventTime: "2023-04-01T10:02:00Z",
		EventName: "PutX", EventSource: "x.amazonaws.com", Principal: "arn:aws:iam::1:user/\x1b[2Jbob", SourceIP: "192.0.2.1",
		AccountID: "1", Region: "eu-west-1", EventID: "e1"}
	if err := n.Notify(context.Background(), a, "3 similar alerts suppressed"); err != nil {
		t.Fatal(err)
	}
	want := "HIGH     2023-04-01T10:02:00Z r.one  x.amazonaws.com PutX by arn:aws:iam::1:user/ [2Jbob from 192.0.2.1 (account 1, eu-west-1) [e1]\n" +
		"         m forged line · 3 similar alerts suppressed\n"
	if buf.String() != want {
		t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
	}
	buf.Reset()
	n = NewFormat("console", &buf, Color)
	if err := n.Notify(context.Background(), a, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "\x1b[1;31mHIGH\x1b[0m     ") || strings.Contains(buf.String(), "\x1b[2J") {
		t.Errorf("colour: %q", buf.String())
	}
}
