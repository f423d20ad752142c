package engine

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
)

// TestPrefilterGrowsByRecord: a field the indices consult for any value
// (threats.secrets_bulk_read binds the secret's id, so the index asks for
// it) gives nearly every record a new branch of the decision tree. Adding
// one must cost the same at the 5,000th branch as at the first: the
// decision's map used to be copied for each, and this test's records
// allocated 23,400 bytes each over the first thousand and 219,856 over the
// fifth. Measured in bytes allocated, which do not depend on the machine's
// load.
func TestPrefilterGrowsByRecord(t *testing.T) {
	ctx := context.Background()
	eng, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	record := func(i int) cloudtrail.Record {
		return cloudtrail.Record{Raw: fmt.Appendf(nil, `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole",`+
			`"arn":"arn:aws:sts::111122223333:assumed-role/app/s","accountId":"111122223333"},"eventTime":"2026-11-25T10:00:00Z",`+
			`"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","awsRegion":"us-east-1",`+
			`"sourceIPAddress":"203.0.113.7","requestParameters":{"secretId":"app/secret-%d"},"eventID":"e%d"}`, i, i)}
	}
	const batch = 1000
	perRecord := func(from int) float64 {
		recs := make([]cloudtrail.Record, batch)
		for i := range recs {
			recs[i] = record(from + i)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, rec := range recs {
			in, err := eng.DecodeRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			if in.rules == nil {
				t.Fatalf("%s: no candidate rule", rec.Raw)
			}
			in.Release()
		}
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / batch
	}
	first := perRecord(0)
	perRecord(batch)
	perRecord(2 * batch)
	perRecord(3 * batch)
	fifth := perRecord(4 * batch)
	t.Logf("bytes allocated a record: %.0f (records 1–1000), %.0f (4001–5000)", first, fifth)
	if fifth > 2*first {
		t.Errorf("a record with a new secret id allocates %.0f bytes after 4,000 others, %.0f after none: the decision tree's growth is not linear", fifth, first)
	}
}
