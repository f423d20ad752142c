// Command report reads `go test -bench` output (and the benchmark-format lines
// bench/cmd/soak and bench/cmd/peakrss print) and writes the performance
// table: each figure as the median over -count runs with its spread, and each
// ratio against its target, marked pass or miss. It never fails on a miss: the
// targets are goals to report, not assertions.
//
//	go run ./bench/cmd/report -machine "2 × Intel Xeon" bench/out/bench.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	machine := flag.String("machine", "", "machine description for the header (nproc, CPU model)")
	command := flag.String("command", "bench/run.sh", "the command that produced the input, for the header")
	note := flag.String("note", "", "a caveat printed under the header (machine load, say)")
	flag.Parse()
	set := newResults()
	if flag.NArg() == 0 {
		if err := set.parse(os.Stdin); err != nil {
			fatal(err)
		}
	}
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fatal(err)
		}
		err = set.parse(f)
		f.Close()
		if err != nil {
			fatal(fmt.Errorf("%s: %w", path, err))
		}
	}
	write(os.Stdout, set, header{machine: *machine, command: *command, note: *note, date: time.Now().UTC()})
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

// results holds every sample of every metric by benchmark name (without the
// -GOMAXPROCS suffix).
type results struct {
	samples map[string]map[string][]float64
	order   []string
	cpu     string
	goos    string
}

func newResults() *results { return &results{samples: map[string]map[string][]float64{}} }

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+(\d+)\s+(.+)$`)
)

func (r *results) parse(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "cpu: "):
			r.cpu = strings.TrimPrefix(line, "cpu: ")
			continue
		case strings.HasPrefix(line, "goos: "):
			r.goos = strings.TrimPrefix(line, "goos: ")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fields := strings.Fields(m[4])
		if len(fields)%2 != 0 {
			continue // a benchmark's own log output on the same line
		}
		name := m[1]
		metrics := map[string]float64{}
		ok := true
		for i := 0; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				ok = false
				break
			}
			metrics[fields[i+1]] = v
		}
		if !ok {
			continue
		}
		if r.samples[name] == nil {
			r.samples[name] = map[string][]float64{}
			r.order = append(r.order, name)
		}
		for unit, v := range metrics {
			r.samples[name][unit] = append(r.samples[name][unit], v)
		}
	}
	return sc.Err()
}

// stat is the median of a metric's samples and their spread.
type stat struct {
	median, min, max float64
	n                int
}

func (s stat) ok() bool { return s.n > 0 }

// spread is half the range as a share of the median.
func (s stat) spread() float64 {
	if s.median == 0 {
		return 0
	}
	return (s.max - s.min) / 2 / math.Abs(s.median)
}

func (r *results) get(name, unit string) stat {
	vs := slices.Clone(r.samples[name][unit])
	if len(vs) == 0 {
		return stat{}
	}
	slices.Sort(vs)
	med := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		med = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return stat{median: med, min: vs[0], max: vs[len(vs)-1], n: len(vs)}
}

// target is one goal: a ratio (or a value) and the bound it should meet.
type target struct {
	what   string
	how    string // how the figure is computed, for the table
	unit   string // "×" for ratios, else the value's unit
	bound  float64
	atMost bool
	// prefix, when set, names the benchmark by prefix; its suffix fills the
	// %s in what (the size of the input, say).
	prefix string
	value  func(r *results) (float64, bool)
}

func ratio(numName, numUnit, denName, denUnit string) func(r *results) (float64, bool) {
	return func(r *results) (float64, bool) {
		n, d := r.get(numName, numUnit), r.get(denName, denUnit)
		if !n.ok() || !d.ok() || d.median == 0 {
			return 0, false
		}
		return n.median / d.median, true
	}
}

// value is a metric's median; a name ending in / is a prefix.
func value(name, unit string) func(r *results) (float64, bool) {
	return func(r *results) (float64, bool) {
		n := name
		if strings.HasSuffix(name, "/") {
			n = r.first(name)
		}
		s := r.get(n, unit)
		return s.median, s.ok()
	}
}

// first is the first benchmark whose name starts with prefix.
func (r *results) first(prefix string) string {
	for _, n := range r.order {
		if strings.HasPrefix(n, prefix) {
			return n
		}
	}
	return ""
}

var targets = []target{
	{what: "Engine, matching event: time per event vs json.Unmarshal to a map", how: "EventMatching engine ÷ baseline-json-unmarshal (ns/op)",
		unit: "×", bound: 1.5, atMost: true,
		value: ratio("BenchmarkEventMatching/engine", "ns/op", "BenchmarkEventMatching/baseline-json-unmarshal", "ns/op")},
	{what: "Engine, non-matching event: time per event vs json.Unmarshal to a map", how: "EventNonMatching engine ÷ baseline-json-unmarshal (ns/op)",
		unit: "×", bound: 0.5, atMost: true,
		value: ratio("BenchmarkEventNonMatching/engine", "ns/op", "BenchmarkEventNonMatching/baseline-json-unmarshal", "ns/op")},
	{what: "Log file end to end, GOMAXPROCS 1 vs the floor (gunzip + json to map)", how: "LogFile trailguard-gomaxprocs1 ÷ floor-json-map (events/s)",
		unit: "×", bound: 0.5,
		value: ratio("BenchmarkLogFile/trailguard-gomaxprocs1", "events/s", "BenchmarkLogFile/floor-json-map", "events/s")},
	{what: "Log file end to end, GOMAXPROCS 2 vs GOMAXPROCS 1", how: "LogFile trailguard-gomaxprocs2 ÷ trailguard-gomaxprocs1 (events/s)",
		unit: "×", bound: 1.6,
		value: ratio("BenchmarkLogFile/trailguard-gomaxprocs2", "events/s", "BenchmarkLogFile/trailguard-gomaxprocs1", "events/s")},
	{what: "`trailguard eval` peak RSS on a %s uncompressed log", how: "EvalPeakRSS (MB)",
		unit: "MB", bound: 100, atMost: true, prefix: "BenchmarkEvalPeakRSS/",
		value: value("BenchmarkEvalPeakRSS/", "peak-RSS-MB")},
	{what: "Daemon (SQS + S3 + Slack) vs `trailguard eval` over the same files", how: "Daemon daemon-sqs-s3 ÷ eval-pipeline (events/s)",
		unit: "×", bound: 0.7,
		value: ratio("BenchmarkDaemon/daemon-sqs-s3", "events/s", "BenchmarkDaemon/eval-pipeline", "events/s")},
	{what: "SendMessage → alert at Slack, p99 over 50 small files", how: "DaemonLatency p99-ms",
		unit: "ms", bound: 250, atMost: true,
		value: value("BenchmarkDaemonLatency/sqs-to-slack", "p99-ms")},
	{what: "Engine vs the same rules in an OPA server (HTTP per event)", how: "OPAServer trailguard-engine ÷ opa-server-http (events/s)",
		unit: "×", bound: 20,
		value: ratio("BenchmarkOPAServer/trailguard-engine", "events/s", "BenchmarkOPAServer/opa-server-http", "events/s")},
	// The rule-set ratios are measured within each op, the sets interleaved
	// (bench/rulesets_test.go); the median is of the runs' ratios.
	{what: "Log pipeline, GOMAXPROCS 1: every built-in pack vs the original 24 rules", how: "RuleSets x-packs/24rules (events/s, interleaved)",
		unit: "×", bound: 0.9,
		value: value("BenchmarkRuleSets", "x-packs/24rules")},
	{what: "Log pipeline, GOMAXPROCS 1: built-in packs + SigmaHQ's 57 CloudTrail rules vs the packs alone", how: "RuleSets x-sigmahq/packs (events/s, interleaved)",
		unit: "×", bound: 0.8,
		value: value("BenchmarkRuleSets", "x-sigmahq/packs")},
	{what: "Non-matching event: cost with 200 rules vs 24", how: "NonMatchingRuleCount x-200/24rules (ns/event, interleaved)",
		unit: "×", bound: 1.2, atMost: true,
		value: value("BenchmarkNonMatchingRuleCount", "x-200/24rules")},
}

type header struct {
	machine, command, note string
	date                   time.Time
}

func write(w io.Writer, r *results, h header) {
	fmt.Fprintf(w, "## trailguard performance, %s\n\n", h.date.Format("2006-01-02"))
	machine := h.machine
	if machine == "" {
		machine = r.cpu
	}
	fmt.Fprintf(w, "Machine: %s", machine)
	if r.goos != "" {
		fmt.Fprintf(w, " (%s)", r.goos)
	}
	fmt.Fprintf(w, ". Command: `%s`.\n", h.command)
	if h.note != "" {
		fmt.Fprintf(w, "\n%s\n", h.note)
	}

	writeIssue16(w, r)

	fmt.Fprintf(w, "\n### Targets of earlier issues\n\n| what | measured | target | pass/miss |\n|---|---:|---:|---|\n")
	for _, t := range targets {
		writeRow(w, targetRow(r, t))
	}
	fmt.Fprintf(w, "\nComputed from the medians of the runs:\n")
	for i, t := range targets {
		fmt.Fprintf(w, "%d. %s\n", i+1, t.how)
	}

	fmt.Fprintf(w, "\n### Figures (median of the runs, ± half their range)\n\n| benchmark | events/s | MB/s | µs/event | other |\n|---|---:|---:|---:|---|\n")
	for _, name := range r.order {
		if strings.HasPrefix(name, "BenchmarkSoak") {
			continue
		}
		ev := r.get(name, "events/s")
		by := r.get(name, "bytes/s")
		cells := []string{strings.TrimPrefix(name, "Benchmark"), "", "", "", ""}
		if ev.ok() {
			cells[1] = fmt.Sprintf("%s ±%.0f%%", grouped(ev.median), 100*ev.spread())
			cells[3] = fmt.Sprintf("%.1f", 1e6/ev.median)
		} else if ns := r.get(name, "ns/op"); ns.ok() && strings.HasPrefix(name, "BenchmarkEvent") {
			cells[3] = fmt.Sprintf("%.1f", ns.median/1e3)
		}
		if by.ok() {
			cells[2] = fmt.Sprintf("%.1f", by.median/1e6)
		} else if mbs := r.get(name, "MB/s"); mbs.ok() {
			cells[2] = fmt.Sprintf("%.1f", mbs.median)
		}
		var other []string
		for _, unit := range sortedUnits(r.samples[name]) {
			switch unit {
			case "events/s", "bytes/s", "MB/s", "ns/op", "B/op", "allocs/op":
				continue
			}
			s := r.get(name, unit)
			other = append(other, fmt.Sprintf("%s %s", trim(s.median), unit))
		}
		if ns := r.get(name, "ns/op"); ns.ok() && len(other) == 0 && !ev.ok() {
			other = append(other, fmt.Sprintf("%s ns/op", trim(ns.median)))
		}
		if a := r.get(name, "allocs/op"); a.ok() {
			other = append(other, fmt.Sprintf("%s allocs/op", trim(a.median)))
		}
		cells[4] = strings.Join(other, ", ")
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}

	var soak []string
	for _, name := range r.order {
		if strings.HasPrefix(name, "BenchmarkSoak") {
			soak = append(soak, name)
		}
	}
	if len(soak) > 0 {
		fmt.Fprintf(w, "\n### Daemon at steady load\n\n| run | events/s | CPU | RSS start → max → end (MB) | RSS slope (MB/h) | goroutines start → max → end | backlog at end | stateful records at end | stateful fired / candidates | page requests (failed) |\n|---|---:|---:|---|---:|---|---:|---:|---:|---:|\n")
		for _, name := range soak {
			g := func(unit string) string {
				s := r.get(name, unit)
				if !s.ok() {
					return "—"
				}
				return trim(s.median)
			}
			fmt.Fprintf(w, "| %s | %s | %s%% | %s → %s → %s | %s | %s → %s → %s | %s | %s | %s / %s | %s (%s) |\n", strings.TrimPrefix(name, "BenchmarkSoak/"),
				g("events/s"), g("cpu-%"), g("rss-start-MB"), g("rss-max-MB"), g("rss-end-MB"), g("rss-slope-MB/h"),
				g("goroutines-start"), g("goroutines-max"), g("goroutines-end"), g("backlog-msgs"),
				g("stateful-records"), g("stateful-fired"), g("stateful-candidates"), g("web-requests"), g("web-errors"))
		}
	}
}

func sortedUnits(m map[string][]float64) []string {
	var out []string
	for u := range m {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

func bound(t target) string {
	op := "≥"
	if t.atMost {
		op = "≤"
	}
	if t.unit == "×" {
		return op + " " + trim(t.bound) + "×"
	}
	return op + " " + number(t.bound, t.unit)
}

func number(v float64, unit string) string {
	if unit == "×" {
		return fmt.Sprintf("%.2f×", v)
	}
	return trim(v) + " " + unit
}

// trim prints a figure with three significant digits or as an integer.
func trim(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e15:
		return grouped(v)
	case a >= 1000:
		return grouped(v)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// grouped prints an integer with commas between thousands.
func grouped(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(",")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
