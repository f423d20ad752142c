// Package attack is the table of MITRE ATT&CK® Enterprise tactics and
// techniques that rules are mapped to, and the mapping itself: a rule's
// METADATA says which tactic (and technique) the behaviour it detects serves,
// and the ids are checked here so that a typo cannot put a rule on the wrong
// square of a coverage map.
//
// The table is generated from MITRE's published STIX data by
// ./internal/gen (see there to regenerate it) and is reproduced under MITRE's
// terms of use: see NOTICE.
package attack

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sync"
)

// Tactic is an ATT&CK tactic: why an adversary does something.
type Tactic struct {
	ID        string `json:"id"`        // TA0005
	Name      string `json:"name"`      // Defense Evasion
	Shortname string `json:"shortname"` // defense-evasion, as Navigator layers name it
}

// Technique is an ATT&CK technique or sub-technique: how.
type Technique struct {
	ID      string   `json:"id"` // T1562 or T1562.008
	Name    string   `json:"name"`
	Tactics []string `json:"tactics"` // tactic ids, in the matrix's order
}

// Table is one ATT&CK release of one domain.
type Table struct {
	AttackVersion string      `json:"attack_version"` // e.g. 18.1
	Domain        string      `json:"domain"`         // enterprise-attack
	Tactics       []Tactic    `json:"tactics"`        // in the matrix's order
	Techniques    []Technique `json:"techniques"`     // by id

	tactics    map[string]*Tactic
	techniques map[string]*Technique
}

//go:embed enterprise-attack.json
var enterpriseJSON []byte

// Enterprise is the ATT&CK Enterprise table trailguard ships. The embedded file
// is checked by this package's tests, so a failure to read it is a build defect.
var Enterprise = sync.OnceValue(func() *Table {
	t, err := Parse(enterpriseJSON)
	if err != nil {
		panic("attack: embedded enterprise-attack.json: " + err.Error())
	}
	return t
})

var (
	tacticID    = regexp.MustCompile(`^TA[0-9]{4}$`)
	techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
)

// Parse reads a table written by ./internal/gen and indexes it.
func Parse(data []byte) (*Table, error) {
	t := &Table{}
	if err := json.Unmarshal(data, t); err != nil {
		return nil, err
	}
	t.tactics = make(map[string]*Tactic, len(t.Tactics))
	for i := range t.Tactics {
		x := &t.Tactics[i]
		if !tacticID.MatchString(x.ID) || x.Shortname == "" {
			return nil, fmt.Errorf("tactic %q: malformed id or no shortname", x.ID)
		}
		t.tactics[x.ID] = x
	}
	t.techniques = make(map[string]*Technique, len(t.Techniques))
	for i := range t.Techniques {
		x := &t.Techniques[i]
		if !techniqueID.MatchString(x.ID) || len(x.Tactics) == 0 {
			return nil, fmt.Errorf("technique %q: malformed id or no tactic", x.ID)
		}
		for _, ta := range x.Tactics {
			if t.tactics[ta] == nil {
				return nil, fmt.Errorf("technique %s: unknown tactic %s", x.ID, ta)
			}
		}
		if _, dup := t.techniques[x.ID]; dup {
			return nil, fmt.Errorf("technique %s listed twice", x.ID)
		}
		t.techniques[x.ID] = x
	}
	return t, nil
}

// Tactic finds a tactic by id.
func (t *Table) Tactic(id string) (Tactic, bool) {
	x, ok := t.tactics[id]
	if !ok {
		return Tactic{}, false
	}
	return *x, true
}

// Technique finds a technique or sub-technique by id.
func (t *Table) Technique(id string) (Technique, bool) {
	x, ok := t.techniques[id]
	if !ok {
		return Technique{}, false
	}
	return *x, true
}

// Mapping places a rule in ATT&CK: the tactic it serves and, when one fits,
// the technique. A technique serves several tactics, so the tactic is always
// given: a rule on T1078 Valid Accounts for initial access is not one for
// persistence.
type Mapping struct {
	Tactic    string `json:"tactic"`
	Technique string `json:"technique,omitempty"`
}

func (m Mapping) String() string {
	if m.Technique == "" {
		return m.Tactic
	}
	return m.Tactic + "/" + m.Technique
}

// Check says why a mapping is not in the table: an unknown or malformed id, or a
// technique that does not belong to the tactic.
func (t *Table) Check(m Mapping) error {
	if m.Tactic == "" {
		return fmt.Errorf("no tactic (want e.g. tactic: TA0005)")
	}
	if _, ok := t.tactics[m.Tactic]; !ok {
		if !tacticID.MatchString(m.Tactic) {
			return fmt.Errorf("tactic %q is not a tactic id (want TA and four digits, e.g. TA0005)", m.Tactic)
		}
		return fmt.Errorf("tactic %s is not an ATT&CK %s tactic", m.Tactic, t.AttackVersion)
	}
	if m.Technique == "" {
		return nil
	}
	tech, ok := t.techniques[m.Technique]
	if !ok {
		if !techniqueID.MatchString(m.Technique) {
			return fmt.Errorf("technique %q is not a technique id (want e.g. T1562 or T1562.008)", m.Technique)
		}
		return fmt.Errorf("technique %s is not in ATT&CK %s (unknown, revoked or deprecated)", m.Technique, t.AttackVersion)
	}
	if !slices.Contains(tech.Tactics, m.Tactic) {
		return fmt.Errorf("technique %s (%s) is not a technique of tactic %s (%s); its tactics are %v",
			tech.ID, tech.Name, m.Tactic, t.tactics[m.Tactic].Name, tech.Tactics)
	}
	return nil
}
