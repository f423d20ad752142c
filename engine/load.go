package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/trailguard/trailguard/sigma"
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
	// embeddedRoot is where the embedded packs are in the source tree; their
	// files are named from there, so that errors point somewhere real.
	embeddedRoot = "rules"
)

// policySet is what is read from disk and the embedded packs, before compiling.
type policySet struct {
	modules map[string]*ast.Module // by file name
	data    map[string]any
	notes   []string // for Engine.Notes
	// guards are the Sigma rules' raw-record pre-checks, by rule (pack, name).
	guards map[[2]string]*sigma.Guard
}

// newLoader is OPA's file loader set up as the engine parses policies: Rego v1,
// with METADATA processed, since each rule's id and severity live there.
func newLoader() loader.FileLoader {
	return loader.NewFileLoader().WithProcessAnnotation(true).WithRegoVersion(ast.RegoV1)
}

// skipFiles is the loader's filter. Test files never reach the serving engine:
// they would be evaluated with every event (and they are three times slower to
// carry). The embedded packs give only their .rego files, as rules.FS
// documents; policy paths give data documents too but skip hidden directories,
// as `opa eval -d` does.
func skipFiles(withTests, embedded bool) loader.Filter {
	return func(name string, info fs.FileInfo, depth int) bool {
		if info.IsDir() {
			return !embedded && depth > 0 && strings.HasPrefix(info.Name(), ".")
		}
		return (embedded && !strings.HasSuffix(name, ".rego")) ||
			(!withTests && strings.HasSuffix(name, testSuffix))
	}
}

// embeddedDirs lists the directories to load from the embedded file system: the
// shared library, always, and the named packs.
func embeddedDirs(fsys fs.FS, packs []string) ([]string, error) {
	known, err := packsIn(fsys)
	if err != nil {
		return nil, err
	}
	dirs := []string{path.Join(embeddedRoot, libDir)}
	for _, p := range packs {
		if !slices.Contains(known, p) {
			return nil, fmt.Errorf("unknown pack %q (built-in packs: %s)", p, strings.Join(known, ", "))
		}
		dirs = append(dirs, path.Join(embeddedRoot, p))
	}
	return dirs, nil
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

// mountFS shows fsys as the directory dir, so that the loader names the
// embedded files by their path in the source tree (rules/aws/root_usage.rego):
// the name is in every parse and compile error, in test reports and in
// Rule.File.
type mountFS struct {
	dir  string
	fsys fs.FS
}

func (m mountFS) Open(name string) (fs.File, error) {
	if name == m.dir {
		return m.fsys.Open(".")
	}
	if rest, ok := strings.CutPrefix(name, m.dir+"/"); ok {
		return m.fsys.Open(rest)
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// load reads the embedded packs, the policy paths (directories or files of .rego
// and data documents, as `opa eval -d` reads them) and the data files, with
// OPA's loader, which also merges the data documents and names the two files
// of a conflict. Every file's problems are reported together.
func load(o *options, withTests bool) (*policySet, error) {
	dirs, err := embeddedDirs(o.fsys, o.packs)
	if err != nil {
		return nil, err
	}
	for _, p := range o.paths {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("policy path: %w", err)
		}
	}
	for _, f := range o.dataFiles {
		if ext := strings.ToLower(filepath.Ext(f)); ext != ".json" && ext != ".yaml" && ext != ".yml" {
			return nil, fmt.Errorf("data file %s: want .json, .yaml or .yml", f)
		}
	}

	var problems []Problem
	set := &policySet{modules: map[string]*ast.Module{}, data: map[string]any{}}
	embedded, err := newLoader().WithFS(mountFS{embeddedRoot, o.fsys}).Filtered(dirs, skipFiles(withTests, true))
	if err != nil {
		problems = append(problems, asProblems(err)...)
	} else {
		maps.Copy(set.modules, embedded.ParsedModules())
	}
	if onDisk := slices.Concat(o.paths, o.dataFiles); len(onDisk) > 0 {
		res, err := newLoader().Filtered(onDisk, skipFiles(withTests, false))
		if err != nil {
			problems = append(problems, asProblems(err)...)
		} else {
			maps.Copy(set.modules, res.ParsedModules())
			set.data = res.Documents
		}
	}
	if len(problems) > 0 {
		return nil, &PolicyError{Problems: problems}
	}
	if o.data != nil {
		if set.data, err = withConfigData(set.data, o.data); err != nil {
			return nil, fmt.Errorf("rules data: %w", err)
		}
	}
	// Sigma rules come last: their expand modifier reads the data documents.
	set.notes, problems = loadSigma(o, set)
	if len(problems) > 0 {
		return nil, &PolicyError{Problems: problems}
	}
	return set, nil
}

// withConfigData merges the configuration's rules.data into the documents
// loaded from files. As between two files, a key both define is an error
// unless both values are objects, which OPA merges.
func withConfigData(docs, cfg map[string]any) (map[string]any, error) {
	// Round-trip through JSON so YAML-decoded values become OPA's types.
	var v any = cfg
	if err := util.RoundTrip(&v); err != nil {
		return nil, err
	}
	add, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	out := maps.Clone(docs)
	var twice []string
	for k, nv := range add {
		old, ok := out[k]
		if !ok {
			out[k] = nv
			continue
		}
		merged, ok := mergeObjects(old, nv)
		if !ok {
			twice = append(twice, "data."+k)
			continue
		}
		out[k] = merged
	}
	if len(twice) > 0 {
		slices.Sort(twice)
		return nil, fmt.Errorf("%s is defined twice", strings.Join(twice, ", "))
	}
	return out, nil
}

// mergeObjects merges two JSON objects with ast.Object.Merge.
func mergeObjects(a, b any) (any, bool) {
	av, err1 := ast.InterfaceToValue(a)
	bv, err2 := ast.InterfaceToValue(b)
	ao, ok1 := av.(ast.Object)
	bo, ok2 := bv.(ast.Object)
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return nil, false
	}
	merged, ok := ao.Merge(bo)
	if !ok {
		return nil, false
	}
	out, err := ast.JSON(merged)
	return out, err == nil
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
