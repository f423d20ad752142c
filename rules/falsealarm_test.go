package rules_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/notifiers/dispatch"
)

// falseAlarmRecords is how much of bench/gen's traffic the false-alarm test
// reads: enough for a rate of 1 per 10,000 to mean 5 alerts.
const falseAlarmRecords = 50_000

// maxThreatsPer10k is the threats pack's budget of alerts on ordinary
// traffic (issue 12).
const maxThreatsPer10k = 1.0

// generatedRecords draws n records of one simulated account's everyday mix
// (bench/gen): reads, writes, service calls, console sign-ins, refused calls
// and the occasional CIS-watched change, a second apart across its regions.
// Each record comes with its kind.
func generatedRecords(n int) ([]cloudtrail.Record, []gen.Kind) {
	g := gen.New(gen.Options{Seed: 12})
	regions := gen.Regions()
	t := gen.DefaultStart
	out := make([]cloudtrail.Record, n)
	kinds := make([]gen.Kind, n)
	for i := range out {
		raw := g.AppendRecord(nil, regions[i%len(regions)], t)
		out[i] = cloudtrail.Record{Raw: raw, Source: "gen", Index: i}
		kinds[i] = g.LastKind()
		t = t.Add(time.Second)
	}
	return out, kinds
}

// TestFalseAlarms replays generated traffic and reports, per rule, alerts per
// 10,000 records; the threats pack must stay within maxThreatsPer10k on
// ordinary records. The generator's "CIS change" records (0.3%: security
// group rules, IAM policies, routes, bucket policies, written so that the CIS
// alarms have something to report, some opening RDP or SSH to 0.0.0.0/0) are
// alertable changes by design, not ordinary traffic: alerts on them are
// counted and reported apart, and kept out of the budget. One example alert
// per rule is logged, so a reader can judge each.
func TestFalseAlarms(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx,
		engine.WithPacks("opsworkscm", "aws", "threats"),
		engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8", "192.168.0.0/16"}}))
	if err != nil {
		t.Fatal(err)
	}
	n := falseAlarmRecords
	if testing.Short() {
		n /= 5
	}
	recs, kinds := generatedRecords(n)
	ordinary, onChanges := map[string]int{}, map[string]int{}
	examples := map[string]string{}
	changes := 0
	isChange := false
	// Stateful rules count their candidates as the daemon does; what they
	// report is their firings, on the record that made them fire.
	out, err := dispatch.NewReplay(nil, func(a *alert.Alert) error {
		if isChange {
			onChanges[a.RuleID]++
		} else {
			ordinary[a.RuleID]++
		}
		if _, ok := examples[a.RuleID]; !ok {
			examples[a.RuleID] = a.Message
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		alerts, err := eng.Evaluate(ctx, rec)
		if err != nil {
			t.Fatalf("record %d: %v", rec.Index, err)
		}
		isChange = kinds[i] == gen.KindCISChange
		if isChange {
			changes++
		}
		for _, a := range alerts {
			if err := out.Alert(ctx, &a); err != nil {
				t.Fatalf("record %d: %v", rec.Index, err)
			}
		}
	}
	per10k := func(alerts, records int) float64 { return float64(alerts) * 10_000 / float64(records) }

	ids := map[string]bool{}
	for _, id := range threatsIDs {
		ids[id] = true
	}
	for id := range ordinary {
		ids[id] = true
	}
	for id := range onChanges {
		ids[id] = true
	}
	var lines []string
	threats, threatsOnChanges := 0, 0
	for id := range ids {
		if strings.HasPrefix(id, "threats.") {
			threats += ordinary[id]
			threatsOnChanges += onChanges[id]
		}
		lines = append(lines, fmt.Sprintf("%-48s %6.2f %6.2f", id, per10k(ordinary[id], n-changes), per10k(ordinary[id]+onChanges[id], n)))
	}
	sort.Strings(lines)
	t.Logf("%d generated records, %d of them CIS changes; alerts per 10,000 ordinary records, and per 10,000 records of all kinds:\n%s",
		n, changes, strings.Join(lines, "\n"))
	t.Logf("threats pack: %d alerts on %d ordinary records (%.2f per 10,000), %d on the %d CIS changes (%.2f per 10,000 records of all kinds)",
		threats, n-changes, per10k(threats, n-changes), threatsOnChanges, changes, per10k(threats+threatsOnChanges, n))
	for id, msg := range examples {
		if strings.HasPrefix(id, "threats.") {
			t.Logf("example %s: %s", id, msg)
		}
	}
	if got := per10k(threats, n-changes); got > maxThreatsPer10k {
		t.Errorf("the threats pack raised %.2f alerts per 10,000 ordinary records, want at most %.1f", got, maxThreatsPer10k)
	}
}

// BenchmarkGeneratedTraffic measures the three packs over ordinary traffic,
// per record: the engine alone, and with the stateful rules' candidates
// counted as the daemon counts them (dispatch.Replay) in memory and in
// SQLite, which is what the stateful rules add to a record's cost.
func BenchmarkGeneratedTraffic(b *testing.B) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("opsworkscm", "aws", "threats"))
	if err != nil {
		b.Fatal(err)
	}
	recs, _ := generatedRecords(10_000)
	for _, backend := range []string{"", "memory", "sqlite"} {
		name := "engine"
		if backend != "" {
			name = "engine+stateful/" + backend
		}
		b.Run(name, func(b *testing.B) {
			out := func(context.Context, *alert.Alert) error { return nil }
			if backend != "" {
				r, err := dispatch.NewReplay(benchRecords(b, backend), func(*alert.Alert) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				out = r.Alert
			}
			i := 0
			for b.Loop() {
				alerts, err := eng.Evaluate(ctx, recs[i%len(recs)])
				if err != nil {
					b.Fatal(err)
				}
				for _, a := range alerts {
					if err := out(ctx, &a); err != nil {
						b.Fatal(err)
					}
				}
				i++
			}
		})
	}
}
