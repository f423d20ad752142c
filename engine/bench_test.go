package engine_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// The engine's cost per event, next to the cost of merely decoding the same bytes
// with encoding/json into map[string]any (the baseline, measured in the same run).
// Compare with: go test -run '^$' -bench 'Event' -benchmem ./engine
//
// Each benchmark reports events/s; the ratio engine/baseline is what the README
// records, since absolute times on shared machines vary from run to run.

func benchEngine(b *testing.B) *engine.Engine {
	eng, err := engine.New(context.Background(), engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}))
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

func benchEvaluate(b *testing.B, rec cloudtrail.Record, wantAlerts int) {
	eng := benchEngine(b)
	ctx := context.Background()
	b.SetBytes(int64(len(rec.Raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		alerts, err := eng.Evaluate(ctx, rec)
		if err != nil || len(alerts) != wantAlerts {
			b.Fatalf("%d alerts, %v", len(alerts), err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchUnmarshal(b *testing.B, raw []byte) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkEventMatching(b *testing.B) {
	rec := createServer(b)
	b.Run("engine", func(b *testing.B) { benchEvaluate(b, rec, 2) })
	b.Run("baseline-json-unmarshal", func(b *testing.B) { benchUnmarshal(b, rec.Raw) })
}

func BenchmarkEventNonMatching(b *testing.B) {
	rec := cloudtrail.Record{Raw: []byte(readOnly)}
	b.Run("engine", func(b *testing.B) { benchEvaluate(b, rec, 0) })
	b.Run("baseline-json-unmarshal", func(b *testing.B) { benchUnmarshal(b, rec.Raw) })
}

// BenchmarkEventParts splits the engine's cost: decoding into OPA's value form,
// and evaluating the parsed input.
func BenchmarkEventParts(b *testing.B) {
	eng := benchEngine(b)
	for _, tc := range []struct {
		name string
		rec  cloudtrail.Record
	}{{"matching", createServer(b)}, {"non-matching", cloudtrail.Record{Raw: []byte(readOnly)}}} {
		b.Run(tc.name+"/decode", func(b *testing.B) {
			for b.Loop() {
				if _, err := engine.Parse(tc.rec); err != nil {
					b.Fatal(err)
				}
			}
		})
		in, err := engine.Parse(tc.rec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name+"/evaluate", func(b *testing.B) {
			for b.Loop() {
				if _, err := eng.EvaluateInput(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
