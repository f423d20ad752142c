package sigma

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

// gen builds one rule's Rego module.
type gen struct {
	det      *detection
	rules    strings.Builder // helper rules, after the alert rule
	testName map[*test]string
	selName  map[string]string
	uses     map[string]bool // library helpers the module needs
	n        int
}

// indexedFields are the fields OPA's rule index (and so trailguard's
// prefilter) is given equality conditions on.
//
// The exact-case body compares the field directly, which assumes CloudTrail's
// shape: these fields are always strings, never lists, at these paths. A
// record breaking that shape (a list there) is not matched by these tests.
var indexedFields = []string{"eventSource", "eventName", "eventType", "userIdentity.type"}

// generate writes the module: METADATA, package, the alert rule (one body per
// alternative of the condition) and the helper rules it refers to.
//
// u, when correlations refer to the rule, adds the fields they group by to
// its alert object and makes it a signal unless one of them says generate.
func generate(r *Rule, det *detection, u *usage) (string, []string, error) {
	terms, err := dnf(det.cond, false)
	if err != nil {
		return "", nil, fmt.Errorf("condition %q: %w", det.condText, err)
	}
	g := &gen{det: det, testName: map[*test]string{}, selName: map[string]string{}, uses: map[string]bool{}}
	var src strings.Builder
	meta, warnings, err := metadata(r, statefulMeta{Signal: u != nil && u.signal})
	if err != nil {
		return "", nil, err
	}
	src.WriteString(meta)
	fmt.Fprintf(&src, "package %s\n\nimport rego.v1\n\n", r.Package)
	header := src.Len()
	fmt.Fprintf(&src, "# Sigma condition: %s\n", oneLine(det.condText))
	// The message is METADATA custom.message, which the engine renders for
	// what fires: building it in Rego was most of a firing rule's cost.
	head := "{}"
	if u != nil && len(u.fields) > 0 {
		head = "{" + strings.TrimPrefix(correlationFields(u.fields), ", ") + "}"
	}
	bodies := g.bodies(terms)
	for _, b := range bodies {
		src.WriteString("alert contains " + head + " if {\n")
		for _, line := range b {
			src.WriteString("\t" + line + "\n")
		}
		src.WriteString("}\n\n")
	}
	src.WriteString(g.rules.String())
	src.WriteString(library(g.uses))
	text := src.String()
	if g.uses["cloudtrail"] {
		// Imported only where used: OPA refuses an unused import.
		text = text[:header] + "import data.lib.cloudtrail\n\n" + text[header:]
	}

	out, err := format.SourceWithOpts(r.File, []byte(text), format.Opts{RegoVersion: ast.RegoV1})
	if err != nil {
		return "", nil, fmt.Errorf("generated Rego does not parse (a bug in trailguard's Sigma compiler): %w\n%s", err, text)
	}
	return string(out), warnings, nil
}

// correlationFields writes the alert object's entries for the fields
// correlations read: the value at each path of the record, null when absent.
func correlationFields(fields map[string][]string) string {
	var b strings.Builder
	for _, key := range slices.Sorted(maps.Keys(fields)) {
		path := make([]string, len(fields[key]))
		for i, p := range fields[key] {
			path[i] = quote(p)
		}
		fmt.Fprintf(&b, ", %s: object.get(input, [%s], null)", quote(key), strings.Join(path, ", "))
	}
	return b.String()
}

// conj is one alternative of the condition: tests that must hold, and
// identifiers that must (pos) or must not (neg) match.
type conj struct {
	tests    []*test
	pos, neg []string
}

// bodies expands the DNF into rule bodies. A positively referenced identifier
// is inlined (its tests written into the body, so the index sees its
// eventSource/eventName conditions) as long as the expansion stays small.
func (g *gen) bodies(terms [][]literal) [][]string {
	var conjs []conj
	for _, term := range terms {
		cs := []conj{{}}
		for _, l := range term {
			sel := g.det.selections[l.name]
			switch {
			case l.neg:
				for i := range cs {
					cs[i].neg = append(cs[i].neg, l.name)
				}
			case len(cs)*len(sel.alts) <= maxTerms && len(conjs)+len(cs)*len(sel.alts) <= maxTerms:
				var next []conj
				for _, c := range cs {
					for _, alt := range sel.alts {
						next = append(next, conj{tests: append(slices.Clone(c.tests), alt...), pos: c.pos, neg: c.neg})
					}
				}
				cs = next
			default:
				for i := range cs {
					cs[i].pos = append(cs[i].pos, l.name)
				}
			}
		}
		conjs = append(conjs, cs...)
	}
	var out [][]string
	for _, c := range conjs {
		out = append(out, g.body(c)...)
	}
	return out
}

// body writes one alternative. Where it tests eventSource or eventName against
// plain strings it becomes two bodies: one comparing with the strings exactly
// as written (what CloudTrail writes, and what OPA's index looks up), and one
// comparing case-insensitively, as Sigma means, behind a case-insensitive
// prefix test the index can also look up. Together they are the Sigma
// semantics; the first is the common, cheapest path.
func (g *gen) body(c conj) [][]string {
	var hoisted, rest []*test
	for _, t := range c.tests {
		if hoistable(t) {
			hoisted = append(hoisted, t)
		} else {
			rest = append(rest, t)
		}
	}
	sort.SliceStable(hoisted, func(i, j int) bool { return fieldRank(hoisted[i]) < fieldRank(hoisted[j]) })
	var tail []string
	for _, t := range rest {
		tail = append(tail, g.test(t))
	}
	for _, name := range c.pos {
		tail = append(tail, g.selection(name))
	}
	for _, name := range c.neg {
		tail = append(tail, "not "+g.selection(name))
	}
	exact := []string{}
	folded := []string{}
	var exactTests []string // the exact body's hoisted comparisons
	needFolded := false
	// OPA's index follows one prefix test per body only so far: with prefix
	// tests on both eventSource and eventName it stops at the first, and the
	// body becomes a candidate for every call to the service (every ec2 call
	// for an ec2 rule). So only the most selective field gets one; the others
	// are still compared case-insensitively below, which is the test itself.
	prefixed := -1
	for i, t := range hoisted {
		if !t.cased && (prefixed < 0 || strings.Join(t.path, ".") == "eventName") {
			prefixed = i
		}
	}
	for i, t := range hoisted {
		ref := directRef(t.path)
		lits := literals(t)
		exact = append(exact, "# "+t.source+": "+valuesText(t))
		if len(lits) == 1 {
			exact = append(exact, ref+" == "+quote(lits[0]))
		} else {
			exact = append(exact, ref+" in "+setOf(lits))
		}
		exactTests = append(exactTests, exact[len(exact)-1])
		if t.cased {
			folded = append(folded, exact[len(exact)-1])
			continue
		}
		needFolded = true
		var prefixes, lowered []string
		for _, l := range lits {
			prefixes = append(prefixes, caseFoldPrefixes(l)...)
			lowered = append(lowered, strings.ToLower(l))
		}
		folded = append(folded, "is_string("+ref+")")
		if i == prefixed {
			folded = append(folded, "strings.any_prefix_match("+ref+", "+listOf(dedupe(prefixes))+")")
		}
		if lowered = dedupe(lowered); len(lowered) == 1 {
			folded = append(folded, "lower("+ref+") == "+quote(lowered[0]))
		} else {
			folded = append(folded, "lower("+ref+") in "+setOf(lowered))
		}
	}
	out := [][]string{append(exact, tail...)}
	if needFolded {
		// Only where the exact body's comparisons do not all hold, so that a
		// record written as CloudTrail writes it builds its alert once.
		// First: CloudTrail writes these values in one case, so most records
		// that reach this body hold the exact one and stop here, before the
		// case folding. The order changes no answer: the test is total.
		folded = append([]string{
			"# the same, in any case (Sigma compares case-insensitively)",
			"not " + g.exactly(exactTests),
		}, folded...)
		out = append(out, append(folded, tail...))
	}
	return out
}

// exactly names a helper rule that holds when all of tests (the exact
// body's comparisons) hold.
func (g *gen) exactly(tests []string) string {
	g.n++
	r := fmt.Sprintf("_exact%d", g.n)
	fmt.Fprintf(&g.rules, "# the fields compared as written, as in the exact body\n%s if {\n\t%s\n}\n\n", r, strings.Join(tests, "\n\t"))
	return r
}

func fieldRank(t *test) int { return slices.Index(indexedFields, strings.Join(t.path, ".")) }

// hoistable says whether a test is an indexable equality: eventSource or
// eventName against plain strings without wildcards that are not numbers,
// booleans or empty (those also match other types and forms).
func hoistable(t *test) bool {
	if t.kind != tMatch || t.neq || t.all || !slices.Contains(indexedFields, strings.Join(t.path, ".")) {
		return false
	}
	for _, v := range t.vals {
		if v.kind != vPattern || v.pat.hasWildcard() || len(v.pat) == 0 || looksScalar(v.pat.text()) {
			return false
		}
	}
	return true
}

// looksScalar says whether a string is also the JSON text of a number, a
// boolean or null, which a record may hold as that type.
func looksScalar(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "null":
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func literals(t *test) []string {
	var out []string
	for _, v := range t.vals {
		out = append(out, v.pat.text())
	}
	return dedupe(out)
}

// selection names the helper rule for a search identifier.
func (g *gen) selection(name string) string {
	if r, ok := g.selName[name]; ok {
		return r
	}
	g.n++
	r := fmt.Sprintf("_s%d", g.n)
	g.selName[name] = r
	sel := g.det.selections[name]
	var bodies []string
	for _, alt := range sel.alts {
		var lines []string
		for _, t := range alt {
			lines = append(lines, g.test(t))
		}
		bodies = append(bodies, strings.Join(lines, "\n\t"))
	}
	fmt.Fprintf(&g.rules, "# search identifier %s\n", oneLine(name))
	for _, b := range bodies {
		fmt.Fprintf(&g.rules, "%s if {\n\t%s\n}\n\n", r, b)
	}
	return r
}

func valuesText(t *test) string {
	var parts []string
	for _, v := range t.vals {
		switch v.kind {
		case vRegex:
			parts = append(parts, v.re)
		case vCIDR:
			parts = append(parts, v.cidr)
		case vCompare:
			parts = append(parts, v.op+" "+v.num)
		case vFieldRef:
			parts = append(parts, strings.Join(v.ref, "."))
		default:
			parts = append(parts, v.pat.String())
		}
	}
	switch t.kind {
	case tNull:
		return "null"
	case tExists:
		return strconv.FormatBool(t.exists)
	}
	return oneLine(strings.Join(parts, ", "))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func listOf(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func setOf(xs []string) string {
	l := listOf(xs)
	return "{" + l[1:len(l)-1] + "}"
}
