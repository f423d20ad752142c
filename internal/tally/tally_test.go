package tally

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/alert"
)

func TestReportNoisiestFirst(t *testing.T) {
	var tl Tally
	event := 0
	add := func(rule string, s alert.Severity, n int) {
		for range n {
			event++
			tl.Add(&alert.Alert{RuleID: rule, Severity: s, EventID: fmt.Sprint(event)})
		}
	}
	add("b.low", alert.Low, 50)
	add("a.crit", alert.Critical, 1)
	add("c.high", alert.High, 3)
	add("d.high", alert.High, 3)
	add("c.high", alert.Critical, 1) // an alert may raise its rule's severity

	var b strings.Builder
	if err := tl.Report(&b, alert.Severity.String); err != nil {
		t.Fatal(err)
	}
	want := "alerts by severity: 2 critical, 6 high, 50 low\n" +
		"alerts by rule:\n" +
		"     50  low b.low\n" +
		"      4  critical c.high\n" +
		"      3  high d.high\n" +
		"      1  critical a.crit\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if tl.Total() != 58 {
		t.Errorf("Total() = %d", tl.Total())
	}
}

func TestReportCapsRulesAndIsSilentWhenEmpty(t *testing.T) {
	var tl Tally
	var b strings.Builder
	if err := tl.Report(&b, alert.Severity.String); err != nil || b.Len() != 0 {
		t.Fatalf("empty tally wrote %q, %v", b.String(), err)
	}
	var wg sync.WaitGroup
	for i := range MaxRules + 5 {
		wg.Go(func() {
			tl.Add(&alert.Alert{RuleID: "r" + string(rune('A'+i)), Severity: alert.Medium})
			tl.Add(&alert.Alert{RuleID: "r" + string(rune('A'+i)), Severity: alert.Medium})
		})
	}
	wg.Wait()
	if err := tl.Report(&b, alert.Severity.String); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2+MaxRules+1 || lines[len(lines)-1] != "     10  in 5 more rules" {
		t.Errorf("got\n%s", b.String())
	}
}

// TestAlertThatComesBackCountsOnce: with AddOnce, the same rule on the same
// event, handled again (its message redelivered), is one alert; after
// RecentKeys other alerts it is forgotten, so the memory stays bounded. Add
// counts every alert (eval prints the same event of two sample files twice).
func TestAlertThatComesBackCountsOnce(t *testing.T) {
	var tl Tally
	a := &alert.Alert{RuleID: "aws.root_usage", Severity: alert.Critical, EventID: "e1"}
	tl.AddOnce(a)
	tl.AddOnce(&alert.Alert{RuleID: "aws.root_usage", Severity: alert.Critical, EventID: "e1"})
	tl.AddOnce(&alert.Alert{RuleID: "aws.other", Severity: alert.Low, EventID: "e1"})
	// Without an eventID an alert is known by its record's bytes.
	tl.AddOnce(&alert.Alert{RuleID: "aws.x", Raw: []byte(`{"a": 1}`)})
	tl.AddOnce(&alert.Alert{RuleID: "aws.x", Raw: []byte(`{"a":1}`)})
	tl.AddOnce(&alert.Alert{RuleID: "aws.x", Raw: []byte(`{"a":2}`)})
	if tl.Total() != 4 {
		t.Fatalf("Total() = %d, want 4", tl.Total())
	}
	for i := range RecentKeys {
		tl.AddOnce(&alert.Alert{RuleID: "bulk", EventID: fmt.Sprint(i)})
	}
	tl.AddOnce(a) // forgotten by now: counted again
	if want := 4 + RecentKeys + 1; tl.Total() != want {
		t.Errorf("Total() = %d, want %d", tl.Total(), want)
	}
	if len(tl.seen) != RecentKeys || len(tl.order) != RecentKeys {
		t.Errorf("%d keys remembered, %d in order; want %d", len(tl.seen), len(tl.order), RecentKeys)
	}
	var all Tally
	all.Add(a)
	all.Add(a)
	if all.Total() != 2 {
		t.Errorf("Add counted %d of 2", all.Total())
	}
}
