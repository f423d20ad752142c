package tally

import (
	"strings"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/alert"
)

func TestReportNoisiestFirst(t *testing.T) {
	var tl Tally
	add := func(rule string, s alert.Severity, n int) {
		for range n {
			tl.Add(&alert.Alert{RuleID: rule, Severity: s})
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
