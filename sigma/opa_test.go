package sigma

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/trailguard/trailguard/internal/irvm"
	"github.com/trailguard/trailguard/rules"
)

var (
	libOnce sync.Once
	libMods map[string]*ast.Module
)

// library modules: rules/lib, as the engine loads them.
func libModules(t testing.TB) map[string]*ast.Module {
	libOnce.Do(func() {
		libMods = map[string]*ast.Module{}
		_ = fs.WalkDir(rules.FS, "lib", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
				return err
			}
			src, err := fs.ReadFile(rules.FS, p)
			if err != nil {
				return err
			}
			m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
			if err != nil {
				return err
			}
			libMods[p] = m
			return nil
		})
	})
	if len(libMods) == 0 {
		t.Fatal("rules/lib not found")
	}
	return libMods
}

// compiled is a rule compiled by OPA the way the engine compiles it: strict,
// with rules/lib, builtin errors strict.
type compiled struct {
	rule   *Rule
	query  rego.PreparedEvalQuery
	plan   *irvm.Program     // the same query from OPA's plan, as the engine runs it
	titles map[string]string // by the package's last name
}

func compileOPA(t testing.TB, rs ...*Rule) *compiled {
	t.Helper()
	mods := map[string]*ast.Module{}
	for k, v := range libModules(t) {
		mods[k] = v
	}
	for _, r := range rs {
		m, err := ast.ParseModuleWithOpts(r.File+".rego", r.Module, ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("generated module does not parse: %v\n%s", err, r.Module)
		}
		mods[r.File+".rego"] = m
	}
	c := ast.NewCompiler().WithStrict(true)
	c.Compile(mods)
	if c.Failed() {
		t.Fatalf("generated module does not compile in strict mode: %v\n%s", c.Errors, rs[0].Module)
	}
	checkMetadata(t, c, rs)
	pq, err := rego.New(rego.Query(sigmaQuery), rego.Compiler(c), rego.StrictBuiltinErrors(true)).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := irvm.Plan(context.Background(), c, inmem.New(), sigmaQuery)
	if err != nil {
		t.Fatalf("no plan: %v\n%s", err, rs[0].Module)
	}
	titles := map[string]string{}
	for _, r := range rs {
		titles[r.Package[strings.LastIndex(r.Package, ".")+1:]] = r.Title
	}
	return &compiled{rule: rs[0], query: pq, plan: plan, titles: titles}
}

// checkMetadata reads the METADATA as engine.readMetadata does.
func checkMetadata(t testing.TB, c *ast.Compiler, rs []*Rule) {
	t.Helper()
	as := c.GetAnnotationSet()
	for _, r := range rs {
		found := false
		for _, m := range c.Modules {
			if strings.TrimPrefix(m.Package.Path.String(), "data.") != r.Package {
				continue
			}
			a := as.GetPackageScope(m.Package)
			if a == nil {
				t.Fatalf("%s: no package METADATA", r.Package)
			}
			if a.Custom["id"] != r.RuleID || a.Custom["severity"] != r.Severity || a.Title != r.Title {
				t.Fatalf("%s: METADATA id=%v severity=%v title=%q, want %s %s %q", r.Package, a.Custom["id"], a.Custom["severity"], a.Title, r.RuleID, r.Severity, r.Title)
			}
			found = true
		}
		if !found {
			t.Fatalf("package %s not compiled", r.Package)
		}
	}
}

// fires evaluates a JSON record and returns one "title: object" per alert.
func (c *compiled) fires(t testing.TB, record string) []string {
	t.Helper()
	var in any
	if err := json.Unmarshal([]byte(record), &in); err != nil {
		t.Fatalf("bad record %s: %v", record, err)
	}
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.query.Eval(context.Background(), rego.EvalParsedInput(v))
	if err != nil {
		t.Fatalf("evaluation failed on %s: %v", record, err)
	}
	// The message is the engine's to render (custom.message); here each
	// alert is its rule's title and the alert object.
	var msgs []string
	for _, r := range rs {
		name, _ := r.Bindings["name"].(string)
		msgs = append(msgs, fmt.Sprintf("%s: %v", c.titles[name], r.Bindings["a"]))
	}
	// The engine runs the rule from its plan: it must agree.
	prs, err := c.plan.Eval(context.Background(), ast.NewTerm(v), ast.NewTerm(ast.NewObject()), irvm.Options{})
	if err != nil {
		t.Fatalf("plan evaluation failed on %s: %v", record, err)
	}
	var planned []string
	for _, r := range prs {
		b, err := ast.JSON(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		m := b.(map[string]any)
		name, _ := m["name"].(string)
		planned = append(planned, fmt.Sprintf("%s: %v", c.titles[name], m["a"]))
	}
	if !slices.Equal(slices.Sorted(slices.Values(msgs)), slices.Sorted(slices.Values(planned))) {
		t.Fatalf("on %s OPA's evaluator gives %q, the plan %q\n%s", record, msgs, planned, c.rule.Module)
	}
	return msgs
}

// sigmaQuery is the engine's query, over the Sigma rules only.
const sigmaQuery = "data.rules.sigma[name].alert[a]"
