package alert

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/attack"
)

// resetRuleJSONs empties the cache of rules' encodings.
func resetRuleJSONs() {
	ruleJSONs.mu.Lock()
	defer ruleJSONs.mu.Unlock()
	ruleJSONs.m = nil
}

func cachedRuleJSON(id string) *ruleJSON {
	ruleJSONs.mu.RLock()
	defer ruleJSONs.mu.RUnlock()
	return ruleJSONs.m[id]
}

func sigmaAlert() *Alert {
	return &Alert{
		RuleID: "sigma.905d389b", Title: "AWS STS AssumeRole Misuse", Severity: Low,
		Description: "Identifies the suspicious use of AssumeRole.\nAttackers could move \"laterally\".",
		Message:     "AWS STS AssumeRole Misuse: arn:aws:sts::1:assumed-role/app/s called ec2:DescribeInstances",
		Tags:        []string{"attack.lateral-movement", "attack.t1548", "attack.t1550.001"},
		Runbook:     "https://runbooks.example/assume-role",
		References:  []string{"https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"},
		Attack:      []attack.Mapping{{Tactic: "TA0004", Technique: "T1548"}, {Tactic: "TA0008"}},
		EventID:     "e-1", Principal: "arn:aws:sts::1:assumed-role/app/s",
	}
}

func checkJSON(t *testing.T, what string, a *Alert) {
	t.Helper()
	got, err := a.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := encodingJSON(t, a); !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// TestRuleJSONIsKeptAndChecked: a rule's fields are encoded once and kept
// for its next alerts, and an alert whose rule fields differ from those the
// encoding was made from (a reload, a field changed after the engine, an
// element of a slice changed in place) is encoded from its own.
func TestRuleJSONIsKeptAndChecked(t *testing.T) {
	resetRuleJSONs()
	a := sigmaAlert()
	checkJSON(t, "first alert", a)
	r := cachedRuleJSON(a.RuleID)
	if r == nil {
		t.Fatal("the rule's encoding was not kept")
	}
	b := *a
	b.Severity, b.Message, b.EventID = Critical, "another message", "e-2"
	checkJSON(t, "second alert", &b)
	if cachedRuleJSON(a.RuleID) != r {
		t.Error("an alert of the same rule made a new encoding")
	}
	for name, change := range map[string]func(*Alert){
		"title":             func(a *Alert) { a.Title = "Other" },
		"description":       func(a *Alert) { a.Description = "" },
		"runbook":           func(a *Alert) { a.Runbook += "#2" },
		"tag in place":      func(a *Alert) { a.Tags[1] = "attack.t9999" },
		"tags":              func(a *Alert) { a.Tags = a.Tags[:2] },
		"no tags":           func(a *Alert) { a.Tags = nil },
		"reference added":   func(a *Alert) { a.References = append(slices.Clone(a.References), "<x>") },
		"mapping in place":  func(a *Alert) { a.Attack[1].Technique = "T1550" },
		"mappings":          func(a *Alert) { a.Attack = nil },
		"rule id":           func(a *Alert) { a.RuleID = "sigma.other" },
		"escapes and UTF-8": func(a *Alert) { a.Title = "caf\u00e9 \xff\u2028 <&>" },
	} {
		// The change is made to the alert the encoding was made from, its
		// slices included.
		resetRuleJSONs()
		c := sigmaAlert()
		checkJSON(t, name+" (before)", c) // the encoding is made from c
		change(c)
		checkJSON(t, name, c)
		checkJSON(t, name+" (again)", c)
		checkJSON(t, name+" (and back)", sigmaAlert())
	}
	// Two versions of a rule, alternating.
	r1, r2 := sigmaAlert(), sigmaAlert()
	r2.Description = "v2"
	for i := range 4 {
		checkJSON(t, fmt.Sprintf("version 1, %d", i), r1)
		checkJSON(t, fmt.Sprintf("version 2, %d", i), r2)
	}
	// Random alerts, each twice: made, then from the cache.
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		a := randAlert(rnd)
		checkJSON(t, fmt.Sprintf("random alert %d", i), a)
		checkJSON(t, fmt.Sprintf("random alert %d again", i), a)
	}
}

// TestRuleJSONCacheIsBounded: past maxRuleJSON rules, the cache keeps what
// it has, and the others' alerts are encoded all the same.
func TestRuleJSONCacheIsBounded(t *testing.T) {
	resetRuleJSONs()
	t.Cleanup(resetRuleJSONs)
	a := sigmaAlert()
	for i := range maxRuleJSON + 50 {
		a.RuleID = fmt.Sprintf("rule-%d", i)
		if i < 5 || i > maxRuleJSON-5 {
			checkJSON(t, a.RuleID, a)
		} else if _, err := a.AppendJSON(nil); err != nil {
			t.Fatal(err)
		}
	}
	ruleJSONs.mu.RLock()
	n := len(ruleJSONs.m)
	ruleJSONs.mu.RUnlock()
	if n != maxRuleJSON {
		t.Errorf("the cache holds %d rules, want %d", n, maxRuleJSON)
	}
	if cachedRuleJSON(fmt.Sprintf("rule-%d", maxRuleJSON+10)) != nil {
		t.Error("a rule past the bound was kept")
	}
	// Nor does it make an encoding for them, to throw it away.
	a.RuleID = "rule-past-the-bound"
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(10, func() { _, _ = a.AppendJSON(buf) }); n != 0 {
		t.Errorf("%v allocations to encode an alert of a rule past the bound, want 0", n)
	}
	// A rule it holds is still replaced when its fields change.
	a.RuleID, a.Title = "rule-1", "changed"
	checkJSON(t, "changed rule in a full cache", a)
	if r := cachedRuleJSON("rule-1"); r == nil || r.title != "changed" {
		t.Error("a changed rule's encoding was not replaced in a full cache")
	}
}

// TestRuleJSONConcurrent: alerts of the same rules, in two versions, encoded
// from several goroutines at once (run with -race).
func TestRuleJSONConcurrent(t *testing.T) {
	resetRuleJSONs()
	var alerts []*Alert
	for i := range 8 {
		a := sigmaAlert()
		a.RuleID = fmt.Sprintf("rule-%d", i%4)
		if i%2 == 1 {
			a.Description = "version 2"
		}
		alerts = append(alerts, a)
	}
	want := make([][]byte, len(alerts))
	for i, a := range alerts {
		want[i] = encodingJSON(t, a)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			var buf []byte
			for i := range 2000 {
				k := (i + g) % len(alerts)
				var err error
				if buf, err = alerts[k].AppendJSON(buf[:0]); err != nil || !bytes.Equal(buf, want[k]) {
					errs <- fmt.Sprintf("goroutine %d, alert %d: %s, %v", g, k, buf, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
