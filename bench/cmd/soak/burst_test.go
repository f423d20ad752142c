//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// A burst must give the built-in threshold rules more distinct values than
// they count to, in a file the reader accepts: otherwise the soak's stateful
// rules only count and never fire.
func TestBurstFeedsThresholdRules(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := withBurst(gen.New(gen.Options{Seed: 3}), 7, gen.DefaultStart.Add(time.Hour))
	r, err := cloudtrail.NewReader(bytes.NewReader(f.Data), f.Key, cloudtrail.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]map[string]bool{"threats.secrets_bulk_read": {}, "threats.denied_calls_burst": {}}
	records := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		records++
		alerts, err := eng.Evaluate(ctx, rec)
		if err != nil {
			t.Fatalf("%s: %v", rec.Raw, err)
		}
		for _, a := range alerts {
			if v, ok := values[a.RuleID]; ok && bytes.Contains(rec.Raw, []byte("ops-automation-07")) {
				v[string(rec.Raw)] = true
			}
		}
	}
	if records != f.Records {
		t.Errorf("%d records read, the file says %d", records, f.Records)
	}
	for rule, v := range values {
		if len(v) != burstSize {
			t.Errorf("%s: %d of the burst's records are candidates, want %d", rule, len(v), burstSize)
		}
	}
}
