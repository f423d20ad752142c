package sigma

import (
	"fmt"
	"path"
	"strings"
)

type cop int

const (
	opRef cop = iota
	opAnd
	opOr
	opNot
)

// cnode is a parsed condition: a reference to a search identifier, or an
// and/or/not over other nodes. `1 of`/`all of` are expanded into or/and when
// parsed.
type cnode struct {
	op   cop
	name string // opRef
	kids []cnode
}

// parseCondition parses a condition (specification, "Condition"): and, or,
// not, parentheses, `1 of X*`, `all of X*`, `1 of them`, `all of them`, with
// or binding least and `x of` most.
func parseCondition(s string, det *detection) (cnode, error) {
	p := &condParser{toks: lexCondition(s), det: det}
	if len(p.toks) == 0 {
		return cnode{}, fmt.Errorf("empty condition")
	}
	for _, t := range p.toks {
		if t == "|" {
			return cnode{}, fmt.Errorf("aggregations after | are not supported: use a correlation rule")
		}
		if t == "near" {
			return cnode{}, fmt.Errorf("near is not supported: use a temporal correlation rule")
		}
	}
	n, err := p.or()
	if err != nil {
		return cnode{}, err
	}
	if p.pos < len(p.toks) {
		return cnode{}, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return n, nil
}

func lexCondition(s string) []string {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch r {
		case '(', ')', '|':
			flush()
			toks = append(toks, string(r))
		case ' ', '\t', '\n', '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

type condParser struct {
	toks []string
	pos  int
	det  *detection
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) or() (cnode, error) {
	n, err := p.and()
	if err != nil {
		return n, err
	}
	kids := []cnode{n}
	for p.peek() == "or" {
		p.pos++
		m, err := p.and()
		if err != nil {
			return m, err
		}
		kids = append(kids, m)
	}
	if len(kids) == 1 {
		return n, nil
	}
	return cnode{op: opOr, kids: kids}, nil
}

func (p *condParser) and() (cnode, error) {
	n, err := p.not()
	if err != nil {
		return n, err
	}
	kids := []cnode{n}
	for p.peek() == "and" {
		p.pos++
		m, err := p.not()
		if err != nil {
			return m, err
		}
		kids = append(kids, m)
	}
	if len(kids) == 1 {
		return n, nil
	}
	return cnode{op: opAnd, kids: kids}, nil
}

func (p *condParser) not() (cnode, error) {
	if p.peek() == "not" {
		p.pos++
		n, err := p.not()
		if err != nil {
			return n, err
		}
		return cnode{op: opNot, kids: []cnode{n}}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (cnode, error) {
	t := p.peek()
	switch t {
	case "":
		return cnode{}, fmt.Errorf("condition ends too early")
	case "(":
		p.pos++
		n, err := p.or()
		if err != nil {
			return n, err
		}
		if p.peek() != ")" {
			return cnode{}, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case ")", "and", "or", "of", "them":
		return cnode{}, fmt.Errorf("unexpected %q", t)
	}
	p.pos++
	if p.peek() == "of" {
		p.pos++
		target := p.peek()
		if target == "" {
			return cnode{}, fmt.Errorf("%s of what?", t)
		}
		p.pos++
		return p.quantified(t, target)
	}
	if t == "1" || t == "all" || t == "any" {
		return cnode{}, fmt.Errorf("%q must be followed by of", t)
	}
	if strings.ContainsAny(t, "*?") {
		return cnode{}, fmt.Errorf("%q: a pattern needs 1 of or all of", t)
	}
	if _, ok := p.det.selections[t]; !ok {
		return cnode{}, fmt.Errorf("search identifier %q is not defined", t)
	}
	return cnode{op: opRef, name: t}, nil
}

// quantified expands `1 of X` / `all of X` into or / and over the matching
// identifiers; `them` is every identifier not starting with an underscore.
func (p *condParser) quantified(q, target string) (cnode, error) {
	if q != "1" && q != "all" {
		return cnode{}, fmt.Errorf("%q of: only 1 of and all of are supported", q)
	}
	var names []string
	for _, name := range p.det.order {
		if target == "them" {
			if !strings.HasPrefix(name, "_") {
				names = append(names, name)
			}
			continue
		}
		if ok, err := path.Match(globOnlyStar(target), globOnlyStar(name)); err == nil && ok {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return cnode{}, fmt.Errorf("%s of %s: no search identifier matches", q, target)
	}
	kids := make([]cnode, len(names))
	for i, n := range names {
		kids[i] = cnode{op: opRef, name: n}
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	if q == "1" {
		return cnode{op: opOr, kids: kids}, nil
	}
	return cnode{op: opAnd, kids: kids}, nil
}

// globOnlyStar keeps `*` as the only pattern character, so identifiers with
// other characters path.Match treats specially are compared literally.
func globOnlyStar(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `?`, `\?`, `[`, `\[`, `]`, `\]`, `/`, `\/`)
	return r.Replace(s)
}

// literal is a search identifier, maybe negated, in a DNF term.
type literal struct {
	name string
	neg  bool
}

// maxTerms bounds the alternatives a condition may expand to.
const maxTerms = 64

// dnf turns a condition into an OR of ANDs of (maybe negated) identifiers.
func dnf(n cnode, neg bool) ([][]literal, error) {
	switch n.op {
	case opRef:
		return [][]literal{{{name: n.name, neg: neg}}}, nil
	case opNot:
		return dnf(n.kids[0], !neg)
	}
	isAnd := (n.op == opAnd) != neg // De Morgan
	if !isAnd {
		var out [][]literal
		for _, k := range n.kids {
			t, err := dnf(k, neg)
			if err != nil {
				return nil, err
			}
			out = append(out, t...)
			if len(out) > maxTerms {
				return nil, fmt.Errorf("the condition expands to more than %d alternatives", maxTerms)
			}
		}
		return out, nil
	}
	out := [][]literal{{}}
	for _, k := range n.kids {
		t, err := dnf(k, neg)
		if err != nil {
			return nil, err
		}
		if len(out)*len(t) > maxTerms {
			return nil, fmt.Errorf("the condition expands to more than %d alternatives", maxTerms)
		}
		var next [][]literal
		for _, a := range out {
			for _, b := range t {
				next = append(next, append(append([]literal{}, a...), b...))
			}
		}
		out = next
	}
	return out, nil
}
