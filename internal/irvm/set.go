package irvm

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// oneSet is the value of a set the plan has added one element to. The
// planner builds a rule's set (`alert contains {} if ...`) one SetAddStmt at
// a time, and a rule that alerts mostly adds one element, which the query
// then scans: an ast.Set of one element costs four allocations (the set,
// its map, its keys, the map's entry), an oneSet none. Like a Lazy, an
// oneSet never leaves the interpreter: a scan, a membership test and an add
// read it as it is, and plain turns it into an ast.Set, in its own term
// (every local holding the set sees the same set) for anything else.
type oneSet struct{ elem *ast.Term }

// set is o as an ast.Set: for the ast.Value methods, which only a mistake
// would call (the interpreter gives OPA plain values).
func (o oneSet) set() ast.Set { return ast.NewSet(o.elem) }

func (o oneSet) Compare(other ast.Value) int { return o.set().Compare(other) }

func (o oneSet) Find(path ast.Ref) (ast.Value, error) { return o.set().Find(path) }

func (o oneSet) Hash() int { return o.set().Hash() }

func (o oneSet) IsGround() bool { return o.elem.IsGround() }

func (o oneSet) String() string { return o.set().String() }

func (o oneSet) StringLength() int { return o.set().StringLength() }

// add runs a SetAddStmt.
func (s *state) add(fr []*ast.Term, st *ir.SetAddStmt) error {
	t := fr[st.Set]
	v := plain(s.operand(fr, st.Value))
	switch set := t.Value.(type) {
	case oneSet:
		// In place, as the plan means it: every local holding this set
		// sees the element (ast.NewSet keeps one of two equal elements).
		t.Value = ast.NewSet(set.elem, v)
	case ast.Set:
		switch {
		case set == emptySet:
			t.Value = oneSet{v}
		case s.p.consts[t]:
			// A folded literal is shared by every evaluation.
			set = set.Copy()
			set.Add(v)
			fr[st.Set] = ast.NewTerm(set)
		default:
			set.Add(v)
		}
	default:
		return fmt.Errorf("irvm: add to a %s", ast.ValueName(t.Value))
	}
	return nil
}
