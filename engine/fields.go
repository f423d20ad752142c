package engine

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// The fields the prefilter reads of every record (the refs the indices
// consult, eventSource, eventTime, the guards' fields) are read in one pass
// over the record's text, which skips everything else without decoding it
// and notes where the members it passes are, for the lazy reading of a
// record the rules read (lazy.go).

// pathTrie holds the wanted paths; leaves carry the field's index.
type pathTrie struct {
	children map[string]*pathTrie
	// byLen are the children by their key's length: walkObject looks up
	// every key of every object it reads, and most are not wanted; a key
	// of a length no child has costs no hash then, and one that has
	// costs a comparison or two.
	byLen  [][]trieEdge
	id     int // -1 when not a wanted path itself
	wanted bool
}

type trieEdge struct {
	key  string
	node *pathTrie
}

// child is the child under key k (plain: its bytes are the key), or nil.
func (t *pathTrie) child(k []byte) *pathTrie {
	if len(k) >= len(t.byLen) {
		return nil
	}
	for _, e := range t.byLen[len(k)] {
		if e.key == string(k) { // no allocation: a comparison
			return e.node
		}
	}
	return nil
}

func (t *pathTrie) insert(path []string, n *int) {
	node := t
	for _, k := range path {
		if node.children == nil {
			node.children = map[string]*pathTrie{}
		}
		child, ok := node.children[k]
		if !ok {
			child = &pathTrie{}
			node.children[k] = child
			for len(node.byLen) <= len(k) {
				node.byLen = append(node.byLen, nil)
			}
			node.byLen[len(k)] = append(node.byLen[len(k)], trieEdge{k, child})
		}
		node = child
	}
	if !node.wanted {
		node.wanted, node.id = true, *n
		*n++
	}
}

func (t *pathTrie) find(path []string) (int, bool) {
	node := t
	for _, k := range path {
		node = node.children[k]
		if node == nil {
			return 0, false
		}
	}
	return node.id, node.wanted
}

type fieldKind uint8

const (
	fieldAbsent fieldKind = iota
	fieldScalar
	fieldComposite // an object or array
)

type field struct {
	kind fieldKind
	raw  []byte // the JSON text of a scalar
}

// fieldValues are the wanted fields of one record.
type fieldValues struct {
	fields []field
	// set are the fields a record set, which release clears: only a few
	// of the paths the rules read are in a record, and clearing them all
	// (pointers, with the collector's write barrier while it marks) cost
	// in proportion to how many rules, not records, there are.
	set []int32
	// top are the record's members, in its order (walkTop), in a buffer
	// that takeTop gives back.
	top    []lazyMember
	topBuf *[]lazyMember
	// nested are the members of the objects in the record walkObject read
	// (lazyMember.kids), kept from record to record with the fieldValues.
	nested []lazyMember
}

// topBufs are walkTop's buffers: only the records some rule may match keep
// their members (takeTop), and most records are not those.
var topBufs = sync.Pool{New: func() any {
	b := make([]lazyMember, 0, 32)
	return &b
}}

// takeTop returns the record's members, for a record the rules read, or
// nil (keep false), and gives the buffer back.
func (v *fieldValues) takeTop(keep bool) (top, nested []lazyMember) {
	if keep {
		// One allocation for both: the record's members, then the nested.
		all := make([]lazyMember, 0, len(v.top)+len(v.nested))
		all = append(append(all, v.top...), v.nested...)
		top, nested = all[:len(v.top):len(v.top)], all[len(v.top):]
	}
	if v.topBuf != nil {
		clear(v.top)
		*v.topBuf = v.top[:0]
		topBufs.Put(v.topBuf)
	}
	clear(v.nested)
	v.top, v.topBuf, v.nested = nil, nil, v.nested[:0]
	return top, nested
}

// fieldKey tells the field's value apart from every other: its kind and its
// JSON text (for composites only the kind matters: they are unknown to the
// index).
func (v *fieldValues) fieldKey(id int) string { return string(v.keyBytes(id)) }

// keyBytes is fieldKey as bytes, for map lookups that need not allocate.
func (v *fieldValues) keyBytes(id int) []byte {
	f := v.fields[id]
	switch f.kind {
	case fieldAbsent:
		return keyAbsent
	case fieldComposite:
		return keyComposite
	}
	return f.raw
}

// Scalars' JSON texts are kept, never empty, so these cannot collide with one.
var keyAbsent, keyComposite = []byte("a"), []byte("c")

// value is a scalar field's value, decoded when asked for: the prefilter reads
// these fields from every record, and only a new combination of values (a memo
// miss) or a caller that wants one needs them decoded.
func (v *fieldValues) value(id int) (ast.Value, error) {
	return decodeJSON(v.fields[id].raw)
}

// extract reads the wanted fields from a record's JSON in one pass, skipping
// everything else without decoding it, but checking it. The error is the
// record's syntax error (a *jsonscan.SyntaxError); vals is nil without an
// error when the record is valid JSON but not an object.
func (p *prefilter) extract(raw []byte) (vals *fieldValues, err error) {
	s := jsonscan.New(raw)
	if c := s.Peek(); c != '{' {
		if s.Skip() && s.End() {
			return nil, nil
		}
		return nil, s.Err()
	}
	vals = fieldValuesPool.Get().(*fieldValues)
	if cap(vals.fields) < p.nPaths {
		vals.fields = make([]field, p.nPaths)
	}
	vals.fields = vals.fields[:p.nPaths]
	if _, _, ok := walkObject(&s, raw, 0, true, p.paths, vals); !ok || !s.End() {
		vals.takeTop(false)
		vals.release()
		return nil, s.Err()
	}
	return vals, nil
}

// fieldValuesPool holds extract's fieldValues: every record needs one (a
// slice of every path the rules read, 39 with the built-in packs), and no
// Input keeps it.
var fieldValuesPool = sync.Pool{New: func() any { return new(fieldValues) }}

// put sets field id to f.
func (v *fieldValues) put(id int, f field) {
	if v.fields[id].kind == fieldAbsent {
		v.set = append(v.set, int32(id))
	}
	v.fields[id] = f
}

// release gives v back to the pool, its fields cleared: absent, and no
// reference left to the record's text.
func (v *fieldValues) release() {
	for _, id := range v.set {
		v.fields[id] = field{}
	}
	v.set = v.set[:0]
	fieldValuesPool.Put(v)
}

// walkObject reads the object at the scanner, descending into wanted keys.
// Most records' keys have no escapes and are looked up straight from their
// bytes, which allocates nothing. It also notes where each member of the
// objects it reads is, so that a record the rules read is read from there
// (lazy.go) without a second scan: the record's own members in vals.top
// (top), those of the objects it descends into in vals.nested, each
// object's together, after those of the objects nested in it (as
// indexObject does; lo and hi are where its own are). raw is the record's
// text and base the offset of this object in it.
func walkObject(s *jsonscan.Scanner, raw []byte, base int, top bool, t *pathTrie, vals *fieldValues) (lo, hi int32, ok bool) {
	// own is copied out at the end, so that buf stays on the stack.
	var buf [32]lazyMember
	own := buf[:0]
	for it := s.Begin(); s.Next(&it); {
		k, ok := s.Key()
		if !ok {
			return 0, 0, false
		}
		var child *pathTrie
		if k.Plain {
			child = t.child(k.Bytes())
		} else {
			child = t.children[k.String()] // the slow path: escapes, invalid bytes replaced as decoding does
		}
		s.Peek() // to the value's first byte
		start := s.Pos()
		var c0, c1 int32
		kids := false
		if child == nil {
			ok = s.Skip()
		} else {
			c0, c1, kids, ok = wanted(s, raw, child, vals)
		}
		if !ok {
			return 0, 0, false
		}
		m := memberAt(raw, k, start, s.Pos())
		m.k0, m.k1, m.v0, m.v1 = m.k0-int32(base), m.k1-int32(base), m.v0-int32(base), m.v1-int32(base)
		m.c0, m.c1, m.kids = c0, c1, kids
		own = append(own, m)
	}
	if s.Failed() {
		return 0, 0, false
	}
	if top {
		vals.topBuf = topBufs.Get().(*[]lazyMember)
		vals.top = append((*vals.topBuf)[:0], own...)
		return 0, int32(len(own)), true
	}
	lo = int32(len(vals.nested))
	vals.nested = append(vals.nested, own...)
	return lo, int32(len(vals.nested)), true
}

// wanted reads the value of a key that is (or leads to) a wanted path.
// An object it descends into has its members noted (kids), at lo:hi of
// vals.nested.
func wanted(s *jsonscan.Scanner, raw []byte, t *pathTrie, vals *fieldValues) (lo, hi int32, kids, ok bool) {
	c := s.Peek()
	start := s.Pos()
	if c == '{' || c == '[' {
		if t.wanted {
			vals.put(t.id, field{kind: fieldComposite})
		}
		if c == '{' && t.children != nil {
			lo, hi, ok = walkObject(s, raw, start, false, t, vals)
			return lo, hi, ok, ok
		}
		if t.children != nil {
			markComposite(t, vals)
		}
		return 0, 0, false, s.Skip()
	}
	if !s.Skip() { // checks the scalar without decoding it
		return 0, 0, false, false
	}
	if t.wanted {
		vals.put(t.id, field{kind: fieldScalar, raw: s.Text(start)})
	}
	return 0, 0, false, true
}
