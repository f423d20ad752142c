package attack_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/attack"
	"github.com/trailguard/trailguard/attack/layerspec"
)

func readLayerSpec(t *testing.T) layerspec.Schema {
	t.Helper()
	s, err := layerspec.Parse(layerspec.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkLayer(t *testing.T, s layerspec.Schema, tab *attack.Table, layer []byte) []string {
	t.Helper()
	return s.Check(layer, tab)
}

// TestLayerChecksAreSound runs the checks on the specification's own example
// layer (accepted) and on broken copies of it (each refused), so that a check
// that accepts anything would fail here.
func TestLayerChecksAreSound(t *testing.T) {
	s := readLayerSpec(t)
	example := layerspec.Example(layerspec.Spec)
	tab := attack.Enterprise()
	// The example puts T1078 Valid Accounts under discovery, which is not one
	// of its tactics: Navigator loads that annotation but never shows it, as
	// it keys cells by technique and tactic. It is the one thing refused.
	const misplaced = `techniques[3]: tactic "discovery": technique T1078 (Valid Accounts) is not a technique of tactic TA0007`
	if errs := checkLayer(t, s, tab, []byte(example)); len(errs) != 1 || !strings.HasPrefix(errs[0], misplaced) {
		t.Fatalf("the spec's example: got\n%s\nwant only %s", strings.Join(errs, "\n"), misplaced)
	}
	for name, tc := range map[string]struct{ from, to, want string }{
		"no name":       {`"name": "example layer",`, ``, "layer.name: required"},
		"layer version": {`"layer": "4.5"`, `"layer": "4.4"`, `layer.versions.layer: 4.4, must be "4.5"`},
		"old navigator": {`"navigator": "5.1.0"`, `"navigator": "4.8.2"`, "must be at least 4.9.0"},
		"domain":        {`"domain": "enterprise-attack"`, `"domain": "enterprise"`, "layer.domain: enterprise, want one of"},
		"score type":    {`"score": 75,`, `"score": "75",`, "layer.techniques[2].score: want a number"},
		"unknown key":   {`"sorting": 2,`, `"sorting": 2, "sort": 2,`, "layer.sort: not a property of Layer"},
		"wrong tactic":  {`"tactic": "defense-evasion"`, `"tactic": "impact"`, "techniques[2]: tactic \"impact\""},
		"unknown tech":  {`"techniqueID": "T1110.001"`, `"techniqueID": "T1110.999"`, "techniques[1]: \"T1110.999\" is not"},
		"legend":        {`"label": "Legend Item Label",`, ``, "layer.legendItems[0].label: required"},
		"layout":        {`"layout": "side",`, `"layout": "top",`, "layer.layout.layout: top"},
		"flat gradient": {`"maxValue": 100`, `"maxValue": 0`, "gradient: 3 colours from 0 to 0"},
	} {
		if !strings.Contains(example, tc.from) {
			t.Fatalf("%s: the example has no %s", name, tc.from)
		}
		broken := strings.Replace(example, tc.from, tc.to, 1)
		errs := checkLayer(t, s, tab, []byte(broken))
		if !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%s: got %q, want %q", name, errs, tc.want)
		}
	}
}

func TestCoverageLayer(t *testing.T) {
	s := readLayerSpec(t)
	tab := attack.Enterprise()
	l, err := tab.CoverageLayer("trailguard", "coverage", map[string][]attack.Mapping{
		"a.logs_off":   {{Tactic: "TA0005", Technique: "T1562.008"}},
		"b.selectors":  {{Tactic: "TA0005", Technique: "T1562.008"}, {Tactic: "TA0005", Technique: "T1562.008"}},
		"c.new_key":    {{Tactic: "TA0003", Technique: "T1098.001"}, {Tactic: "TA0004", Technique: "T1098.001"}},
		"d.root_login": {{Tactic: "TA0001"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if errs := checkLayer(t, s, tab, b); len(errs) > 0 {
		t.Fatalf("layer refused:\n%s\n%s", strings.Join(errs, "\n"), b)
	}
	got := map[string]string{}
	for _, x := range l.Techniques {
		got[x.TechniqueID+"/"+x.Tactic] = fmt.Sprintf("%d %s", x.Score, x.Comment)
	}
	want := map[string]string{
		"T1562.008/defense-evasion":      "2 trailguard rules: a.logs_off, b.selectors",
		"T1098.001/persistence":          "1 trailguard rules: c.new_key",
		"T1098.001/privilege-escalation": "1 trailguard rules: c.new_key",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("techniques %v, want %v", got, want)
	}
	if len(l.Metadata) != 1 || l.Metadata[0].Value != "d.root_login" || !strings.HasPrefix(l.Metadata[0].Name, "TA0001 Initial Access") {
		t.Errorf("metadata %v", l.Metadata)
	}
	if l.Gradient.MaxValue != 2 || l.Versions.Attack != tab.AttackVersion {
		t.Errorf("gradient %v versions %v", l.Gradient, l.Versions)
	}
	if _, err := tab.CoverageLayer("x", "", map[string][]attack.Mapping{"r": {{Tactic: "TA0040", Technique: "T1562.008"}}}); err == nil {
		t.Error("a technique outside its tactic made a layer")
	}
	// No rule mapped: still a layer Navigator opens.
	l, err = tab.CoverageLayer("empty", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(l)
	if errs := checkLayer(t, s, tab, b); len(errs) > 0 {
		t.Errorf("empty layer refused: %v", errs)
	}
}
