package sigma

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/trailguard/trailguard/attack"
)

// Sigma's ATT&CK tags: attack.t1078.004 (a technique), attack.ta0005 (a tactic
// by id) and attack.defense-evasion (a tactic by shortname). Groups
// (attack.g0016), software (attack.s0002) and the like are not placed in the
// matrix and stay plain tags.
var (
	techniqueTag = regexp.MustCompile(`^attack\.(t[0-9]{4}(?:\.[0-9]{3})?)$`)
	tacticIDTag  = regexp.MustCompile(`^attack\.(ta[0-9]{4})$`)
	tacticTag    = regexp.MustCompile(`^attack\.([a-z]+(?:-[a-z]+)*)$`)
)

// attackMeta is one custom.attack entry, as engine.Rule reads it.
type attackMeta struct {
	Tactic    string `yaml:"tactic"`
	Technique string `yaml:"technique,omitempty"`
}

// attackMappings places a rule in ATT&CK from its tags, against the table
// trailguard ships: each technique with the rule's tactics it belongs to, or
// with all its tactics when the rule names none of them; a tactic no technique
// took stands alone. Ids the table does not know (a newer or older ATT&CK
// release than ours) are left out with a warning, never an error: the tags
// keep them, and the rule loads.
func attackMappings(t *attack.Table, tags []string) ([]attackMeta, []string) {
	shortnames := map[string]string{}
	for _, ta := range t.Tactics {
		shortnames[ta.Shortname] = ta.ID
	}
	var (
		tactics, techniques []string
		warnings            []string
	)
	unknown := func(tag, what string) {
		warnings = append(warnings, fmt.Sprintf("tag %s: %s not in ATT&CK %s as trailguard ships it; kept as a tag, not mapped", tag, what, t.AttackVersion))
	}
	for _, tag := range tags {
		tag = strings.ToLower(strings.TrimSpace(tag))
		if m := techniqueTag.FindStringSubmatch(tag); m != nil {
			id := strings.ToUpper(m[1])
			if _, ok := t.Technique(id); !ok {
				unknown(tag, "technique "+id)
			} else if !slices.Contains(techniques, id) {
				techniques = append(techniques, id)
			}
			continue
		}
		var id string
		if m := tacticIDTag.FindStringSubmatch(tag); m != nil {
			id = strings.ToUpper(m[1])
			if _, ok := t.Tactic(id); !ok {
				unknown(tag, "tactic "+id)
				continue
			}
		} else if m := tacticTag.FindStringSubmatch(tag); m != nil {
			var ok bool
			if id, ok = shortnames[m[1]]; !ok {
				unknown(tag, "tactic "+m[1])
				continue
			}
		} else {
			continue // a group, software, or another namespace's tag
		}
		if !slices.Contains(tactics, id) {
			tactics = append(tactics, id)
		}
	}

	var out []attackMeta
	used := map[string]bool{}
	for _, id := range techniques {
		tech, _ := t.Technique(id)
		var pick []string
		for _, ta := range tech.Tactics {
			if slices.Contains(tactics, ta) {
				pick = append(pick, ta)
			}
		}
		if len(pick) == 0 {
			if len(tactics) > 0 {
				warnings = append(warnings, fmt.Sprintf("technique %s belongs to none of the rule's tactics %s; mapped to all of its own", id, strings.Join(tactics, ", ")))
			}
			pick = tech.Tactics
		}
		for _, ta := range pick {
			used[ta] = true
			out = append(out, attackMeta{Tactic: ta, Technique: id})
		}
	}
	for _, ta := range tactics {
		if !used[ta] {
			out = append(out, attackMeta{Tactic: ta})
		}
	}
	return out, warnings
}
