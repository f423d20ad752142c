package bench

import (
	"testing"

	"github.com/trailguard/trailguard/engine"
)

// BenchmarkPipeline is the log pipeline at GOMAXPROCS 1 with one rule set per
// sub-benchmark, not interleaved: it is the one to profile
// (-cpuprofile), since the interleaved benchmarks mix every set in one
// profile. Its figures do not compare across sub-benchmarks on a shared
// machine; BenchmarkRuleSets and BenchmarkFloorRatios give the ratios.
func BenchmarkPipeline(b *testing.B) {
	files := corpus()
	sets := []struct {
		name string
		opts []engine.Option
	}{
		{"24rules", []engine.Option{engine.WithPacks(packs24...)}},
		{"packs", nil},
		{"packs+sigmahq", []engine.Option{engine.WithSigma(sigmaHQDir)}},
		// The SigmaHQ rule that alerts on half the corpus, alone: its
		// profile against the packs' is the cost of an alert (profile-diff.sh).
		{"packs+assumerole", []engine.Option{engine.WithSigma(sigmaHQDir + "/aws_sts_assumerole_misuse.yml")}},
	}
	for _, s := range sets {
		b.Run(s.name, func(b *testing.B) {
			eng := cachedEngine(b, s.name, s.opts...)
			withProcs(1, func() {
				b.ReportAllocs()
				var events int64
				i := 0
				for b.Loop() {
					n, _ := evalFiles(b, files[i%len(files):i%len(files)+1], eng)
					events += n
					i++
				}
				b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			})
		})
	}
}
