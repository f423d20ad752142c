package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestEvalSamples(t *testing.T) {
	code, out, errs := runCLI(t, "", "eval", "../../examples/logs")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 5 {
		t.Fatalf("only %d alerts:\n%s", len(lines), out)
	}
	required := []string{"rule_id", "severity", "title", "message", "event_id", "event_name", "principal", "source_ip", "account_id", "region", "event_time"}
	var sawMFA bool
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		for _, k := range required {
			if _, ok := m[k]; !ok {
				t.Errorf("alert lacks %q: %s", k, l)
			}
		}
		if m["rule_id"] == "opsworkscm.create_server_without_mfa" && m["severity"] == "high" {
			sawMFA = true
		}
	}
	if !sawMFA {
		t.Error("the CreateServer sample did not raise opsworkscm.create_server_without_mfa")
	}
	if !strings.Contains(errs, "events") || !strings.Contains(errs, "0 errors") {
		t.Errorf("summary: %s", errs)
	}
}

func TestEvalExitCodes(t *testing.T) {
	good := `{"Records":[{"eventID":"1","eventSource":"opsworks-cm.amazonaws.com","eventName":"DeleteServer","eventTime":"2023-01-01T00:00:00Z","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}]}`
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"Records":[{"eventID":"2",}]}`), 0o644)

	t.Run("stdin", func(t *testing.T) {
		code, out, _ := runCLI(t, good, "eval", "--format", "text")
		if code != exitOK || !strings.Contains(out, "opsworkscm.root_credentials") {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
	t.Run("bad input is reported and the rest processed", func(t *testing.T) {
		goodFile := filepath.Join(dir, "good.json")
		os.WriteFile(goodFile, []byte(good), 0o644)
		code, out, errs := runCLI(t, "", "eval", bad, goodFile)
		if code != exitBad {
			t.Fatalf("exit %d, want %d", code, exitBad)
		}
		if !strings.Contains(errs, bad+":1:") || !strings.Contains(out, "opsworkscm.destructive_action") {
			t.Fatalf("stderr %s\nstdout %s", errs, out)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if code, _, _ := runCLI(t, "", "eval", filepath.Join(dir, "nope.json")); code != exitBad {
			t.Fatalf("exit %d", code)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{{"eval", "--format", "xml"}, {"eval", "--nope"}, {"frobnicate"}, {}, {"eval", "--packs", "nope"}} {
			if code, _, _ := runCLI(t, good, args...); code != exitUsage {
				t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
			}
		}
	})
}

func TestTestCommand(t *testing.T) {
	code, out, errs := runCLI(t, "", "test")
	if code != exitOK {
		t.Fatalf("built-in rule tests: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "PASS:") {
		t.Errorf("no PASS summary:\n%s", out)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "r.rego"), []byte("# METADATA\n# title: T\n# custom:\n#   id: x.r\n#   severity: low\npackage rules.x.r\nimport rego.v1\nalert contains {\"message\": \"m\"} if input.eventName == \"A\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "r_test.rego"), []byte("package rules.x.r_test\nimport rego.v1\nimport data.rules.x.r\ntest_ok if count(r.alert) == 1 with input as {\"eventName\": \"A\"}\ntest_wrong if count(r.alert) == 1 with input as {\"eventName\": \"B\"}\n"), 0o644)
	code, out, _ = runCLI(t, "", "test", dir)
	if code != exitBad || !strings.Contains(out, "r_test.rego:5") {
		t.Fatalf("failing test: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(dir, "r.rego"), []byte("package rules.x.r\nimport rego.v1\nalert contains if {\n"), 0o644)
	code, _, errs = runCLI(t, "", "test", dir)
	if code != exitUsage || !strings.Contains(errs, "r.rego:") {
		t.Fatalf("broken policy: exit %d\n%s", code, errs)
	}
}

func TestValidateCommand(t *testing.T) {
	code, out, errs := runCLI(t, "", "validate")
	if code != exitOK || !strings.Contains(out, "ok: ") || !strings.Contains(errs, "known_networks") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.rego"), []byte("package rules.x.a\nimport rego.v1\nalert contains {\"message\": \"m\"} if true\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.rego"), []byte("package rules.x.b\nimport rego.v1\nalert contains {\"message\": \"m\"} if true\n"), 0o644)
	code, _, errs = runCLI(t, "", "validate", "--rules", dir)
	if code != exitUsage || !strings.Contains(errs, "a.rego:1:1") || !strings.Contains(errs, "b.rego:1:1") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "trailguard ") {
		t.Fatalf("exit %d %q", code, out)
	}
}

// Every command in the table is listed in trailguard's usage and answers -h
// with its own usage, its flags and exit 0.
func TestCommandTable(t *testing.T) {
	_, top, _ := runCLI(t, "", "help")
	for _, c := range commands {
		if !strings.Contains(top, "\n  trailguard "+c.name+" ") || !strings.Contains(top, c.summary+"\n") {
			t.Errorf("usage does not list %s:\n%s", c.name, top)
		}
		if c.rawArgs {
			continue
		}
		code, _, errs := runCLI(t, "", c.name, "-h")
		if code != exitOK || !strings.HasPrefix(errs, "Usage: trailguard "+c.name+" "+c.args+"\n\n"+c.help+"\n\n  -") {
			t.Errorf("%s -h: exit %d\n%s", c.name, code, errs)
		}
	}
}
