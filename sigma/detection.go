package sigma

import (
	"fmt"
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

