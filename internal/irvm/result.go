package irvm

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// The planner writes each result of the query as an object of the query's
// variables by name, made and then added to the result set. A caller that
// wants one variable's values (the engine wants `result` of
// `data.rules[p][n].alert[result]`) would have that object made only to take
// one member out of it again: an object, its entries and its keys for every
// alert. EvalVar takes the value from the statement that would have made
// the object instead.

// resultStmt is a result object's literal together with the
// ResultSetAddStmt that adds it: Eval makes the object as the literal did,
// EvalVar only reads the variable's value.
type resultStmt struct {
	*literalStmt
}

// fuseResults pairs, in the plan's blocks, each result object's literal
// with the ResultSetAddStmt right after it that adds it.
func fuseResults(blocks []*ir.Block) {
	walkBlocks(blocks, func(b *ir.Block) {
		out := b.Stmts[:0]
		for i := 0; i < len(b.Stmts); i++ {
			lit, isLit := b.Stmts[i].(*literalStmt)
			if isLit && lit.Kind == litObject && i+1 < len(b.Stmts) {
				if add, isAdd := b.Stmts[i+1].(*ir.ResultSetAddStmt); isAdd && add.Value == lit.Target {
					out = append(out, &resultStmt{lit})
					i++
					continue
				}
			}
			out = append(out, b.Stmts[i])
		}
		b.Stmts = out
	})
}

// Eval runs the program on input (nil: none) and data and returns the
// values the plan adds to its result set: one object per result, holding the
// query's variables by name.
func (p *Program) Eval(ctx context.Context, input, data *ast.Term, o Options) ([]*ast.Term, error) {
	return p.eval(ctx, nil, input, data, "", o)
}

// EvalVar runs the program as Eval does and appends to dst, instead of
// each result's object of the query's variables, the value the variable
// name has in it. dst may be the slice of an earlier call, to reuse.
func (p *Program) EvalVar(ctx context.Context, dst []*ast.Term, input, data *ast.Term, name string, o Options) ([]*ast.Term, error) {
	if name == "" {
		return dst, errors.New("irvm: EvalVar needs a variable's name")
	}
	return p.eval(ctx, dst, input, data, name, o)
}

// result runs a resultStmt.
func (s *state) result(fr []*ast.Term, st *resultStmt) error {
	if s.varName == "" {
		if err := s.literal(fr, st.literalStmt); err != nil {
			return err
		}
		s.results = append(s.results, fr[st.literalStmt.Target])
		return nil
	}
	var v *ast.Term
	for i, o := range st.literalStmt.Values {
		t := s.operand(fr, o)
		if t == nil {
			return errUndefinedElem // as the literal would have been
		}
		if st.literalStmt.Keys[i].Value == ast.String(s.varName) {
			v = t
		}
	}
	if v == nil {
		return fmt.Errorf("irvm: the query has no variable %q", s.varName)
	}
	s.results = append(s.results, plain(v))
	return nil
}

// addResult runs a ResultSetAddStmt that fuseResults left as it was.
func (s *state) addResult(t *ast.Term) error {
	t = plain(t)
	if s.varName == "" {
		s.results = append(s.results, t)
		return nil
	}
	obj, isObj := t.Value.(ast.Object)
	if !isObj {
		return fmt.Errorf("irvm: a result is a %s, not an object of variables", ast.ValueName(t.Value))
	}
	v := obj.Get(ast.StringTerm(s.varName))
	if v == nil {
		return fmt.Errorf("irvm: the query has no variable %q", s.varName)
	}
	s.results = append(s.results, v)
	return nil
}
