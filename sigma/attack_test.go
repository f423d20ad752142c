package sigma

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/attack"
)

// The expectations come from ATT&CK 18.1: T1078.004 Cloud Accounts serves
// initial access (TA0001), persistence (TA0003), privilege escalation (TA0004)
// and defense evasion (TA0005); T1537 Transfer Data to Cloud Account serves
// exfiltration (TA0010) only.
func TestAttackMappings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tags     []string
		want     []attackMeta
		warnings []string // substrings, one per warning
	}{
		{"technique with one of its tactics", []string{"attack.persistence", "attack.t1078.004"},
			[]attackMeta{{"TA0003", "T1078.004"}}, nil},
		{"technique without tactics: all of its own, in the matrix's order", []string{"attack.t1078.004"},
			[]attackMeta{{"TA0001", "T1078.004"}, {"TA0003", "T1078.004"}, {"TA0004", "T1078.004"}, {"TA0005", "T1078.004"}}, nil},
		{"tactics paired with the techniques they belong to; a lone tactic stands alone",
			[]string{"attack.exfiltration", "attack.privilege-escalation", "attack.t1537", "attack.t1078.004", "attack.discovery"},
			[]attackMeta{{"TA0010", "T1537"}, {"TA0004", "T1078.004"}, {"TA0007", ""}}, nil},
		{"tactic by id, upper case tags", []string{"ATTACK.TA0005", "Attack.T1078.004"},
			[]attackMeta{{"TA0005", "T1078.004"}}, nil},
		{"technique outside the rule's tactics", []string{"attack.impact", "attack.t1537"},
			[]attackMeta{{"TA0010", "T1537"}, {"TA0040", ""}}, []string{"T1537 belongs to none of the rule's tactics TA0040"}},
		{"ids unknown to the table are warned about and left out", []string{"attack.stealth", "attack.t1685", "attack.t9999.001", "attack.ta0099", "attack.t1078.004"},
			[]attackMeta{{"TA0001", "T1078.004"}, {"TA0003", "T1078.004"}, {"TA0004", "T1078.004"}, {"TA0005", "T1078.004"}},
			[]string{"tactic stealth", "technique T1685", "technique T9999.001", "tactic TA0099"}},
		{"groups, software and other namespaces are not placed", []string{"attack.g0016", "attack.s0002", "cve.2021-1234", "detection.threat-hunting"},
			nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings := attackMappings(attack.Enterprise(), tc.tags)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("mappings %v, want %v", got, tc.want)
			}
			if len(warnings) != len(tc.warnings) {
				t.Fatalf("warnings %q, want %d containing %q", warnings, len(tc.warnings), tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q does not say %q", warnings[i], w)
				}
			}
		})
	}
}

// TestAttackMetadata compiles a rule and reads custom.attack back from its
// module's METADATA the way the engine does, through attack.ParseMappings; the
// tags stay as written, the unknown id among them, with a compile warning.
func TestAttackMetadata(t *testing.T) {
	src := ruleWith("    sel:\n        eventName: ConsoleLogin\n    condition: sel\n") +
		"tags:\n    - attack.initial-access\n    - attack.t1078.004\n    - attack.t1685\n"
	r, err := Compile("attack.yml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"attack.initial-access", "attack.t1078.004", "attack.t1685"}; !reflect.DeepEqual(r.Tags, want) {
		t.Errorf("tags %q, want %q", r.Tags, want)
	}
	if !containsWith(r.Warnings, "technique T1685") {
		t.Errorf("no warning for the unknown T1685: %q", r.Warnings)
	}
	got := moduleAttack(t, r)
	if want := []attack.Mapping{{Tactic: "TA0001", Technique: "T1078.004"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("custom.attack %v, want %v\n%s", got, want, r.Module)
	}
}

// TestSigmaHQAttack: every SigmaHQ rule loads, its custom.attack is accepted
// by the engine's check, and it is mapped exactly when one of its tags names
// a technique or tactic the table knows.
func TestSigmaHQAttack(t *testing.T) {
	rules, _, errs := LoadPaths([]string{"testdata/sigmahq"}, Options{})
	if len(errs) > 0 || len(rules) != 57 {
		t.Fatalf("%d rules, errors %v", len(rules), errs)
	}
	table := attack.Enterprise()
	known := func(tag string) bool {
		id := strings.ToUpper(strings.TrimPrefix(strings.ToLower(tag), "attack."))
		if _, ok := table.Technique(id); ok {
			return true
		}
		for _, ta := range table.Tactics {
			if "attack."+ta.Shortname == strings.ToLower(tag) {
				return true
			}
		}
		return false
	}
	mapped := 0
	for _, r := range rules {
		got := moduleAttack(t, r)
		if want := slices.ContainsFunc(r.Tags, known); want != (len(got) > 0) {
			t.Errorf("%s: tags %q, custom.attack %v", r.File, r.Tags, got)
		}
		if len(got) > 0 {
			mapped++
		}
	}
	t.Logf("%d of %d SigmaHQ rules mapped to ATT&CK %s", mapped, len(rules), table.AttackVersion)
}

func moduleAttack(t *testing.T, r *Rule) []attack.Mapping {
	t.Helper()
	m, err := ast.ParseModuleWithOpts(r.File, r.Module, ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Annotations {
		if a.Scope == "package" {
			got, errs := attack.Enterprise().ParseMappings(a.Custom["attack"])
			if len(errs) > 0 {
				t.Fatalf("%s: %v", r.File, errs)
			}
			return got
		}
	}
	t.Fatalf("%s: no package METADATA", r.File)
	return nil
}

func containsWith(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
