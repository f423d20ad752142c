package sigma

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard/attack"
)

// helpers are the Rego functions generated modules use, each written into a
// module only when it needs it, so a module stands alone (`opa eval` runs it
// with rules/lib) and stays total: every helper is false or empty, never an
// error, on a value of an unexpected type.
var helpers = []struct{ name, src string }{
	{"_at", `# _at(x, k) lists what is under key k in x, or in each element of x when x
# is a list: Sigma reads a list on the way to a field as "any element".
_at(x, k) := [y] if {
	is_object(x)
	y := x[k]
} else := [y | some e in x; is_object(e); y := e[k]] if is_array(x)
else := []
`},
	{"_leaves", `# _leaves(x) lists the scalars at a field: x itself, or every scalar in a
# list or object there (a list value matches when any element matches).
_leaves(x) := [x] if {
	not is_object(x)
	not is_array(x)
} else := [y | walk(x, [_, y]); not is_object(y); not is_array(y)]
`},
	{"_str", "# _str(x) is a scalar as text: strings as they are, numbers and booleans as\n# JSON writes them (Sigma matches those in their string form too).\n" +
		"_str(x) := x if is_string(x)\nelse := json.marshal(x) if is_number(x)\nelse := json.marshal(x) if is_boolean(x)\n"},
	{"_num", "# _num(x) is x as a number: a number, or a string holding a decimal one.\n" +
		"_num(x) := x if is_number(x)\nelse := to_number(x) if {\n\tis_string(x)\n\tregex.match(`^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$`, x)\n}\n"},
}

// library writes the helpers a module uses.
func library(uses map[string]bool) string {
	var b strings.Builder
	for _, h := range helpers {
		if uses[h.name] {
			b.WriteString(h.src + "\n")
		}
	}
	return b.String()
}

type metaBlock struct {
	Title       string     `yaml:"title"`
	Description string     `yaml:"description,omitempty"`
	Custom      metaCustom `yaml:"custom"`
}

type metaCustom struct {
	ID             string   `yaml:"id"`
	Severity       string   `yaml:"severity"`
	Tags           []string `yaml:"tags,omitempty"`
	References     []string `yaml:"references,omitempty"`
	FalsePositives []string `yaml:"falsepositives,omitempty"`
	Author         string   `yaml:"author,omitempty"`
	// Message is the engine's template for the alert's message (the rule's
	// title and the usual sentence about the call).
	Message string `yaml:"message"`
	// Attack is the rule's place in ATT&CK, from its tags (see attackMappings).
	Attack       []attackMeta `yaml:"attack,omitempty"`
	statefulMeta `yaml:",inline"`
	Sigma        sigmaMeta `yaml:"sigma"`
}

// statefulMeta is the stateful block a correlation (or a rule it refers to)
// declares, in the engine's custom.threshold / custom.sequence terms.
type statefulMeta struct {
	Signal    bool           `yaml:"signal,omitempty"`
	Threshold *thresholdMeta `yaml:"threshold,omitempty"`
	Sequence  *sequenceMeta  `yaml:"sequence,omitempty"`
}

type thresholdMeta struct {
	Count    int      `yaml:"count"`
	Window   string   `yaml:"window"`
	GroupBy  []string `yaml:"group_by,flow"`
	Distinct string   `yaml:"distinct,omitempty"`
	Rules    []string `yaml:"rules"`
}

type sequenceMeta struct {
	Steps   []string `yaml:"steps"`
	Window  string   `yaml:"window"`
	Ordered bool     `yaml:"ordered"`
	GroupBy []string `yaml:"group_by,flow"`
}

// sigmaMeta records where the rule came from.
type sigmaMeta struct {
	ID          string `yaml:"id"`
	Correlation string `yaml:"correlation,omitempty"` // its type, for a correlation
	Status      string `yaml:"status,omitempty"`
	Level       string `yaml:"level,omitempty"`
	File        string `yaml:"file,omitempty"`
}

// metadata writes the METADATA comment block in trailguard's conventions.
// It also returns the warnings of mapping the tags to ATT&CK.
func metadata(r *Rule, st statefulMeta) (string, []string, error) {
	mappings, warnings := attackMappings(attack.Enterprise(), r.Tags)
	m := metaBlock{Title: r.Title, Description: strings.TrimSpace(r.Description), Custom: metaCustom{
		ID: r.RuleID, Severity: r.Severity, Tags: r.Tags, References: r.References,
		FalsePositives: r.FalsePositives, Author: r.Author, Message: "{{.title}}: {{.call}}",
		Attack: mappings, statefulMeta: st,
		Sigma: sigmaMeta{ID: r.ID, Correlation: correlationType(r), Status: r.Status, Level: r.Level, File: r.File},
	}}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return "", nil, err
	}
	var out strings.Builder
	out.WriteString("# METADATA\n")
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if line == "" {
			out.WriteString("#\n")
			continue
		}
		out.WriteString("# " + line + "\n")
	}
	return out.String(), warnings, nil
}

func correlationType(r *Rule) string {
	if r.Correlation == nil {
		return ""
	}
	return r.Correlation.Type
}
