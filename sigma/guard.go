package sigma

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// Guard is a necessary condition of a rule's detection that can be checked
// on a few string fields of a record before the record is decoded: when
// Admits says no, the rule's module cannot match the record. It is not a
// second evaluator: whatever Admits lets through, the generated Rego decides.
//
// It exists because Sigma compares case-insensitively, and a rule whose
// fields are compared with lower() (or with a regex, or contains) is one OPA's
// index cannot skip: without it such a rule makes every record a candidate,
// to be decoded and evaluated. The guard keeps only the tests it can decide
// exactly from a string value (equality, wildcards, contains/startswith/
// endswith, re, and numbers' and booleans' string forms); every other test,
// every `not`, and any field that is not a plain string where it was read
// count as "may match".
type Guard struct {
	fields [][]string
	root   gnode
}

// FieldKind says what a record holds at one of a guard's fields.
type FieldKind uint8

const (
	// FieldAbsent: the path leads nowhere (a key is missing, or a value on the
	// way is a scalar). A list on the way is not absent: it is FieldOther.
	FieldAbsent FieldKind = iota
	// FieldString: a string, in Field.Str, decoded as encoding/json does.
	FieldString
	// FieldOther: anything else (a number, a boolean, null, an object, a list,
	// or a list on the way), which the guard does not judge.
	FieldOther
)

// Field is the value of one of a guard's fields in a record.
type Field struct {
	Kind FieldKind
	Str  string
}

// Fields are the dotted paths Admits needs, in the order it takes them.
func (g *Guard) Fields() [][]string { return g.fields }

// Admits reports whether a record whose fields (in the order of Fields) are
// fields may match the rule.
func (g *Guard) Admits(fields []Field) bool { return g.root.admits(fields) }

type gop uint8

const (
	gMay  gop = iota // unknown: may match
	gAnd             // every kid
	gOr              // some kid
	gTest            // one field against values
)

type gnode struct {
	op    gop
	kids  []gnode
	field int
	all   bool // every value must match (|all), else one
	cased bool
	vals  []gval
}

// gval is one value of a test, as the generated Rego compares a string with it.
type gval struct {
	may bool   // not decidable here (cidr, lt/gt, fieldref): may match
	eq  string // equality with the subject, when re is nil and !may
	re  *regexp.Regexp
	// lits must all be in the value for re to match it (re's literal
	// parts, found by requiredLiterals): a cheap test first.
	lits []string
	// onSubject: re is a wildcard pattern's, run on the subject (lowered
	// unless cased); otherwise a Sigma re's, run on the value as it is.
	onSubject bool
	pre       bool // eq is a prefix (pattern `lit*`)
	suf       bool // eq is a suffix (`*lit`)
	cont      bool // eq is contained (`*lit*`)
}

func (n *gnode) admits(f []Field) bool {
	switch n.op {
	case gAnd:
		for i := range n.kids {
			if !n.kids[i].admits(f) {
				return false
			}
		}
		return true
	case gOr:
		for i := range n.kids {
			if n.kids[i].admits(f) {
				return true
			}
		}
		return false
	case gTest:
		switch f[n.field].Kind {
		case FieldAbsent:
			return false // no leaf: no value can match
		case FieldOther:
			return true
		}
		s := f[n.field].Str
		subject := s
		if !n.cased {
			subject = strings.ToLower(s)
		}
		for i := range n.vals {
			ok := n.vals[i].matches(s, subject)
			if ok != n.all {
				return ok // one matched (OR), or one did not (AND)
			}
		}
		return n.all
	}
	return true
}

func (v *gval) matches(raw, subject string) bool {
	switch {
	case v.may:
		return true
	case v.re != nil && v.onSubject:
		return v.re.MatchString(subject)
	case v.re != nil:
		for _, l := range v.lits {
			if !strings.Contains(raw, l) {
				return false
			}
		}
		return v.re.MatchString(raw)
	case v.cont:
		return strings.Contains(subject, v.eq)
	case v.pre:
		return strings.HasPrefix(subject, v.eq)
	case v.suf:
		return strings.HasSuffix(subject, v.eq)
	}
	return subject == v.eq
}

// guardOf derives the guard of a detection; nil when it could never reject a
// record (every test undecidable here).
func guardOf(det *detection) *Guard {
	g := &Guard{}
	ids := map[string]int{}
	root := g.cond(det, det.cond, ids)
	if root.op == gMay {
		return nil
	}
	g.root = root
	return g
}

func (g *Guard) cond(det *detection, c cnode, ids map[string]int) gnode {
	switch c.op {
	case opRef:
		s := det.selections[c.name]
		var alts []gnode
		for _, conj := range s.alts {
			var tests []gnode
			for _, t := range conj {
				tests = append(tests, g.test(t, ids))
			}
			alts = append(alts, combine(gAnd, tests))
		}
		return combine(gOr, alts)
	case opAnd, opOr:
		kids := make([]gnode, 0, len(c.kids))
		for _, k := range c.kids {
			kids = append(kids, g.cond(det, k, ids))
		}
		op := gAnd
		if c.op == opOr {
			op = gOr
		}
		return combine(op, kids)
	}
	return gnode{op: gMay} // not: a necessary condition of x says nothing of not x
}

// combine builds an and/or, dropping what cannot reject (and) or making the
// whole unknown (or).
func combine(op gop, kids []gnode) gnode {
	var keep []gnode
	for _, k := range kids {
		if k.op == gMay {
			if op == gOr {
				return gnode{op: gMay}
			}
			continue
		}
		keep = append(keep, k)
	}
	switch len(keep) {
	case 0:
		if op == gOr {
			return gnode{op: gOr} // no alternative at all: never (not written by the parser)
		}
		return gnode{op: gMay}
	case 1:
		return keep[0]
	}
	return gnode{op: op, kids: keep}
}

// test is the guard of one field test, mirroring anyOf in match.go: the
// string comparison of _str(v) (lowered unless cased) with patterns, booleans'
// and numbers' string forms, and regex.match for re.
func (g *Guard) test(t *test, ids map[string]int) gnode {
	if t.kind != tMatch || t.neq || len(t.vals) == 0 {
		return gnode{op: gMay}
	}
	n := gnode{op: gTest, all: t.all && len(t.vals) > 1, cased: t.cased}
	decidable, may := false, false
	for _, v := range t.vals {
		gv := gval{may: true}
		switch v.kind {
		case vPattern, vBool, vNumber:
			gv = patternVal(v.pat, t.cased)
		case vRegex:
			if re, err := regexp.Compile(v.re); err == nil {
				gv = gval{re: re, lits: requiredLiterals(v.re)}
			}
		}
		decidable, may = decidable || !gv.may, may || gv.may
		n.vals = append(n.vals, gv)
	}
	if !decidable || may && !n.all {
		return gnode{op: gMay} // nothing to decide, or one value of an OR may match
	}
	key := strings.Join(t.path, "\x00")
	id, ok := ids[key]
	if !ok {
		id = len(g.fields)
		ids[key] = id
		g.fields = append(g.fields, append([]string{}, t.path...))
	}
	n.field = id
	return n
}

// patternVal compares with a Sigma string pattern as the generated Rego does:
// equality for a literal, an anchored (?s) regex on the subject for
// wildcards; the common contains/startswith/endswith shapes without a regex.
func patternVal(p pattern, cased bool) gval {
	if !cased {
		p = p.lower()
	}
	if !p.hasWildcard() {
		return gval{eq: p.text()}
	}
	star := func(x piece) bool { return x.wild == '*' }
	lit := func(x piece) bool { return x.wild == 0 }
	switch {
	case len(p) == 3 && star(p[0]) && lit(p[1]) && star(p[2]):
		return gval{eq: p[1].lit, cont: true}
	case len(p) == 2 && lit(p[0]) && star(p[1]):
		return gval{eq: p[0].lit, pre: true}
	case len(p) == 2 && star(p[0]) && lit(p[1]):
		return gval{eq: p[1].lit, suf: true}
	}
	re, err := regexp.Compile(p.regex())
	if err != nil {
		return gval{may: true}
	}
	return gval{re: re, onSubject: true}
}

// requiredLiterals lists literal strings every match of the regex contains:
// the case-sensitive literals at the top level of its concatenation (as in
// `.+:assumed-role/aws:.+`). An unanchored RE2 search with a leading `.+`
// scans the whole value for each start; strings.Contains is much cheaper and
// turns most values away first. None when in doubt.
func requiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var out []string
	for _, sub := range subs {
		if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 && len(sub.Rune) > 0 {
			out = append(out, string(sub.Rune))
		}
	}
	return out
}
