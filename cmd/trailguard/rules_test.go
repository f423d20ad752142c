package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/attack"
	"github.com/trailguard/trailguard/attack/layerspec"
)

// mappedRule is a rule of pack "t" with METADATA custom.attack lines.
func mappedRule(name, severity, attackYAML string) string {
	return "# METADATA\n# title: Rule " + name + "\n# custom:\n#   id: t." + name + "\n#   severity: " + severity + "\n" + attackYAML +
		"package rules.t." + name + "\nimport rego.v1\nalert contains {\"message\": \"m\"} if { input.eventName == \"X" + name + "\" }\n"
}

func writeRules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"selectors.rego": mappedRule("selectors", "high", "#   attack:\n#     - tactic: TA0005\n#       technique: T1562.008\n"),
		"flowlogs.rego":  mappedRule("flowlogs", "medium", "#   attack:\n#     - tactic: TA0005\n#       technique: T1562.008\n"),
		"newkey.rego": mappedRule("newkey", "high", "#   attack:\n#     - tactic: TA0003\n#       technique: T1098.001\n"+
			"#     - tactic: TA0004\n#       technique: T1098.001\n"),
		"rootlogin.rego": mappedRule("a_root_login", "critical", "#   attack:\n#     tactic: TA0001\n"),
		"plain.rego":     mappedRule("plain", "low", ""),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRulesText(t *testing.T) {
	dir := writeRules(t)
	code, out, errs := runCLI(t, "", "rules", "--packs", "none", "--rules", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := [][]string{
		{"ID", "SEVERITY", "PACK", "ATT&CK", "STATEFUL", "TITLE"},
		{"t.a_root_login", "critical", "t", "TA0001", "-", "Rule a_root_login"},
		{"t.flowlogs", "medium", "t", "TA0005/T1562.008", "-", "Rule flowlogs"},
		{"t.newkey", "high", "t", "TA0003/T1098.001,TA0004/T1098.001", "-", "Rule newkey"},
		{"t.plain", "low", "t", "-", "-", "Rule plain"},
		{"t.selectors", "high", "t", "TA0005/T1562.008", "-", "Rule selectors"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	col := strings.Index(lines[0], "TITLE")
	for i, l := range lines {
		if got := strings.Join(strings.Fields(l), " "); got != strings.Join(want[i], " ") {
			t.Errorf("line %d: %q, want %q", i, l, want[i])
		}
		// Aligned: every title starts in the header's TITLE column.
		if !strings.HasPrefix(l[col:], want[i][5]) {
			t.Errorf("line %d not aligned: %q", i, l)
		}
	}
}

func TestRulesJSON(t *testing.T) {
	dir := writeRules(t)
	code, out, errs := runCLI(t, "", "rules", "--packs", "none", "--rules", dir, "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []struct {
		ID       string           `json:"id"`
		Severity string           `json:"severity"`
		Title    string           `json:"title"`
		Pack     string           `json:"pack"`
		Attack   []attack.Mapping `json:"attack"`
		Stateful *string          `json:"stateful"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got) != 5 || got[0].ID != "t.a_root_login" || got[4].ID != "t.selectors" {
		t.Fatalf("rules %+v", got)
	}
	nk := got[2]
	if nk.ID != "t.newkey" || nk.Severity != "high" || nk.Pack != "t" || nk.Title != "Rule newkey" || nk.Stateful == nil ||
		len(nk.Attack) != 2 || nk.Attack[1] != (attack.Mapping{Tactic: "TA0004", Technique: "T1098.001"}) {
		t.Errorf("t.newkey: %+v", nk)
	}
}

func TestRulesNavigator(t *testing.T) {
	dir := writeRules(t)
	code, out, errs := runCLI(t, "", "rules", "--packs", "none", "--rules", dir, "--navigator")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	spec, err := layerspec.Parse(layerspec.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if problems := spec.Check([]byte(out), attack.Enterprise()); len(problems) > 0 {
		t.Fatalf("the layer breaks the Navigator layer format:\n%s\n%s", strings.Join(problems, "\n"), out)
	}
	var layer attack.Layer
	if err := json.Unmarshal([]byte(out), &layer); err != nil {
		t.Fatal(err)
	}
	if layer.Versions.Layer != "4.5" || layer.Domain != "enterprise-attack" || len(layer.Techniques) != 3 {
		t.Fatalf("layer %+v", layer)
	}
	first := layer.Techniques[0]
	if first.TechniqueID != "T1098.001" || first.Tactic != "persistence" || first.Score != 1 || first.Comment != "trailguard rules: t.newkey" {
		t.Errorf("first technique %+v", first)
	}
	last := layer.Techniques[2]
	if last.TechniqueID != "T1562.008" || last.Tactic != "defense-evasion" || last.Score != 2 || last.Comment != "trailguard rules: t.flowlogs, t.selectors" {
		t.Errorf("last technique %+v", last)
	}
	if !strings.Contains(layer.Description, "4 of the 5 rules") {
		t.Errorf("description %q", layer.Description)
	}
}

// The built-in packs load, and the layer of whatever they map is valid.
func TestRulesBuiltinPacks(t *testing.T) {
	code, out, errs := runCLI(t, "", "rules", "--navigator")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	spec, err := layerspec.Parse(layerspec.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if problems := spec.Check([]byte(out), attack.Enterprise()); len(problems) > 0 {
		t.Fatalf("layer of the built-in packs:\n%s", strings.Join(problems, "\n"))
	}
	code, out, _ = runCLI(t, "", "rules", "--packs", "aws")
	if code != exitOK || !strings.Contains(out, "aws.cloudtrail_change") || strings.Contains(out, "opsworkscm.") {
		t.Errorf("--packs aws: exit %d\n%s", code, out)
	}
}

func TestRulesUsageAndPolicyErrors(t *testing.T) {
	if code, _, errs := runCLI(t, "", "rules", "--format", "yaml"); code != exitUsage || !strings.Contains(errs, "--format must be text or json") {
		t.Errorf("bad format: exit %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "", "rules", "extra"); code != exitUsage {
		t.Errorf("extra argument: exit %d", code)
	}
	dir := t.TempDir()
	bad := mappedRule("bad", "low", "#   attack:\n#     - tactic: TA0040\n#       technique: T1562.008\n")
	if err := os.WriteFile(filepath.Join(dir, "bad.rego"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "", "rules", "--packs", "none", "--rules", dir)
	if code != exitUsage || !strings.Contains(errs, filepath.Join(dir, "bad.rego")+":9:1: rule t.bad: custom.attack[0]: technique T1562.008") {
		t.Errorf("bad mapping: exit %d %s", code, errs)
	}
}

// The STATEFUL column names what each built-in stateful rule counts.
func TestRulesStatefulKinds(t *testing.T) {
	code, out, errs := runCLI(t, "", "rules", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []struct {
		ID       string `json:"id"`
		Stateful string `json:"stateful"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, r := range got {
		if r.Stateful != "" {
			kinds[r.ID] = r.Stateful
		}
	}
	want := map[string]string{
		"threats.secrets_bulk_read":                   "distinct",
		"threats.denied_calls_burst":                  "distinct",
		"threats.instance_credentials_second_network": "distinct",
		"threats.console_login_new_network":           "new_value",
		"opsworkscm.new_source_network":               "new_value",
	}
	if !maps.Equal(kinds, want) {
		t.Errorf("stateful kinds %v, want %v", kinds, want)
	}
}

// Sigma correlations show as the stateful rules they become: an event_count
// a threshold, a value_count distinct, temporal ones sequences (also one whose
// steps are a correlation and a signal), their referenced rules signals.
func TestRulesStatefulSigmaCorrelations(t *testing.T) {
	code, out, errs := runCLI(t, "", "rules", "--packs", "none", "--sigma", "../../engine/testdata/sigmacorr", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var list []struct {
		ID       string `json:"id"`
		Stateful string `json:"stateful"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range list {
		got[strings.TrimPrefix(r.ID, "sigma.7d3f1c1e-5a8e-4d8e-9a59-1f0c4a0b")] = r.Stateful
	}
	want := map[string]string{"0001": "signal", "0002": "signal", "0003": "threshold", "0004": "sequence",
		"0011": "", "0012": "distinct", "0021": "signal", "0022": "signal", "0023": "sequence"}
	if !maps.Equal(got, want) {
		t.Fatalf("stateful kinds %v, want %v", got, want)
	}
}
