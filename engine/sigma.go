package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/sigma"
)

// placeholdersDoc is the data document the Sigma `expand` modifier reads its
// placeholders from: data.sigma_placeholders.NAME is a list of values.
const placeholdersDoc = "sigma_placeholders"

// WithSigma adds Sigma rules: files or directories of .yml/.yaml rules, each
// compiled to a Rego module at load (the module `trailguard sigma convert`
// prints) and evaluated like any other rule. Rules for log sources other than
// CloudTrail are skipped, each named in Notes.
func WithSigma(paths ...string) Option {
	return func(o *options) { o.sigma = append(o.sigma, paths...) }
}

// loadSigma compiles the Sigma rules of o into set's modules. Every broken
// rule is a problem, with its file:line; skipped ones come back as notes.
func loadSigma(o *options, set *policySet) (notes []string, problems []Problem) {
	if len(o.sigma) == 0 {
		return nil, nil
	}
	placeholders, err := sigmaPlaceholders(set.data)
	if err != nil {
		return nil, []Problem{{Message: err.Error()}}
	}
	compiled, skipped, errs := sigma.LoadPaths(o.sigma, sigma.Options{Placeholders: placeholders})
	for _, err := range errs {
		var se *sigma.Error
		if !errors.As(err, &se) {
			problems = append(problems, Problem{Message: "sigma: " + err.Error()})
			continue
		}
		for _, p := range se.Problems {
			problems = append(problems, Problem{File: p.File, Row: p.Line, Col: p.Col, Message: p.Message})
		}
	}
	for _, s := range skipped {
		notes = append(notes, fmt.Sprintf("sigma: skipped %s:%d (%s): %s", s.File, s.Line, s.Title, s.Reason))
	}
	for _, r := range compiled {
		for _, w := range r.Warnings {
			// Such as an ATT&CK id newer than trailguard's table: the rule
			// loads, the author hears of it.
			notes = append(notes, fmt.Sprintf("sigma: %s:%d (%s): %s", r.File, r.Line, r.ID, w))
		}
		// A file may hold several rules; each module needs a name of its own.
		name := r.File
		if _, taken := set.modules[name]; taken {
			name = fmt.Sprintf("%s#%d", r.File, r.Line)
		}
		m, err := ast.ParseModuleWithOpts(name, r.Module, ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			// The generated module does not parse: a bug of the compiler's, but
			// say which rule it is and keep the others.
			problems = append(problems, Problem{File: r.File, Row: r.Line, Col: 1,
				Message: fmt.Sprintf("sigma rule %s: generated Rego does not parse: %v", r.ID, err)})
			continue
		}
		set.modules[name] = m
		if r.Guard != nil {
			if set.guards == nil {
				set.guards = map[[2]string]*sigma.Guard{}
			}
			pkg := strings.Split(r.Package, ".") // rules.sigma.r_<id>
			set.guards[[2]string{pkg[1], pkg[2]}] = r.Guard
		}
	}
	notes = append(notes, fmt.Sprintf("sigma: %d rules loaded, %d skipped, %d refused", len(compiled), len(skipped), len(errs)))
	return notes, problems
}

// sigmaPlaceholders reads data.sigma_placeholders: an object of lists of
// strings, as `expand` needs them.
func sigmaPlaceholders(data map[string]any) (map[string][]string, error) {
	raw, ok := data[placeholdersDoc]
	if !ok || raw == nil {
		return nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("data.%s: expected an object of lists of strings", placeholdersDoc)
	}
	out := make(map[string][]string, len(obj))
	for name, v := range obj {
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("data.%s.%s: expected a list of strings", placeholdersDoc, name)
		}
		for i, x := range list {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("data.%s.%s[%d]: expected a string, got %v", placeholdersDoc, name, i, x)
			}
			out[name] = append(out[name], s)
		}
	}
	return out, nil
}
