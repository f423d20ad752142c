package irvm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Program is one planned query, ready to evaluate any number of times, from
// any number of goroutines: it holds nothing that an evaluation changes.
type Program struct {
	plan    *ir.Plan
	nlocals int
	strs    []*ast.Term // the plan's string constants
	numbers []*ast.Term // the same strings read as numbers, for MakeNumberRef
	funcs   map[string]*function
	dyn     map[string]*function // by their data path, for CallDynamicStmt
	nmemo   int
	consts  map[*ast.Term]bool // the terms of constStmts
	usesNow bool               // time.now_ns: evaluations give the built-in the time
	// usesCache: a built-in keeps state in the evaluation\'s cache.
	usesCache bool
	// impure: a built-in whose answer is not its operands' alone (OPA's
	// nondeterministic ones), or that does something besides (print).
	impure bool
}

// Pure says that the program's results are a function of its input and data
// alone: none of its built-ins reads the clock, the network or chance, or
// prints. A caller may then remember an evaluation's results for any input
// it reads the same of.
func (p *Program) Pure() bool { return !p.impure && !p.usesNow && !p.usesCache }

// function is a planned function: a rule, or a Rego function.
type function struct {
	f       *ir.Func
	nlocals int
	// memo is the function's slot in an evaluation's memo, for the functions
	// of input and data alone (rules, not Rego functions), whose value is the
	// same every time one evaluation asks; -1 for the others.
	memo int
}

// callee is what a CallStmt calls: a planned function, or a built-in one.
type callee struct {
	fn   *function
	bi   topdown.BuiltinFunc
	void bool // the built-in returns nothing (print)
	// relation: the built-in gives any number of outputs (walk), which the
	// plan scans as one array.
	relation bool
	name     string
	loc      *ast.Location
	fast     fast // nil: OPA's built-in only
}

func compile(p *ir.Policy) (*Program, error) {
	if p.Plans == nil || len(p.Plans.Plans) != 1 {
		return nil, errors.New("irvm: the policy must have exactly one plan")
	}
	prog := &Program{
		plan:   p.Plans.Plans[0],
		funcs:  map[string]*function{},
		dyn:    map[string]*function{},
		consts: map[*ast.Term]bool{},
	}
	var files []string
	if p.Static != nil {
		for _, s := range p.Static.Strings {
			prog.strs = append(prog.strs, ast.StringTerm(s.Value))
			prog.numbers = append(prog.numbers, ast.NumberTerm(json.Number(s.Value)))
		}
		for _, f := range p.Static.Files {
			files = append(files, f.Value)
		}
	}
	if p.Funcs != nil {
		for _, f := range p.Funcs.Funcs {
			fn := &function{f: f, memo: -1, nlocals: maxLocal(f.Blocks, int(f.Return)) + 1}
			for _, l := range f.Params {
				fn.nlocals = max(fn.nlocals, int(l)+1)
			}
			if len(f.Params) == 2 {
				fn.memo = prog.nmemo
				prog.nmemo++
			}
			prog.funcs[f.Name] = fn
			if len(f.Path) > 0 {
				prog.dyn[strings.Join(f.Path, "\x00")] = fn
			}
		}
	}
	fuse(prog, prog.plan.Blocks)
	for _, fn := range prog.funcs {
		fuse(prog, fn.f.Blocks)
	}
	prog.nlocals = maxLocal(prog.plan.Blocks, int(ir.Data)) + 1
	fuseResults(prog.plan.Blocks) // after maxLocal, which knows literalStmt's locals
	calls := map[*ir.CallStmt]*callee{}
	check := func(blocks []*ir.Block) error {
		var err error
		walk(blocks, func(s ir.Stmt) {
			if err != nil {
				return
			}
			switch s := s.(type) {
			case *ir.WithStmt:
				err = errors.New("irvm: `with` is not supported")
			case *ir.CallStmt:
				c, cerr := prog.resolve(s, files)
				if cerr != nil {
					err = cerr
					return
				}
				calls[s] = c
			case *ir.MakeNumberRefStmt:
				if s.Index < 0 || s.Index >= len(prog.numbers) {
					err = fmt.Errorf("irvm: number constant %d out of range", s.Index)
				}
			}
		})
		return err
	}
	if err := check(prog.plan.Blocks); err != nil {
		return nil, err
	}
	for _, fn := range prog.funcs {
		if err := check(fn.f.Blocks); err != nil {
			return nil, fmt.Errorf("%s: %w", fn.f.Name, err)
		}
	}
	bind(prog.plan.Blocks, calls)
	for _, fn := range prog.funcs {
		bind(fn.f.Blocks, calls)
	}
	return prog, nil
}

// callStmt is a CallStmt with its callee, found when the plan was compiled.
type callStmt struct {
	*ir.CallStmt
	callee *callee
}

// bind gives each call of blocks its callee.
func bind(blocks []*ir.Block, calls map[*ir.CallStmt]*callee) {
	walkBlocks(blocks, func(b *ir.Block) {
		for i, st := range b.Stmts {
			if c, ok := st.(*ir.CallStmt); ok {
				b.Stmts[i] = &callStmt{CallStmt: c, callee: calls[c]}
			}
		}
	})
}

func (p *Program) resolve(s *ir.CallStmt, files []string) (*callee, error) {
	c := &callee{name: s.Func, loc: location(s.Location, files)}
	if fn, ok := p.funcs[s.Func]; ok {
		if len(s.Args) != len(fn.f.Params) {
			return nil, fmt.Errorf("irvm: %s called with %d arguments, takes %d", s.Func, len(s.Args), len(fn.f.Params))
		}
		c.fn = fn
		return c, nil
	}
	decl, ok := ast.BuiltinMap[s.Func]
	bi := topdown.GetBuiltin(s.Func)
	if !ok || bi == nil {
		return nil, fmt.Errorf("irvm: built-in function %s is not OPA's evaluator's", s.Func)
	}
	switch s.Func {
	case "time.now_ns", "io.jwt.decode_verify":
		// decode_verify checks a token's exp/nbf against the evaluation's
		// time when its constraints give none, and reads a nil Time
		// otherwise (a nil dereference).
		p.usesNow = true
	case "net.lookup_ip_addr", "rand.intn", "uuid.rfc4122":
		p.usesCache = true // they keep state in BuiltinContext.Cache
	case "trace", "http.send", "opa.runtime", "rego.metadata.chain", "rego.metadata.rule":
		// Built-ins that need the evaluator's own state: leave the
		// query to OPA's evaluator.
		return nil, fmt.Errorf("irvm: built-in function %s needs OPA's evaluator", s.Func)
	}
	c.bi, c.void, c.relation = bi, decl.Decl.Result() == nil, decl.Relation
	if decl.Nondeterministic || c.void {
		p.impure = true
	}
	c.fast = fastBuiltins[s.Func]
	return c, nil
}

func location(l ir.Location, files []string) *ast.Location {
	loc := &ast.Location{Row: l.Row, Col: l.Col}
	if l.File >= 0 && l.File < len(files) {
		loc.File = files[l.File]
	}
	return loc
}

// constant is the term a constant operand stands for; nil for a local.
func (p *Program) constant(o ir.Operand) *ast.Term {
	switch v := o.Value.(type) {
	case ir.StringIndex:
		return p.strs[v]
	case ir.Bool:
		return ast.InternedTerm(bool(v))
	}
	return nil
}

// walkBlocks calls f on every block, nested ones included, outer first.
func walkBlocks(blocks []*ir.Block, f func(*ir.Block)) {
	for _, b := range blocks {
		if b == nil {
			continue
		}
		f(b)
		for _, s := range b.Stmts {
			switch s := s.(type) {
			case *ir.BlockStmt:
				walkBlocks(s.Blocks, f)
			case *ir.ScanStmt:
				walkBlocks([]*ir.Block{s.Block}, f)
			case *ir.NotStmt:
				walkBlocks([]*ir.Block{s.Block}, f)
			case *ir.WithStmt:
				walkBlocks([]*ir.Block{s.Block}, f)
			}
		}
	}
}

// walk calls f on every statement in blocks, nested ones included.
func walk(blocks []*ir.Block, f func(ir.Stmt)) {
	for _, b := range blocks {
		if b == nil {
			continue
		}
		for _, s := range b.Stmts {
			f(s)
			switch s := s.(type) {
			case *ir.BlockStmt:
				walk(s.Blocks, f)
			case *ir.ScanStmt:
				walk([]*ir.Block{s.Block}, f)
			case *ir.NotStmt:
				walk([]*ir.Block{s.Block}, f)
			case *ir.WithStmt:
				walk([]*ir.Block{s.Block}, f)
			}
		}
	}
}

// maxLocal is the highest local the blocks use, at least floor.
func maxLocal(blocks []*ir.Block, floor int) int {
	m := floor
	see := func(l ir.Local) { m = max(m, int(l)) }
	op := func(o ir.Operand) {
		if l, ok := o.Value.(ir.Local); ok {
			see(l)
		}
	}
	walk(blocks, func(s ir.Stmt) {
		switch s := s.(type) {
		case *ir.ReturnLocalStmt:
			see(s.Source)
		case *constStmt:
			see(s.Target)
		case *literalStmt:
			for _, v := range s.Values {
				op(v)
			}
			see(s.Target)
		case *ir.CallStmt:
			for _, a := range s.Args {
				op(a)
			}
			see(s.Result)
		case *ir.CallDynamicStmt:
			for _, a := range s.Args {
				see(a)
			}
			for _, a := range s.Path {
				op(a)
			}
			see(s.Result)
		case *ir.DotStmt:
			op(s.Source)
			op(s.Key)
			see(s.Target)
		case *ir.LenStmt:
			op(s.Source)
			see(s.Target)
		case *ir.ScanStmt:
			see(s.Source)
			see(s.Key)
			see(s.Value)
		case *ir.AssignIntStmt:
			see(s.Target)
		case *ir.AssignVarStmt:
			op(s.Source)
			see(s.Target)
		case *ir.AssignVarOnceStmt:
			op(s.Source)
			see(s.Target)
		case *ir.ResetLocalStmt:
			see(s.Target)
		case *ir.MakeNullStmt:
			see(s.Target)
		case *ir.MakeNumberIntStmt:
			see(s.Target)
		case *ir.MakeNumberRefStmt:
			see(s.Target)
		case *ir.MakeArrayStmt:
			see(s.Target)
		case *ir.MakeObjectStmt:
			see(s.Target)
		case *ir.MakeSetStmt:
			see(s.Target)
		case *ir.EqualStmt:
			op(s.A)
			op(s.B)
		case *ir.NotEqualStmt:
			op(s.A)
			op(s.B)
		case *ir.IsArrayStmt:
			op(s.Source)
		case *ir.IsObjectStmt:
			op(s.Source)
		case *ir.IsSetStmt:
			op(s.Source)
		case *ir.IsDefinedStmt:
			see(s.Source)
		case *ir.IsUndefinedStmt:
			see(s.Source)
		case *ir.ArrayAppendStmt:
			op(s.Value)
			see(s.Array)
		case *ir.ObjectInsertStmt:
			op(s.Key)
			op(s.Value)
			see(s.Object)
		case *ir.ObjectInsertOnceStmt:
			op(s.Key)
			op(s.Value)
			see(s.Object)
		case *ir.ObjectMergeStmt:
			see(s.A)
			see(s.B)
			see(s.Target)
		case *ir.SetAddStmt:
			op(s.Value)
			see(s.Set)
		case *ir.ResultSetAddStmt:
			see(s.Value)
		case *ir.WithStmt:
			see(s.Local)
			op(s.Value)
		}
	})
	return m
}

// intTerm is n as a Rego number.
func intTerm(n int64) *ast.Term {
	if n >= 0 && n < int64(len(smallInts)) {
		return smallInts[n]
	}
	return ast.NumberTerm(json.Number(strconv.FormatInt(n, 10)))
}

var smallInts = func() []*ast.Term {
	ts := make([]*ast.Term, 256)
	for i := range ts {
		ts[i] = ast.IntNumberTerm(i)
	}
	return ts
}()
