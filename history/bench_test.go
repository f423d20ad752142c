package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// benchEntry is a counted stateful candidate as the dispatcher records it:
// a new id, no deliveries, a raw event of a typical CloudTrail record's size.
func benchEntry(i int) Entry {
	raw := []byte(fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/u%d"},`+
		`"eventTime":"2026-05-01T12:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue",`+
		`"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15.0","requestParameters":{"secretId":"s%d"},`+
		`"eventID":"ev-%d","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111111111111"}`, i%7, i, i))
	return Entry{
		ID: fmt.Sprintf("bench-%09d", i), Kind: KindAlert, Outcome: OutcomeCounted,
		Alert: alert.Alert{
			RuleID: "threats.secrets_bulk_read", Severity: alert.High, Title: "Bulk secret reads",
			Message: fmt.Sprintf("arn:aws:iam::111111111111:user/u%d read secret s%d", i%7, i),
			EventID: fmt.Sprintf("ev-%d", i), EventName: "GetSecretValue", EventSource: "secretsmanager.amazonaws.com",
			AccountID: "111111111111", Region: "us-east-1", Principal: fmt.Sprintf("arn:aws:iam::111111111111:user/u%d", i%7),
			SourceIP: "203.0.113.9", UserAgent: "aws-cli/2.15.0", Raw: raw,
		},
	}
}

// BenchmarkRecord is the cost of History.Record per entry, as the dispatcher
// pays it for every handled alert and counted candidate. Run:
//
//	go test -run '^$' -bench BenchmarkRecord -benchtime 20000x ./history
func BenchmarkRecord(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) Backend
	}{
		{"memory", func(*testing.B) Backend { return NewMemory() }},
		{"sqlite", func(b *testing.B) Backend { return openSQLite(b, filepath.Join(b.TempDir(), "state.db")) }},
		{"redis-server", func(b *testing.B) Backend {
			rc := redis.NewClient(&redis.Options{Addr: testpeers.StartRedisServer(b)})
			b.Cleanup(func() { _ = rc.Close() })
			return NewRedis(rc, "bench:")
		}},
	}
	for _, bk := range backends {
		b.Run(bk.name, func(b *testing.B) {
			ctx := context.Background()
			// The daemon's default retention: Record prunes every pruneEvery
			// entries, and that is part of the cost.
			h := New(bk.open(b), Options{})
			n := 0
			for b.Loop() {
				if err := h.Record(ctx, benchEntry(n)); err != nil {
					b.Fatal(err)
				}
				n++
			}
			// The entries are stored (buffered writes included) before the
			// figure counts.
			if _, err := h.Prune(ctx); err != nil {
				b.Fatal(err)
			}
			if p, err := h.Find(ctx, Filter{Limit: 1}); err != nil || p.Total != min(n, DefaultRetention.MaxCount) {
				b.Fatalf("stored %d of %d: %v", p.Total, min(n, DefaultRetention.MaxCount), err)
			}
		})
	}
}
