package attack

import (
	"fmt"
	"sort"
)

// ParseMappings reads a rule's METADATA custom.attack, as OPA hands it over
// from the YAML: a list of {tactic, technique} objects, or one such object.
// The tactic is required, the technique optional; every id is checked against
// the table. It reports every problem, each naming the entry.
func (t *Table) ParseMappings(v any) ([]Mapping, []error) {
	var entries []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		entries = v
	case map[string]any:
		entries = []any{v}
	default:
		return nil, []error{fmt.Errorf("custom.attack: want a list of {tactic: TA…, technique: T…}, got %s", describe(v))}
	}
	var (
		out  []Mapping
		errs []error
	)
	for i, e := range entries {
		m, err := t.mapping(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("custom.attack[%d]: %w", i, err))
			continue
		}
		out = append(out, m)
	}
	return out, errs
}

func (t *Table) mapping(e any) (Mapping, error) {
	obj, ok := e.(map[string]any)
	if !ok {
		return Mapping{}, fmt.Errorf("want {tactic: TA…, technique: T…}, got %s", describe(e))
	}
	var m Mapping
	var unknown []string
	for k, v := range obj {
		var dst *string
		switch k {
		case "tactic":
			dst = &m.Tactic
		case "technique":
			dst = &m.Technique
		default:
			unknown = append(unknown, k)
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Mapping{}, fmt.Errorf("%s: want an id string, got %s", k, describe(v))
		}
		*dst = s
	}
	if len(unknown) > 0 {
		// A misspelt key would otherwise drop the technique without a word.
		sort.Strings(unknown)
		return Mapping{}, fmt.Errorf("unknown keys %q (want tactic and technique)", unknown)
	}
	return m, t.Check(m)
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("the string %q", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}
