package irvm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
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

// maxKeptResults bounds the results buffer a pooled state keeps.
const maxKeptResults = 256

// Eval runs the program on input (nil: none) and data and returns the
// values the plan adds to its result set: one object per result, holding the
// query's variables by name.
func (p *Program) Eval(ctx context.Context, input, data *ast.Term, o Options) ([]*ast.Term, error) {
	s, err := p.run(ctx, input, data, "", o)
	if err != nil {
		return nil, err
	}
	defer s.release()
	if len(s.results) == 0 {
		return nil, nil
	}
	return slices.Clone(s.results), nil
}

// EvalVar runs the program as Eval does and then calls f with the value the
// query's variable name has in each result, in Eval's order, instead of
// making each result's object of the query's variables. An error of f ends
// the calls and is EvalVar's. Neither the values nor f's calls allocate
// anything of EvalVar's own (f, only called, stays on the caller's stack).
func (p *Program) EvalVar(ctx context.Context, input, data *ast.Term, name string, o Options, f func(*ast.Term) error) error {
	if name == "" {
		return errors.New("irvm: EvalVar needs a variable's name")
	}
	s, err := p.run(ctx, input, data, name, o)
	if err != nil {
		return err
	}
	defer s.release()
	for _, v := range s.results {
		if err := f(v); err != nil {
			return err
		}
	}
	return nil
}

// run is Eval's and EvalVar's evaluation: the state holds the results
// until the caller releases it. name is EvalVar's variable ("": Eval).
func (p *Program) run(ctx context.Context, input, data *ast.Term, name string, o Options) (s *state, err error) {
	s = states.Get().(*state)
	// A panic (in a built-in, or in this interpreter) is this record's
	// error: the engine then evaluates the record on OPA's evaluator, and the
	// daemon goes on.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("irvm: panic: %v", r)
		}
		if err != nil {
			s.release()
			s = nil
		}
	}()
	s.p, s.ctx, s.cancel, s.varName = p, ctx, o.Cancel, name
	s.bctx = topdown.BuiltinContext{
		Context: ctx,
		Cancel:  o.Cancel,
		Seed:    rand.Reader,
	}
	if p.usesCache {
		s.bctx.Cache = builtins.Cache{}
	}
	if p.usesNow {
		s.bctx.Time = ast.NumberTerm(json.Number(strconv.FormatInt(time.Now().UnixNano(), 10)))
	}
	if p.nmemo > 0 {
		s.memo = slices.Grow(s.memo[:0], p.nmemo)[:p.nmemo]
		s.memoDone = slices.Grow(s.memoDone[:0], p.nmemo)[:p.nmemo]
	}
	fr := s.frame(p.nlocals)
	fr[ir.Input], fr[ir.Data] = input, data
	for _, b := range p.plan.Blocks {
		r, err := s.block(fr, b)
		if err != nil {
			return s, err
		}
		if r == ctlReturn {
			break
		}
	}
	return s, nil
}

// result runs a resultStmt.
func (s *state) result(fr []*ast.Term, st *resultStmt) error {
	if s.varName == "" {
		if err := s.literal(fr, st.literalStmt); err != nil {
			return err
		}
		s.results = append(s.results, fr[st.Target])
		return nil
	}
	var v *ast.Term
	for i, o := range st.Values {
		t := s.operand(fr, o)
		if t == nil {
			return errUndefinedElem // as the literal would have been
		}
		if st.Keys[i].Value == ast.String(s.varName) {
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
