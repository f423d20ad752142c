package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// document is one YAML document of a Sigma file, kept as yaml.v3 nodes so
// every problem can name its line.
type document struct {
	file        string
	line        int
	fields      map[string]*yaml.Node // top-level keys -> values
	keys        map[string]*yaml.Node // top-level keys -> key nodes
	detection   *yaml.Node
	correlation *yaml.Node
	skip        string // why the rule is not for CloudTrail, if it is not
}

func (d *document) problem(n *yaml.Node, format string, args ...any) Problem {
	p := Problem{File: d.file, Line: d.line, Col: 1, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	return p
}

// parseFile splits a file into its YAML documents.
func parseFile(file string, src []byte) ([]*document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*document
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{Problems: []Problem{{File: file, Line: yamlErrLine(err), Col: 1, Message: err.Error()}}}
		}
		if len(n.Content) == 0 {
			continue
		}
		d, err := newDocument(file, n.Content[0])
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, &Error{Problems: []Problem{{File: file, Message: "no Sigma rule in the file"}}}
	}
	return docs, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func newDocument(file string, root *yaml.Node) (*document, error) {
	d := &document{file: file, line: root.Line, fields: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Problems: []Problem{d.problem(root, "a Sigma rule is a YAML mapping")}}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		d.fields[k.Value] = v
		d.keys[k.Value] = k
	}
	d.detection = d.fields["detection"]
	d.correlation = d.fields["correlation"]
	if d.correlation == nil {
		d.skip = logsourceSkip(d.fields["logsource"])
	}
	return d, nil
}

// logsourceSkip says why a logsource is not CloudTrail's, or "" when it is.
func logsourceSkip(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.MappingNode {
		return "no logsource"
	}
	ls := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		ls[n.Content[i].Value] = n.Content[i+1].Value
	}
	if ls["product"] != "aws" || ls["service"] != "cloudtrail" {
		var parts []string
		for _, k := range []string{"category", "product", "service"} {
			if v := ls[k]; v != "" {
				parts = append(parts, k+": "+v)
			}
		}
		return "logsource " + strings.Join(parts, ", ")
	}
	return ""
}

// meta reads the metadata every rule carries. Problems are returned, not
// raised, so that one pass reports all of them.
func (d *document) meta() (*Rule, []Problem) {
	r := &Rule{File: d.file, Line: d.line}
	var probs []Problem
	str := func(key string, required bool) string {
		n := d.fields[key]
		if n == nil {
			if required {
				probs = append(probs, d.problem(nil, "%s is missing", key))
			}
			return ""
		}
		if n.Kind != yaml.ScalarNode {
			probs = append(probs, d.problem(n, "%s must be a string", key))
			return ""
		}
		return n.Value
	}
	list := func(key string) []string {
		n := d.fields[key]
		if n == nil {
			return nil
		}
		if n.Kind == yaml.ScalarNode {
			return []string{n.Value}
		}
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				probs = append(probs, d.problem(c, "%s must be a list of strings", key))
				continue
			}
			out = append(out, c.Value)
		}
		return out
	}
	r.Title = str("title", true)
	r.ID = str("id", false)
	r.Name = str("name", false)
	r.Description = str("description", false)
	r.Status = str("status", false)
	r.Level = str("level", false)
	r.Author = strings.Join(list("author"), ", ")
	r.Tags = list("tags")
	r.References = list("references")
	r.FalsePositives = list("falsepositives")
	if r.ID == "" && d.skip == "" {
		probs = append(probs, d.problem(nil, "id is missing: trailguard names a Sigma rule's alerts sigma.<id>"))
	}
	r.RuleID = "sigma." + r.ID
	r.Package = packageFor(r.ID)
	if r.Level == "" {
		r.Severity = "medium"
		r.Warnings = append(r.Warnings, "no level: severity medium")
	} else {
		s, ok := severities[r.Level]
		if !ok {
			probs = append(probs, d.problem(d.fields["level"], "level %q: want informational, low, medium, high or critical", r.Level))
		}
		r.Severity = s
	}
	if d.detection == nil && d.correlation == nil && d.skip == "" {
		probs = append(probs, d.problem(nil, "detection is missing"))
	}
	if n := d.fields["action"]; n != nil {
		probs = append(probs, d.problem(n, "action %q (Sigma v1 rule collections) is not supported: write each rule as its own document", n.Value))
	}
	return r, probs
}

// --- correlation ----------------------------------------------------------------

var (
	correlationTypes = map[string]bool{"event_count": true, "value_count": true, "temporal": true, "temporal_ordered": true}
	timespanRe       = regexp.MustCompile(`^([0-9]+)([smhd])$`)
	conditionOps     = map[string]bool{"gt": true, "gte": true, "lt": true, "lte": true, "eq": true, "neq": true}
)

// parseCorrelation reads and checks a correlation section.
func parseCorrelation(d *document) (*Correlation, []Problem) {
	n := d.correlation
	var probs []Problem
	bad := func(at *yaml.Node, format string, args ...any) { probs = append(probs, d.problem(at, format, args...)) }
	if n.Kind != yaml.MappingNode {
		bad(n, "correlation must be a mapping")
		return nil, probs
	}
	c := &Correlation{Condition: map[string]int64{}}
	got := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		got[k.Value] = v
		switch k.Value {
		case "type":
			c.Type = v.Value
			if !correlationTypes[v.Value] {
				bad(v, "correlation type %q is not supported (supported: event_count, value_count, temporal, temporal_ordered)", v.Value)
			}
		case "rules":
			c.Rules = scalars(v)
		case "group-by":
			c.GroupBy = scalars(v)
		case "timespan":
			m := timespanRe.FindStringSubmatch(v.Value)
			if m == nil {
				bad(v, "timespan %q: want a number and s, m, h or d, e.g. 90m", v.Value)
				continue
			}
			num, _ := strconv.Atoi(m[1])
			unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
			c.Timespan = time.Duration(num) * unit
		case "condition":
			parseCorrelationCondition(d, v, c, &probs)
		case "aliases":
			c.Aliases = map[string]map[string]string{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				m := map[string]string{}
				al := v.Content[j+1]
				for x := 0; x+1 < len(al.Content); x += 2 {
					m[al.Content[x].Value] = al.Content[x+1].Value
				}
				c.Aliases[v.Content[j].Value] = m
			}
		case "generate":
			c.Generate = v.Value == "true"
		default:
			bad(k, "correlation attribute %q is not supported", k.Value)
		}
	}
	for _, req := range []string{"type", "rules", "timespan", "condition"} {
		// A temporal correlation without a condition needs every rule, as
		// pySigma reads it.
		if req == "condition" && (c.Type == "temporal" || c.Type == "temporal_ordered") {
			continue
		}
		if got[req] == nil {
			bad(n, "correlation %s is missing", req)
		}
	}
	if len(c.Rules) == 0 && got["rules"] != nil {
		bad(got["rules"], "correlation rules: name at least one rule")
	}
	if c.Type == "value_count" && c.Field == "" {
		bad(got["condition"], "value_count needs condition.field")
	}
	return c, probs
}

func parseCorrelationCondition(d *document, v *yaml.Node, c *Correlation, probs *[]Problem) {
	if v.Kind != yaml.MappingNode {
		*probs = append(*probs, d.problem(v, "correlation condition must be a mapping such as {gte: 10}"))
		return
	}
	for j := 0; j+1 < len(v.Content); j += 2 {
		op, val := v.Content[j].Value, v.Content[j+1]
		if op == "field" {
			c.Field = val.Value
			continue
		}
		if !conditionOps[op] {
			*probs = append(*probs, d.problem(v.Content[j], "correlation condition %q: want gt, gte, lt, lte, eq or neq", op))
			continue
		}
		num, err := strconv.ParseInt(val.Value, 10, 64)
		if err != nil {
			*probs = append(*probs, d.problem(val, "correlation condition %s: %q is not an integer", op, val.Value))
			continue
		}
		c.Condition[op] = num
	}
}

func scalars(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}
