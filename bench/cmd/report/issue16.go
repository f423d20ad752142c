package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// issue16 are the targets of issue 16 (performance, second round), each a
// ratio measured within one benchmark run, the two sides interleaved, or a
// process measurement of the same bench/run.sh run. The stateful rows
// (statefulTargets) and the soak's (soakRows) are added where they stand in
// the issue's list.
var issue16 = []target{
	{what: "Log pipeline, every built-in pack, vs the floor (gunzip + `encoding/json` to maps), GOMAXPROCS 1",
		how: "FloorRatios x-packs/floor (events/s, interleaved)", unit: "×", bound: 3,
		value: value("BenchmarkFloorRatios", "x-packs/floor")},
	{what: "The same with SigmaHQ's 57 CloudTrail rules loaded too",
		how: "FloorRatios x-sigmahq/floor (events/s, interleaved)", unit: "×", bound: 2.5,
		value: value("BenchmarkFloorRatios", "x-sigmahq/floor")},
	{what: "Log pipeline, every built-in pack: GOMAXPROCS 2 vs its own GOMAXPROCS 1",
		how: "ProcsScaling x-gomaxprocs2/1 (events/s, interleaved)", unit: "×", bound: 1.8,
		value: value("BenchmarkProcsScaling", "x-gomaxprocs2/1")},
	{what: "Non-matching record: cost with 400 rules vs 24 (table below)",
		how: "NonMatchingRuleCount x-400/24rules (ns/event, interleaved)", unit: "×", bound: 1.2, atMost: true,
		value: value("BenchmarkNonMatchingRuleCount", "x-400/24rules")},
	{what: "Matching event (OpsWorks CM `CreateServer`) against every rule it can match vs `json.Unmarshal` of that record",
		how: "MatchingEvent x-engine/unmarshal (ns/event, interleaved)", unit: "×", bound: 3, atMost: true,
		value: value("BenchmarkMatchingEvent", "x-engine/unmarshal")},
	// statefulTargets go here.
	{what: "`trailguard eval` peak RSS on a %s uncompressed log", how: "EvalPeakRSS (MB)",
		unit: "MB", bound: 64, atMost: true, prefix: "BenchmarkEvalPeakRSS/",
		value: value("BenchmarkEvalPeakRSS/", "peak-RSS-MB")},
	// soakRows go here.
}

// statefulPrefix starts the metrics rules' BenchmarkStatefulCandidate
// reports for a stateful candidate on SQLite against a stateless one.
const statefulPrefix = "x-sqlite/"

// statefulTargets is one target per x-sqlite/… metric found, whatever
// benchmark reports it (one per primitive), or one not measured.
func statefulTargets(r *results) []target {
	var out []target
	for _, name := range r.order {
		for _, unit := range sortedUnits(r.samples[name]) {
			if !strings.HasPrefix(unit, statefulPrefix) {
				continue
			}
			out = append(out, target{
				what: fmt.Sprintf("Stateful candidate on SQLite vs a stateless candidate: %s `%s`", strings.TrimPrefix(name, "Benchmark"), unit),
				how:  fmt.Sprintf("%s %s", strings.TrimPrefix(name, "Benchmark"), unit),
				unit: "×", bound: 2, atMost: true, value: value(name, unit),
			})
		}
	}
	if len(out) == 0 {
		out = append(out, target{
			what: "Stateful candidates (threshold / new value / sequence) on SQLite vs a stateless candidate",
			how:  "StatefulCandidate (rules) x-sqlite/… metrics",
			unit: "×", bound: 2, atMost: true,
			value: func(*results) (float64, bool) { return 0, false },
		})
	}
	return out
}

// row is one line of a targets table.
type row struct{ what, measured, target, verdict string }

func targetRow(r *results, t target) row {
	if t.prefix != "" {
		size := "1 GiB"
		if n := r.first(t.prefix); n != "" {
			size = strings.TrimPrefix(n, t.prefix)
		}
		t.what = fmt.Sprintf(t.what, size)
	}
	v, ok := t.value(r)
	if !ok {
		return row{t.what, "not measured", bound(t), "—"}
	}
	pass := v >= t.bound
	if t.atMost {
		pass = v <= t.bound
	}
	return row{t.what, number(v, t.unit), bound(t), verdict(pass)}
}

func verdict(pass bool) string {
	if pass {
		return "pass"
	}
	return "**miss**"
}

// The soak's "flat" rule: the value at the end of the run is at most 10%
// plus a margin above the value after the warm-up (the first tenth of the
// run, when the history, the state and the pools fill), over the issue's
// 10 minutes.
const (
	flatShare     = 1.10
	flatRSSMB     = 5
	flatGoroutine = 5
	soakMinutes   = 10
)

// soakRows are the daemon's RSS and goroutines over the soak, with what
// the soak ran with: stateful rules counting and firing, the web page open.
func soakRows(r *results) []row {
	name := r.first("BenchmarkSoak/")
	rssWhat := "Daemon RSS flat over a 10-minute soak with stateful rules and the web page open"
	gWhat := "Daemon goroutines flat over the same soak"
	rssTarget := fmt.Sprintf("end ≤ %.1f × after warm-up + %d MB, over %d min", flatShare, flatRSSMB, soakMinutes)
	gTarget := fmt.Sprintf("end ≤ %.1f × after warm-up + %d, over %d min", flatShare, flatGoroutine, soakMinutes)
	if name == "" {
		return []row{{rssWhat, "not measured", rssTarget, "—"}, {gWhat, "not measured", gTarget, "—"}}
	}
	m := func(unit string) (float64, bool) {
		s := r.get(name, unit)
		return s.median, s.ok()
	}
	// What the soak ran with; a missing condition is a miss whatever the
	// figures, since the target is about that load.
	var conds, lacks []string
	dur, _ := m("duration-s")
	rate, _, _ := strings.Cut(strings.TrimPrefix(name, "BenchmarkSoak/rate"), "-")
	conds = append(conds, fmt.Sprintf("%s at %s files/s", minutes(dur), rate))
	if cand, ok := m("stateful-candidates"); ok {
		fired, _ := m("stateful-fired")
		rules, _ := m("stateful-rules")
		conds = append(conds, fmt.Sprintf("%s stateful rules: %s candidates, %s fired", trim(rules), trim(cand), trim(fired)))
		if cand == 0 || fired == 0 {
			lacks = append(lacks, "no stateful rule fired")
		}
	} else {
		lacks = append(lacks, "stateful rules not measured")
	}
	if req, ok := m("web-requests"); ok && req > 0 {
		errs, _ := m("web-errors")
		slow, _ := m("web-max-ms")
		conds = append(conds, fmt.Sprintf("page: %s requests, %s failed, slowest %s ms", trim(req), trim(errs), trim(slow)))
		if errs > 0 {
			lacks = append(lacks, "page requests failed")
		}
	} else {
		lacks = append(lacks, "the page was not open")
	}
	// A growing queue means the machine did not keep up with the load, and
	// memory held for the backlog is not a leak: more than ten seconds of
	// notifications waiting at the end confounds the figures.
	if backlog, ok := m("backlog-msgs"); ok {
		if r, err := strconv.ParseFloat(rate, 64); err == nil && backlog > 10*r {
			lacks = append(lacks, fmt.Sprintf("%s notifications waiting at the end (the daemon did not keep up)", trim(backlog)))
		}
	}
	if dur < soakMinutes*60 {
		lacks = append(lacks, "shorter than 10 min")
	}
	cond := " (" + strings.Join(conds, "; ") + ")"

	// flat reads METRIC-start-SUFFIX and its kin.
	flat := func(what, metric, suffix, target string, margin float64) row {
		start, ok1 := m(metric + "-start" + suffix)
		end, ok2 := m(metric + "-end" + suffix)
		mx, _ := m(metric + "-max" + suffix)
		first, _ := m(metric + "-first" + suffix)
		if !ok1 || !ok2 {
			return row{what, "not measured", target, "—"}
		}
		if suffix != "" {
			suffix = " " + strings.TrimPrefix(suffix, "-")
		}
		measured := fmt.Sprintf("%s → %s%s (first %s, max %s)", trim(start), trim(end), suffix, trim(first), trim(mx))
		v := verdict(end <= flatShare*start+margin)
		if len(lacks) > 0 {
			v = "**miss**: " + strings.Join(lacks, ", ")
		}
		return row{what + cond, measured, target, v}
	}
	return []row{
		flat(rssWhat, "rss", "-MB", rssTarget, flatRSSMB),
		flat(gWhat, "goroutines", "", gTarget, flatGoroutine),
	}
}

func minutes(sec float64) string {
	if sec >= 60 {
		return fmt.Sprintf("%s min", trim(sec/60))
	}
	return fmt.Sprintf("%s s", trim(sec))
}

// ruleCounts are the rule sets of BenchmarkNonMatchingRuleCount, in order.
var ruleCounts = []struct{ set, label string }{
	{"24rules", "24"}, {"50rules", "50"}, {"100rules", "100"}, {"200rules", "200"}, {"400rules", "400"},
	{"packs", "every pack"}, {"packs+sigmahq", "packs + SigmaHQ"},
}

// writeRuleCount is the non-matching record's cost against the rule count:
// the median ns/event of each set and the median over the runs of its
// ratio to the 24 rules within the same run.
func writeRuleCount(w io.Writer, r *results) {
	const name = "BenchmarkNonMatchingRuleCount"
	base := r.samples[name]["ns/event-24rules"]
	if len(base) == 0 {
		return
	}
	head, cost, ratio := []string{"rules"}, []string{"µs per non-matching record"}, []string{"× 24 rules (same run)"}
	for _, c := range ruleCounts {
		s := r.get(name, "ns/event-"+c.set)
		if !s.ok() {
			continue
		}
		head = append(head, c.label)
		cost = append(cost, trim(s.median/1e3))
		var rs []float64
		for i, v := range r.samples[name]["ns/event-"+c.set] {
			if i < len(base) && base[i] > 0 {
				rs = append(rs, v/base[i])
			}
		}
		ratio = append(ratio, fmt.Sprintf("%.2f×", median(rs)))
	}
	fmt.Fprintf(w, "\nNon-matching record (`ec2` `DescribeInstances`) against the rule count (synthetic rules of the usual indexed shape added to the 24):\n\n")
	fmt.Fprintf(w, "| %s |\n|---|%s\n", strings.Join(head, " | "), strings.Repeat("---:|", len(head)-1))
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(cost, " | "), strings.Join(ratio, " | "))
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	if len(vs)%2 == 0 {
		return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return vs[len(vs)/2]
}

// writeIssue16 is issue 16's table: every target, measured in this run.
func writeIssue16(w io.Writer, r *results) {
	var ts []target
	for _, t := range issue16 {
		if t.prefix == "BenchmarkEvalPeakRSS/" {
			ts = append(ts, statefulTargets(r)...)
		}
		ts = append(ts, t)
	}
	fmt.Fprintf(w, "\n### Issue 16 targets\n\n| what | measured | target | pass/miss |\n|---|---:|---:|---|\n")
	for _, t := range ts {
		writeRow(w, targetRow(r, t))
	}
	for _, rw := range soakRows(r) {
		writeRow(w, rw)
	}
	fmt.Fprintf(w, "\nComputed from the medians of the runs:\n")
	for i, t := range ts {
		fmt.Fprintf(w, "%d. %s\n", i+1, t.how)
	}
	fmt.Fprintf(w, "%d. Soak (bench/cmd/soak): RSS (VmRSS) and goroutines (go_goroutines) after the warm-up (the first tenth of the run) and at the end; flat when the end is within %.0f%% plus the margin of the value after warm-up\n",
		len(ts)+1, 100*(flatShare-1))
	writeRuleCount(w, r)
}

func writeRow(w io.Writer, rw row) {
	fmt.Fprintf(w, "| %s | %s | %s | %s |\n", rw.what, rw.measured, rw.target, rw.verdict)
}
