package irvm

import (
	"errors"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// The planner writes an array, object or set literal as an empty composite
// and then one statement per element: at every evaluation, an ast.Array
// copied at each append, an object's entries allocated one by one, a set's
// map grown. fuse makes such a literal in one statement instead: a constant
// one (Sigma's `alert contains {}`, `x in {null, ""}`, the lists of strings
// Sigma rules compare fields with) once, at compile time; any other at once
// from its elements (sprintf's array, the query's result object).

// literalKind is what a literalStmt makes.
type literalKind uint8

const (
	litArray literalKind = iota
	litObject
	litSet
)

// literalStmt sets Target to a composite made of Values (and, for an object,
// the constant Keys, no two equal), as the planner's statements it replaces
// would have made it.
type literalStmt struct {
	ir.Location
	Target ir.Local
	Kind   literalKind
	Keys   []*ast.Term
	Values []ir.Operand
}

// constStmt sets a local to a value made once, at compile time.
type constStmt struct {
	ir.Location
	Target ir.Local
	Value  *ast.Term
}

var errUndefinedElem = errors.New("irvm: an undefined element in a literal")

// literal runs a literalStmt.
func (s *state) literal(fr []*ast.Term, st *literalStmt) error {
	switch st.Kind {
	case litArray:
		elems := make([]*ast.Term, len(st.Values))
		for i, o := range st.Values {
			if elems[i] = plain(s.operand(fr, o)); elems[i] == nil {
				return errUndefinedElem
			}
		}
		fr[st.Target] = s.term(ast.NewArray(elems...))
	case litObject:
		var buf [8][2]*ast.Term
		pairs := buf[:0]
		for i, o := range st.Values {
			v := plain(s.operand(fr, o))
			if v == nil {
				return errUndefinedElem
			}
			pairs = append(pairs, [2]*ast.Term{st.Keys[i], v})
		}
		fr[st.Target] = s.term(ast.NewObject(pairs...))
	case litSet:
		var buf [8]*ast.Term
		elems := buf[:0]
		for _, o := range st.Values {
			v := plain(s.operand(fr, o))
			if v == nil {
				return errUndefinedElem
			}
			elems = append(elems, v)
		}
		fr[st.Target] = s.term(ast.NewSet(elems...))
	}
	return nil
}

// fuse rewrites the literals of blocks (a function's, or the plan's).
func fuse(p *Program, blocks []*ir.Block) {
	// A literal's local is added to only while the literal is made; one
	// added to elsewhere (a comprehension's) is not a constant.
	adds := map[ir.Local]int{}
	walk(blocks, func(s ir.Stmt) {
		switch s := s.(type) {
		case *ir.ArrayAppendStmt:
			adds[s.Array]++
		case *ir.ObjectInsertStmt:
			adds[s.Object]++
		case *ir.ObjectInsertOnceStmt:
			adds[s.Object]++
		case *ir.SetAddStmt:
			adds[s.Set]++
		}
	})
	walkBlocks(blocks, func(b *ir.Block) {
		out := make([]ir.Stmt, 0, len(b.Stmts))
		for i := 0; i < len(b.Stmts); {
			stmts, next, _ := p.fuseAt(b.Stmts, i, adds)
			out = append(out, stmts...)
			i = next
		}
		b.Stmts = out
	})
}

// literalStart is the literal stmt begins, if it begins one.
func literalStart(stmt ir.Stmt) (*literalStmt, bool) {
	switch s := stmt.(type) {
	case *ir.MakeArrayStmt:
		return &literalStmt{Location: s.Location, Target: s.Target, Kind: litArray}, true
	case *ir.MakeObjectStmt:
		return &literalStmt{Location: s.Location, Target: s.Target, Kind: litObject}, true
	case *ir.MakeSetStmt:
		return &literalStmt{Location: s.Location, Target: s.Target, Kind: litSet}, true
	}
	return nil, false
}

// fuseAt rewrites the statements from stmts[i] when it begins a literal: the
// statements that replace those up to next, and the literal's value when it
// is a constant.
//
//nolint:gocyclo // one case per statement a literal is written with
func (p *Program) fuseAt(stmts []ir.Stmt, i int, adds map[ir.Local]int, outer ...ir.Local) (_ []ir.Stmt, next int, _ *ast.Term) {
	lit, ok := literalStart(stmts[i])
	if !ok {
		return stmts[i : i+1], i + 1, nil
	}
	var kept []ir.Stmt                // the run's other statements, before the literal
	known := map[ir.Local]*ast.Term{} // locals the run sets to constants
	read := map[ir.Local]bool{}       // locals the elements read
	var consts []*ast.Term            // the elements, while all are constants
	keys := map[ast.String]bool{}
	allConst := true
	// element takes the element o, when a local it reads is not the
	// literal's own.
	element := func(o ir.Operand) bool {
		if l, isLocal := o.Value.(ir.Local); isLocal {
			// The literals around this one are made after it.
			if l == lit.Target || slices.Contains(outer, l) {
				return false
			}
			read[l] = true
		}
		lit.Values = append(lit.Values, o)
		c := p.constant(o)
		if l, isLocal := o.Value.(ir.Local); isLocal {
			c = known[l]
		}
		if c == nil {
			allConst = false
		}
		consts = append(consts, c)
		return true
	}
	// defines says whether a statement of the run may set l: not when an
	// element already read it (the literal reads its elements at its end).
	defines := func(l ir.Local) bool { return l != lit.Target && !read[l] && !slices.Contains(outer, l) }
	j := i + 1
run:
	for j < len(stmts) {
		switch s := stmts[j].(type) {
		case *ir.MakeNullStmt:
			if !defines(s.Target) {
				break run
			}
			known[s.Target] = ast.InternedNullTerm
		case *ir.MakeNumberIntStmt:
			if !defines(s.Target) {
				break run
			}
			known[s.Target] = intTerm(s.Value)
		case *ir.MakeNumberRefStmt:
			if !defines(s.Target) || s.Index < 0 || s.Index >= len(p.numbers) {
				break run
			}
			known[s.Target] = p.numbers[s.Index]
		case *ir.MakeArrayStmt, *ir.MakeObjectStmt, *ir.MakeSetStmt:
			inner, _ := literalStart(s)
			if !defines(inner.Target) {
				break run
			}
			stmts, after, c := p.fuseAt(stmts, j, adds, append(outer, lit.Target)...)
			kept = append(kept, stmts...)
			delete(known, inner.Target)
			if c != nil {
				known[inner.Target] = c
			}
			j = after
			continue
		case *ir.ArrayAppendStmt:
			if lit.Kind != litArray || s.Array != lit.Target || !element(s.Value) {
				break run
			}
			j++
			continue
		case *ir.SetAddStmt:
			if lit.Kind != litSet || s.Set != lit.Target || !element(s.Value) {
				break run
			}
			j++
			continue
		case *ir.ObjectInsertStmt:
			if lit.Kind != litObject || s.Object != lit.Target {
				break run
			}
			key := p.constant(s.Key)
			if key == nil {
				break run // a key made at run time: inserted by itself
			}
			k, isString := key.Value.(ast.String)
			if !isString || keys[k] || !element(s.Value) {
				break run
			}
			keys[k] = true
			lit.Keys = append(lit.Keys, key)
			j++
			continue
		default:
			break run
		}
		kept = append(kept, stmts[j])
		j++
	}
	switch {
	case allConst && len(lit.Values) == adds[lit.Target]:
		c := &constStmt{Location: lit.Location, Target: lit.Target, Value: lit.value(consts)}
		p.consts[c.Value] = true
		return append(kept, c), j, c.Value
	case len(lit.Values) > 0:
		return append(kept, lit), j, nil
	}
	return append([]ir.Stmt{stmts[i]}, kept...), j, nil
}

// value is the literal of the constant elements consts.
func (lit *literalStmt) value(consts []*ast.Term) *ast.Term {
	switch lit.Kind {
	case litObject:
		obj := ast.NewObject()
		for i, k := range lit.Keys {
			obj.Insert(k, consts[i])
		}
		return ast.NewTerm(obj)
	case litSet:
		return ast.NewTerm(ast.NewSet(consts...))
	}
	// Clipped: an append to it (there is none: every append was folded)
	// could not write into the shared elements.
	return ast.NewTerm(ast.NewArray(slices.Clip(consts)...))
}
