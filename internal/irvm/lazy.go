package irvm

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// Lazy is a JSON object the plan reads member by member: a CloudTrail record
// is decoded only as far as the rules look into it. A Lazy never leaves the
// interpreter: wherever a value goes on (to a built-in, into a composite
// value, into the results, into a comparison) it goes whole, as Whole gives
// it, so OPA's code only ever sees its own values.
type Lazy interface {
	ast.Value
	// Member is the value under key, nil when there is none; an object
	// member may itself be a Lazy.
	Member(key *ast.Term) *ast.Term
	// Whole is the object decoded whole.
	Whole() ast.Object
}

// plain is t with any Lazy made whole, and any oneSet made an ast.Set.
func plain(t *ast.Term) *ast.Term {
	if t == nil {
		return nil
	}
	switch v := t.Value.(type) {
	case Lazy:
		return ast.NewTerm(v.Whole())
	case oneSet:
		// In its own term, which this evaluation made (MakeSetStmt):
		// every local holding the set sees the same set.
		t.Value = v.set()
	}
	return t
}

// get is t[key] (ast.Term.Get), reading a Lazy member by member.
func get(t, key *ast.Term) *ast.Term {
	if l, ok := t.Value.(Lazy); ok {
		return l.Member(key)
	}
	return t.Get(key)
}

// lazyBuiltin answers the built-ins that need not see a Lazy whole: the type
// tests, and object.get (Sigma's rules read fields with it). ok is false when
// the call is not one of those, or its operands are not as expected: the
// built-in then gets its operands whole.
func lazyBuiltin(name string, ops []*ast.Term) (out *ast.Term, ok bool) {
	if len(ops) == 0 {
		return nil, false
	}
	_, lazy := ops[0].Value.(Lazy)
	if !lazy {
		return nil, false
	}
	switch name {
	case "is_object":
		return ast.InternedTerm(true), true
	case "is_string", "is_number", "is_boolean", "is_array", "is_set", "is_null":
		return ast.InternedTerm(false), true
	case "type_name":
		return ast.StringTerm("object"), true
	case "object.get":
		if len(ops) != 3 {
			return nil, false
		}
		// As OPA's object.get: a path walks member by member.
		path, isPath := ops[1].Value.(*ast.Array)
		if !isPath {
			v := get(ops[0], ops[1])
			if v == nil {
				return ops[2], true
			}
			return v, true
		}
		cur := ops[0]
		for i := range path.Len() {
			if cur = get(cur, path.Elem(i)); cur == nil {
				return ops[2], true
			}
		}
		return cur, true
	}
	return nil, false
}
