package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/notifiers/stdout"
)

// A pipe is not a terminal: auto prints JSON lines there; the flag overrides.
func TestOutputFormatOnAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	noEnv := func(string) string { return "" }
	for _, c := range []struct {
		flag string
		want stdout.Format
	}{{"auto", stdout.JSON}, {"json", stdout.JSON}, {"text", stdout.Text}} {
		got, err := outputFormat(c.flag, w, noEnv)
		if err != nil || got != c.want {
			t.Errorf("--format %s on a pipe: %v, %v; want %v", c.flag, got, err, c.want)
		}
	}
	if _, err := outputFormat("xml", w, noEnv); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("--format xml: %v", err)
	}
}

// eval ends with the breakdown by severity and by rule, noisiest rule first,
// counting exactly the alerts it printed.
func TestEvalSummaryBreakdown(t *testing.T) {
	code, out, errs := runCLI(t, "", "eval", "--format", "json", "../../examples/logs")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	bySeverity, byRule := map[string]int{}, map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var a struct {
			Severity string `json:"severity"`
			RuleID   string `json:"rule_id"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		bySeverity[a.Severity]++
		byRule[a.RuleID]++
	}
	if len(byRule) < 3 {
		t.Fatalf("the samples raised too few rules to test the order: %v", byRule)
	}
	sev := regexp.MustCompile(`(?m)^alerts by severity: (.*)$`).FindStringSubmatch(errs)
	if sev == nil {
		t.Fatalf("no severity line:\n%s", errs)
	}
	order := []string{"critical", "high", "medium", "low", "info"}
	last := -1
	for _, part := range strings.Split(sev[1], ", ") {
		n, name, _ := strings.Cut(part, " ")
		if got, _ := strconv.Atoi(n); got != bySeverity[name] {
			t.Errorf("%s: summary says %s, printed %d", name, n, bySeverity[name])
		}
		i := strings.Index(strings.Join(order, " "), name)
		if i <= last {
			t.Errorf("severities not most severe first: %s", sev[1])
		}
		last = i
		delete(bySeverity, name)
	}
	if len(bySeverity) > 0 {
		t.Errorf("severities missing from the summary: %v", bySeverity)
	}
	rows := regexp.MustCompile(`(?m)^ +(\d+)  [A-Z]+ +(\S+)$`).FindAllStringSubmatch(errs, -1)
	if len(rows) != len(byRule) {
		t.Fatalf("%d rule rows for %d rules:\n%s", len(rows), len(byRule), errs)
	}
	prev := int(^uint(0) >> 1)
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		if n != byRule[r[2]] {
			t.Errorf("rule %s: summary says %d, printed %d", r[2], n, byRule[r[2]])
		}
		if n > prev {
			t.Errorf("rule %s (%d) listed after a quieter one (%d)", r[2], n, prev)
		}
		prev = n
	}
}

// run prints text when asked, and the breakdown when it stops.
func TestRunTextAndSummary(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := func(id, name string) string {
		return `{"eventVersion":"1.08","eventID":"` + id + `","eventSource":"opsworks-cm.amazonaws.com","eventName":"` + name +
			`","eventTime":"2023-01-01T00:00:00Z","awsRegion":"us-east-1","recipientAccountId":"111122223333","sourceIPAddress":"192.0.2.1",` +
			`"userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}}`
	}
	body := `{"Records":[` + rec("e1", "DeleteServer") + `,` + rec("e2", "DeleteServer") + `]}`
	if err := os.WriteFile(filepath.Join(logs, "a.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "c.yaml")
	yaml := "source: {type: dir, dir: {path: " + logs + ", watch: false}}\nserver: {listen: 127.0.0.1:0}\n" +
		"rules: {packs: [opsworkscm]}\nnotifiers: [{name: console, type: stdout}]\nroutes: [{notifiers: [console]}]\n" +
		"dedup: {window: 0s}\nlog: {level: warn}\n" +
		// A state file of its own: the default one remembers a run before this.
		"state: {type: sqlite, sqlite: {path: " + filepath.Join(dir, "state.db") + "}}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"run", "--config", cfg, "--format", "text"}, strings.NewReader(""), &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], "[e1]") && !strings.Contains(lines[0], "[e2]") || strings.HasPrefix(lines[0], "{") {
		t.Fatalf("not text:\n%s", out.String())
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour written to a buffer:\n%q", out.String())
	}
	// Every rule that printed an alert line is in the breakdown with its count.
	counts := map[string]int{}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 2 && strings.HasPrefix(f[1], "2023-") {
			counts[f[2]]++
		}
	}
	if len(counts) == 0 {
		t.Fatalf("no alert lines:\n%s", out.String())
	}
	for rule, n := range counts {
		if !regexp.MustCompile(`(?m)^ +` + strconv.Itoa(n) + `  [A-Z]+ +` + regexp.QuoteMeta(rule) + `$`).MatchString(errb.String()) {
			t.Errorf("summary lacks %d × %s:\n%s", n, rule, errb.String())
		}
	}
}
