package irvm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// call runs a CallStmt; false when its result is undefined.
func (s *state) call(fr []*ast.Term, st *ir.CallStmt, c *callee) (bool, error) {
	if c.fn != nil {
		args := s.scratch[:0]
		if len(st.Args) > len(s.scratch) {
			args = make([]*ast.Term, 0, len(st.Args))
		}
		for _, a := range st.Args {
			args = append(args, s.operand(fr, a))
		}
		v, err := s.invoke(c.fn, args)
		if err != nil || v == nil {
			return false, err
		}
		fr[st.Result] = v
		return true, nil
	}
	// Built-ins do not call back into the plan, nor keep the slice of their
	// operands (only, perhaps, the operands).
	ops := s.scratch[:len(st.Args)]
	if len(st.Args) > len(s.scratch) {
		ops = make([]*ast.Term, len(st.Args))
	}
	for i, a := range st.Args {
		ops[i] = s.operand(fr, a)
		if ops[i] == nil {
			return false, nil
		}
		if _, one := ops[i].Value.(oneSet); one {
			ops[i] = plain(ops[i]) // the fast built-ins know OPA's sets only
		}
	}
	if out, ok := lazyBuiltin(c.name, ops); ok {
		fr[st.Result] = out
		return true, nil
	}
	if c.fast != nil {
		if out, ok := c.fast(ops); ok {
			fr[st.Result] = out
			return true, nil
		}
	}
	for i := range ops {
		ops[i] = plain(ops[i])
	}
	s.out, s.outs, s.relates, s.many = nil, 0, c.relation, nil
	bctx := s.bctx
	bctx.Location = c.loc
	if err := c.bi(bctx, ops, s.onOut); err != nil {
		var h topdown.Halt
		if errors.As(err, &h) {
			err = h.Err
		}
		return false, err
	}
	if c.void {
		return true, nil
	}
	if c.relation {
		fr[st.Result] = ast.NewTerm(ast.NewArray(s.many...))
		return true, nil
	}
	if s.outs > 1 {
		return false, fmt.Errorf("irvm: built-in %s gave %d outputs", c.name, s.outs)
	}
	if s.out == nil {
		return false, nil
	}
	fr[st.Result] = s.out
	return true, nil
}

// invoke calls a planned function with args (copied into its frame).
func (s *state) invoke(fn *function, args []*ast.Term) (*ast.Term, error) {
	if fn.memo >= 0 && s.memoDone[fn.memo] {
		return s.memo[fn.memo], nil
	}
	fr := s.frame(fn.nlocals)
	defer s.pop(fr)
	for i, l := range fn.f.Params {
		fr[l] = args[i]
	}
	var v *ast.Term
	returned := false
	for _, b := range fn.f.Blocks {
		r, err := s.block(fr, b)
		if err != nil {
			return nil, err
		}
		if r == ctlReturn {
			v, returned = s.ret, true
			break
		}
	}
	if !returned {
		v = fr[fn.f.Return]
	}
	if fn.memo >= 0 {
		s.memo[fn.memo], s.memoDone[fn.memo] = v, true
	}
	return v, nil
}

// callDynamic calls the planned function at a data path computed at run
// time; false when there is none there, or it is undefined.
func (s *state) callDynamic(fr []*ast.Term, st *ir.CallDynamicStmt) (bool, error) {
	var path strings.Builder
	for i, o := range st.Path {
		t := s.operand(fr, o)
		if t == nil {
			return false, nil
		}
		str, ok := t.Value.(ast.String)
		if !ok {
			return false, nil
		}
		if i > 0 {
			path.WriteByte(0)
		}
		path.WriteString(string(str))
	}
	fn := s.p.dyn[path.String()]
	if fn == nil {
		return false, nil
	}
	args := make([]*ast.Term, len(st.Args))
	for i, l := range st.Args {
		args[i] = fr[l]
	}
	v, err := s.invoke(fn, args)
	if err != nil || v == nil {
		return false, err
	}
	fr[st.Result] = v
	return true, nil
}
