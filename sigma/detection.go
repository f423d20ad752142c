package sigma

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// detection is a rule's detection section: its search identifiers and its
// condition.
type detection struct {
	selections map[string]*selection
	order      []string // identifiers in file order, for `them` and patterns
	cond       cnode
	condText   string
}

// selection is a search identifier: an OR of conjunctions of tests.
type selection struct {
	name string
	line int
	alts [][]*test
}

type testKind int

const (
	tMatch   testKind = iota // the field matches one of the values (all of them with |all)
	tNull                    // the field is absent or null
	tExists                  // the field is present (or, with exists: false, absent)
	tKeyword                 // some string of the record contains the value
)

type valKind int

const (
	vPattern valKind = iota
	vNumber
	vBool
	vRegex
	vCIDR
	vCompare
	vFieldRef
)

// val is one value a field is compared with, after modifiers.
type val struct {
	kind valKind
	pat  pattern  // vPattern, and vNumber/vBool's string form
	num  string   // vNumber, vCompare: JSON number text
	b    bool     // vBool
	re   string   // vRegex, flags included
	cidr string   // vCIDR
	op   string   // vCompare: <, <=, >, >=
	ref  []string // vFieldRef: the other field's path
}

// test is one field's condition in a selection.
type test struct {
	line   int
	source string // the Sigma key and value, for a comment in the Rego
	path   []string
	kind   testKind
	all    bool // every value must match (|all)
	cased  bool
	neq    bool // the field is present and matches none of the values
	exists bool // tExists: true for exists: true
	vals   []val
}

// parseDetection reads the search identifiers and the condition.
func parseDetection(d *document, opts Options) (*detection, []Problem) {
	n := d.detection
	if n == nil {
		return nil, nil
	}
	var probs []Problem
	if n.Kind != yaml.MappingNode {
		return nil, []Problem{d.problem(n, "detection must be a mapping")}
	}
	det := &detection{selections: map[string]*selection{}}
	var condNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "condition":
			condNode = v
			continue
		case "timeframe":
			probs = append(probs, d.problem(k, "timeframe is not supported: use a correlation rule"))
			continue
		}
		s, sp := parseSelection(d, k, v, opts)
		probs = append(probs, sp...)
		det.selections[k.Value] = s
		det.order = append(det.order, k.Value)
	}
	if condNode == nil {
		return det, append(probs, d.problem(n, "detection has no condition"))
	}
	var conds []string
	switch condNode.Kind {
	case yaml.ScalarNode:
		conds = []string{condNode.Value}
	case yaml.SequenceNode:
		for _, c := range condNode.Content {
			conds = append(conds, c.Value)
		}
	default:
		return det, append(probs, d.problem(condNode, "condition must be a string or a list of strings"))
	}
	var alts []cnode
	for _, c := range conds {
		node, err := parseCondition(c, det)
		if err != nil {
			probs = append(probs, d.problem(condNode, "condition %q: %v", c, err))
			continue
		}
		alts = append(alts, node)
	}
	det.condText = strings.Join(conds, " | ")
	if len(alts) == 1 {
		det.cond = alts[0]
	} else if len(alts) > 1 {
		det.cond = cnode{op: opOr, kids: alts} // a list of conditions is their OR
	}
	return det, probs
}

func parseSelection(d *document, k, v *yaml.Node, opts Options) (*selection, []Problem) {
	s := &selection{name: k.Value, line: k.Line}
	var probs []Problem
	switch v.Kind {
	case yaml.MappingNode:
		conj, p := parseMap(d, v, opts)
		s.alts = [][]*test{conj}
		probs = p
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			probs = append(probs, d.problem(v, "search identifier %s is an empty list", k.Value))
		}
		for _, item := range v.Content {
			switch item.Kind {
			case yaml.MappingNode: // a list of maps: OR
				conj, p := parseMap(d, item, opts)
				s.alts = append(s.alts, conj)
				probs = append(probs, p...)
			case yaml.ScalarNode: // a list of keywords: OR
				t, p := parseTest(d, "", k, &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{item}, Line: item.Line, Column: item.Column}, opts)
				probs = append(probs, p...)
				if t != nil {
					s.alts = append(s.alts, []*test{t})
				}
			default:
				probs = append(probs, d.problem(item, "search identifier %s: a list holds maps or keywords", k.Value))
			}
		}
	default:
		probs = append(probs, d.problem(v, "search identifier %s must be a map or a list", k.Value))
	}
	return s, probs
}

func parseMap(d *document, m *yaml.Node, opts Options) ([]*test, []Problem) {
	var conj []*test
	var probs []Problem
	if len(m.Content) == 0 {
		probs = append(probs, d.problem(m, "empty map in a search identifier"))
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		t, p := parseTest(d, m.Content[i].Value, m.Content[i], m.Content[i+1], opts)
		probs = append(probs, p...)
		if t != nil {
			conj = append(conj, t)
		}
	}
	return conj, probs
}

// Modifiers the specification has and trailguard does not, with the reason.
var refusedModifiers = map[string]string{
	"utf16le": "CloudTrail values are JSON text, never UTF-16", "utf16be": "CloudTrail values are JSON text, never UTF-16",
	"utf16": "CloudTrail values are JSON text, never UTF-16", "wide": "CloudTrail values are JSON text, never UTF-16",
	"minute": "time modifiers are not supported", "hour": "time modifiers are not supported", "day": "time modifiers are not supported",
	"week": "time modifiers are not supported", "month": "time modifiers are not supported", "year": "time modifiers are not supported",
}

var knownModifiers = map[string]bool{
	"contains": true, "startswith": true, "endswith": true, "all": true, "exists": true, "cased": true, "neq": true,
	"re": true, "i": true, "m": true, "s": true, "cidr": true, "lt": true, "lte": true, "gt": true, "gte": true,
	"base64": true, "base64offset": true, "windash": true, "fieldref": true, "expand": true,
}

// parseTest reads one `field|modifiers: value(s)` entry (field "" for
// keywords).
func parseTest(d *document, key string, keyNode, v *yaml.Node, opts Options) (*test, []Problem) {
	parts := strings.Split(key, "|")
	field, mods := parts[0], parts[1:]
	t := &test{line: keyNode.Line, source: key}
	var probs []Problem
	bad := func(n *yaml.Node, format string, args ...any) {
		probs = append(probs, d.problem(n, "%s: %s", displayKey(key), fmt.Sprintf(format, args...)))
	}
	if field != "" {
		t.path = strings.Split(field, ".")
		for _, p := range t.path {
			if p == "" {
				bad(keyNode, "empty element in the field path %q", field)
				return nil, probs
			}
		}
	}
	// Values: a scalar or a list of scalars.
	var nodes []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		nodes = []*yaml.Node{v}
	case yaml.SequenceNode:
		nodes = v.Content
		if len(nodes) == 0 {
			bad(v, "an empty list of values matches nothing")
			return nil, probs
		}
	default:
		bad(v, "a value must be a scalar or a list of scalars")
		return nil, probs
	}
	for _, n := range nodes {
		if n.Kind != yaml.ScalarNode {
			bad(n, "a value must be a scalar")
			return nil, probs
		}
	}
	flags := map[string]bool{}
	kind := ""
	affix := ""
	var transforms []string
	for i, m := range mods {
		switch {
		case refusedModifiers[m] != "":
			bad(keyNode, "modifier %s is not supported: %s", m, refusedModifiers[m])
			return nil, probs
		case !knownModifiers[m]:
			bad(keyNode, "unknown modifier %q", m)
			return nil, probs
		case flags[m]:
			bad(keyNode, "modifier %s given twice", m)
			return nil, probs
		}
		flags[m] = true
		switch m {
		case "all":
			t.all = true
		case "cased":
			t.cased = true
		case "neq":
			t.neq = true
		case "i", "m", "s":
			if kind != "re" {
				bad(keyNode, "modifier %s only follows re", m)
				return nil, probs
			}
		case "contains", "startswith", "endswith":
			if affix != "" {
				bad(keyNode, "modifiers %s and %s together", affix, m)
				return nil, probs
			}
			affix = m
		case "base64", "base64offset", "windash", "expand":
			if m == "expand" && i != 0 {
				bad(keyNode, "expand must be the first modifier: placeholders are replaced before anything else")
				return nil, probs
			}
			transforms = append(transforms, m)
		default: // exists, re, cidr, lt, lte, gt, gte, fieldref
			if kind != "" {
				bad(keyNode, "modifiers %s and %s together", kind, m)
				return nil, probs
			}
			kind = m
		}
	}
	if kind != "" && (affix != "" || len(transforms) > 0) {
		bad(keyNode, "modifier %s does not combine with %s", kind, strings.Join(append(transforms, affix), ", "))
		return nil, probs
	}
	if flags["base64offset"] && affix != "contains" {
		bad(keyNode, "base64offset must be followed by contains: the encoded value is only ever part of a string")
		return nil, probs
	}
	if t.cased && kind != "" && kind != "fieldref" {
		bad(keyNode, "cased does not apply to %s", kind)
		return nil, probs
	}
	if t.all && len(nodes) < 2 && field != "" {
		bad(keyNode, "all needs a list of at least two values (specification: single values may not use all)")
		return nil, probs
	}
	if t.neq && t.all {
		bad(keyNode, "neq and all together are ambiguous")
		return nil, probs
	}
	if field == "" {
		if kind != "" || affix != "" || len(transforms) > 0 || t.neq {
			bad(keyNode, "keyword searches take no modifiers but all and cased")
			return nil, probs
		}
		t.kind = tKeyword
	}

	// Special values.
	for _, n := range nodes {
		if n.Tag == "!!null" {
			if len(nodes) > 1 {
				bad(n, "null cannot be part of a list of values (specification): use a selection of its own")
				return nil, probs
			}
			if len(mods) > 0 || field == "" {
				bad(n, "null takes no modifiers")
				return nil, probs
			}
			t.kind = tNull
			return t, probs
		}
	}
	switch kind {
	case "exists":
		if len(nodes) != 1 || nodes[0].Tag != "!!bool" || t.neq || t.all {
			bad(v, "exists takes one boolean, true or false")
			return nil, probs
		}
		t.kind, t.exists = tExists, nodes[0].Value == "true"
		return t, probs
	case "fieldref":
		for _, n := range nodes {
			t.vals = append(t.vals, val{kind: vFieldRef, ref: strings.Split(n.Value, ".")})
		}
		return t, probs
	}

	for _, n := range nodes {
		vs, err := valuesOf(n, kind, affix, transforms, opts)
		if err != nil {
			bad(n, "%v", err)
			continue
		}
		t.vals = append(t.vals, vs...)
	}
	if t.kind == tKeyword {
		// A keyword is searched for: it may appear anywhere in a string value.
		for i, v := range t.vals {
			t.vals[i] = val{kind: vPattern, pat: v.pat.wrap(true, true)}
		}
	}
	if kind == "re" {
		if err := finishRegex(t, key); err != nil {
			bad(v, "%v", err)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return t, probs
}

func displayKey(key string) string {
	if key == "" {
		return "keywords"
	}
	return key
}

var reFlags = []string{"i", "m", "s"}

// valuesOf turns one YAML scalar into the values it stands for.
func valuesOf(n *yaml.Node, kind, affix string, transforms []string, opts Options) ([]val, error) {
	switch kind {
	case "re":
		return []val{{kind: vRegex, re: n.Value}}, nil // flags and compilation: see finishRegex
	case "cidr":
		if _, err := netip.ParsePrefix(n.Value); err != nil {
			return nil, fmt.Errorf("cidr %q: %w", n.Value, err)
		}
		return []val{{kind: vCIDR, cidr: n.Value}}, nil
	case "lt", "lte", "gt", "gte":
		num, ok := numberText(n)
		if !ok {
			return nil, fmt.Errorf("%s takes a number, got %q", kind, n.Value)
		}
		op := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[kind]
		return []val{{kind: vCompare, num: num, op: op}}, nil
	}
	plain := affix == "" && len(transforms) == 0
	if plain && n.Tag == "!!bool" {
		b := n.Value == "true"
		return []val{{kind: vBool, b: b, pat: literalPattern(strconv.FormatBool(b))}}, nil
	}
	if num, ok := numberText(n); ok && plain && n.Tag != "!!str" {
		return []val{{kind: vNumber, num: num, pat: literalPattern(num)}}, nil
	}
	raws := []string{n.Value}
	if len(transforms) > 0 && transforms[0] == "expand" {
		var err error
		if raws, err = expand(n.Value, opts.Placeholders); err != nil {
			return nil, err
		}
		transforms = transforms[1:]
	}
	var pats []pattern
	for _, r := range raws {
		pats = append(pats, parsePattern(r))
	}
	for _, tr := range transforms {
		var next []pattern
		for _, p := range pats {
			switch tr {
			case "base64":
				q, err := base64Of(p)
				if err != nil {
					return nil, err
				}
				next = append(next, q)
			case "base64offset":
				qs, err := base64Offsets(p)
				if err != nil {
					return nil, err
				}
				next = append(next, qs...)
			case "windash":
				qs, err := windash(p)
				if err != nil {
					return nil, err
				}
				next = append(next, qs...)
			}
		}
		pats = next
	}
	out := make([]val, 0, len(pats))
	for _, p := range pats {
		out = append(out, val{kind: vPattern, pat: p.wrap(affix == "contains" || affix == "endswith", affix == "contains" || affix == "startswith")})
	}
	return out, nil
}

// numberText is a YAML number's JSON text.
func numberText(n *yaml.Node) (string, bool) {
	switch n.Tag {
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !isInfOrNaN(f) {
			return strconv.FormatFloat(f, 'g', -1, 64), true
		}
	}
	return "", false
}

func isInfOrNaN(f float64) bool {
	return f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308
}

// finishRegex adds the flags (the modifiers after re) to each regex and
// compiles it with Go's RE2, which is what OPA's regex.match uses.
func finishRegex(t *test, source string) error {
	var flags string
	for _, m := range strings.Split(source, "|")[1:] {
		for _, f := range reFlags {
			if m == f {
				flags += f
			}
		}
	}
	for i, v := range t.vals {
		if v.kind != vRegex {
			continue
		}
		re := v.re
		if flags != "" {
			re = "(?" + flags + ")" + re
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("re %q: RE2 cannot compile it: %w", v.re, err)
		}
		t.vals[i].re = re
	}
	return nil
}
