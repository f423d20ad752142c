package attack_test

import (
	"strings"
	"testing"

	"github.com/trailguard/trailguard/attack"
)

func TestEnterpriseTable(t *testing.T) {
	tab := attack.Enterprise()
	if tab.AttackVersion == "" || tab.Domain != "enterprise-attack" {
		t.Fatalf("version %q domain %q", tab.AttackVersion, tab.Domain)
	}
	// ATT&CK Enterprise has had these 14 tactics since v8, in this order.
	want := "reconnaissance resource-development initial-access execution persistence privilege-escalation defense-evasion " +
		"credential-access discovery lateral-movement collection command-and-control exfiltration impact"
	var got []string
	for _, ta := range tab.Tactics {
		got = append(got, ta.Shortname)
	}
	if strings.Join(got, " ") != want {
		t.Errorf("tactics %v", got)
	}
	// Well-known ids the threats pack maps to, and their tactics.
	for id, tactic := range map[string]string{
		"T1562.008": "TA0005", // Disable or Modify Cloud Logs
		"T1078.004": "TA0001", // Cloud Accounts
		"T1098.001": "TA0003", // Additional Cloud Credentials
		"T1537":     "TA0010", // Transfer Data to Cloud Account
		"T1580":     "TA0007", // Cloud Infrastructure Discovery
	} {
		tech, ok := tab.Technique(id)
		if !ok {
			t.Errorf("%s missing", id)
			continue
		}
		if err := tab.Check(attack.Mapping{Tactic: tactic, Technique: id}); err != nil {
			t.Errorf("%s (%s): %v", id, tech.Name, err)
		}
	}
	if n := len(tab.Techniques); n < 600 {
		t.Errorf("only %d techniques", n)
	}
	// T1086 PowerShell was revoked by T1059.001: withdrawn ids are not in the table.
	if _, ok := tab.Technique("T1086"); ok {
		t.Error("revoked T1086 is in the table")
	}
}

func TestCheck(t *testing.T) {
	tab := attack.Enterprise()
	for _, tc := range []struct {
		m    attack.Mapping
		want string // "" for valid
	}{
		{attack.Mapping{Tactic: "TA0005"}, ""},
		{attack.Mapping{Tactic: "TA0005", Technique: "T1562"}, ""},
		{attack.Mapping{Tactic: "TA0005", Technique: "T1562.008"}, ""},
		{attack.Mapping{Technique: "T1562.008"}, "no tactic"},
		{attack.Mapping{Tactic: "TA0099"}, "tactic TA0099 is not an ATT&CK"},
		{attack.Mapping{Tactic: "defense-evasion"}, `"defense-evasion" is not a tactic id`},
		{attack.Mapping{Tactic: "TA0005", Technique: "T9999"}, "technique T9999 is not in ATT&CK"},
		{attack.Mapping{Tactic: "TA0005", Technique: "T1562.8"}, `"T1562.8" is not a technique id`},
		{attack.Mapping{Tactic: "TA0040", Technique: "T1562.008"}, "is not a technique of tactic TA0040 (Impact)"},
	} {
		err := tab.Check(tc.m)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.m, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: got %v, want %q", tc.m, err, tc.want)
		}
	}
}

func TestParseMappings(t *testing.T) {
	tab := attack.Enterprise()
	list := []any{
		map[string]any{"tactic": "TA0005", "technique": "T1562.008"},
		map[string]any{"tactic": "TA0003"},
	}
	got, errs := tab.ParseMappings(list)
	if len(errs) > 0 || len(got) != 2 || got[0] != (attack.Mapping{Tactic: "TA0005", Technique: "T1562.008"}) || got[1] != (attack.Mapping{Tactic: "TA0003"}) {
		t.Errorf("list: %v %v", got, errs)
	}
	got, errs = tab.ParseMappings(map[string]any{"tactic": "TA0005", "technique": "T1562.008"})
	if len(errs) > 0 || len(got) != 1 {
		t.Errorf("single object: %v %v", got, errs)
	}
	if got, errs := tab.ParseMappings(nil); got != nil || errs != nil {
		t.Errorf("nothing: %v %v", got, errs)
	}
	for name, tc := range map[string]struct {
		in   any
		want []string
	}{
		"string":      {"T1562.008", []string{`custom.attack: want a list of {tactic: TA…, technique: T…}, got the string "T1562.008"`}},
		"list of ids": {[]any{"TA0005"}, []string{`custom.attack[0]: want {tactic: TA…, technique: T…}, got the string "TA0005"`}},
		"misspelt":    {[]any{map[string]any{"tactic": "TA0005", "techique": "T1562"}}, []string{`custom.attack[0]: unknown keys ["techique"]`}},
		"number":      {[]any{map[string]any{"tactic": 5}}, []string{"custom.attack[0]: tactic: want an id string, got 5 (int)"}},
		"no tactic":   {[]any{map[string]any{"technique": "T1562"}}, []string{"custom.attack[0]: no tactic"}},
		"each entry": {[]any{
			map[string]any{"tactic": "TA0005", "technique": "T1562"},
			map[string]any{"tactic": "TA0040", "technique": "T1562.008"},
			map[string]any{"tactic": "TA0005", "technique": "T0000"},
		}, []string{"custom.attack[1]: technique T1562.008", "custom.attack[2]: technique T0000 is not in"}},
	} {
		_, errs := tab.ParseMappings(tc.in)
		if len(errs) != len(tc.want) {
			t.Errorf("%s: got %v, want %d errors", name, errs, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.HasPrefix(errs[i].Error(), w) {
				t.Errorf("%s: got %q, want it to begin %q", name, errs[i], w)
			}
		}
	}
}

func TestParseRejectsBrokenTables(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":         `{`,
		"bad tactic id":    `{"tactics":[{"id":"X1","name":"n","shortname":"s"}],"techniques":[]}`,
		"unknown tactic":   `{"tactics":[{"id":"TA0001","name":"n","shortname":"s"}],"techniques":[{"id":"T1000","name":"n","tactics":["TA0002"]}]}`,
		"no tactic":        `{"tactics":[{"id":"TA0001","name":"n","shortname":"s"}],"techniques":[{"id":"T1000","name":"n","tactics":[]}]}`,
		"duplicate":        `{"tactics":[{"id":"TA0001","name":"n","shortname":"s"}],"techniques":[{"id":"T1000","name":"n","tactics":["TA0001"]},{"id":"T1000","name":"n","tactics":["TA0001"]}]}`,
		"bad technique id": `{"tactics":[{"id":"TA0001","name":"n","shortname":"s"}],"techniques":[{"id":"T10","name":"n","tactics":["TA0001"]}]}`,
	} {
		if _, err := attack.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
