package engine

import (
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
	"github.com/trailguard/trailguard/engine/internal/irvm"
)

// lazyObject is a JSON object of a record (checked whole already) that is
// decoded member by member, as the plan evaluator or the alert reads them:
// a rule that looks at userIdentity.type costs that string, not the record.
// Its members that are objects are lazyObjects too. It is an irvm.Lazy: the
// evaluator hands it to OPA's code only whole.
type lazyObject struct {
	raw     []byte
	members []lazyMember // in the text's order, once indexed
	indexed bool
	whole   ast.Object
}

type lazyMember struct {
	key        jsonscan.Str
	start, end int // the value's text in raw
	val        *ast.Term
}

var _ irvm.Lazy = (*lazyObject)(nil)

func newLazyObject(raw []byte) *lazyObject { return &lazyObject{raw: raw} }

// lazyRecord is the record raw whose members the prefilter found.
func lazyRecord(raw []byte, members []lazyMember) *lazyObject {
	return &lazyObject{raw: raw, members: members, indexed: true}
}

func (o *lazyObject) index() {
	o.indexed = true
	s := jsonscan.New(o.raw)
	if s.Peek() != '{' {
		return
	}
	for it := s.Begin(); s.Next(&it); {
		k, ok := s.Key()
		if !ok {
			return
		}
		s.Peek() // to the value's first byte
		start := s.Pos()
		if !s.Skip() {
			return
		}
		o.members = append(o.members, lazyMember{key: k, start: start, end: s.Pos()})
	}
}

// Member is the value under key (the last one, when a key is repeated, as
// the decoder keeps it), or nil.
func (o *lazyObject) Member(key *ast.Term) *ast.Term {
	k, ok := key.Value.(ast.String)
	if !ok {
		return nil
	}
	return o.member(string(k))
}

func (o *lazyObject) member(k string) *ast.Term {
	if !o.indexed {
		o.index()
	}
	for i := len(o.members) - 1; i >= 0; i-- {
		m := &o.members[i]
		if m.key.Plain {
			if string(m.key.Bytes()) != k { // no allocation: a comparison
				continue
			}
		} else if m.key.String() != k {
			continue
		}
		if m.val == nil {
			m.val = o.decodeMember(m)
		}
		return m.val
	}
	return nil
}

func (o *lazyObject) decodeMember(m *lazyMember) *ast.Term {
	text := o.raw[m.start:m.end]
	if len(text) > 0 && text[0] == '{' {
		return ast.NewTerm(newLazyObject(text))
	}
	s := jsonscan.New(text)
	v := decodeValue(&s)
	if v == nil {
		return nil // cannot be: the record was checked whole
	}
	return ast.NewTerm(v)
}

// Whole is the object decoded whole, once.
func (o *lazyObject) Whole() ast.Object {
	if o.whole == nil {
		v, err := decodeJSON(o.raw)
		obj, ok := v.(ast.Object)
		if err != nil || !ok {
			obj = ast.NewObject() // cannot be: the record was checked whole
		}
		o.whole = obj
	}
	return o.whole
}

// at is the value at path, nil when there is none.
func (o *lazyObject) at(path ...string) ast.Value {
	var v ast.Value = o
	for i, k := range path {
		cur, ok := v.(*lazyObject)
		if !ok {
			if obj, isObj := v.(ast.Object); isObj {
				return objectEvent{obj}.at(path[i:]...)
			}
			return nil
		}
		t := cur.member(k)
		if t == nil {
			return nil
		}
		v = t.Value
	}
	return v
}

// What OPA's code may ask of a value: the whole object answers.

func (o *lazyObject) Compare(other ast.Value) int          { return o.Whole().Compare(other) }
func (o *lazyObject) Find(path ast.Ref) (ast.Value, error) { return o.Whole().Find(path) }
func (o *lazyObject) Hash() int                            { return o.Whole().Hash() }
func (o *lazyObject) IsGround() bool                       { return true }
func (o *lazyObject) String() string                       { return o.Whole().String() }
func (o *lazyObject) StringLength() int                    { return o.Whole().StringLength() }
