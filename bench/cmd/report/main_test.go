package main

import (
	"strings"
	"testing"
	"time"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/trailguard/trailguard/engine
cpu: Intel(R) Xeon(R) Processor
BenchmarkEventMatching/engine-2         	   30000	     40000 ns/op	  65000 B/op	  25000 events/s
BenchmarkEventMatching/baseline-json-unmarshal-2   	   30000	     30000 ns/op	  33333 events/s
BenchmarkEventMatching/engine-2         	   30000	     44000 ns/op	  65000 B/op	  22727 events/s
BenchmarkEventMatching/baseline-json-unmarshal-2   	   30000	     32000 ns/op	  31250 events/s
BenchmarkLogFile/floor-json-map-2         	     927	   1751640 ns/op	  44424015 bytes/s	     30000 events/s	  415447 B/op	    7831 allocs/op
BenchmarkLogFile/trailguard-gomaxprocs1-2 	     784	   1533803 ns/op	  51200954 bytes/s	     10000 events/s	  428088 B/op	    4220 allocs/op
BenchmarkLogFile/trailguard-gomaxprocs2-2 	     752	   1623163 ns/op	  48467303 bytes/s	     18000 events/s	  427559 B/op	    4193 allocs/op
BenchmarkDaemonLatency/sqs-to-slack-2   	      50	   6195062 ns/op	         5.340 max-ms	         2.436 p50-ms	         5.340 p99-ms
BenchmarkSoak/daemon-rate10 1 30000000000 ns/op 45.1 rss-start-MB 52.3 rss-max-MB 50.0 rss-end-MB 12 goroutines-start 30 goroutines-max 13 goroutines-end 0 backlog-msgs 600 events/s 1.5 rss-slope-MB/h 12 cpu-%
BenchmarkRuleSets-2 	      50	  63070226 ns/op	     13592 events/s-24rules	      8659 events/s-packs	      1054 events/s-packs+sigmahq	         0.92 x-packs/24rules	         0.1217 x-sigmahq/packs
BenchmarkNonMatchingRuleCount-2   	      50	    340505 ns/op	     2000 ns/event-24rules	     2100 ns/event-200rules	         1.05 x-200/24rules
some log line Benchmark with text
PASS
`

func TestReport(t *testing.T) {
	r := newResults()
	if err := r.parse(strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	if s := r.get("BenchmarkEventMatching/engine", "ns/op"); s.n != 2 || s.median != 42000 {
		t.Fatalf("median of two runs: %+v", s)
	}
	if v, ok := targets[0].value(r); !ok || v != 42000.0/31000.0 {
		t.Fatalf("matching ratio %v %v", v, ok)
	}
	var out strings.Builder
	write(&out, r, header{machine: "2 × test CPU", command: "bench/run.sh", date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	for _, want := range []string{
		"| Engine, matching event: time per event vs json.Unmarshal to a map | 1.35× | ≤ 1.5× | pass |",
		"| Log file end to end, GOMAXPROCS 1 vs the floor (gunzip + json to map) | 0.33× | ≥ 0.5× | **miss** |",
		"| Log file end to end, GOMAXPROCS 2 vs GOMAXPROCS 1 | 1.80× | ≥ 1.6× | pass |",
		"| SendMessage → alert at Slack, p99 over 50 small files | 5.34 ms | ≤ 250 ms | pass |",
		"not measured",
		"| Log pipeline, GOMAXPROCS 1: every built-in pack vs the original 24 rules | 0.92× | ≥ 0.9× | pass |",
		"| Log pipeline, GOMAXPROCS 1: built-in packs + SigmaHQ's 57 CloudTrail rules vs the packs alone | 0.12× | ≥ 0.8× | **miss** |",
		"| Non-matching event: cost with 200 rules vs 24 | 1.05× | ≤ 1.2× | pass |",
		"| LogFile/floor-json-map | 30,000 ±0% | 44.4 | 33.3 |",
		"| daemon-rate10 | 600 | 12% | 45.1 → 52.3 → 50 | 1.5 | 12 → 30 → 13 | 0 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

const sample16 = `BenchmarkFloorRatios-2 	 300	 5000000 ns/op	 9000 events/s-floor	 30000 events/s-packs	 10000 events/s-packs+sigmahq	 3.3 x-packs/floor	 1.1 x-sigmahq/floor
BenchmarkFloorRatios-2 	 300	 5000000 ns/op	 9000 events/s-floor	 30000 events/s-packs	 10000 events/s-packs+sigmahq	 3.1 x-packs/floor	 1.2 x-sigmahq/floor
BenchmarkFloorRatios-2 	 300	 5000000 ns/op	 9000 events/s-floor	 30000 events/s-packs	 10000 events/s-packs+sigmahq	 2.9 x-packs/floor	 1.3 x-sigmahq/floor
BenchmarkProcsScaling-2 	 13	 85364839 ns/op	 13606 events/s-gomaxprocs1	 14592 events/s-gomaxprocs2	 1.072 x-gomaxprocs2/1
BenchmarkNonMatchingRuleCount-2 	 50	 340505 ns/op	 2000 ns/event-24rules	 1000 ns/event-50rules	 2100 ns/event-200rules	 2600 ns/event-400rules	 1.05 x-200/24rules	 1.3 x-400/24rules
BenchmarkMatchingEvent-2 	 2396	 496710 ns/op	 2 alerts/event	 435531 ns/event-engine	 60934 ns/event-json-unmarshal	 2.5 x-engine/unmarshal
BenchmarkStatefulCandidate/threshold-2 	 1000	 5000 ns/op	 1.5 x-sqlite/stateless
BenchmarkStatefulCandidate/sequence-2 	 1000	 5000 ns/op	 2.5 x-sqlite/stateless
BenchmarkEvalPeakRSS/100MiB 	 1	 2000000000 ns/op	 48.4 peak-RSS-MB
BenchmarkSoak/rate50-10m0s	1	600000000000 ns/op	48.2 rss-first-MB	62.9 rss-start-MB	70.9 rss-max-MB	70.0 rss-end-MB	24 goroutines-first	51 goroutines-start	64 goroutines-max	62 goroutines-end	0 backlog-msgs	2948 events/s	63 cpu-%	30000 notifications	225 stateful-records	5 stateful-rules	3620 stateful-candidates	14 stateful-fired	456 slack-posts	600 duration-s	200 web-requests	0 web-errors	294.3 web-max-ms
`

func TestIssue16(t *testing.T) {
	r := newResults()
	if err := r.parse(strings.NewReader(sample16)); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	write(&out, r, header{date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	for _, want := range []string{
		"### Issue 16 targets",
		"| Log pipeline, every built-in pack, vs the floor (gunzip + `encoding/json` to maps), GOMAXPROCS 1 | 3.10× | ≥ 3× | pass |",
		"| The same with SigmaHQ's 57 CloudTrail rules loaded too | 1.20× | ≥ 2.5× | **miss** |",
		"| Log pipeline, every built-in pack: GOMAXPROCS 2 vs its own GOMAXPROCS 1 | 1.07× | ≥ 1.8× | **miss** |",
		"| Non-matching record: cost with 400 rules vs 24 (table below) | 1.30× | ≤ 1.2× | **miss** |",
		"against every rule it can match vs `json.Unmarshal` of that record | 2.50× | ≤ 3× | pass |",
		"| Stateful candidate on SQLite vs a stateless candidate: StatefulCandidate/threshold `x-sqlite/stateless` | 1.50× | ≤ 2× | pass |",
		"| Stateful candidate on SQLite vs a stateless candidate: StatefulCandidate/sequence `x-sqlite/stateless` | 2.50× | ≤ 2× | **miss** |",
		"| `trailguard eval` peak RSS on a 100MiB uncompressed log | 48.4 MB | ≤ 64 MB | pass |",
		"(10 min at 50 files/s; 5 stateful rules: 3,620 candidates, 14 fired; page: 200 requests, 0 failed, slowest 294 ms) | 62.9 → 70 MB (first 48.2, max 70.9) | end ≤ 1.1 × after warm-up + 5 MB, over 10 min | pass |",
		"| 51 → 62 (first 24, max 64) | end ≤ 1.1 × after warm-up + 5, over 10 min | **miss** |", // 62 > 1.1 × 51 + 5
		"| rules | 24 | 50 | 200 | 400 |",
		"| µs per non-matching record | 2 | 1 | 2.1 | 2.6 |",
		"| × 24 rules (same run) | 1.00× | 0.50× | 1.05× | 1.30× |",
		"### Targets of earlier issues",
		"| Non-matching event: cost with 200 rules vs 24 | 1.05× | ≤ 1.2× | pass |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// Without the stateful benchmark and with a short soak without the page.
	r = newResults()
	if err := r.parse(strings.NewReader(`BenchmarkSoak/rate50-15s	1	15000000000 ns/op	48 rss-first-MB	60 rss-start-MB	61 rss-max-MB	60 rss-end-MB	24 goroutines-first	51 goroutines-start	64 goroutines-max	51 goroutines-end	501 backlog-msgs	5 stateful-rules	100 stateful-candidates	2 stateful-fired	15 duration-s
`)); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	write(&out, r, header{date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	for _, want := range []string{
		"| Stateful candidates (threshold / new value / sequence) on SQLite vs a stateless candidate | not measured | ≤ 2× | — |",
		"| **miss**: the page was not open, 501 notifications waiting at the end (the daemon did not keep up), shorter than 10 min |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
