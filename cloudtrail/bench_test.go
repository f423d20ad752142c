package cloudtrail_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
)

// BenchmarkReader is the log reader alone over one uncompressed delivery file
// of the benchmark corpus's records (bench/gen): "checked" as Next reads by
// default, validating each record, and "unchecked" as the pipeline reads,
// finding record boundaries only (the engine's decoding checks the records).
// It uses only the package's API, so bench/compare.sh runs it against older
// revisions too.
func BenchmarkReader(b *testing.B) {
	const records = 5000
	start := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	doc := gen.New(gen.Options{Seed: 1}).AppendLog(nil, records, "us-east-1", start, start.Add(gen.Delivery))
	for _, unchecked := range []bool{false, true} {
		name := "checked"
		if unchecked {
			name = "unchecked"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := cloudtrail.NewReader(bytes.NewReader(doc), "bench.json", cloudtrail.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if unchecked {
					r.Unchecked()
				}
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				r.Close()
				if n != records {
					b.Fatalf("%d records, want %d", n, records)
				}
			}
			b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
