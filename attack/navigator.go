package attack

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Versions of the ATT&CK Navigator layer format written here
// (attack-navigator's layers/spec/v4.5/layerformat.md) and of the Navigator
// release that documents it.
const (
	LayerFormatVersion = "4.5"
	NavigatorVersion   = "5.1.0"
)

// Layer is an ATT&CK Navigator layer, the fields trailguard fills.
type Layer struct {
	Name         string           `json:"name"`
	Versions     LayerVersions    `json:"versions"`
	Domain       string           `json:"domain"`
	Description  string           `json:"description,omitempty"`
	Sorting      int              `json:"sorting"`
	Layout       LayerLayout      `json:"layout"`
	HideDisabled bool             `json:"hideDisabled"`
	Techniques   []LayerTechnique `json:"techniques"`
	Gradient     LayerGradient    `json:"gradient"`
	LegendItems  []LegendItem     `json:"legendItems"`
	Metadata     []LayerMetadata  `json:"metadata,omitempty"`
}

// LayerVersions are the layer's ATT&CK, Navigator and format versions.
type LayerVersions struct {
	Attack    string `json:"attack"`
	Navigator string `json:"navigator"`
	Layer     string `json:"layer"`
}

// LayerLayout is how Navigator draws the matrix.
type LayerLayout struct {
	Layout                string `json:"layout"`
	ShowID                bool   `json:"showID"`
	ShowName              bool   `json:"showName"`
	ExpandedSubtechniques string `json:"expandedSubtechniques"`
}

// LayerTechnique annotates one technique under one tactic.
type LayerTechnique struct {
	TechniqueID string `json:"techniqueID"`
	Tactic      string `json:"tactic"` // the tactic's shortname
	Score       int    `json:"score"`
	Comment     string `json:"comment"`
	Enabled     bool   `json:"enabled"`
}

// LayerGradient maps scores to colours.
type LayerGradient struct {
	Colors   []string `json:"colors"`
	MinValue int      `json:"minValue"`
	MaxValue int      `json:"maxValue"`
}

// LegendItem is one line of the layer's legend.
type LegendItem struct {
	Label string `json:"label"`
	Color string `json:"color"`
}

// LayerMetadata is a name and value shown with the layer.
type LayerMetadata struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Colours of the coverage gradient, from one rule to the most rules on one technique.
const (
	colorFew  = "#c7e9c0"
	colorMany = "#238b45"
)

// CoverageLayer draws rule coverage as a Navigator layer: each technique a rule
// is mapped to is scored by the number of rules on it under that tactic, and
// its comment lists them. Mappings to a tactic alone have no square in the
// matrix; they are listed in the layer's metadata. ruleAttack is each rule's
// mappings by rule id; every mapping must pass Check.
func (t *Table) CoverageLayer(name, description string, ruleAttack map[string][]Mapping) (*Layer, error) {
	type cell struct{ technique, tactic string }
	byCell := map[cell][]string{}
	byTactic := map[string][]string{}
	for id, ms := range ruleAttack {
		for _, m := range ms {
			if err := t.Check(m); err != nil {
				return nil, fmt.Errorf("rule %s: %w", id, err)
			}
			if m.Technique == "" {
				byTactic[m.Tactic] = appendNew(byTactic[m.Tactic], id)
				continue
			}
			c := cell{m.Technique, t.tactics[m.Tactic].Shortname}
			byCell[c] = appendNew(byCell[c], id)
		}
	}
	l := &Layer{
		Name:        name,
		Versions:    LayerVersions{Attack: t.AttackVersion, Navigator: NavigatorVersion, Layer: LayerFormatVersion},
		Domain:      t.Domain,
		Description: description,
		Sorting:     3, // by score, descending: the best-covered first
		Layout:      LayerLayout{Layout: "side", ShowID: true, ShowName: true, ExpandedSubtechniques: "annotated"},
		Techniques:  []LayerTechnique{},
	}
	most := 1
	for c, ids := range byCell {
		sort.Strings(ids)
		most = max(most, len(ids))
		l.Techniques = append(l.Techniques, LayerTechnique{
			TechniqueID: c.technique, Tactic: c.tactic, Score: len(ids), Enabled: true,
			Comment: "trailguard rules: " + strings.Join(ids, ", "),
		})
	}
	sort.Slice(l.Techniques, func(i, j int) bool {
		a, b := l.Techniques[i], l.Techniques[j]
		return a.TechniqueID < b.TechniqueID || a.TechniqueID == b.TechniqueID && a.Tactic < b.Tactic
	})
	// Navigator wants maxValue > minValue: with one rule on every technique the
	// gradient still runs from one rule to two.
	l.Gradient = LayerGradient{Colors: []string{colorFew, colorMany}, MinValue: 1, MaxValue: max(most, 2)}
	l.LegendItems = []LegendItem{{Label: "1 rule", Color: colorFew}}
	if most > 1 {
		l.LegendItems = append(l.LegendItems, LegendItem{Label: fmt.Sprintf("%d rules", most), Color: colorMany})
	}
	for _, ta := range t.Tactics {
		if ids := byTactic[ta.ID]; len(ids) > 0 {
			sort.Strings(ids)
			l.Metadata = append(l.Metadata, LayerMetadata{
				Name:  fmt.Sprintf("%s %s (tactic only)", ta.ID, ta.Name),
				Value: strings.Join(ids, ", "),
			})
		}
	}
	return l, nil
}

func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}
