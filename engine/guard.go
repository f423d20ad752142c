package engine

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
	"github.com/trailguard/trailguard/sigma"
)

// Guards: a rule compiled from Sigma carries a necessary condition of its
// detection on a few string fields (sigma.Guard). Sigma compares
// case-insensitively, with contains and regexes, which OPA's index cannot
// look up; without the guard such a rule is a candidate for every record, and
// every record is decoded and evaluated. The prefilter reads the guards'
// fields with the indexed ones, in the same pass, and drops from a record's
// candidates the rules whose guard turns it away; only if none is left is
// the record not decoded. The Rego still decides every record a guard lets
// through.

// ruleGuard is one rule's guard and where the prefilter keeps its fields.
type ruleGuard struct {
	guard *sigma.Guard
	ids   []int // field ids, in the order of guard.Fields()

	// The guard's answers, by its fields' JSON texts: the guards of rules
	// OPA cannot index run on every record, and the values they read (user
	// agents, ARNs, identity types) repeat from record to record.
	mu   sync.RWMutex
	memo map[string]bool
}

// maxGuardMemo bounds each guard's memo; past it the memo starts again.
const maxGuardMemo = 4096

// admits runs the guard on the record's fields, or recalls its answer for
// the same field texts.
func (g *ruleGuard) admits(vals *fieldValues) bool {
	var buf [256]byte
	key := vals.textsKey(g.ids, buf[:0])
	g.mu.RLock()
	ok, known := g.memo[string(key)] // no allocation: the conversion is in the index
	g.mu.RUnlock()
	if known {
		return ok
	}
	var fbuf [8]sigma.Field
	fields := fbuf[:0]
	for _, id := range g.ids {
		fields = append(fields, vals.guardField(id))
	}
	ok = g.guard.Admits(fields)
	g.mu.Lock()
	if len(g.memo) >= maxGuardMemo {
		clear(g.memo) // start again, as admitAgain does
	}
	if g.memo == nil {
		g.memo = map[string]bool{}
	}
	g.memo[string(key)] = ok
	g.mu.Unlock()
	return ok
}

// textsKey appends to key what tells the texts of fields ids apart from
// any others: the text alone for one field, else each text after its
// length, so that no two lists of texts share a key.
func (v *fieldValues) textsKey(ids []int, key []byte) []byte {
	if len(ids) == 1 {
		return append(key, v.keyBytes(ids[0])...)
	}
	for _, id := range ids {
		b := v.keyBytes(id)
		key = binary.AppendUvarint(key, uint64(len(b)))
		key = append(key, b...)
	}
	return key
}

// setGuard is a guarded rule of a candidate set.
type setGuard struct {
	*ruleGuard
	rule int // index in ruleSet.Rules
}

// maxSetGuards bounds the guards checked per candidate set (a bit each in
// the mask that names the filtered set); rules past it stay candidates.
const maxSetGuards = 64

// addGuards registers the guards of rules whose package is the Sigma module
// alone: a package that another file adds alert rules to may match records
// the guard knows nothing of.
func (p *prefilter) addGuards(c *ast.Compiler, guards map[[2]string]*sigma.Guard) {
	if len(guards) == 0 {
		return
	}
	files := map[[2]string]int{}
	for _, m := range c.Modules {
		if path := m.Package.Path; len(path) == 4 {
			files[[2]string{stringOf(path[2]), stringOf(path[3])}]++
		}
	}
	for _, k := range p.rules {
		g := guards[k]
		if g == nil || files[k] != 1 {
			continue
		}
		rg := &ruleGuard{guard: g}
		for _, f := range g.Fields() {
			p.paths.insert(f, &p.nPaths)
			id, _ := p.paths.find(f)
			rg.ids = append(rg.ids, id)
		}
		if p.guards == nil {
			p.guards = map[[2]string]*ruleGuard{}
		}
		p.guards[k] = rg
	}
}

// guardsOf lists the guarded rules of a new candidate set.
func (p *prefilter) guardsOf(rules [][2]string) []setGuard {
	var out []setGuard
	for i, r := range rules {
		if g := p.guards[r]; g != nil && len(out) < maxSetGuards {
			out = append(out, setGuard{ruleGuard: g, rule: i})
		}
	}
	return out
}

// admit is set without the rules whose guards turn the record away (nil
// when none is left).
//
// The answer depends only on the texts of the fields the set's guards read,
// and the base set of nearly every record carries the guards of the Sigma
// rules OPA cannot index (a user agent, an ARN, identity types): each set
// remembers its answers by those texts (recall, under the lock candidates
// holds anyway), so that a record whose texts were seen costs one lookup,
// not a lookup per guard. Otherwise the guards are consulted one by one and
// the filtered sets interned and memoised by the mask of rejecting guards.
func (p *prefilter) admit(set *ruleSet, vals *fieldValues) *ruleSet {
	if set == nil || len(set.guards) == 0 {
		return set
	}
	var buf [512]byte
	d := digestOf(vals.textsKey(set.guardIDs, buf[:0]))
	p.mu.RLock()
	sub, ok := set.recall(d)
	p.mu.RUnlock()
	if ok {
		return sub
	}
	return p.admitAgain(set, vals, d)
}

// recall is the set's answer for a record whose guards' texts have the
// digest d (of textsKey of guardIDs); p.mu is held.
func (s *ruleSet) recall(d textsDigest) (*ruleSet, bool) {
	sub, ok := s.texts[d]
	return sub, ok
}

// textsDigest names the texts of a set's guard fields (textsKey) by two
// hashes of them, under seeds drawn when the process starts. The map holds
// these 16 bytes in its own slots; keyed by the texts themselves (with
// SigmaHQ's rules a user agent and an ARN among them: 150–250 bytes), it
// kept a copy of each, up to maxTexts of them, and compared the record's
// with it, outside its slots, on nearly every record. Two different lists
// of texts share a digest with a chance of 2⁻¹²⁸; a shared digest could only
// keep a record from a Sigma rule's evaluation, and the seeds are not known
// outside the process, so no record can be written to aim at one.
type textsDigest [2]uint64

var digestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func digestOf(key []byte) textsDigest {
	return textsDigest{maphash.Bytes(digestSeeds[0], key), maphash.Bytes(digestSeeds[1], key)}
}

// admitAgain is admit for texts the set has not seen: each guard's answer
// (its own memo), then the filtered set, remembered by the texts' digest d.
func (p *prefilter) admitAgain(set *ruleSet, vals *fieldValues, d textsDigest) *ruleSet {
	var mask uint64
	for i, g := range set.guards {
		if !g.admits(vals) {
			mask |= 1 << i
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	sub, ok := set, true
	if mask != 0 {
		sub, ok = set.sub[mask]
	}
	if !ok {
		rules := slices.Clone(set.Rules)
		for i := len(set.guards) - 1; i >= 0; i-- {
			if mask&(1<<i) != 0 {
				rules = slices.Delete(rules, set.guards[i].rule, set.guards[i].rule+1)
			}
		}
		sub = p.intern(rules)
		if set.sub == nil {
			set.sub = map[uint64]*ruleSet{}
		}
		if len(set.sub) < maxDecisions {
			set.sub[mask] = sub
		}
	}
	if _, seen := set.texts[d]; seen {
		return sub // remembered by another worker meanwhile
	}
	if p.textsN >= maxTexts {
		// Forget them all and start again: the texts that recur (a daemon's
		// principals and agents change over months) are remembered again
		// at their next sight, where a full memo would never learn them.
		for _, s := range p.remembering {
			s.texts = nil
		}
		p.remembering, p.textsN = p.remembering[:0], 0
	}
	if set.texts == nil {
		set.texts = map[textsDigest]*ruleSet{}
		p.remembering = append(p.remembering, set)
	}
	set.texts[d] = sub
	p.textsN++
	return sub
}

// maxTexts bounds the answers remembered by text, over every set.
const maxTexts = 1 << 14

// guardIDs are the fields the guards read, each once, in their order.
func guardIDs(guards []setGuard) []int {
	var ids []int
	for _, g := range guards {
		for _, id := range g.ids {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// guardField is a field as a guard reads it: a string decoded as the record
// is (escapes, U+FFFD for invalid UTF-8), or absent, or something else.
func (v *fieldValues) guardField(id int) sigma.Field {
	f := v.fields[id]
	switch {
	case f.kind == fieldAbsent:
		return sigma.Field{Kind: sigma.FieldAbsent}
	case f.kind == fieldScalar && f.raw[0] == '"':
		s := jsonscan.New(f.raw)
		if str, ok := s.ReadString(); ok {
			return sigma.Field{Kind: sigma.FieldString, Str: str.String()}
		}
	}
	return sigma.Field{Kind: sigma.FieldOther}
}

// markComposite marks every wanted path below t as a composite: they lie
// beyond a list, where a Sigma field path looks into every element, so
// neither a guard nor the index may take them for absent.
func markComposite(t *pathTrie, vals *fieldValues) {
	for _, c := range t.children {
		if c.wanted {
			vals.put(c.id, field{kind: fieldComposite})
		}
		markComposite(c, vals)
	}
}
