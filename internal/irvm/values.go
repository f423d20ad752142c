package irvm

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// emptySet is the value of every set a MakeSetStmt makes, until a SetAddStmt
// gives the set's term a set of its own: it is never added to.
var emptySet = ast.NewSet()

// dot is src[key], or nil when src has no such member.
func dot(src, key *ast.Term) *ast.Term {
	if src == nil || key == nil {
		return nil
	}
	switch v := src.Value.(type) {
	case Lazy:
		return v.Member(key)
	case ast.Object:
		return v.Get(key)
	case *ast.Array:
		n, ok := key.Value.(ast.Number)
		if !ok {
			return nil
		}
		i, ok := n.Int()
		if !ok || i < 0 || i >= v.Len() {
			return nil
		}
		return v.Elem(i)
	case ast.Set:
		if v.Contains(key) {
			return key
		}
	case oneSet:
		return dot(plain(src), key)
	}
	return nil
}

func length(t *ast.Term) (int, bool) {
	if t == nil {
		return 0, false
	}
	switch v := t.Value.(type) {
	case *ast.Array:
		return v.Len(), true
	case ast.Object:
		return v.Len(), true
	case ast.Set:
		return v.Len(), true
	case ast.String:
		return utf8.RuneCountInString(string(v)), true
	}
	return 0, true
}

func isArray(v ast.Value) bool { _, ok := v.(*ast.Array); return ok }
func isObject(v ast.Value) bool {
	switch v.(type) {
	case ast.Object, Lazy:
		return true
	}
	return false
}
func isSet(v ast.Value) bool {
	switch v.(type) {
	case ast.Set, oneSet:
		return true
	}
	return false
}

// objectAt is the object in local l, to insert into.
func (s *state) objectAt(fr []*ast.Term, l ir.Local) (ast.Object, error) {
	t := fr[l]
	if t == nil {
		return nil, errors.New("irvm: insert into an undefined object")
	}
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("irvm: insert into a %s", ast.ValueName(t.Value))
	}
	if s.p.consts[t] {
		// A folded literal is shared by every evaluation.
		obj = obj.Copy()
		fr[l] = ast.NewTerm(obj)
	}
	return obj, nil
}

// insert inserts k: v into obj, the object of term t, around a bug of
// ast.Object's Insert (OPA v1.22.3): replacing the value of a key that is
// not the first of its hash bucket makes it the bucket's first and drops the
// keys before it (1 and [1] share a bucket), which a later insert then adds
// a second time. A key already there with an equal value is left as it is;
// with another value, the object is made anew in t.
func insert(t *ast.Term, obj ast.Object, k, v *ast.Term) {
	cur := obj.Get(k)
	switch {
	case cur == nil:
		obj.Insert(k, v)
	case ast.Compare(cur.Value, v.Value) != 0:
		out := ast.NewObject()
		obj.Foreach(func(ok, ov *ast.Term) {
			if ast.Compare(ok.Value, k.Value) == 0 {
				ov = v
			}
			out.Insert(ok, ov)
		})
		t.Value = out
	}
}

// slabSize is how many terms a slab holds.
const slabSize = 32

// term is a new term of v.
func (s *state) term(v ast.Value) *ast.Term {
	if len(s.slab) == 0 {
		s.slab = make([]ast.Term, slabSize)
	}
	t := &s.slab[0]
	s.slab = s.slab[1:]
	t.Value = v
	return t
}
