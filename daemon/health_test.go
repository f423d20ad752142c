package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/notifiers"
)

// /readyz follows the sends: five failures in a row, or one permanent
// failure, name the notifier, and one success clears it; a send that hangs
// is named after sendStuckAfter; a slow rule is named for slowRuleWindow;
// a state store error until the next call or probe succeeds.
func TestHealthFollowsRunTime(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	h := newHealth()
	h.now = func() time.Time { return now }
	want := func(parts ...string) {
		t.Helper()
		got := strings.Join(h.problems(), "\n")
		if len(parts) == 0 && got != "" {
			t.Fatalf("problems:\n%s\nwant none", got)
		}
		for _, p := range parts {
			if !strings.Contains(got, p) {
				t.Fatalf("problems:\n%s\ndo not say %q", got, p)
			}
		}
	}
	down := errors.New("connection refused")
	for range lastAttempts - 1 {
		h.sending("slack")(down)
	}
	want() // four failures may be one peer's hiccup
	h.sending("slack")(down)
	want("notifiers: slack: the last 5 sends failed, the last with: connection refused")
	h.sending("slack")(nil)
	want()

	h.sending("slack")(notifiers.Permanent(errors.New("not_in_channel")))
	want("notifiers: slack: the last send failed permanently: not_in_channel")
	h.sending("slack")(nil)
	want()

	end := h.sending("email")
	now = now.Add(sendStuckAfter + time.Second)
	want("notifiers: email: a send has been waiting for 21s")
	end(nil)
	want()

	h.ruleTimedOut("custom.slow")
	h.ruleTimedOut("custom.slow")
	want("rules: custom.slow exceeded rules.eval_timeout 2 times, the last 0s ago")
	now = now.Add(slowRuleWindow + time.Second)
	want()

	h.stateResult(errors.New("redis: dial tcp: connection refused"))
	want("state: redis: dial tcp: connection refused")
	h.stateResult(context.Canceled) // our shutdown says nothing of the store
	want("state: redis")
	h.stateResult(nil)
	want()
}

// go-redis' own lines come out through slog, in its format.
func TestRedisLogIsStructured(t *testing.T) {
	var buf bytes.Buffer
	redisLog{slog.New(slog.NewJSONHandler(&buf, nil))}.Printf(context.Background(), "redis: connection pool: %s\n", "failed to dial")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q: %v", buf.String(), err)
	}
	if rec["msg"] != "redis client" || rec["level"] != "WARN" || rec["detail"] != "redis: connection pool: failed to dial" {
		t.Errorf("record %v", rec)
	}
}
