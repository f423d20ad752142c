package irvm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// What running a block tells the block around it. A block that ran to its
// end, or was left by a statement that was undefined or by a break of index
// 0, lets the enclosing block go on; a break of index n > 0 leaves n
// enclosing blocks more. These are the semantics of OPA's Wasm compiler,
// which nests one Wasm block per IR block (a loop for a scan's body).
const (
	ctlEnd    = -1 // ran to its end
	ctlReturn = -2 // a ReturnLocalStmt: the function returns
)

// cancelEvery is how many statements run between two looks at the
// cancellation.
const cancelEvery = 256

// ErrCancelled is returned when the evaluation's Cancel was cancelled.
var ErrCancelled = errors.New("evaluation cancelled")

// ConflictError is a rule that produced two different values where Rego
// allows one (complete rules, object keys, function outputs).
type ConflictError struct {
	Location *ast.Location
	What     string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s: eval_conflict_error: %s", e.Location, e.What)
}

// Options are an evaluation's settings.
type Options struct {
	// Cancel, like the context, stops the evaluation (both are checked
	// every few hundred statements).
	Cancel topdown.Cancel
}

// state is one evaluation.
type state struct {
	p      *Program
	ctx    context.Context
	cancel topdown.Cancel
	steps  int

	bctx    topdown.BuiltinContext
	out     *ast.Term // a built-in's output
	outs    int
	many    []*ast.Term // a relation's outputs
	relates bool
	onOut   func(*ast.Term) error
	scratch [8]*ast.Term

	memo     []*ast.Term
	memoDone []bool
	stack    []*ast.Term // the functions' frames

	ret     *ast.Term   // the value of the last ReturnLocalStmt
	results []*ast.Term // kept for the next evaluation, up to maxKeptResults
	varName string      // EvalVar's variable; "": Eval's objects

	// slab holds the terms s.term gives out next: one allocation for
	// many. A term given out is never given out again; the terms a result
	// holds keep their slab, the rest of which the next evaluations use.
	slab []ast.Term
}

// states are evaluations' working memory, reused.
var states = sync.Pool{New: func() any {
	s := &state{}
	s.onOut = s.output
	return s
}}

// release clears s of the evaluation's values and gives it back.
func (s *state) release() {
	clear(s.stack)
	clear(s.memo)
	clear(s.memoDone)
	clear(s.scratch[:])
	clear(s.results)
	s.stack, s.results, s.varName = s.stack[:0], s.results[:0], ""
	if cap(s.results) > maxKeptResults {
		s.results = nil
	}
	s.p, s.ctx, s.cancel, s.bctx, s.out, s.many, s.ret = nil, nil, nil, topdown.BuiltinContext{}, nil, nil, nil
	s.steps = 0
	states.Put(s)
}

// frame is a function's locals, from the evaluation's stack.
func (s *state) frame(n int) []*ast.Term {
	if len(s.stack)+n > cap(s.stack) {
		// A new stack; frames on the old one keep it.
		s.stack = make([]*ast.Term, 0, max(512, 2*n))
	}
	top := len(s.stack)
	s.stack = s.stack[:top+n]
	return s.stack[top : top+n : top+n]
}

// pop gives fr, the newest frame, back to the stack.
func (s *state) pop(fr []*ast.Term) {
	clear(fr)
	top := len(s.stack) - len(fr)
	if top >= 0 && len(fr) > 0 && &s.stack[top] == &fr[0] {
		s.stack = s.stack[:top]
	}
}

func (s *state) output(t *ast.Term) error {
	if s.relates {
		s.many = append(s.many, t)
		return nil
	}
	s.out = t
	s.outs++
	return nil
}

func (s *state) operand(fr []*ast.Term, o ir.Operand) *ast.Term {
	switch v := o.Value.(type) {
	case ir.Local:
		return fr[v]
	case ir.StringIndex:
		return s.p.strs[v]
	case ir.Bool:
		return ast.InternedTerm(bool(v))
	}
	return nil
}

func (s *state) tick() error {
	s.steps++
	if s.steps%cancelEvery == 0 {
		if s.cancel != nil && s.cancel.Cancelled() {
			return ErrCancelled
		}
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// block runs one block on the frame fr and says how it ended (ctlEnd,
// ctlReturn, or the number of enclosing blocks a break leaves).
//
//nolint:gocyclo // one case per statement type: the switch is the machine
func (s *state) block(fr []*ast.Term, b *ir.Block) (int, error) {
	if err := s.tick(); err != nil {
		return 0, err
	}
	for _, st := range b.Stmts {
		switch st := st.(type) {
		case *ir.DotStmt:
			v := dot(s.operand(fr, st.Source), plain(s.operand(fr, st.Key)))
			if v == nil {
				return 0, nil
			}
			fr[st.Target] = v
		case *ir.EqualStmt:
			a, b := plain(s.operand(fr, st.A)), plain(s.operand(fr, st.B))
			if a == nil || b == nil || ast.Compare(a.Value, b.Value) != 0 {
				return 0, nil
			}
		case *ir.NotEqualStmt:
			a, b := plain(s.operand(fr, st.A)), plain(s.operand(fr, st.B))
			if a == nil || b == nil || ast.Compare(a.Value, b.Value) == 0 {
				return 0, nil
			}
		case *callStmt:
			ok, err := s.call(fr, st.CallStmt, st.callee)
			if err != nil {
				return 0, err
			}
			if !ok {
				return 0, nil
			}
		case *ir.AssignVarStmt:
			fr[st.Target] = s.operand(fr, st.Source)
		case *ir.AssignVarOnceStmt:
			v := s.operand(fr, st.Source)
			if cur := fr[st.Target]; cur != nil && v != nil && ast.Compare(plain(cur).Value, plain(v).Value) != 0 {
				return 0, &ConflictError{Location: location(st.Location, nil), What: "complete rules must not produce multiple outputs"}
			}
			fr[st.Target] = v
		case *ir.BlockStmt:
			for _, inner := range st.Blocks {
				r, err := s.block(fr, inner)
				if err != nil {
					return 0, err
				}
				if r == ctlReturn {
					return r, nil
				}
				if r >= 1 {
					return r - 1, nil
				}
			}
		case *ir.BreakStmt:
			return int(st.Index), nil
		case *ir.NotStmt:
			r, err := s.block(fr, st.Block)
			if err != nil {
				return 0, err
			}
			switch {
			case r == ctlReturn:
				return r, nil
			case r == ctlEnd:
				return 0, nil // the negated block held: the not does not
			case r >= 1:
				return r - 1, nil
			}
		case *ir.ScanStmt:
			r, err := s.scan(fr, st)
			if err != nil {
				return 0, err
			}
			if r != ctlEnd {
				return r, nil
			}
		case *ir.IsDefinedStmt:
			if fr[st.Source] == nil {
				return 0, nil
			}
		case *ir.IsUndefinedStmt:
			if fr[st.Source] != nil {
				return 0, nil
			}
		case *ir.ResetLocalStmt:
			fr[st.Target] = nil
		case *ir.ReturnLocalStmt:
			s.ret = fr[st.Source]
			return ctlReturn, nil
		case *resultStmt:
			if err := s.result(fr, st); err != nil {
				return 0, err
			}
		case *ir.ResultSetAddStmt:
			if err := s.addResult(fr[st.Value]); err != nil {
				return 0, err
			}
		case *ir.MakeObjectStmt:
			fr[st.Target] = s.term(ast.NewObject())
		case *ir.MakeArrayStmt:
			fr[st.Target] = s.term(ast.NewArray(make([]*ast.Term, 0, st.Capacity)...))
		case *ir.MakeSetStmt:
			// Made on the first add: most rules' sets of alerts stay empty.
			fr[st.Target] = s.term(emptySet)
		case *ir.MakeNullStmt:
			fr[st.Target] = ast.InternedNullTerm
		case *ir.MakeNumberIntStmt:
			fr[st.Target] = intTerm(st.Value)
		case *ir.MakeNumberRefStmt:
			fr[st.Target] = s.p.numbers[st.Index]
		case *ir.AssignIntStmt:
			fr[st.Target] = intTerm(st.Value)
		case *ir.LenStmt:
			n, ok := length(plain(s.operand(fr, st.Source)))
			if !ok {
				return 0, nil
			}
			fr[st.Target] = intTerm(int64(n))
		case *ir.IsArrayStmt:
			if v := s.operand(fr, st.Source); v == nil || !isArray(v.Value) {
				return 0, nil
			}
		case *ir.IsObjectStmt:
			if v := s.operand(fr, st.Source); v == nil || !isObject(v.Value) {
				return 0, nil
			}
		case *ir.IsSetStmt:
			if v := s.operand(fr, st.Source); v == nil || !isSet(v.Value) {
				return 0, nil
			}
		case *ir.ArrayAppendStmt:
			t := fr[st.Array]
			arr, ok := t.Value.(*ast.Array)
			if !ok {
				return 0, fmt.Errorf("irvm: append to a %s", ast.ValueName(t.Value))
			}
			if s.p.consts[t] {
				// A folded literal is shared by every evaluation.
				fr[st.Array] = ast.NewTerm(arr.Append(plain(s.operand(fr, st.Value))))
				break
			}
			// In place, as the plan means it: every local holding this
			// array sees the element.
			t.Value = arr.Append(plain(s.operand(fr, st.Value)))
		case *ir.ObjectInsertStmt:
			obj, err := s.objectAt(fr, st.Object)
			if err != nil {
				return 0, err
			}
			insert(fr[st.Object], obj, plain(s.operand(fr, st.Key)), plain(s.operand(fr, st.Value)))
		case *ir.ObjectInsertOnceStmt:
			obj, err := s.objectAt(fr, st.Object)
			if err != nil {
				return 0, err
			}
			k, v := plain(s.operand(fr, st.Key)), plain(s.operand(fr, st.Value))
			if cur := obj.Get(k); cur != nil && ast.Compare(cur.Value, v.Value) != 0 {
				return 0, &ConflictError{Location: location(st.Location, nil), What: "object keys must be unique"}
			}
			insert(fr[st.Object], obj, k, v)
		case *ir.ObjectMergeStmt:
			fr[st.Target] = merge(plain(fr[st.A]), plain(fr[st.B]))
		case *ir.SetAddStmt:
			if err := s.add(fr, st); err != nil {
				return 0, err
			}
		case *ir.CallDynamicStmt:
			ok, err := s.callDynamic(fr, st)
			if err != nil {
				return 0, err
			}
			if !ok {
				return 0, nil
			}
		case *constStmt:
			fr[st.Target] = st.Value
		case *literalStmt:
			if err := s.literal(fr, st); err != nil {
				return 0, err
			}
		case *ir.NopStmt:
		default:
			return 0, fmt.Errorf("irvm: statement %T is not supported", st)
		}
	}
	return ctlEnd, nil
}

// scan runs the scan's block for each element of its source, as OPA's Wasm
// compiler does: the block ending, or a break of index 0, goes on to the next
// element; a break of index 1 ends the scan; n > 1 leaves n-2 blocks around
// the scan's own.
func (s *state) scan(fr []*ast.Term, st *ir.ScanStmt) (int, error) {
	src := fr[st.Source]
	if src == nil {
		return ctlEnd, nil
	}
	each := func(k, v *ast.Term) (int, bool, error) {
		fr[st.Key], fr[st.Value] = k, v
		r, err := s.block(fr, st.Block)
		switch {
		case err != nil:
			return 0, true, err
		case r == ctlReturn:
			return r, true, nil
		case r == 1:
			return ctlEnd, true, nil
		case r >= 2:
			return r - 2, true, nil
		}
		return ctlEnd, false, nil
	}
	if one, isOne := src.Value.(oneSet); isOne {
		r, _, err := each(one.elem, one.elem)
		return r, err
	}
	switch v := plain(src).Value.(type) {
	case *ast.Array:
		for i := range v.Len() {
			if r, stop, err := each(intTerm(int64(i)), v.Elem(i)); stop || err != nil {
				return r, err
			}
		}
	case ast.Object:
		for _, k := range v.Keys() {
			if r, stop, err := each(k, v.Get(k)); stop || err != nil {
				return r, err
			}
		}
	case ast.Set:
		for _, e := range v.Slice() {
			if r, stop, err := each(e, e); stop || err != nil {
				return r, err
			}
		}
	}
	return ctlEnd, nil
}
