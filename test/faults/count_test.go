package faults

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trailguard/trailguard/internal/fakeslack"
)

// ---- what was delivered --------------------------------------------------------

// stdoutAlerts reads the stdout notifier's lines: alert keys in order.
func stdoutAlerts(t *testing.T, out string) []string {
	t.Helper()
	var keys []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		var a struct {
			RuleID  string `json:"rule_id"`
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("stdout notifier line %q: %v", line, err)
		}
		keys = append(keys, a.RuleID+" "+a.EventID)
	}
	return keys
}

// slackContext is the context block the Slack notifier ends each message
// with: "Rule `ID` · Event `ID`".
var slackContext = regexp.MustCompile("Rule `([^`]+)` · Event `([^`]+)`")

// slackAlerts reads the alert keys of the posts Slack accepted, in order.
func slackAlerts(t *testing.T, sl *fakeslack.Server) []string {
	t.Helper()
	return slackKeys(t, sl.Posts())
}

// slackKeys reads the alert keys of chat.postMessage forms.
func slackKeys(t *testing.T, posts []url.Values) []string {
	t.Helper()
	var keys []string
	for _, p := range posts {
		m := slackContext.FindStringSubmatch(strings.Join(blockTexts(t, p.Get("blocks")), "\n"))
		if m == nil {
			t.Fatalf("Slack post without its rule and event: %s", p.Get("blocks"))
		}
		keys = append(keys, m[1]+" "+m[2])
	}
	return keys
}

// blockTexts returns every "text" string in a Block Kit JSON document.
func blockTexts(t *testing.T, blocks string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(blocks), &v); err != nil {
		t.Fatalf("blocks are not JSON: %v\n%s", err, blocks)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "text" {
					out = append(out, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

// tally compares the alerts expected with those delivered (a key may be
// delivered several times).
type tally struct {
	expected  int
	delivered int // expected alerts delivered at least once
	dups      int // deliveries beyond the first
	lost      []string
	twice     []string
	unknown   []string
}

func count(want, got []string) tally {
	n := map[string]int{}
	for _, k := range got {
		n[k]++
	}
	c := tally{expected: len(want)}
	for _, k := range want {
		m := n[k]
		if m == 0 {
			c.lost = append(c.lost, k)
		} else {
			c.delivered++
		}
		if m > 1 {
			c.twice = append(c.twice, fmt.Sprintf("%s ×%d", k, m))
			c.dups += m - 1
		}
		delete(n, k)
	}
	for k := range n {
		c.unknown = append(c.unknown, k)
	}
	slices.Sort(c.unknown)
	return c
}

// add sums tallies (of several notifiers).
func (c tally) add(o tally) tally {
	return tally{
		expected: c.expected + o.expected, delivered: c.delivered + o.delivered, dups: c.dups + o.dups,
		lost: append(c.lost, o.lost...), twice: append(c.twice, o.twice...), unknown: append(c.unknown, o.unknown...),
	}
}

// check fails the test for a lost alert or one nobody expected, and, when
// once is true (the design promises it), for one delivered twice.
func (c tally) check(t *testing.T, what string, once bool) {
	t.Helper()
	for _, k := range c.lost {
		t.Errorf("%s: alert %s lost", what, k)
	}
	for _, k := range c.unknown {
		t.Errorf("%s: unexpected alert %s", what, k)
	}
	if once {
		for _, k := range c.twice {
			t.Errorf("%s: alert %s delivered more than once", what, k)
		}
	}
}

// ---- the report ----------------------------------------------------------------

// row is one fault's line in the report.
type row struct {
	order      int
	fault, how string
	tally      tally
	queue, dlq int
	result     string
}

var report struct {
	sync.Mutex
	rows []*row
}

// newRow starts t's report line; it is filed, with the test's result, when
// t ends. order sorts the table.
func newRow(t *testing.T, order int, fault, how string) *row {
	r := &row{order: order, fault: fault, how: how, queue: -1, dlq: -1}
	t.Cleanup(func() {
		r.result = "pass"
		switch {
		case t.Skipped():
			r.result = "skipped"
		case t.Failed():
			r.result = "**FAIL**"
		}
		report.Lock()
		report.rows = append(report.rows, r)
		report.Unlock()
		t.Logf("report: %s", r.markdown())
	})
	return r
}

// finish records the counts of a scenario that ran to its end.
func (r *row) finish(t *testing.T, e *env, c tally) {
	t.Helper()
	r.tally = c
	r.queue, r.dlq = e.left(t)
}

func (r *row) markdown() string {
	left := "—"
	if r.queue >= 0 {
		left = fmt.Sprintf("%d / %d", r.queue, r.dlq)
	}
	return fmt.Sprintf("| %s | %s | %d | %d | %d | %s | %s |",
		r.fault, r.how, r.tally.expected, r.tally.delivered, r.tally.dups, left, r.result)
}

// writeReport writes the table to $FAULTS_REPORT, if set.
func writeReport() {
	path := os.Getenv("FAULTS_REPORT")
	if path == "" {
		return
	}
	report.Lock()
	defer report.Unlock()
	slices.SortFunc(report.rows, func(a, b *row) int { return a.order - b.order })
	var b strings.Builder
	b.WriteString("| fault | how injected | alerts expected | delivered | twice | left in queue / DLQ | result |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range report.rows {
		b.WriteString(r.markdown() + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "faults: write report:", err)
	}
}
