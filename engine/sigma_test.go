package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

const sigmaRule = `title: Console login from a listed network
id: 6a7c1f2e-0000-4000-8000-000000000001
status: test
level: high
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: signin.amazonaws.com
    eventName: ConsoleLogin
    sourceIPAddress|expand: '%watched%'
  condition: selection
`

const windowsRule = `title: Not for us
id: 6a7c1f2e-0000-4000-8000-000000000002
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4624}
  condition: selection
`

const loginRecord = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333"},"eventTime":"2026-11-25T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","eventID":"e-login","recipientAccountId":"111122223333"}`

// A Sigma rule is compiled at load and evaluated by the same query as the
// Rego rules: placeholders come from data.sigma_placeholders, other log
// sources are skipped with a note.
func TestSigmaRulesLoadBesideRego(t *testing.T) {
	dir := writeFiles(t, map[string]string{"login.yml": sigmaRule, "windows/logon.yaml": windowsRule})
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws"), engine.WithSigma(dir),
		engine.WithData(map[string]any{"sigma_placeholders": map[string]any{"watched": []any{"198.51.100.*"}}}))
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(eng.Notes(), "\n")
	if !strings.Contains(notes, "1 rules loaded, 1 skipped, 0 refused") || !strings.Contains(notes, "logon.yaml:1 (Not for us)") {
		t.Errorf("notes = %q", notes)
	}
	alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(loginRecord), Source: "t.json"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(alerts); got != "sigma.6a7c1f2e-0000-4000-8000-000000000001" {
		t.Fatalf("alerts = %q", got)
	}
	// The message (custom.message, rendered by the engine) names the rule,
	// the call, the caller and where from.
	if a := alerts[0]; a.Severity.String() != "high" || a.Title != "Console login from a listed network" ||
		a.Message != "Console login from a listed network: arn:aws:iam::111122223333:user/bob called signin:ConsoleLogin in us-east-1 from 198.51.100.9" {
		t.Errorf("alert = %+v", a)
	}
	other := strings.Replace(loginRecord, "198.51.100.9", "203.0.113.1", 1)
	if alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(other), Source: "t.json"}); err != nil || len(alerts) != 0 {
		t.Errorf("unlisted network: %v, %v", ids(alerts), err)
	}
}

// A Sigma rule's ATT&CK tags become its structured mapping; an id the table
// does not know is a note, not a refusal.
func TestSigmaAttack(t *testing.T) {
	rule := strings.Replace(sigmaRule, "status: test\n", "status: test\ntags: [attack.initial-access, attack.t1078.004, attack.stealth]\n", 1)
	dir := writeFiles(t, map[string]string{"login.yml": rule})
	eng, err := engine.New(context.Background(), engine.WithPacks(), engine.WithSigma(dir),
		engine.WithData(map[string]any{"sigma_placeholders": map[string]any{"watched": []any{"198.51.100.*"}}}))
	if err != nil {
		t.Fatal(err)
	}
	rules := eng.Rules()
	if len(rules) != 1 {
		t.Fatalf("%d rules", len(rules))
	}
	if got := fmt.Sprint(rules[0].Attack); got != "[TA0001/T1078.004]" {
		t.Errorf("attack = %s", got)
	}
	if got := fmt.Sprint(rules[0].Tags); got != "[attack.initial-access attack.t1078.004 attack.stealth]" {
		t.Errorf("tags = %s", got)
	}
	if notes := strings.Join(eng.Notes(), "\n"); !strings.Contains(notes, "login.yml:1") || !strings.Contains(notes, "tactic stealth") {
		t.Errorf("notes = %q", notes)
	}
}

// Every broken Sigma rule is reported at once, with its file and line, and
// nothing loads.
func TestSigmaProblemsAreLocated(t *testing.T) {
	bad := strings.Replace(sigmaRule, "sourceIPAddress|expand: '%watched%'", "sourceIPAddress|expand: '%undefined%'", 1)
	worse := strings.Replace(strings.Replace(sigmaRule, "0001", "0003", 1), "eventName: ConsoleLogin", "eventName|re: '(?<=x)y'", 1)
	dir := writeFiles(t, map[string]string{"a.yml": bad, "b.yml": worse})
	_, err := engine.New(context.Background(), engine.WithPacks(), engine.WithSigma(dir))
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || len(pe.Problems) != 3 {
		t.Fatalf("err = %v", err)
	}
	for i, want := range []string{"a.yml:10:", "b.yml:9:", "b.yml:10:"} {
		if p := pe.Problems[i].String(); !strings.Contains(p, want) {
			t.Errorf("problem %d = %q, want it at %s", i, p, want)
		}
	}
	if _, err := engine.New(context.Background(), engine.WithPacks(), engine.WithSigma(dir),
		engine.WithData(map[string]any{"sigma_placeholders": []any{"x"}})); err == nil || !strings.Contains(err.Error(), "data.sigma_placeholders") {
		t.Errorf("malformed placeholders: %v", err)
	}
}
