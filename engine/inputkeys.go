package engine

import (
	"fmt"
	"github.com/open-policy-agent/opa/v1/ast"
)

// A record the prefilter lets through is decoded for evaluation, and
// decoding is a large part of what a candidate costs: a CloudTrail record
// carries requestParameters, responseElements, resources, tlsDetails … that
// most rules never read. So the engine works out, from the compiled policies,
// which top-level keys of input each rule can read, and decodes only those
// (and the keys the engine itself reads for the alert); a rule that can read
// the whole input (walk(input), input[x], input handed to a builtin that looks
// at all of it) gets the whole record.
//
// The analysis follows input through the rule's bodies, the rules they refer
// to and the functions they call with input (or a parameter holding it) as an
// argument. It is conservative: any use of input it does not recognise as a
// read of a constant key counts as reading all of it. TestPrefilterEquivalence
// compares every alert with those of the whole record.

// inputUse is what some Rego reads of input: some top-level keys, or all.
type inputUse struct {
	all  bool
	why  string // what made it all, for tests and debugging
	keys map[string]bool
}

func (u *inputUse) setAll(why string) {
	if !u.all {
		u.all, u.why = true, why
	}
}

func (u *inputUse) add(o *inputUse) {
	if o == nil {
		return
	}
	if o.all {
		u.setAll(o.why)
		return
	}
	for k := range o.keys {
		u.key(k)
	}
}

func (u *inputUse) key(k string) {
	if u.keys == nil {
		u.keys = map[string]bool{}
	}
	u.keys[k] = true
}

// shapeOnly are builtins that look at no more of an object argument than its
// type: the partly decoded record is an object as the whole one is.
var shapeOnly = map[string]bool{
	"is_object": true, "is_string": true, "is_array": true, "is_number": true, "is_boolean": true,
	"is_null": true, "is_set": true, "type_name": true,
}

type useKey struct {
	rule  *ast.Rule
	param int // -1: the rule's own reads of input
}

// inputAnalysis computes inputUse for rules, memoised. Rego has no
// recursion, so the memo needs no cycle check.
type inputAnalysis struct {
	c    *ast.Compiler
	memo map[useKey]*inputUse
}

func newInputAnalysis(c *ast.Compiler) *inputAnalysis {
	return &inputAnalysis{c: c, memo: map[useKey]*inputUse{}}
}

// ruleKeys is what evaluating data.rules.<pack>.<name>.alert can read of
// input.
func (a *inputAnalysis) ruleKeys(key [2]string) *inputUse {
	ref := ast.MustParseRef("data.rules").Append(ast.StringTerm(key[0])).Append(ast.StringTerm(key[1])).Append(ast.StringTerm("alert"))
	u := &inputUse{}
	for _, r := range a.c.GetRules(ref) {
		u.add(a.use(r, -1))
		if u.all {
			break
		}
	}
	return u
}

// use is what rule r reads of input directly, and with param >= 0 also of
// the value passed as its param'th argument (a function's parameter).
func (a *inputAnalysis) use(r *ast.Rule, param int) *inputUse {
	k := useKey{r, param}
	if u, ok := a.memo[k]; ok {
		return u
	}
	u := &inputUse{}
	a.memo[k] = u
	tracked := map[ast.Var]bool{ast.InputRootDocument.Value.(ast.Var): true}
	if param >= 0 {
		if param >= len(r.Head.Args) {
			u.setAll("an argument beyond " + r.Head.Ref().String() + "'s parameters")
			return u
		}
		v, ok := r.Head.Args[param].Value.(ast.Var)
		if !ok {
			u.setAll("a pattern in " + r.Head.Ref().String() + "'s parameters") // unified with the argument
			return u
		}
		tracked[v] = true
	}
	for rule := r; rule != nil; rule = rule.Else {
		// The head's arguments are the parameters themselves, not uses.
		if rule.Head.Key != nil {
			a.scan(rule.Head.Key, tracked, u)
		}
		if rule.Head.Value != nil {
			a.scan(rule.Head.Value, tracked, u)
		}
		a.scan(rule.Body, tracked, u)
		if u.all {
			break
		}
	}
	return u
}

// scan adds to u what x reads of the tracked values (input, a parameter).
func (a *inputAnalysis) scan(x any, tracked map[ast.Var]bool, u *inputUse) {
	var vis *ast.GenericVisitor
	vis = ast.NewGenericVisitor(func(x any) bool {
		if u.all {
			return true
		}
		switch x := x.(type) {
		case *ast.Expr:
			if !x.IsCall() {
				return false
			}
			terms := x.Terms.([]*ast.Term)
			a.call(terms[0], terms[1:], tracked, u, vis)
			for _, w := range x.With {
				vis.Walk(w)
			}
			return true
		case ast.Call:
			a.call(x[0], x[1:], tracked, u, vis)
			return true
		case ast.Ref:
			head, ok := x[0].Value.(ast.Var)
			switch {
			case ok && tracked[head]:
				if len(x) < 2 {
					u.setAll(x.String())
					return true
				}
				s, isStr := x[1].Value.(ast.String)
				if !isStr {
					u.setAll(x.String()) // input[k]: any key
					return true
				}
				u.key(string(s))
			case x[0].Equal(ast.DefaultRootDocument):
				// Another rule: what it reads of input counts too.
				for _, r := range a.c.GetRules(x.GroundPrefix()) {
					u.add(a.use(r, -1))
				}
			}
			for _, t := range x[1:] {
				vis.Walk(t)
			}
			return true
		case ast.Var:
			if tracked[x] {
				u.setAll("a bare " + string(x)) // unified, compared, iterated …
			}
		}
		return false
	})
	vis.Walk(x)
}

// call handles a call: a tracked value as an argument of a function is
// followed into it; of a builtin, only where the builtin reads a constant
// key of it or only its type.
func (a *inputAnalysis) call(op *ast.Term, args []*ast.Term, tracked map[ast.Var]bool, u *inputUse, vis *ast.GenericVisitor) {
	ref, ok := op.Value.(ast.Ref)
	if !ok {
		u.setAll("a call of " + op.String())
		return
	}
	name := ref.String()
	if name == "eq" && len(args) == 2 {
		// x = input, as the compiler writes a call's argument: x is input
		// from here on.
		for i, arg := range args {
			other, isVar := args[1-i].Value.(ast.Var)
			if isTracked(arg, tracked) && isVar && !other.IsWildcard() {
				tracked[other] = true
				return
			}
		}
	}
	var fns []*ast.Rule
	builtin := ast.BuiltinMap[name]
	if builtin == nil {
		fns = a.c.GetRulesExact(ref)
		if len(fns) == 0 {
			u.setAll("a call of " + name) // not a builtin, not a function we can see
			return
		}
	}
	for i, arg := range args {
		if !isTracked(arg, tracked) {
			vis.Walk(arg)
			continue
		}
		switch {
		case builtin == nil:
			for _, f := range fns {
				u.add(a.use(f, i))
			}
		case shapeOnly[name] && i == 0:
		case name == "object.get" && i == 0 && len(args) > 1:
			if k, ok := firstKey(args[1]); ok {
				u.key(k)
			} else {
				u.setAll("object.get with a computed key")
			}
		default:
			u.setAll("the whole value given to " + name + fmt.Sprint(args))
		}
	}
}

// isTracked says whether t is a tracked value itself: its variable, or a
// reference of that variable alone (the compiler writes input as one).
func isTracked(t *ast.Term, tracked map[ast.Var]bool) bool {
	switch v := t.Value.(type) {
	case ast.Var:
		return tracked[v]
	case ast.Ref:
		head, ok := v[0].Value.(ast.Var)
		return ok && len(v) == 1 && tracked[head]
	}
	return false
}

// firstKey is the top-level key an object.get path names: a string, or an
// array of terms starting with a string.
func firstKey(t *ast.Term) (string, bool) {
	switch v := t.Value.(type) {
	case ast.String:
		return string(v), true
	case *ast.Array:
		if v.Len() > 0 {
			if s, ok := v.Elem(0).Value.(ast.String); ok {
				return string(s), true
			}
		}
	}
	return "", false
}
