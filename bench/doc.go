// Package bench is trailguard's performance suite. It holds only benchmarks
// (in its _test.go files) and the tools around them:
//
//   - gen: a seeded generator of realistic CloudTrail records and log files;
//   - cmd/gen: writes them to disk (delivery files, one large file, a 1 GB file);
//   - cmd/soak: runs the trailguard daemon at steady load and samples its RSS
//     and goroutines;
//   - cmd/peakrss: runs a command and reports its peak RSS;
//   - cmd/report: turns `go test -bench` output into the table of figures,
//     ratios and targets;
//   - run.sh: runs all of it (see README.md in this directory).
//
// Each benchmark runs next to its baseline in the same `go test` run, and
// reports events/s (and bytes/s) with b.ReportMetric, so that ratios, not
// absolute times, are compared across machines. No benchmark asserts a time.
package bench
