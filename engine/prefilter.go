package engine

import (
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/trailguard/trailguard/sigma"
)

// prefilter decides, from the few fields of a record that the rules are indexed
// on, whether any rule can match it, without decoding the record.
//
// OPA builds an index over each rule set (data.rules.<pack>.<name>.alert) from
// conditions such as input.eventSource == "…" or input.eventName in {…}. The
// index's answer depends only on the values of the refs it consults, so those
// refs are found once per compile (by a lookup in which every value is
// unknown: the index then walks every branch), read from each record's raw
// bytes, and the answer is memoised per combination of values. Most CloudTrail
// events match no rule; for them the engine's cost is one pass over the bytes
// and one map lookup.
type prefilter struct {
	indices []ast.RuleIndex
	rules   [][2]string // rules[i] is the rule (pack, name) indices[i] indexes
	paths   *pathTrie   // refs the indices consult, eventSource, eventTime, and the guards' fields
	nPaths  int
	guards  map[[2]string]*ruleGuard // by rule; see guard.go
	// srcID and nameID are eventSource's and eventName's fields (nameID -1
	// when no index consults it); shallow, the answers per pair (shallow.go).
	srcID, nameID int
	timeID        int // eventTime's field
	shallow       map[string]*shallowEntry
	// uses is what each rule can read of input (inputkeys.go).
	uses map[[2]string]*inputUse

	mu    sync.RWMutex
	root  *decision
	nodes int
	sets  map[string]*ruleSet // interned: one per distinct set of candidates
	// remembering are the sets with answers by text, textsN how many
	// answers they hold (guard.go).
	remembering []*ruleSet
	textsN      int
}

// Fields every Input carries whether or not the record is decoded.
var (
	refEventSource = ast.MustParseRef("input.eventSource")
	refEventTime   = ast.MustParseRef("input.eventTime")
)

func newPrefilter(c *ast.Compiler, keys [][2]string, guards map[[2]string]*sigma.Guard) *prefilter {
	p := &prefilter{paths: &pathTrie{}, sets: map[string]*ruleSet{}}
	rec := &recordingResolver{}
	for _, k := range keys {
		ref := ast.MustParseRef("data.rules").Append(ast.StringTerm(k[0])).Append(ast.StringTerm(k[1])).Append(ast.StringTerm("alert"))
		node := c.RuleTree.Find(ref)
		if node == nil {
			continue // the package has no alert rules: it can never match
		}
		idx := node.Index
		if idx == nil || len(node.Children) > 0 {
			return nil // rules below alert (ref heads): not indexed here
		}
		p.indices = append(p.indices, idx)
		p.rules = append(p.rules, k)
		if _, err := idx.Lookup(rec); err != nil {
			return nil
		}
	}
	if rec.other {
		// A rule is indexed on something other than input (data, say): the
		// answer could change without the record changing. Not worth caching.
		return nil
	}
	for _, r := range append(rec.refs, refEventSource, refEventTime) {
		if r.Equal(ast.InputRootRef) {
			continue // the whole input is always "unknown" (see fieldResolver)
		}
		path, ok := inputPath(r)
		if !ok {
			return nil
		}
		p.paths.insert(path, &p.nPaths)
	}
	p.srcID, _ = p.paths.find([]string{"eventSource"})
	p.timeID, _ = p.paths.find([]string{"eventTime"})
	if id, ok := p.paths.find([]string{"eventName"}); ok {
		p.nameID = id
	} else {
		p.nameID = -1
	}
	p.addGuards(c, guards)
	an := newInputAnalysis(c)
	p.uses = map[[2]string]*inputUse{}
	for _, k := range p.rules {
		p.uses[k] = an.ruleKeys(k)
	}
	return p
}

// engineKeys are the top-level keys the engine reads of a decoded record
// itself: the alert's event fields (fillEventFields), the message helpers
// (message.go), Input.field.
var engineKeys = []string{"eventID", "eventTime", "eventSource", "eventName", "awsRegion", "recipientAccountId",
	"sourceIPAddress", "userAgent", "errorCode", "errorMessage", "userIdentity"}

// keepOf is the union of what rules read of input and what the engine reads,
// or nil when one of the rules may read any of it.
func (p *prefilter) keepOf(rules [][2]string) map[string]bool {
	keep := map[string]bool{}
	for _, k := range engineKeys {
		keep[k] = true
	}
	for _, r := range rules {
		u := p.uses[r]
		if u == nil || u.all {
			return nil
		}
		for k := range u.keys {
			keep[k] = true
		}
	}
	return keep
}

// inputPath turns input.a.b into ["a","b"]; other refs are not supported.
func inputPath(r ast.Ref) ([]string, bool) {
	if !r.HasPrefix(ast.InputRootRef) || len(r) < 2 {
		return nil, false
	}
	out := make([]string, 0, len(r)-1)
	for _, t := range r[1:] {
		s, ok := t.Value.(ast.String)
		if !ok {
			return nil, false
		}
		out = append(out, string(s))
	}
	return out, true
}

// recordingResolver answers "unknown" to everything and remembers what was asked.
type recordingResolver struct {
	refs  []ast.Ref
	other bool
}

func (r *recordingResolver) Resolve(ref ast.Ref) (ast.Value, error) {
	if !ref.HasPrefix(ast.InputRootRef) {
		r.other = true
	} else {
		for _, seen := range r.refs {
			if seen.Equal(ref) {
				return nil, ast.UnknownValueErr{}
			}
		}
		r.refs = append(r.refs, ref.Copy())
	}
	return nil, ast.UnknownValueErr{}
}

// candidates returns the rules that may match a record whose indexed fields
// are vals: those whose index, consulted with these values, yields a rule. It
// is nil when no rule can match. Equal sets are the same *ruleSet.
//
// The answers are memoised in a decision tree: each node names the field the
// indices consult next and branches on its value, the way the indices do.
// Only fields actually consulted are in the path, so a field consulted only
// for some events (eventTime, for opsworks-cm calls) does not multiply the
// memo for all the others. A lookup's answer depends only on the values of
// the fields it consulted, so any record agreeing on those gets the answer.
func (p *prefilter) candidates(vals *fieldValues) (*ruleSet, error) {
	var buf [512]byte
	var d textsDigest
	guarded := false
	p.mu.RLock()
	node := p.root
	for node != nil && !node.leaf {
		node = node.child(vals.keyBytes(node.field))
	}
	if node != nil && node.result != nil && len(node.result.guards) > 0 {
		// The guards' answer too, under the same lock (guard.go).
		d, guarded = digestOf(vals.textsKey(node.result.guardIDs, buf[:0])), true
		if sub, ok := node.result.recall(d); ok {
			p.mu.RUnlock()
			return sub, nil
		}
	}
	p.mu.RUnlock()
	if node != nil {
		if !guarded {
			return node.result, nil // no guards
		}
		return p.admitAgain(node.result, vals, d), nil
	}

	res := &fieldResolver{p: p, vals: vals}
	rules, err := p.lookupAll(res) // see shallow.go
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	set := p.intern(rules)
	p.insert(res.asked, vals, set)
	p.mu.Unlock()
	return p.admit(set, vals), nil
}

// ruleSet is a set of rules some records may match, in the engine's order.
type ruleSet struct {
	Rules [][2]string // (pack, name)
	// guards are the guarded rules among Rules; sub, the set without the
	// rules whose guards turned a record away, by the mask of those (p.mu).
	guards []setGuard
	sub    map[uint64]*ruleSet
	// guardIDs are the fields the guards read; texts, the set without the
	// rules whose guards turned a record away, by those fields' texts
	// (their digest; p.mu).
	guardIDs []int
	texts    map[textsDigest]*ruleSet

	// keep are the top-level keys a record is decoded with for these rules;
	// nil: all of it (inputkeys.go).
	keep map[string]bool

	// plans are the rules' plans (plan.go), made on first need.
	plansOnce sync.Once
	plans     []*planned

	once  sync.Once
	query rego.PreparedEvalQuery
	err   error
}

// intern returns the one ruleSet for these rules (nil for none); p.mu is held.
func (p *prefilter) intern(rules [][2]string) *ruleSet {
	if len(rules) == 0 {
		return nil
	}
	key := fmt.Sprint(rules)
	if s, ok := p.sets[key]; ok {
		return s
	}
	s := &ruleSet{Rules: rules, guards: p.guardsOf(rules), keep: p.keepOf(rules)}
	s.guardIDs = guardIDs(s.guards)
	if len(p.sets) < maxDecisions {
		p.sets[key] = s
	}
	return s
}

// decision is a node of the memo tree.
type decision struct {
	leaf   bool
	result *ruleSet
	field  int
	// next is the node's branches by its field's key, in the node itself:
	// one trip to memory fewer on each level of a record's walk.
	next branches[*decision]
}

// decisionListed is how many branches a decision node lists before it takes
// a map: most nodes on a record's path have one to four (identity types,
// error codes, an absent field).
const decisionListed = 8

// child is the branch of the node for the field's key k (nil: none yet).
func (n *decision) child(k []byte) *decision { return n.next.get(k) }

// add adds the branch d for key k; p.mu is held for writing, so that,
// unlike a memo's (memo.go), a decision's map takes it in place: a field the
// indices consult for any value (a secret's id, a request id) adds a branch
// for nearly every record, and copying the map each time made that
// quadratic.
func (n *decision) add(k string, d *decision) {
	if n.next.m != nil {
		n.next.m[k] = d
		return
	}
	n.next = *n.next.with(k, d, decisionListed)
}

// maxDecisions bounds the memo tree; past it answers are computed each time.
const maxDecisions = 1 << 16

func (p *prefilter) insert(asked []int, vals *fieldValues, result *ruleSet) {
	if p.nodes >= maxDecisions {
		return
	}
	if p.root == nil {
		p.root = p.branch(asked, vals, result)
		return
	}
	n := p.root
	for i, f := range asked {
		if n.leaf || n.field != f {
			return // consulted in another order; leave the memo as it is
		}
		child := n.child(vals.keyBytes(f))
		if child == nil {
			n.add(vals.fieldKey(f), p.branch(asked[i+1:], vals, result))
			return
		}
		n = child
	}
}

// branch builds the chain of nodes for the fields asked, ending in the answer.
func (p *prefilter) branch(asked []int, vals *fieldValues, result *ruleSet) *decision {
	p.nodes++
	if len(asked) == 0 {
		return &decision{leaf: true, result: result}
	}
	n := &decision{field: asked[0]}
	n.add(vals.fieldKey(asked[0]), p.branch(asked[1:], vals, result))
	return n
}

type fieldResolver struct {
	p     *prefilter
	vals  *fieldValues
	asked []int // fields consulted, first time each, in order
	cur   []int // the same, by the index being consulted
}

func (r *fieldResolver) Resolve(ref ast.Ref) (ast.Value, error) {
	path, ok := inputPath(ref)
	if !ok {
		return nil, ast.UnknownValueErr{}
	}
	id, ok := r.p.paths.find(path)
	if !ok {
		return nil, ast.UnknownValueErr{}
	}
	r.note(id)
	switch f := r.vals.fields[id]; f.kind {
	case fieldAbsent:
		return nil, nil
	case fieldScalar:
		return r.vals.value(id)
	}
	return nil, ast.UnknownValueErr{} // an object or array: let evaluation decide
}
