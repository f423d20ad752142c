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
