package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/util"
)

// Problem is one thing wrong with a policy set, located in its file.
type Problem struct {
	File    string
	Row     int
	Col     int
	Message string
}

func (p Problem) String() string {
	if p.File == "" {
		return p.Message
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Row, p.Col, p.Message)
}

// PolicyError lists every problem found while loading or compiling policies, so
// that an author sees them all at once.
type PolicyError struct{ Problems []Problem }

func (e *PolicyError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// policyErrorFrom turns OPA's parse and compile errors into a PolicyError,
// keeping each error's location.
func policyErrorFrom(err error) error {
	var astErrs ast.Errors
	if errors.As(err, &astErrs) {
		pe := &PolicyError{}
		for _, e := range astErrs {
			p := Problem{Message: e.Message}
			if e.Location != nil {
				p.File, p.Row, p.Col = e.Location.File, e.Location.Row, e.Location.Col
			}
			pe.Problems = append(pe.Problems, p)
		}
		return pe
	}
	var astErr *ast.Error
	if errors.As(err, &astErr) {
		return policyErrorFrom(ast.Errors{astErr})
	}
	return err
}

const (
	libDir     = "lib"
	testSuffix = "_test.rego"
)

// policySet is what is read from disk and the embedded packs, before compiling.
type policySet struct {
	modules map[string]*ast.Module // by file name
	data    map[string]any
}

func parserOptions() ast.ParserOptions {
	return ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}
}

// embeddedFiles lists the .rego files of the shared library and the named packs in
// the embedded file system.
func embeddedFiles(fsys fs.FS, packs []string, withTests bool) ([]string, error) {
	known, err := packsIn(fsys)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, dir := range append([]string{libDir}, packs...) {
		if dir != libDir && !slices.Contains(known, dir) {
			return nil, fmt.Errorf("unknown pack %q (built-in packs: %s)", dir, strings.Join(known, ", "))
		}
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(p, ".rego") || (!withTests && strings.HasSuffix(p, testSuffix)) {
				return nil
			}
			files = append(files, p)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// packsIn lists the packs of a file system: its top-level directories but lib.
func packsIn(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var packs []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != libDir {
			packs = append(packs, e.Name())
		}
	}
	return packs, nil
}

// load reads the embedded packs, the policy paths (directories or files of .rego
// and data documents, as `opa eval -d` reads them) and the data files.
func load(o *options, withTests bool) (*policySet, error) {
	set := &policySet{modules: map[string]*ast.Module{}, data: map[string]any{}}
	var problems []Problem

	files, err := embeddedFiles(o.fsys, o.packs, withTests)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		src, err := fs.ReadFile(o.fsys, f)
		if err != nil {
			return nil, err
		}
		name := "rules/" + f // as in the source tree, so errors point somewhere real
		m, err := ast.ParseModuleWithOpts(name, string(src), parserOptions())
		if err != nil {
			problems = append(problems, asProblems(err)...)
			continue
		}
		set.modules[name] = m
	}

	for _, p := range o.paths {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("policy path: %w", err)
		}
	}
	if len(o.paths) > 0 {
		res, err := loader.NewFileLoader().
			WithProcessAnnotation(true).
			WithRegoVersion(ast.RegoV1).
			Filtered(o.paths, func(abspath string, info fs.FileInfo, depth int) bool {
				// Test files never reach the serving engine: they would be evaluated
				// with every event (and they are three times slower to carry).
				if info.IsDir() {
					return strings.HasPrefix(info.Name(), ".") && depth > 0
				}
				return !withTests && strings.HasSuffix(abspath, testSuffix)
			})
		if err != nil {
			problems = append(problems, asProblems(err)...)
		} else {
			for name, f := range res.Modules {
				set.modules[name] = f.Parsed
			}
			if err := mergeData(set.data, res.Documents); err != nil {
				return nil, err
			}
		}
	}

	for _, f := range o.dataFiles {
		if ext := strings.ToLower(filepath.Ext(f)); ext != ".json" && ext != ".yaml" && ext != ".yml" {
			return nil, fmt.Errorf("data file %s: want .json, .yaml or .yml", f)
		}
		res, err := loader.NewFileLoader().All([]string{f})
		if err != nil {
			problems = append(problems, asProblems(err)...)
			continue
		}
		if err := mergeData(set.data, res.Documents); err != nil {
			return nil, fmt.Errorf("data file %s: %w", f, err)
		}
	}
	if o.data != nil {
		// Round-trip through JSON so YAML-decoded values become OPA's types.
		var v any = o.data
		if err := util.RoundTrip(&v); err != nil {
			return nil, fmt.Errorf("rules data: %w", err)
		}
		doc, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("rules data: not an object")
		}
		if err := mergeData(set.data, doc); err != nil {
			return nil, fmt.Errorf("rules data: %w", err)
		}
	}
	if len(problems) > 0 {
		return nil, &PolicyError{Problems: problems}
	}
	return set, nil
}

func asProblems(err error) []Problem {
	// The loader reports every file's errors together.
	var le loader.Errors
	if errors.As(err, &le) {
		var out []Problem
		for _, e := range le {
			out = append(out, asProblems(e)...)
		}
		return out
	}
	var pe *PolicyError
	if errors.As(policyErrorFrom(err), &pe) {
		return pe.Problems
	}
	return []Problem{{Message: err.Error()}}
}

// mergeData merges src into dst at the root; a key defined twice with different
// non-object values is an error, as with `opa eval -d`.
func mergeData(dst, src map[string]any) error {
	return mergeAt(dst, src, nil)
}

func mergeAt(dst, src map[string]any, at []string) error {
	for k, v := range src {
		here := append(slices.Clone(at), k)
		old, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		om, ok1 := old.(map[string]any)
		nm, ok2 := v.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("data.%s is defined twice", path.Join(here...))
		}
		if err := mergeAt(om, nm, here); err != nil {
			return err
		}
	}
	return nil
}
