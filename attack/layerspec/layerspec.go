// Package layerspec checks ATT&CK Navigator layers against the layer format
// specification, for tests. MITRE publishes no JSON Schema for layers, so the
// schema is read from the property tables of the specification itself
// (layerformat-v4.5.md, Apache-2.0, see NOTICE.txt): each object's properties
// with their type and whether they are required, plus the constraints the
// descriptions spell out (Must be "4.5", Valid values are: …, Either … or …).
// To those it adds what Navigator itself checks when it opens a layer.
package layerspec

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard/attack"
)

// Spec is the text of the layer format specification, version 4.5.
//
//go:embed layerformat-v4.5.md
var Spec string

// Schema is the specification's objects ("Layer", "Technique", …) and their properties.
type Schema map[string]map[string]prop

type prop struct {
	typ      string
	required bool
	desc     string
}

var (
	sectionRe = regexp.MustCompile(`^## (?:Property Table|(\w+) Object [Pp]roperties)`)
	quotedRe  = regexp.MustCompile(`"([^"]+)"`)
	hexColor  = regexp.MustCompile(`^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$`)
)

// Parse reads the property tables of a layer format specification.
func Parse(md string) (Schema, error) {
	s := Schema{}
	var cur string
	for _, line := range strings.Split(md, "\n") {
		if m := sectionRe.FindStringSubmatch(line); m != nil {
			cur = m[1]
			if cur == "" {
				cur = "Layer"
			}
			s[cur] = map[string]prop{}
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
		s[cur][name] = prop{typ: typ, required: strings.EqualFold(req, "yes"), desc: strings.Join(cells[5:], "|")}
	}
	for _, obj := range []string{"Layer", "Version", "Technique", "Gradient", "LegendItem", "Metadata", "Divider", "Layout"} {
		if len(s[obj]) == 0 {
			return nil, fmt.Errorf("no property table for %s objects", obj)
		}
	}
	return s, nil
}

// Example is the specification's first example layer.
func Example(md string) string {
	start := strings.Index(md, "```json\n") + len("```json\n")
	return md[start : start+strings.Index(md[start:], "```")]
}

// Check reports every way a layer breaks the specification or would not show
// in Navigator: a technique's tactic must be one of its tactics (Navigator keys
// cells by technique and tactic, and drops the rest), colours must parse, the
// gradient must span a range.
func (s Schema) Check(layer []byte, tab *attack.Table) []string {
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

// validate reports every way v breaks the specification of object obj.
func (s Schema) validate(v any, obj, path string) []string {
	props := s[obj]
	m, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: want a %s object, got %T", path, obj, v)}
	}
	var errs []string
	for _, k := range sortedKeys(m) {
		if _, ok := props[k]; !ok {
			errs = append(errs, fmt.Sprintf("%s.%s: not a property of %s", path, k, obj))
		}
	}
	for _, name := range sortedKeys(props) {
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s Schema) checkType(v any, typ, path string) []string {
	switch t := strings.ToLower(typ); {
	case t == "string", t == "number", t == "boolean":
		want := map[string]string{"string": "string", "number": "float64", "boolean": "bool"}[t]
		if got := fmt.Sprintf("%T", v); got != want {
			return []string{fmt.Sprintf("%s: want a %s, got %s", path, t, got)}
		}
	case strings.HasPrefix(t, "array of "):
		list, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %T", path, v)}
		}
		var errs []string
		elem := typ[len("Array of "):]
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
		return []string{fmt.Sprintf("%s: the specification's type %q is not understood here", path, typ)}
	}
	return nil
}

// checkConstraint applies what a property's description requires of its value.
func checkConstraint(v any, desc, path string) []string {
	s, isString := v.(string)
	switch {
	case strings.Contains(desc, "Must be at least"):
		least := quotedRe.FindStringSubmatch(desc)[1]
		if !isString || versionLess(s, least) {
			return []string{fmt.Sprintf("%s: %v, must be at least %s", path, v, least)}
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
			if s == m[1] {
				return nil
			}
			allowed = append(allowed, m[1])
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
