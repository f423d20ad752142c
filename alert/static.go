package alert

import (
	"slices"
	"sync"

	"github.com/trailguard/trailguard/attack"
	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// The fields an alert takes from its rule (title, description, tags,
// runbook, references, ATT&CK mappings) are the same for each of the
// rule's alerts, and for a SigmaHQ rule they are most of the alert's text.
// AppendJSON encodes them once for each rule and copies that encoding
// after, rather than escaping the same strings for every alert.

// ruleJSON is the encoding of a rule's fields in an alert: what it was made
// from, to be compared with each alert it is used for, and the encoding in
// its three runs (the severity and the message, which an alert may have of
// its own, lie between them).
type ruleJSON struct {
	ruleID, title, description, runbook string
	tags, references                    []string
	attack                              []attack.Mapping
	// enc is {"rule_id":…,"title":… | ,"description":… | ,"tags":…,
	// "runbook":…,"references":…,"attack":…, split at head and desc.
	enc        []byte
	head, desc int
}

// maxRuleJSON bounds the cache: past it, the rules it does not hold have
// their alerts encoded field by field (as all were before), and a rule set
// that large costs memory in proportion to it, and no more.
const maxRuleJSON = 4096

// ruleJSONs is the cache, by rule id. An entry is used only for an alert
// whose fields are equal to those it was made from; the comparison is
// cheap, since an alert's strings are its rule's (equal pointers).
var ruleJSONs struct {
	mu sync.RWMutex
	m  map[string]*ruleJSON
}

// ruleJSONOf is the encoding of a's rule fields: from the cache, or made
// and kept; nil when the cache is full and holds nothing for a's rule.
func ruleJSONOf(a *Alert) *ruleJSON {
	ruleJSONs.mu.RLock()
	r, ok := ruleJSONs.m[a.RuleID]
	full := len(ruleJSONs.m) >= maxRuleJSON
	ruleJSONs.mu.RUnlock()
	switch {
	case ok && r.matches(a):
		return r
	case !ok && full:
		return nil
	}
	// A rule met first, a rule whose metadata changed (a reload), or an
	// alert whose fields were changed after the engine made it: the entry
	// is (re)made from this alert.
	r = newRuleJSON(a)
	ruleJSONs.mu.Lock()
	defer ruleJSONs.mu.Unlock()
	if _, ok := ruleJSONs.m[a.RuleID]; ok || len(ruleJSONs.m) < maxRuleJSON {
		if ruleJSONs.m == nil {
			ruleJSONs.m = map[string]*ruleJSON{}
		}
		ruleJSONs.m[a.RuleID] = r
	}
	return r
}

// matches says whether a's rule fields are those r was made from.
func (r *ruleJSON) matches(a *Alert) bool {
	return a.RuleID == r.ruleID && a.Title == r.title && a.Description == r.description &&
		a.Runbook == r.runbook && slices.Equal(a.Tags, r.tags) && slices.Equal(a.References, r.references) &&
		slices.Equal(a.Attack, r.attack)
}

// newRuleJSON encodes a's rule fields; its slices are copied, so that a
// change to the alert's (or the rule's) elements is seen as one.
func newRuleJSON(a *Alert) *ruleJSON {
	r := &ruleJSON{
		ruleID: a.RuleID, title: a.Title, description: a.Description, runbook: a.Runbook,
		tags: slices.Clone(a.Tags), references: slices.Clone(a.References), attack: slices.Clone(a.Attack),
	}
	enc := appendRuleHead(nil, a)
	r.head = len(enc)
	enc = appendKeyStringOmit(enc, "description", a.Description)
	r.desc = len(enc)
	r.enc = appendRuleTail(enc, a)
	return r
}

// appendRuleHead appends {"rule_id":…,"title":…
func appendRuleHead(dst []byte, a *Alert) []byte {
	dst = append(dst, `{"rule_id":`...)
	dst = jsonscan.AppendString(dst, a.RuleID)
	return appendKeyString(dst, "title", a.Title)
}

// appendRuleTail appends the tags, runbook, references and attack fields.
func appendRuleTail(dst []byte, a *Alert) []byte {
	dst = appendKeyStrings(dst, "tags", a.Tags)
	dst = appendKeyStringOmit(dst, "runbook", a.Runbook)
	dst = appendKeyStrings(dst, "references", a.References)
	if len(a.Attack) > 0 {
		dst = append(dst, `,"attack":[`...)
		for i, m := range a.Attack {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMapping(dst, m)
		}
		dst = append(dst, ']')
	}
	return dst
}
