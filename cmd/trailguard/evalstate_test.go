package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// consoleLogins is a CloudTrail file of anaya's successful sign-ins, one per
// (day of March 2025, source IP).
func consoleLogins(t *testing.T, dir, name string, logins ...[2]string) string {
	t.Helper()
	var recs []map[string]any
	for i, l := range logins {
		recs = append(recs, map[string]any{
			"eventVersion": "1.08", "eventID": fmt.Sprintf("%s-%d", name, i),
			"eventTime":   fmt.Sprintf("2025-03-%sT09:00:00Z", l[0]),
			"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
			"sourceIPAddress":  l[1],
			"userIdentity":     map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/anaya", "accountId": "111122223333", "userName": "anaya"},
			"responseElements": map[string]any{"ConsoleLogin": "Success"},
		})
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// eval --state carries a user's learned networks from one run to the next:
// a sign-in from a new network on day 10 alerts after a first run learned
// days 1-8, and does not without --state (a replay starting empty learns its
// first week again).
func TestEvalStateCarriesBaselines(t *testing.T) {
	dir := t.TempDir()
	week := consoleLogins(t, dir, "week", [2]string{"01", "198.51.100.7"}, [2]string{"08", "198.51.100.9"})
	later := consoleLogins(t, dir, "later", [2]string{"10", "203.0.113.5"})
	db := filepath.Join(dir, "state.db")
	newNetwork := func(out string) int { return strings.Count(out, `"rule_id":"threats.console_login_new_network"`) }

	if code, out, errs := runCLI(t, "", "eval", "--state", db, week); code != exitOK || newNetwork(out) != 0 {
		t.Fatalf("first run: exit %d, %d alerts\n%s%s", code, newNetwork(out), out, errs)
	}
	code, out, errs := runCLI(t, "", "eval", "--state", db, later)
	if code != exitOK || newNetwork(out) != 1 || !strings.Contains(out, `"known_values":["198.51.100.0/24"]`) {
		t.Fatalf("second run with --state: exit %d, %d alerts\n%s%s", code, newNetwork(out), out, errs)
	}
	if code, out, errs := runCLI(t, "", "eval", later); code != exitOK || newNetwork(out) != 0 {
		t.Fatalf("second run without --state: exit %d, %d alerts\n%s%s", code, newNetwork(out), out, errs)
	}
	if code, _, errs := runCLI(t, "", "eval", "--state", filepath.Join(week, "not-a-dir", "x.db"), later); code != exitUsage || !strings.Contains(errs, "--state") {
		t.Errorf("--state under a file: exit %d\n%s", code, errs)
	}
}
