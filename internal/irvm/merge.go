package irvm

import (
	"cmp"

	"github.com/open-policy-agent/opa/v1/ast"
)

// merge is ObjectMergeStmt's value, as opa_value_merge (OPA's Wasm library)
// and OPA's evaluator make it: the base document a wins over the virtual
// document b wherever both hold a key and either value is not an object (a
// base value that is not an object wins whole). ast.Object.Merge calls that a
// conflict: every evaluation of a query reaching a package whose rules share
// a path with base data failed, and went to OPA's evaluator.
func merge(a, b *ast.Term) *ast.Term {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	ao, aok := a.Value.(ast.Object)
	bo, bok := b.Value.(ast.Object)
	if !aok || !bok {
		return a
	}
	out := ast.NewObject()
	ao.Foreach(func(k, v *ast.Term) {
		if w := bo.Get(k); w != nil {
			v = merge(v, w)
		}
		out.Insert(k, v)
	})
	bo.Foreach(func(k, v *ast.Term) {
		if ao.Get(k) == nil {
			out.Insert(k, v)
		}
	})
	return ast.NewTerm(out)
}
