package testharness

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/testpeers"
)

// SQSSource is the source section of a daemon pointed at test peers.
type SQSSource struct {
	QueueURL, Endpoint string // the queue, and where SQS answers
	Visibility         string // visibility_timeout, e.g. "4s"
	MaxMessages        int
	Workers            int
	S3Endpoint         string
	Buckets            []string // allowed_buckets
	MaxHold            string   // max_hold, e.g. "5s"; "" leaves the default
}

// YAML is the section, with a 1s long poll and path-style S3.
func (s SQSSource) YAML() string {
	hold := ""
	if s.MaxHold != "" {
		hold = "\n    max_hold: " + s.MaxHold
	}
	return fmt.Sprintf(`source:
  type: sqs
  sqs:
    queue_url: %s
    endpoint: %s
    region: us-east-1
    wait_time: 1s
    visibility_timeout: %s
    max_messages: %d
    workers: %d%s
  s3:
    endpoint: %s
    region: us-east-1
    path_style: true
    allowed_buckets: [%s]
`, s.QueueURL, s.Endpoint, s.Visibility, s.MaxMessages, s.Workers, hold, s.S3Endpoint, strings.Join(s.Buckets, ", "))
}

// JoinConfig joins top-level YAML fragments over test defaults (debug logs in
// logFormat, a free port, the aws pack, no dedup window: scenarios count
// alerts one by one); a fragment replaces the default with the same
// top-level key.
func JoinConfig(t testing.TB, logFormat string, fragments ...string) string {
	t.Helper()
	defaults := []string{
		"log:\n  level: debug\n  format: " + logFormat + "\n",
		"server:\n  listen: 127.0.0.1:0\n",
		"rules:\n  packs: [aws]\n",
		"dedup:\n  window: 0s\n",
		// The daemon's default state is a SQLite file at a fixed path; a test
		// daemon gets one of its own.
		"state:\n  type: sqlite\n  sqlite:\n    path: " + strconv.Quote(filepath.Join(t.TempDir(), "state.db")) + "\n",
	}
	return testpeers.JoinYAML(t, append(defaults, fragments...)...)
}

// Notifier blocks, one entry of the notifiers list each.

// SlackNotifier posts with a bot token to the Slack API at apiURL.
func SlackNotifier(name, apiURL, token string) string {
	return fmt.Sprintf(`  - name: %s
    type: slack
    slack:
      token: %q
      channel: C0123456789
      api_url: %s
`, name, token, apiURL)
}

// StdoutNotifier prints alerts as JSON lines.
func StdoutNotifier(name string) string {
	return fmt.Sprintf("  - name: %s\n    type: stdout\n", name)
}

// EmailNotifier sends over STARTTLS to addr (host:port); user and password
// may be "".
func EmailNotifier(name, addr, user, password string) string {
	host, port, _ := strings.Cut(addr, ":")
	s := fmt.Sprintf(`  - name: %s
    type: email
    email:
      host: %s
      port: %s
      tls: starttls
      from: Trailguard <trailguard@example.com>
      to: [secops@example.com]
`, name, host, port)
	if user != "" {
		s += fmt.Sprintf("      username: %s\n      password: %q\n", user, password)
	}
	return s
}
