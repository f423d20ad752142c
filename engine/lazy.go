package engine

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
	"github.com/trailguard/trailguard/internal/irvm"
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
	// nested holds the members of the objects nested in this one, when
	// index read them with its own (lazyMember.kids); nil otherwise.
	nested *lazyArena
	// read are the members decoded so far, by index in members: made on
	// the first read, so that members hold no pointer (copying them and
	// the garbage collector's scan of them cost nothing).
	read []lazyValue
	// in is the recycled Input of the record the object is part of (nil:
	// none): its objects are made in it, and its recorder notes what a rule
	// reads while its answer is being remembered (memo.go).
	in *recordInput
}

// lazyArena is the members of the objects nested in one object, noted in one
// scan, and what has been read of them: the objects whose members are there
// share it.
type lazyArena struct {
	members []lazyMember
	read    []lazyValue // made on the first read of any of them
}

// lazyValue is what has been read of a member.
type lazyValue struct {
	val *ast.Term
	// text is the value when it is a string and was read as one (text):
	// an alert reads the same few strings for its fields and again for its
	// message, and a record can raise several.
	text string
}

// lazyMember is where a member is in its object's text: small and without
// pointers, since a record's members are copied once for every record a rule
// reads.
type lazyMember struct {
	k0, k1 int32 // the key, quotes included
	v0, v1 int32 // the value
	// c0, c1 are where the members of an object value are in the nested
	// members of the object, when kids is set; their offsets are in the
	// value's text.
	c0, c1 int32
	plain  bool // the key has no escapes: its bytes are its value
	kids   bool
}

// memberAt is the member whose key was read as k and whose value lies
// between start and end, in raw (of which k is a part).
func memberAt(raw []byte, k jsonscan.Str, start, end int) lazyMember {
	k0 := cap(raw) - cap(k.Quoted) // k is raw[k0:…]
	return lazyMember{k0: int32(k0), k1: int32(k0 + len(k.Quoted)), v0: int32(start), v1: int32(end), plain: k.Plain}
}

// is says whether the member's key is k.
func (m *lazyMember) is(raw []byte, k string) bool {
	q := raw[m.k0:m.k1]
	if m.plain {
		return len(q)-2 == len(k) && string(q[1:len(q)-1]) == k // no allocation: a comparison
	}
	return jsonscan.Str{Quoted: q}.String() == k
}

var _ irvm.Lazy = (*lazyObject)(nil)

// lazyTerm is a nested object's term and the object, allocated together: a
// rule that reads userIdentity.sessionContext.sessionIssuer.type makes three.
type lazyTerm struct {
	term ast.Term
	obj  lazyObject
}

// newLazyTerm is the term of the object whose text is raw, made in r when
// it has room (r may be nil).
func (r *recordInput) newLazyTerm(raw []byte) *ast.Term {
	var t *lazyTerm
	if r != nil && r.nkids < len(r.kids) {
		t = &r.kids[r.nkids]
		r.nkids++
	} else {
		t = new(lazyTerm)
	}
	t.obj = lazyObject{raw: raw}
	t.term.Value = &t.obj
	return &t.term
}

// newLazyInput is the Input of a record the plans read member by member,
// with the members the prefilter found (copied: they are the prefilter's).
// The Input, the record's object, its nested members' arena and what is read
// of all the members come from a recycled recordInput (Input.Release).
func newLazyInput(rec cloudtrail.Record, members, nested []lazyMember) *Input {
	r := newRecordInput()
	r.in.Record, r.in.partial = rec, true
	r.members = append(append(r.members[:0], members...), nested...)
	all := r.members
	n := len(all)
	if cap(r.read) < n {
		r.read = make([]lazyValue, n)
	}
	r.read = r.read[:n]
	r.obj = lazyObject{raw: rec.Raw, members: all[:len(members):len(members)], indexed: true, nested: &r.arena,
		read: r.read[:len(members):len(members)], in: r}
	r.arena = lazyArena{members: all[len(members):], read: r.read[len(members):]}
	r.in.lazy = &r.obj
	r.term.Value = &r.obj
	return &r.in
}

// recordInput is an Input and what its record is read with, recycled: most
// records a rule may match are read in a few members, and the allocations for
// them (the Input, its object, the members' positions and what is read of
// them) would otherwise be most of what the garbage collector sees.
type recordInput struct {
	in      Input
	obj     lazyObject
	arena   lazyArena
	members []lazyMember
	read    []lazyValue
	// kids are the first objects nested in the record that are read
	// (userIdentity, its sessionContext, its sessionIssuer, …).
	kids  [4]lazyTerm
	nkids int
	rec   *recorder // memo.go
	term  ast.Term  // the record's, as the plans' input
	keys  keyIndex  // the record's members by key (keyindex.go)
}

var recordInputs = sync.Pool{New: func() any { return new(recordInput) }}

// newRecordInput is a recordInput from the pool, its Input zero.
func newRecordInput() *recordInput {
	r := recordInputs.Get().(*recordInput)
	r.in.pooled = r
	return r
}

// maxPooledMembers bounds the buffers a recycled Input keeps: a record with
// more members than this (a large policy document, say) gives its own up.
const maxPooledMembers = 1024

// Release gives the Input back, for another record's: call it once nothing
// reads the Input any more (after EvaluateInput and anything given the
// Input after it); the Input must not be used after, nor released twice. An
// Input never released is only garbage, collected as any. Alerts share
// nothing with their Input but the record's text.
func (in *Input) Release() {
	r := in.pooled
	if r == nil {
		return
	}
	// The members read, which a rule reads a few of: testing each slot
	// costs less than clearing them all, which, the slots holding
	// pointers, takes the collector's write barrier while it marks.
	for i := range r.read {
		if v := &r.read[i]; v.val != nil || v.text != "" {
			*v = lazyValue{}
		}
	}
	if cap(r.members) > maxPooledMembers {
		r.members, r.read = nil, nil
	}
	clear(r.kids[:r.nkids])
	r.obj, r.arena, r.in, r.nkids, r.term = lazyObject{}, lazyArena{}, Input{}, 0, ast.Term{}
	if r.keys.state != keysUnbuilt {
		r.keys = keyIndex{}
	}
	recordInputs.Put(r)
}

// index notes where the object's members are, and those of the objects
// nested in it (objects in objects, not in arrays), in one scan of its text:
// a rule that reads userIdentity.sessionContext.sessionIssuer.type would
// otherwise scan most of userIdentity three times.
func (o *lazyObject) index() {
	o.indexed = true
	s := jsonscan.New(o.raw)
	if s.Peek() != '{' {
		return
	}
	all := make([]lazyMember, 0, max(8, len(o.raw)/40)) // a member for every 40 bytes or so
	lo, hi, ok := indexObject(&s, o.raw, 0, &all)
	if !ok {
		return // cannot be: the record was checked whole
	}
	o.members, o.nested = all[lo:hi:hi], &lazyArena{members: all}
}

// indexObject reads the object at s, whose text starts at offset base of
// the scanner's, and appends its members to all after those of the objects
// nested in them, so that each object's members are together; lo and hi are
// where its own are. Offsets are in the object's own text, as a lazyObject
// of that text reads them.
func indexObject(s *jsonscan.Scanner, data []byte, base int, all *[]lazyMember) (lo, hi int32, ok bool) {
	var buf [16]lazyMember
	own := buf[:0]
	for it := s.Begin(); s.Next(&it); {
		k, ok := s.Key()
		if !ok {
			return 0, 0, false
		}
		c := s.Peek() // to the value's first byte
		start := s.Pos()
		var c0, c1 int32
		if c == '{' {
			if c0, c1, ok = indexObject(s, data, start, all); !ok {
				return 0, 0, false
			}
		} else if !s.Skip() {
			return 0, 0, false
		}
		m := memberAt(data, k, start, s.Pos())
		m.k0, m.k1, m.v0, m.v1 = m.k0-int32(base), m.k1-int32(base), m.v0-int32(base), m.v1-int32(base)
		m.c0, m.c1, m.kids = c0, c1, c == '{'
		own = append(own, m)
	}
	if s.Failed() {
		return 0, 0, false
	}
	lo = int32(len(*all))
	*all = append(*all, own...)
	return lo, int32(len(*all)), true
}

// Member is the value under key (the last one, when a key is repeated, as
// the decoder keeps it), or nil.
func (o *lazyObject) Member(key *ast.Term) *ast.Term {
	k, ok := key.Value.(ast.String)
	if !ok {
		return nil
	}
	if rec := o.recorder(); rec != nil {
		return rec.member(o, string(k))
	}
	return o.member(string(k))
}

// recorder is what notes the record's reads now, if anything does.
func (o *lazyObject) recorder() *recorder {
	if o.in == nil {
		return nil
	}
	return o.in.rec
}

func (o *lazyObject) member(k string) *ast.Term {
	return o.memberAt(o.find(k))
}

// memberAt is member's answer for member i (-1: none).
func (o *lazyObject) memberAt(i int) *ast.Term {
	if i < 0 {
		return nil
	}
	r := o.readAt(i)
	if r.val == nil {
		r.val = o.decodeMember(&o.members[i], r.text)
	}
	return r.val
}

// readAt is what has been read of member i.
func (o *lazyObject) readAt(i int) *lazyValue {
	if o.read == nil {
		o.read = make([]lazyValue, len(o.members))
	}
	return &o.read[i]
}

// find is the index of the member under key k (the last one, when a key is
// repeated), or -1.
func (o *lazyObject) find(k string) int {
	if !o.indexed {
		o.index()
	}
	if r := o.in; r != nil && o == &r.obj && r.keys.state != keysUnusable {
		if r.keys.state == keysUnbuilt {
			r.keys.build(o)
		}
		if r.keys.state == keysBuilt {
			return r.keys.find(o, k)
		}
	}
	return o.scan(k)
}

// scan is find by comparing k with every member's key, from the last.
func (o *lazyObject) scan(k string) int {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].is(o.raw, k) {
			return i
		}
	}
	return -1
}

// text is the string at path, "" when there is none or it is not a string:
// what an alert copies from the record, read from the text without making
// OPA values of it, and once.
func (o *lazyObject) text(path ...string) string {
	s, _ := o.textOK(path...)
	return s
}

// textOK is text, and whether the value is a string.
func (o *lazyObject) textOK(path ...string) (string, bool) {
	for len(path) > 1 {
		t := o.member(path[0])
		if t == nil {
			return "", false
		}
		next, ok := t.Value.(*lazyObject)
		if !ok {
			return "", false
		}
		o, path = next, path[1:]
	}
	if len(path) == 0 {
		return "", false
	}
	return o.textAt(o.find(path[0]))
}

// textAt is member i's string (i -1: none), and whether it is one.
func (o *lazyObject) textAt(i int) (string, bool) {
	if i < 0 || o.raw[o.members[i].v0] != '"' {
		return "", false
	}
	m, r := &o.members[i], o.readAt(i)
	switch {
	case r.text != "":
		return r.text, true
	case r.val == nil:
		s := jsonscan.New(o.raw[m.v0:m.v1])
		q, ok := s.ReadString()
		if !ok {
			return "", false // cannot be: the record was checked whole
		}
		if r.val = o.internedTerm(m, q); r.val == nil {
			r.text = q.String()
			return r.text, true
		}
	}
	s, _ := r.val.Value.(ast.String)
	r.text = string(s)
	return r.text, true
}

// internedTerm is the shared term of m's string value q, when m's values
// are interned (intern.go); nil otherwise.
func (o *lazyObject) internedTerm(m *lazyMember, q jsonscan.Str) *ast.Term {
	if !q.Plain || !m.plain || !internable(o.raw[m.k0+1:m.k1-1]) {
		return nil
	}
	return interned.term(q.Bytes())
}

// decodeMember is m's value as a term; text is its string, when it was read
// as one.
func (o *lazyObject) decodeMember(m *lazyMember, text string) *ast.Term {
	raw := o.raw[m.v0:m.v1]
	if len(raw) > 0 && raw[0] == '{' {
		t := o.in.newLazyTerm(raw)
		child := t.Value.(*lazyObject)
		child.in = o.in
		if m.kids {
			// index read its members already.
			a := o.nested
			if a.read == nil {
				a.read = make([]lazyValue, len(a.members)) // one allocation for every nested object
			}
			child.members, child.read, child.nested, child.indexed = a.members[m.c0:m.c1:m.c1], a.read[m.c0:m.c1:m.c1], a, true
		}
		return t
	}
	if text != "" {
		return ast.StringTerm(text)
	}
	s := jsonscan.New(raw)
	if raw[0] == '"' {
		q, ok := s.ReadString()
		if !ok {
			return nil // cannot be: the record was checked whole
		}
		if t := o.internedTerm(m, q); t != nil {
			return t
		}
		return ast.StringTerm(q.String())
	}
	v := decodeValue(&s)
	if v == nil {
		return nil // cannot be: the record was checked whole
	}
	return ast.NewTerm(v)
}

// Whole is the object decoded whole, once.
func (o *lazyObject) Whole() ast.Object {
	if rec := o.recorder(); rec != nil {
		rec.whole = true // the rule saw more than the members it read
	}
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

// What OPA's code may ask of a value: the whole object answers.

func (o *lazyObject) Compare(other ast.Value) int          { return o.Whole().Compare(other) }
func (o *lazyObject) Find(path ast.Ref) (ast.Value, error) { return o.Whole().Find(path) }
func (o *lazyObject) Hash() int                            { return o.Whole().Hash() }
func (o *lazyObject) IsGround() bool                       { return true }
func (o *lazyObject) String() string                       { return o.Whole().String() }
func (o *lazyObject) StringLength() int                    { return o.Whole().StringLength() }

// each calls f with the index and key of each plain member (a key without
// escapes, as CloudTrail writes them), in the text's order, and says
// whether every member was one.
func (o *lazyObject) each(f func(i int, key []byte)) bool {
	if !o.indexed {
		o.index()
	}
	all := true
	for i := range o.members {
		m := &o.members[i]
		if !m.plain {
			all = false
			continue
		}
		f(i, o.raw[m.k0+1:m.k1-1])
	}
	return all
}
