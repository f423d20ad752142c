package sigma

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// wildcardGlob chooses how case-insensitive wildcard patterns are written:
// glob.match on lower() (true) or regex.match with an anchored RE2 pattern on
// lower() (false). BenchmarkWildcard measures both through OPA; see README.
var wildcardGlob = false

// test names the helper rule for one test, writing it on first use.
func (g *gen) test(t *test) string {
	if r, ok := g.testName[t]; ok {
		return r
	}
	g.n++
	r := fmt.Sprintf("_t%d", g.n)
	g.testName[t] = r
	fmt.Fprintf(&g.rules, "# %s: %s\n", oneLine(displayKey(t.source)), valuesText(t))
	switch t.kind {
	case tNull: // absent, or null (a list holding null counts: any element)
		iter := g.path(t.path, "v", true)
		fmt.Fprintf(&g.rules, "%s if not %s_some\n\n%s if {\n\t%s\n\tv == null\n}\n\n", r, r, r, iter)
		fmt.Fprintf(&g.rules, "%s_some if {\n\t%s\n}\n\n", r, iter)
	case tExists: // present, whatever the value, null included
		iter := g.path(t.path, "v", false)
		if t.exists {
			fmt.Fprintf(&g.rules, "%s if {\n\t%s\n}\n\n", r, iter)
		} else {
			fmt.Fprintf(&g.rules, "%s if not %s_present\n\n%s_present if {\n\t%s\n}\n\n", r, r, r, iter)
		}
	case tKeyword:
		g.groups(r, t, leafIter{iter: "walk(input, [_, v])\n\tis_string(v)"})
	default:
		it := leafIter{iter: g.path(t.path, "v", true), direct: directRef(t.path), lookup: lookup(t.path)}
		if t.neq {
			// Present with some value, and no value matches any of them.
			fmt.Fprintf(&g.rules, "%s if {\n\t%s_present\n\tnot %s_any\n}\n\n", r, r, r)
			fmt.Fprintf(&g.rules, "%s_present if {\n\t%s\n\tv != null\n}\n\n", r, it.iter)
			g.groups(r+"_any", t, it)
			break
		}
		g.groups(r, t, it)
	}
	return r
}

// groups writes rule name as the OR of the test's values on the leaf v that
// iter binds, or, with |all, as the AND of one helper per value.
func (g *gen) groups(name string, t *test, iter leafIter) {
	if !t.all || len(t.vals) < 2 {
		g.anyOf(name, t, t.vals, iter)
		return
	}
	var refs []string
	for i, v := range t.vals {
		sub := fmt.Sprintf("%s_%d", name, i+1)
		g.anyOf(sub, t, []val{v}, iter)
		refs = append(refs, sub)
	}
	fmt.Fprintf(&g.rules, "%s if {\n\t%s\n}\n\n", name, strings.Join(refs, "\n\t"))
}

// anyOf writes rule name: some leaf v matches one of vals. Values of one
// kind share a body where Rego can test them at once.
func (g *gen) anyOf(name string, t *test, vals []val, iter leafIter) {
	var bodies []string
	var lits, wild []pattern
	var nums []string
	for _, v := range vals {
		switch v.kind {
		case vPattern, vBool, vNumber:
			// Booleans and numbers also match their string form, which the
			// string comparison on _str(v) covers; numbers also compare as
			// numbers (1.0 == 1).
			if v.kind == vNumber {
				nums = append(nums, v.num)
			}
			if v.pat.hasWildcard() {
				wild = append(wild, v.pat)
			} else {
				lits = append(lits, v.pat)
			}
		case vRegex:
			g.uses["_str"] = true
			bodies = append(bodies, fmt.Sprintf("regex.match(%s, _str(v))", rawQuote(v.re)))
		case vCIDR:
			g.uses["cloudtrail"] = true
			bodies = append(bodies, fmt.Sprintf("cloudtrail.is_ip(v)\n\tnet.cidr_contains(%s, v)", quote(v.cidr)))
		case vCompare:
			g.uses["_num"] = true
			bodies = append(bodies, fmt.Sprintf("_num(v) %s %s", v.op, v.num))
		case vFieldRef:
			g.uses["_str"] = true
			other := g.path(v.ref, "w", true)
			if t.cased {
				bodies = append(bodies, other+"\n\t_str(v) == _str(w)")
			} else {
				bodies = append(bodies, other+"\n\tlower(_str(v)) == lower(_str(w))")
			}
		}
	}
	if len(nums) > 0 {
		bodies = append(bodies, "is_number(v)\n\tv in {"+strings.Join(nums, ", ")+"}")
	}
	if len(lits) > 0 {
		g.uses["_str"] = true
		subject := "_str(v)"
		if !t.cased {
			subject = "lower(_str(v))"
		}
		var texts []string
		for _, p := range lits {
			if !t.cased {
				p = p.lower()
			}
			texts = append(texts, p.text())
		}
		texts = dedupe(texts)
		if len(texts) == 1 {
			bodies = append(bodies, subject+" == "+quote(texts[0]))
		} else {
			bodies = append(bodies, subject+" in "+setOf(texts))
		}
	}
	if len(wild) > 0 {
		bodies = append(bodies, g.wildcards(wild, t.cased)...)
	}
	for _, b := range bodies {
		if iter.direct == "" {
			fmt.Fprintf(&g.rules, "%s if {\n\t%s\n\t%s\n}\n\n", name, iter.iter, b)
			continue
		}
		// CloudTrail's shape first: a string reached through objects only is
		// the one leaf there, tested without iterating; any other shape (a
		// list on the way or at the field, a number) takes the general body.
		// The general body is an else: where the plain one holds (most
		// records that match), it is not evaluated at all.
		fast := strings.ReplaceAll(b, "_str(v)", "v")
		fmt.Fprintf(&g.rules, "%s if {\n\tv := %s\n\tis_string(v)\n\t%s\n} else := true if {\n\tnot is_string(%s)\n\t%s\n\t%s\n}\n\n",
			name, iter.direct, fast, iter.lookup, iter.iter, b)
	}
}

// leafIter binds v to each leaf a test looks at: iter is the general
// iteration (lists on the way and at the field are "any element"); direct,
// when the test reads one field path, is the plain reference to it, which
// names the only leaf whenever it is a string.
type leafIter struct {
	iter, direct string
	// lookup is object.get(input, path, null): the value at direct, or null
	// where direct is undefined (inside a negation OPA would otherwise bind
	// the reference first, and an undefined one fails the whole body).
	lookup string
}

// lookup writes object.get(input, [path…], null).
func lookup(p []string) string {
	return "object.get(input, " + listOf(p) + ", null)"
}

// directRef writes the plain reference input.a.b for a field path.
func directRef(p []string) string {
	ref := "input"
	for _, k := range p {
		ref += refKey(k)
	}
	return ref
}

// wildcards writes the tests for wildcard patterns: one anchored regex over
// all of them (RE2 runs alternatives in one pass), or one glob.match each.
func (g *gen) wildcards(pats []pattern, cased bool) []string {
	g.uses["_str"] = true
	subject := "lower(_str(v))"
	if cased {
		subject = "_str(v)"
	}
	if !cased {
		for i := range pats {
			pats[i] = pats[i].lower()
		}
	}
	if wildcardGlob {
		var out []string
		for _, p := range pats {
			out = append(out, fmt.Sprintf("glob.match(%s, null, %s)", quote(p.glob()), subject))
		}
		return out
	}
	var alts []string
	for _, p := range pats {
		re := p.regex()
		alts = append(alts, re[len("^(?s)"):len(re)-1])
	}
	re := "^(?s)" + alts[0] + "$"
	if len(alts) > 1 {
		re = "^(?s)(?:" + strings.Join(alts, "|") + ")$"
	}
	return []string{fmt.Sprintf("regex.match(%s, %s)", rawQuote(re), subject)}
}

// path writes the iteration from input to the values at a dotted field path,
// binding leaf (every scalar there: lists and objects are searched) or, with
// leaves false, every value found at the path (for exists). A list on the way
// is "any element": _at looks into each.
func (g *gen) path(p []string, leaf string, leaves bool) string {
	var lines []string
	cur := "input" + refKey(p[0])
	for i, k := range p[1:] {
		g.uses["_at"] = true
		v := fmt.Sprintf("%s%d", leaf, i+1)
		lines = append(lines, fmt.Sprintf("some %s in _at(%s, %s)", v, cur, quote(k)))
		cur = v
	}
	if leaves {
		g.uses["_leaves"] = true
		lines = append(lines, fmt.Sprintf("some %s in _leaves(%s)", leaf, cur))
	} else {
		// Defined, whatever the value (a bare reference would fail on false).
		lines = append(lines, "_ = "+cur)
	}
	return strings.Join(lines, "\n\t")
}

// refKey writes .key when key is a Rego identifier, else ["key"].
func refKey(k string) string {
	ok := k != ""
	for i, r := range k {
		ident := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		ok = ok && ident
	}
	if ok && !ast.IsKeywordInRegoVersion(k, ast.RegoV1) {
		return "." + k
	}
	return "[" + quote(k) + "]"
}

// quote writes a Rego string literal (JSON syntax, without HTML escaping).
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// rawQuote writes a raw string where it reads better (regexes), else quote.
func rawQuote(s string) string {
	if !strings.ContainsAny(s, "`") && !strings.ContainsRune(s, '\r') {
		return "`" + s + "`"
	}
	return quote(s)
}
