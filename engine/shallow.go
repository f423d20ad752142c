package engine

import (
	"slices"
)

// A memo miss (a record whose combination of indexed values is new) used to
// consult every rule's index again. Most indices only look at eventSource
// and eventName, and the values that make a combination new are the few
// others some rules consult (a secret's id, a source IP, an event time); so
// each (eventSource, eventName) remembers which indices only looked at those
// two, with their answers, and a miss consults only the others. An index's
// answer depends only on the values it consulted, and which fields it
// consults next depends only on those values too, so an index that consulted
// nothing else for this pair does the same for every record with this pair.

// shallowEntry is what the indices did for one (eventSource, eventName).
type shallowEntry struct {
	hit   []bool  // index i's answer, when it consulted only the pair
	deep  []bool  // index i consulted other fields: consult it again
	asked [][]int // fields index i consulted, in order, to replay into the memo path
}

// lookupAll consults the indices for the record res reads, using and filling
// the shallow answers of its (eventSource, eventName).
func (p *prefilter) lookupAll(res *fieldResolver) ([][2]string, error) {
	key := p.pairKey(res.vals)
	p.mu.RLock()
	e := p.shallow[key]
	p.mu.RUnlock()
	fill := e == nil
	if fill {
		n := len(p.indices)
		e = &shallowEntry{hit: make([]bool, n), deep: make([]bool, n), asked: make([][]int, n)}
	}
	var rules [][2]string
	for i, idx := range p.indices {
		if !fill && !e.deep[i] {
			for _, id := range e.asked[i] {
				res.note(id)
			}
			if e.hit[i] {
				rules = append(rules, p.rules[i])
			}
			continue
		}
		res.cur = res.cur[:0]
		r, err := idx.Lookup(res)
		if err != nil {
			return nil, err
		}
		hit := len(r.Rules) > 0 || r.Default != nil || len(r.Else) > 0
		if hit {
			rules = append(rules, p.rules[i])
		}
		if fill {
			e.hit[i], e.asked[i] = hit, slices.Clone(res.cur)
			for _, id := range res.cur {
				e.deep[i] = e.deep[i] || id != p.srcID && id != p.nameID
			}
		}
	}
	if fill {
		p.mu.Lock()
		if p.shallow == nil {
			p.shallow = map[string]*shallowEntry{}
		}
		if len(p.shallow) < maxDecisions {
			p.shallow[key] = e
		}
		p.mu.Unlock()
	}
	return rules, nil
}

// pairKey names the record's (eventSource, eventName) by their JSON texts.
func (p *prefilter) pairKey(vals *fieldValues) string {
	key := string(vals.keyBytes(p.srcID))
	if p.nameID >= 0 {
		key += "\x00" + string(vals.keyBytes(p.nameID))
	}
	return key
}

// note records that the index being consulted asked for field id.
func (r *fieldResolver) note(id int) {
	if !slices.Contains(r.asked, id) {
		r.asked = append(r.asked, id)
	}
	if !slices.Contains(r.cur, id) {
		r.cur = append(r.cur, id)
	}
}
