package engine

import (
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A rule's answer is a function of the record's values it reads: the plan
// evaluator is deterministic, its data document is the engine's and does not
// change, and a pure program (irvm.Program.Pure: no clock, network, chance or
// print) sees the record only through lazyObject.Member, member by member,
// or through lazyObject.Whole. So an evaluation that read members m1…mn with
// values v1…vn and never the whole of an object gives the same alerts for any
// record whose m1…mn are v1…vn: the rule reads m1 first whatever the record
// (nothing has been read yet), m2 next for every record whose m1 is v1, and
// so on. A ruleMemo is that decision tree, grown from the evaluations it
// watched: a record that follows it to a leaf takes the leaf's answer without
// an evaluation. CloudTrail repeats itself (the same few event names,
// identity types and error codes), and most candidate rules read a few such
// fields and answer "no alert".
//
// A value is told by its JSON text, as the record writes it: the same text is
// the same value (two texts of one value, as 1 and 1.0, are two branches, not
// an error). An object is told only as an object: what the rule reads of it
// is its own branches. Soundness rests on the reads the recorder sees being
// all the rule learns of the record; TestMemoAgrees compares the engine with
// and without memos over the benchmark corpus and every sample.

// memoMaxDepth is the most distinct members one remembered evaluation reads;
// an evaluation that reads more is not remembered.
const memoMaxDepth = 32

// memoMaxNodes bounds a rule's tree: a rule that reads values with many
// different texts (a source IP, a request id) before it answers stops
// growing its tree there, and evaluates what the tree does not know.
const memoMaxNodes = 1024

// memoRead is one member an evaluation read: key in the object that read
// parent gave (-1: the record), and its value's text ("": no such member;
// "{": an object).
type memoRead struct {
	parent int32
	key    string
	val    []byte // in the record's text, until the tree copies it
}

// memoNode is a point of a rule's tree: either the next member to read, and
// the branch for each value of it seen so far, or, at a leaf, the answer.
type memoNode struct {
	parent int32
	key    string
	// next is the node after each value's text. It is replaced, never
	// changed, once published: lookups take no lock.
	next atomic.Pointer[branches[*memoNode]]

	leaf    bool
	results []result
}

// ruleMemo is one rule's tree (see above).
type ruleMemo struct {
	root  atomic.Pointer[memoNode]
	mu    sync.Mutex // held by insert
	nodes int        // mu
	// full: the tree stopped growing; broken: an evaluation did not follow
	// it (a bug, which TestMemoAgrees would see): it is no longer used.
	full, broken atomic.Bool
	// Once full, lookups and hits are counted; a tree that answers less
	// than half of memoJudged lookups is useless: the rule reads values that
	// rarely repeat (a secret's name), and the lookups are then only cost.
	lookups, hits atomic.Int32
	useless       atomic.Bool
}

// memoJudged is how many lookups of a full tree tell whether it is useful.
const memoJudged = 1024

// off says whether the memo is no longer used.
func (m *ruleMemo) off() bool { return m.broken.Load() || m.useless.Load() }

// answer is lookup, counted once the tree is full.
func (m *ruleMemo) answer(o *lazyObject) (*memoNode, bool) {
	n, ok := m.lookup(o)
	if m.full.Load() {
		if ok {
			m.hits.Add(1)
		}
		if m.lookups.Add(1) == memoJudged && m.hits.Load() < memoJudged/2 {
			m.useless.Store(true)
		}
	}
	return n, ok
}

// lookup is the answer remembered for the record o, if there is one.
func (m *ruleMemo) lookup(o *lazyObject) (*memoNode, bool) {
	n := m.root.Load()
	var objs [memoMaxDepth]*lazyObject // the objects the reads gave, by depth
	for d := 0; n != nil && !n.leaf; d++ {
		from := o
		if n.parent >= 0 {
			if from = objs[n.parent]; from == nil {
				return nil, false // cannot be: insert checks the tree
			}
		}
		val, obj := from.memoValue(n.key)
		objs[d] = obj
		next := n.next.Load()
		if next == nil {
			return nil, false
		}
		n = next.get(val)
	}
	return n, n != nil
}

// memoValue is the text of member k's value as a memoRead tells it, and the
// member's object when it is one.
func (o *lazyObject) memoValue(k string) ([]byte, *lazyObject) {
	i := o.find(k)
	if i < 0 {
		return nil, nil
	}
	m := &o.members[i]
	if o.raw[m.v0] != '{' {
		return o.raw[m.v0:m.v1], nil
	}
	obj, _ := o.memberAt(i).Value.(*lazyObject)
	return objectText, obj
}

var objectText = []byte("{")

// insert remembers an evaluation that read reads and answered results.
func (m *ruleMemo) insert(reads []memoRead, results []result) {
	if m.full.Load() || m.broken.Load() || len(reads) > memoMaxDepth {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nodes+len(reads)+1 > memoMaxNodes {
		m.full.Store(true)
		return
	}
	n := m.root.Load()
	if n == nil {
		m.root.Store(m.chain(reads, results))
		return
	}
	for i, r := range reads {
		if n.leaf || n.parent != r.parent || n.key != r.key {
			m.broken.Store(true)
			return
		}
		next := n.next.Load()
		if child := next.get(r.val); child != nil {
			n = child
			continue
		}
		n.next.Store(next.with(string(r.val), m.chain(reads[i+1:], results), memoListed))
		return
	}
	// Another evaluation of the same values got here first.
	if !n.leaf {
		m.broken.Store(true)
	}
}

// chain is the nodes of reads, each the only branch of the one before, and
// the leaf of results at their end.
func (m *ruleMemo) chain(reads []memoRead, results []result) *memoNode {
	m.nodes += len(reads) + 1
	n := &memoNode{leaf: true, results: results}
	for i := len(reads) - 1; i >= 0; i-- {
		r := reads[i]
		up := &memoNode{parent: r.parent, key: r.key}
		up.next.Store((*branches[*memoNode])(nil).with(string(r.val), n, memoListed))
		n = up
	}
	return n
}

// memoListed is how many branches a memo node lists before it takes a map:
// most have one or two.
const memoListed = 4

// recorder notes the members one evaluation reads of a record, for its
// rule's memo.
type recorder struct {
	reads []memoRead
	objs  []*lazyObject // the object read i gave, nil when it gave none
	// whole: the evaluation saw an object whole (a comparison, an
	// iteration, a built-in's operand), more than its reads tell.
	whole bool
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// member is o.member(k), noted.
func (r *recorder) member(o *lazyObject, k string) *ast.Term {
	t := o.member(k)
	parent := int32(-1)
	if o != &o.in.obj {
		parent = -2
		for i, obj := range r.objs {
			if obj == o {
				parent = int32(i)
				break
			}
		}
		if parent == -2 {
			// An object this evaluation did not reach by its reads: one
			// an earlier rule read, kept in a local across rules, cannot
			// be; still, nothing would tell its branch.
			r.whole = true
			return t
		}
	}
	for _, rd := range r.reads {
		if rd.parent == parent && rd.key == k {
			return t // the same value as the first time
		}
	}
	val, obj := o.memoValue(k)
	r.reads = append(r.reads, memoRead{parent: parent, key: k, val: val})
	r.objs = append(r.objs, obj)
	return t
}
