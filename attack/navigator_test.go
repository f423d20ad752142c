package attack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/attack"
)

// layerSchema is the Navigator layer format as its specification states it:
// each object's properties with their type and whether they are required, read
// from the property tables of testdata/navigator/layerformat-v4.5.md (MITRE
// publishes no JSON Schema for layers), plus the constraints its descriptions
// spell out (Must be "4.5", Valid values are: …, Either … or …).
type layerSchema map[string]map[string]propSpec // object name ("Layer", "Technique", …) → property → spec

type propSpec struct {
	typ      string
	required bool
	desc     string
}

var (
	sectionRe = regexp.MustCompile(`^## (?:Property Table|(\w+) Object [Pp]roperties)`)
	quotedRe  = regexp.MustCompile(`"([^"]+)"`)
)

func readLayerSpec(t *testing.T) layerSchema {
	t.Helper()
	md, err := os.ReadFile("testdata/navigator/layerformat-v4.5.md")
	if err != nil {
		t.Fatal(err)
	}
	s := layerSchema{}
	var cur string
	for _, line := range strings.Split(string(md), "\n") {
		if m := sectionRe.FindStringSubmatch(line); m != nil {
			cur = m[1]
			if cur == "" {
				cur = "Layer"
			}
			s[cur] = map[string]propSpec{}
			continue
		}
		if strings.HasPrefix(line, "## ") {
			cur = ""
		}
		cells := strings.Split(line, "|")
		if cur == "" || len(cells) < 6 {
			continue
		}
		name, typ, req := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		if name == "Name" || strings.HasPrefix(name, ":") {
			continue // header and alignment rows
		}
		s[cur][name] = propSpec{typ: typ, required: strings.EqualFold(req, "yes"), desc: strings.Join(cells[5:], "|")}
	}
	for _, obj := range []string{"Layer", "Version", "Technique", "Gradient", "LegendItem", "Metadata", "Divider", "Layout"} {
		if len(s[obj]) == 0 {
			t.Fatalf("spec: no property table for %s", obj)
		}
	}
	return s
}

// validate reports every way v breaks the spec for object obj.
func (s layerSchema) validate(v any, obj, path string) []string {
	props := s[obj]
	m, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: want a %s object, got %T", path, obj, v)}
	}
	var errs []string
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := props[k]; !ok {
			errs = append(errs, fmt.Sprintf("%s.%s: not a property of %s", path, k, obj))
		}
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		p := props[name]
		val, present := m[name]
		if !present {
			if p.required {
				errs = append(errs, fmt.Sprintf("%s.%s: required", path, name))
			}
			continue
		}
		errs = append(errs, s.checkType(val, p.typ, path+"."+name)...)
		errs = append(errs, checkConstraint(val, p.desc, path+"."+name)...)
	}
	return errs
}

func (s layerSchema) checkType(v any, typ, path string) []string {
	switch t := strings.ToLower(typ); {
	case t == "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: want a string, got %T", path, v)}
		}
	case t == "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: want a number, got %T", path, v)}
		}
	case t == "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: want a boolean, got %T", path, v)}
		}
	case strings.HasPrefix(t, "array of "):
		list, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %T", path, v)}
		}
		var errs []string
		elem := strings.TrimPrefix(typ, "Array of ")
		for i, e := range list {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case elem == "String":
				errs = append(errs, s.checkType(e, "String", p)...)
			case strings.Contains(elem, " and Divider objects"):
				// Metadata or Link objects, with dividers among them.
				if m, ok := e.(map[string]any); ok && m["divider"] != nil {
					errs = append(errs, s.validate(e, "Divider", p)...)
				} else {
					errs = append(errs, s.validate(e, strings.Fields(elem)[0], p)...)
				}
			default:
				errs = append(errs, s.validate(e, strings.TrimSuffix(elem, " objects"), p)...)
			}
		}
		return errs
	case strings.HasSuffix(t, " object"):
		return s.validate(v, strings.TrimSuffix(typ, " object"), path)
	default:
		return []string{fmt.Sprintf("%s: the spec's type %q is not understood by this test", path, typ)}
	}
	return nil
}

// checkConstraint applies what a property's description requires of its value.
func checkConstraint(v any, desc, path string) []string {
	s, isString := v.(string)
	switch {
	case strings.Contains(desc, "Must be at least"):
		min := quotedRe.FindStringSubmatch(desc)[1]
		if !isString || versionLess(s, min) {
			return []string{fmt.Sprintf("%s: %v, must be at least %s", path, v, min)}
		}
	case strings.Contains(desc, "Must be \""):
		want := quotedRe.FindStringSubmatch(desc[strings.Index(desc, "Must be"):])[1]
		if s != want {
			return []string{fmt.Sprintf("%s: %v, must be %q", path, v, want)}
		}
	case strings.Contains(desc, `Valid values are: "`), strings.Contains(desc, `Either "`):
		i := max(strings.Index(desc, "Valid values are:"), strings.Index(desc, "Either"))
		var allowed []string
		for _, m := range quotedRe.FindAllStringSubmatch(desc[i:], -1) {
			allowed = append(allowed, m[1])
		}
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: %v, want one of %q", path, v, allowed)}
	}
	return nil
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$`)

// checkLayer is the spec plus what Navigator checks when it opens a layer: a
// technique's tactic must be one of its tactics (Technique.get_technique_tactic_id
// throws otherwise), colours must parse, the gradient must span a range.
func checkLayer(t *testing.T, s layerSchema, tab *attack.Table, layer []byte) []string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(layer, &v); err != nil {
		return []string{err.Error()}
	}
	errs := s.validate(v, "Layer", "layer")
	techs, _ := v["techniques"].([]any)
	shortnames := map[string]string{}
	for _, ta := range tab.Tactics {
		shortnames[ta.Shortname] = ta.ID
	}
	for i, x := range techs {
		m, _ := x.(map[string]any)
		id, _ := m["techniqueID"].(string)
		if _, ok := tab.Technique(id); !ok {
			errs = append(errs, fmt.Sprintf("techniques[%d]: %q is not an ATT&CK %s technique", i, id, tab.AttackVersion))
			continue
		}
		if sn, ok := m["tactic"].(string); ok {
			if err := tab.Check(attack.Mapping{Tactic: shortnames[sn], Technique: id}); err != nil {
				errs = append(errs, fmt.Sprintf("techniques[%d]: tactic %q: %v", i, sn, err))
			}
		}
		if c, ok := m["color"].(string); ok && c != "" && !hexColor.MatchString(c) {
			errs = append(errs, fmt.Sprintf("techniques[%d]: color %q", i, c))
		}
	}
	if g, ok := v["gradient"].(map[string]any); ok {
		colors, _ := g["colors"].([]any)
		lo, _ := g["minValue"].(float64)
		hi, _ := g["maxValue"].(float64)
		if len(colors) < 2 || hi <= lo {
			errs = append(errs, fmt.Sprintf("gradient: %d colours from %v to %v", len(colors), lo, hi))
		}
		for _, c := range colors {
			if s, _ := c.(string); !hexColor.MatchString(s) {
				errs = append(errs, fmt.Sprintf("gradient: color %v", c))
			}
		}
	}
	return errs
}

// TestLayerChecksAreSound runs the checks on the specification's own example
// layer (accepted) and on broken copies of it (each refused), so that a check
// that accepts anything would fail here.
func TestLayerChecksAreSound(t *testing.T) {
	s := readLayerSpec(t)
	md, err := os.ReadFile("testdata/navigator/layerformat-v4.5.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(md), "```json\n") + len("```json\n")
	example := string(md)[start : start+strings.Index(string(md)[start:], "```")]
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
