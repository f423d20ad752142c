// Package sigma compiles Sigma detection rules (specification v2) for AWS
// CloudTrail into Rego modules in trailguard's conventions: one package per
// rule under rules.sigma, a METADATA block the engine reads, and an alert set
// naming what matched. Nothing evaluates Sigma but the engine running those
// modules: there is no second evaluator.
//
// Whatever the specification allows that this package cannot compile exactly
// is refused with the file, the line and the feature named; nothing is
// silently ignored.
package sigma

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rule is one compiled Sigma rule.
type Rule struct {
	ID             string // the Sigma id as written
	RuleID         string // trailguard's rule id: sigma.<ID>
	Name           string
	Title          string
	Description    string
	Status         string
	Level          string // as written
	Severity       string // info, low, medium, high or critical
	Author         string
	Tags           []string
	References     []string
	FalsePositives []string
	File           string
	Line           int
	Package        string // e.g. rules.sigma.r_0e95725d_7320_415d_80f7_004da920fc11
	Module         string // the Rego module, formatted as opa fmt does; empty for correlations
	Warnings       []string
	Correlation    *Correlation // non-nil for a correlation rule
	// Guard is a necessary condition of the detection that the engine checks
	// on the raw record before decoding it (see Guard); nil when there is none.
	Guard *Guard
}

// Correlation is a Sigma correlation rule (specification v2), parsed and
// validated; it needs the stateful engine to run.
type Correlation struct {
	Type      string   // event_count, value_count, temporal, temporal_ordered
	Rules     []string // referenced rules, by id or name, as written
	GroupBy   []string
	Timespan  time.Duration
	Condition map[string]int64 // gt, gte, lt, lte, eq, neq
	Field     string           // value_count's field
	Aliases   map[string]map[string]string
	Generate  bool
	count     int // the threshold the condition maps to (event_count, value_count)
}

// Options adjust compilation.
type Options struct {
	// Placeholders are the values of each %name% placeholder the expand
	// modifier replaces (data.sigma_placeholders in the configuration). An
	// undefined placeholder is an error.
	Placeholders map[string][]string
}

// Skip is a file or document that was not loaded because it is not meant for
// CloudTrail; it is not an error.
type Skip struct {
	File   string
	Line   int
	Title  string
	Reason string
}

// Problem is one thing wrong with a Sigma rule, located in its file.
type Problem struct {
	File    string
	Line    int
	Col     int
	Message string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}

// Error lists every problem found in one rule.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ErrNotCloudTrail says a rule's logsource is not product: aws + service:
// cloudtrail.
var ErrNotCloudTrail = errors.New("logsource is not product: aws, service: cloudtrail")

// ErrCorrelation is what Compile returns for a correlation rule: it is
// compiled together with the rules it refers to, by LoadPaths.
var ErrCorrelation = errors.New("a correlation rule is compiled with the rules it refers to: load the files together (LoadPaths, --sigma, rules.sigma)")

// severities maps Sigma's level to trailguard's severity.
var severities = map[string]string{
	"informational": "info",
	"low":           "low",
	"medium":        "medium",
	"high":          "high",
	"critical":      "critical",
}

// packageFor names a rule's package from its id: every character Rego does
// not allow in a package name becomes an underscore.
func packageFor(id string) string {
	var b strings.Builder
	b.WriteString("rules.sigma.r_")
	for _, r := range id {
		if r < 128 && (r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Compile compiles the Sigma rule in src (one YAML document) to a Rego module.
// A rule for another log source returns an error wrapping ErrNotCloudTrail,
// a correlation rule returns its parsed *Rule and an error wrapping
// ErrCorrelation, and anything else wrong comes back as an *Error listing
// every problem.
func Compile(filename string, src []byte, opts Options) (*Rule, error) {
	docs, err := parseFile(filename, src)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, &Error{Problems: []Problem{{File: filename, Message: fmt.Sprintf("%d YAML documents: Compile takes one rule (LoadPaths reads multi-document files)", len(docs))}}}
	}
	return compileDoc(docs[0], opts)
}

// compileDoc turns one parsed document into a rule, alone.
func compileDoc(d *document, opts Options) (*Rule, error) {
	r, probs := d.meta()
	if d.correlation != nil {
		c, cp := parseCorrelation(d)
		probs = append(probs, cp...)
		r.Correlation = c
		if len(probs) > 0 {
			return r, &Error{Problems: probs}
		}
		return r, fmt.Errorf("%s:%d: %w", d.file, d.line, ErrCorrelation)
	}
	return r, compileDetection(d, r, probs, opts, nil)
}

// compileDetection compiles a detection rule whose metadata r (and its
// problems, probs) d.meta has read; u is what correlations need of it.
func compileDetection(d *document, r *Rule, probs []Problem, opts Options, u *usage) error {
	if d.skip != "" {
		return fmt.Errorf("%s:%d: %w (%s)", d.file, d.line, ErrNotCloudTrail, d.skip)
	}
	det, dp := parseDetection(d, opts)
	probs = append(probs, dp...)
	if len(probs) > 0 {
		return &Error{Problems: probs}
	}
	mod, warnings, err := generate(r, det, u)
	if err != nil {
		return &Error{Problems: []Problem{{File: d.file, Line: d.line, Col: 1, Message: err.Error()}}}
	}
	r.Module, r.Warnings = mod, append(r.Warnings, warnings...)
	r.Guard = guardOf(det)
	return nil
}
