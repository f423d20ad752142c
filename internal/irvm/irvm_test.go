package irvm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// diffCase is one differential case: modules, a query, data, and inputs,
// each evaluated by the plan (irvm) and by OPA's evaluator (topdown).
type diffCase struct {
	name    string
	modules []string // each "package x ..." in Rego v1
	query   string
	data    string   // JSON object; "" is {}
	inputs  []string // JSON; "" means no input at all
	print   bool     // compile with print statements kept
	refuse  bool     // Plan must refuse the query
	// builtinErrorsFirst accepts a built-in's error from the plan where OPA's
	// evaluator has an answer. The plan evaluates a scan under a `not` (an
	// `every`) to its end, as OPA's Wasm target does, where OPA's evaluator
	// stops at the element that decides; a built-in can fail on a later
	// element. The engine then evaluates the record with OPA's evaluator.
	builtinErrorsFirst bool
}

// outcome is one evaluation: its results, canonical, or its error.
type outcome struct {
	results []string // one JSON object of the bindings per result, sorted
	err     error
}

func (o outcome) String() string {
	if o.err != nil {
		return "error: " + o.err.Error()
	}
	return "[" + strings.Join(o.results, ", ") + "]"
}

// canonValue writes v so that equal Rego values are written the same: numbers
// normalised (1 and 1.0 are one number, in object keys too), sets and objects
// in one order. Results are compared as values rather than as JSON, where
// {1: x} and {1.0: x}, one object, are {"1": x} and {"1.0": x}.
func canonValue(v ast.Value) string {
	switch v := v.(type) {
	case ast.Number:
		if f, ok := v.Float64(); ok {
			return fmt.Sprintf("%v", f)
		}
		return v.String()
	case *ast.Array:
		parts := make([]string, 0, v.Len())
		for i := range v.Len() {
			parts = append(parts, canonValue(v.Elem(i).Value))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case ast.Object:
		parts := make([]string, 0, v.Len())
		for _, k := range v.Keys() {
			parts = append(parts, canonValue(k.Value)+":"+canonValue(v.Get(k).Value))
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ",") + "}"
	case ast.Set:
		parts := make([]string, 0, v.Len())
		for _, e := range v.Slice() {
			parts = append(parts, canonValue(e.Value))
		}
		slices.Sort(parts)
		return "set(" + strings.Join(parts, ",") + ")"
	}
	return v.String()
}

type compiled struct {
	compiler *ast.Compiler
	data     map[string]any
}

func compileCase(tc diffCase) (*compiled, error) {
	mods := map[string]*ast.Module{}
	for i, src := range tc.modules {
		file := fmt.Sprintf("m%d.rego", i)
		m, err := ast.ParseModuleWithOpts(file, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, err
		}
		mods[file] = m
	}
	c := ast.NewCompiler().WithEnablePrintStatements(tc.print)
	if c.Compile(mods); c.Failed() {
		return nil, c.Errors
	}
	data := map[string]any{}
	if tc.data != "" {
		d := json.NewDecoder(strings.NewReader(tc.data))
		d.UseNumber() // 1.0 stays 1.0
		if err := d.Decode(&data); err != nil {
			return nil, err
		}
	}
	return &compiled{compiler: c, data: data}, nil
}

// topdownEval is the oracle: OPA's evaluator with strict built-in errors.
func (cc *compiled) topdownEval(ctx context.Context, query string, input ast.Value) outcome {
	pq, err := rego.New(
		rego.Query(query),
		rego.Compiler(cc.compiler),
		rego.Store(inmem.NewFromObject(cc.data)),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return outcome{err: fmt.Errorf("prepare: %w", err)}
	}
	// Without rule indexing nor early exit: they are shortcuts that skip
	// bodies, and with them the errors of the built-ins in those bodies.
	// This OPA's index skips a rule whose `startswith(input.v, "a")`
	// cannot hold for a non-string input.v, and early exit stops at the
	// first body of `b if {...}` that holds. The plan evaluates every body,
	// as OPA's Wasm target does, and so raises those errors; the engine then
	// evaluates the record with OPA's evaluator, which is only slower.
	opts := []rego.EvalOption{
		rego.EvalRuleIndexing(false), rego.EvalEarlyExit(false),
		// The bindings as Rego values, not JSON.
		rego.EvalGenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }),
	}
	if input != nil {
		opts = append(opts, rego.EvalParsedInput(input))
	}
	rs, err := pq.Eval(ctx, opts...)
	if err != nil {
		return outcome{err: err}
	}
	var o outcome
	for _, r := range rs {
		obj := ast.NewObject()
		for k, v := range r.Bindings {
			obj.Insert(ast.StringTerm(k), v.(*ast.Term))
		}
		o.results = append(o.results, canonValue(obj))
	}
	slices.Sort(o.results)
	return o
}

// irvmEval evaluates a planned program the way the engine does.
func irvmEval(ctx context.Context, prog *Program, input ast.Value, data ast.Value) outcome {
	var in *ast.Term
	if input != nil {
		in = ast.NewTerm(input)
	}
	rs, err := prog.Eval(ctx, in, ast.NewTerm(data), Options{})
	if err != nil {
		return outcome{err: err}
	}
	if err := varsAgree(ctx, prog, in, ast.NewTerm(data), rs); err != nil {
		return outcome{err: err}
	}
	var o outcome
	for _, r := range rs {
		obj, ok := r.Value.(ast.Object)
		if !ok {
			return outcome{err: fmt.Errorf("result %v is not an object", r)}
		}
		o.results = append(o.results, canonValue(bindings(obj)))
	}
	slices.Sort(o.results)
	return o
}

// varsAgree is nil when EvalVar gives, for each of the query's variables,
// the values Eval's results rs hold under its name, in the same order.
func varsAgree(ctx context.Context, prog *Program, in, data *ast.Term, rs []*ast.Term) error {
	if len(rs) == 0 {
		return nil
	}
	first, ok := rs[0].Value.(ast.Object)
	if !ok {
		return fmt.Errorf("result %v is not an object", rs[0])
	}
	for _, k := range first.Keys() {
		name, ok := k.Value.(ast.String)
		if !ok {
			return fmt.Errorf("result %v has a key that is not a name", rs[0])
		}
		var vs []*ast.Term
		err := prog.EvalVar(ctx, in, data, string(name), Options{}, func(v *ast.Term) error {
			vs = append(vs, v)
			return nil
		})
		if err != nil {
			return fmt.Errorf("EvalVar(%s): %w, where Eval gave %v", name, err, rs)
		}
		if len(vs) != len(rs) {
			return fmt.Errorf("EvalVar(%s) gave %d values, Eval %d results", name, len(vs), len(rs))
		}
		for i, r := range rs {
			want := r.Get(k)
			if want == nil || ast.Compare(want.Value, vs[i].Value) != 0 {
				return fmt.Errorf("EvalVar(%s)[%d] = %v, Eval's result is %v", name, i, vs[i], r)
			}
		}
	}
	return nil
}

// bindings drops from a result the variables rego.Rego leaves out of a
// Result's Bindings: the planner's term variables ("^term1") and generated or
// wildcard variables.
func bindings(obj ast.Object) ast.Object {
	out := ast.NewObject()
	obj.Foreach(func(k, v *ast.Term) {
		if s, ok := k.Value.(ast.String); ok {
			name := ast.Var(s)
			if strings.HasPrefix(string(s), "^term") || name.IsGenerated() || name.IsWildcard() {
				return
			}
		}
		out.Insert(k, v)
	})
	return out
}

// parseInput reads an input written in JSON (or Rego: 1.0 stays 1.0).
func parseInput(s string) (ast.Value, error) {
	if s == "" {
		return nil, nil
	}
	t, err := ast.ParseTerm(s)
	if err != nil {
		return nil, err
	}
	return t.Value, nil
}

// compare evaluates tc on every input by both evaluators; it returns a
// description of the first disagreement, or "" when they agree.
func compare(ctx context.Context, tc diffCase) (string, error) {
	cc, err := compileCase(tc)
	if err != nil {
		return "", fmt.Errorf("compile: %w", err)
	}
	prog, perr := Plan(ctx, cc.compiler, inmem.NewFromObject(cc.data), tc.query)
	if tc.refuse {
		if perr == nil {
			return "Plan accepted a query it must refuse", nil
		}
		return "", nil
	}
	if perr != nil {
		return "", fmt.Errorf("plan: %w", perr)
	}
	data, err := ast.InterfaceToValue(cc.data)
	if err != nil {
		return "", err
	}
	inputs := tc.inputs
	if len(inputs) == 0 {
		inputs = []string{""}
	}
	for _, in := range inputs {
		input, err := parseInput(in)
		if err != nil {
			return "", fmt.Errorf("input %s: %w", in, err)
		}
		want := cc.topdownEval(ctx, tc.query, input)
		got := irvmEval(ctx, prog, input, data)
		var te *topdown.Error
		if tc.builtinErrorsFirst && want.err == nil && errors.As(got.err, &te) && (te.Code == topdown.TypeErr || te.Code == topdown.BuiltinErr) {
			continue
		}
		if (want.err != nil) != (got.err != nil) || !slices.Equal(want.results, got.results) {
			return fmt.Sprintf("input %s:\n  topdown: %v\n  irvm:    %v", in, want, got), nil
		}
		// The engine gives every evaluation the same data, and the input
		// is the caller's: the plan must change neither.
		fresh, _ := parseInput(in)
		if input != nil && input.Compare(fresh) != 0 {
			return fmt.Sprintf("input %s: the evaluation changed it to %v", in, input), nil
		}
		freshData, _ := ast.InterfaceToValue(cc.data)
		if data.Compare(freshData) != 0 {
			return fmt.Sprintf("input %s: the evaluation changed data to %v", in, data), nil
		}
	}
	return "", nil
}

// each is a query binding each named rule of package x to the array of its
// values, so that one undefined rule does not hide the others.
func each(rules ...string) string {
	parts := make([]string, 0, len(rules))
	for _, r := range rules {
		parts = append(parts, fmt.Sprintf("%s := [v | v := data.x.%s]", r, r))
	}
	return strings.Join(parts, "; ")
}

// mod is a module in package x.
func mod(body string) []string { return []string{"package x\n\n" + body} }

// deepCase is a chain of functions, each with many locals, and a rule with
// more locals than an evaluation's first stack holds.
func deepCase() diffCase {
	var b strings.Builder
	b.WriteString("package x\n\nf0(x) := x\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "f%d(x) := y if {\n", i)
		for j := range 10 {
			fmt.Fprintf(&b, "\ta%d := x + %d\n", j, j)
		}
		fmt.Fprintf(&b, "\ty := f%d(a9 - 8)\n}\n", i-1)
	}
	b.WriteString("big := [")
	for j := range 300 {
		fmt.Fprintf(&b, "input.n + %d, ", j)
	}
	b.WriteString("f40(input.n)]\n")
	return diffCase{
		name:    "stack/deep calls and many locals",
		modules: []string{b.String()},
		query:   "r := data.x.f40(input.n); b := data.x.big",
		inputs:  []string{`{"n":1}`, `{"n":"s"}`, `{}`},
	}
}

var diffCases = []diffCase{
	deepCase(),
	{
		// 1 and [1] share ast.Object's hash bucket: inserting 1 again must
		// not lose [1] (OPA v1.22.3's Insert does).
		name:    "objects/keys inserted again that share a hash bucket",
		modules: mod(`o[k] := 1 if { some _ in input.xs; some k in [1, [1]] }`),
		query:   "r := data.x.o",
		inputs:  []string{`{"xs":[1,2,3]}`},
	},
	{
		name:    "partial set/one element as the result",
		modules: mod(`s contains x if { some x in input.a }`),
		query:   "r := data.x.s",
		inputs:  []string{`{"a":[3]}`, `{"a":[{"k":1}]}`, `{"a":[3,4]}`, `{"a":[]}`},
	},
	{
		name:    "partial set/one element scanned",
		modules: mod(`s contains x if { some x in input.a }`),
		query:   "data.x.s[v]; is_set(data.x.s)",
		inputs:  []string{`{"a":[3]}`, `{"a":[3,4]}`},
	},
	// Complete rules, else chains, defaults.
	{
		name:    "complete/else chain",
		modules: mod(`p := "a" if { input.n == 1 } else := "b" if { input.n == 2 } else := "c"`),
		query:   "r := data.x.p",
		inputs:  []string{`{"n":1}`, `{"n":2}`, `{"n":3}`, `{}`, ``},
	},
	{
		name: "complete/default and several bodies",
		modules: mod(`default allow := false
allow if input.user == "admin"
allow if { some r in input.roles; r == "root" }`),
		query:  "r := data.x.allow",
		inputs: []string{`{"user":"admin"}`, `{"roles":["a","root"]}`, `{"roles":[]}`, `{}`, ``},
	},
	{
		name: "complete/default with else chain",
		modules: mod(`default p := "d"
p := "a" if input.a else := "b" if input.b`),
		query:  "r := data.x.p",
		inputs: []string{`{"a":true}`, `{"a":false,"b":true}`, `{"b":false}`, `{}`},
	},
	{
		name: "complete/same value twice is no conflict",
		modules: mod(`p := 1 if input.a
p := 1 if input.b`),
		query:  "r := data.x.p",
		inputs: []string{`{"a":true,"b":true}`, `{"b":true}`, `{}`},
	},
	{
		name: "complete/conflict",
		modules: mod(`p := 1 if input.a
p := 2 if input.b`),
		query:  "r := data.x.p",
		inputs: []string{`{"a":true,"b":true}`, `{"a":true}`, `{"b":true}`, `{}`},
	},
	{
		name: "complete/composite values",
		modules: mod(`p := {"k": [1, {"z": input.z}], "s": {1, 2}} if input.z
q := data.x.p.k[1].z`),
		query:  "r := data.x.q; s := data.x.p",
		inputs: []string{`{"z":"v"}`, `{}`},
	},
	// Functions.
	{
		name: "function/several definitions",
		modules: mod(`f(x) := "neg" if x < 0
f(x) := "zero" if x == 0
f(x) := "pos" if x > 0`),
		query:  "r := data.x.f(input.n)",
		inputs: []string{`{"n":-1}`, `{"n":0}`, `{"n":3}`, `{"n":"s"}`, `{"n":0.0}`, `{}`},
	},
	{
		name:    "function/else",
		modules: mod(`g(x) := "big" if { x > 10 } else := "small" if { x > 0 } else := "none"`),
		query:   "r := data.x.g(input.n)",
		inputs:  []string{`{"n":11}`, `{"n":1}`, `{"n":-4}`, `{}`},
	},
	{
		name: "function/conflict",
		modules: mod(`f(x) := 1 if x > 0
f(x) := 2 if x > 5`),
		query:  "r := data.x.f(input.n)",
		inputs: []string{`{"n":7}`, `{"n":1}`, `{"n":-1}`},
	},
	{
		name: "function/default",
		modules: mod(`default f(_) := "dflt"
f(x) := "one" if x == 1`),
		query:  "r := data.x.f(input.n)",
		inputs: []string{`{"n":1}`, `{"n":2}`, `{}`},
	},
	{
		name: "function/composite argument patterns",
		modules: mod(`h([a, b]) := a + b
k({"key": v}) := v
both(x) := [h(x), k({"key": x})]`),
		query:  "r := data.x.both(input.v)",
		inputs: []string{`{"v":[1,2]}`, `{"v":[1]}`, `{"v":"s"}`},
	},
	{
		name: "function/calls functions and reads data",
		modules: mod(`role(u) := data.users[u].role
admin(u) if role(u) == "admin"
names contains u if { some u, _ in data.users; admin(u) }`),
		data:   `{"users":{"alice":{"role":"admin"},"bob":{"role":"dev"},"eve":{}}}`,
		query:  "r := data.x.names; a := data.x.admin(input.u)",
		inputs: []string{`{"u":"alice"}`, `{"u":"bob"}`, `{"u":"eve"}`, `{"u":"nobody"}`},
	},
	{
		name: "function/boolean function false vs undefined",
		modules: mod(`f(x) := x == 1
g(x) if x == 1`),
		query:  "a := data.x.f(input.n); b := true; not data.x.g(input.n)",
		inputs: []string{`{"n":1}`, `{"n":2}`},
	},
	// Partial rules.
	{
		name:    "partial set/filter",
		modules: mod(`s contains x if { some x in input.xs; x > 1 }`),
		query:   "r := data.x.s",
		inputs:  []string{`{"xs":[1,2,3,3]}`, `{"xs":[]}`, `{}`},
	},
	{
		name:    "partial set/iterated by the query",
		modules: mod(`s contains x if { some x in input.xs; x > 1 }`),
		query:   "data.x.s[v]",
		inputs:  []string{`{"xs":[1,2,3,3]}`, `{}`},
	},
	{
		name:    "partial set/membership by key",
		modules: mod(`s contains x if { some x in input.xs }`),
		query:   "r := data.x.s[input.v]",
		inputs:  []string{`{"xs":[1,2],"v":2}`, `{"xs":[1,2],"v":3}`, `{"xs":[1,2],"v":2.0}`},
	},
	{
		name:    "partial set/of objects",
		modules: mod(`s contains {"k": x, "n": count(x)} if { some x in input.xs }`),
		query:   "r := data.x.s; n := count(data.x.s)",
		inputs:  []string{`{"xs":["a","bb","a"]}`, `{"xs":[]}`},
	},
	{
		name:    "partial object/filter",
		modules: mod(`o[k] := v if { some k, v in input.m; v > 0 }`),
		query:   "r := data.x.o",
		inputs:  []string{`{"m":{"a":1,"b":0,"c":2}}`, `{"m":{}}`, `{}`},
	},
	{
		name: "partial object/key conflict",
		modules: mod(`o[k] := 1 if { some k in input.a }
o[k] := 2 if { some k in input.b }`),
		query:  "r := data.x.o",
		inputs: []string{`{"a":["x"],"b":["y"]}`, `{"a":["x"],"b":["x"]}`},
	},
	{
		name: "partial object/same key same value",
		modules: mod(`o[k] := 1 if { some k in input.a }
o[k] := 1 if { some k in input.b }`),
		query:  "r := data.x.o",
		inputs: []string{`{"a":["x"],"b":["x","y"]}`},
	},
	{
		name: "ref head/multi-level",
		modules: mod(`a.b[x] := y if { some x, y in input.m }
a.c := 1`),
		query:  "r := data.x.a",
		inputs: []string{`{"m":{"k":"v","j":"w"}}`, `{}`},
	},
	{
		name: "ref head/lookup with an input key",
		modules: mod(`a.b[x] := y if { some x, y in input.m }
a.c := 1`),
		query:  "r := data.x.a.b[input.k]",
		inputs: []string{`{"m":{"k":"v"},"k":"k"}`, `{"m":{"k":"v"},"k":"z"}`},
	},
	{
		name:    "ref head/two variables",
		modules: mod(`q[x][y] := z if { some x, inner in input.m; some y, z in inner }`),
		query:   "r := data.x.q; s := data.x.q.a",
		inputs:  []string{`{"m":{"a":{"p":1,"q":2},"b":{"p":3}}}`, `{"m":{"b":{"p":3}}}`},
	},
	{
		name: "ref head/conflicting leaves",
		modules: mod(`q[x].v := 1 if { some x in input.a }
q[x].v := 2 if { some x in input.b }`),
		query:  "r := data.x.q",
		inputs: []string{`{"a":["k"],"b":["j"]}`, `{"a":["k"],"b":["k"]}`},
	},
	// Comprehensions.
	{
		name: "comprehension/array set object",
		modules: mod(`arr := [y | some x in input.xs; y := x * 2]
st := {x | some x in input.xs; x > 1}
ob := {k: v | some k, v in input.m}`),
		query:  "a := data.x.arr; s := data.x.st; o := data.x.ob",
		inputs: []string{`{"xs":[1,2,2,3],"m":{"a":[1]}}`, `{"xs":[],"m":{}}`},
	},
	{
		name:    "comprehension/object key conflict",
		modules: mod(`ob := {"k": v | some v in input.xs}`),
		query:   "r := data.x.ob",
		inputs:  []string{`{"xs":[1]}`, `{"xs":[1,1]}`, `{"xs":[1,2]}`},
	},
	{
		name: "comprehension/nested with closure",
		modules: mod(`groups := {g: names |
	some p in input.people
	g := p.group
	names := [q.name | some q in input.people; q.group == g]
}`),
		query:  "r := data.x.groups",
		inputs: []string{`{"people":[{"name":"a","group":1},{"name":"b","group":2},{"name":"c","group":1}]}`},
	},
	// every.
	{
		name: "every/array and object",
		modules: mod(`all_pos if { every x in input.xs { x > 0 } }
keys_ok if { every k, v in input.m { startswith(k, "a"); v != null } }`),
		query:  "a := data.x.all_pos; b := data.x.keys_ok",
		inputs: []string{`{"xs":[1,2],"m":{"ab":1}}`, `{"xs":[],"m":{}}`, `{"xs":[1,-1],"m":{"ab":null}}`, `{"xs":[1],"m":{"b":1}}`},
	},
	{
		name:    "every/undefined domain",
		modules: mod(`p if { every x in input.xs { x > 0 } }`),
		query:   "r := data.x.p",
		inputs:  []string{`{}`, `{"xs":"str"}`, `{"xs":{"a":1}}`, `{"xs":{"a":-1}}`},
	},
	{
		// OPA's evaluator stops at 1 (1 + 1 != 1): every is false. The plan
		// goes on to "a", where plus fails: accepted (see builtinErrorsFirst).
		name:               "every/a built-in failing after the element that decides",
		modules:            mod(`p if { every x in input.xs { x + 1 == 1 } }`),
		query:              "r := [v | v := data.x.p]",
		inputs:             []string{`{"xs":[1,"a"]}`, `{"xs":[0,0.0]}`, `{"xs":["a"]}`},
		builtinErrorsFirst: true,
	},
	// not.
	{
		name: "not/calls and refs",
		modules: mod(`f(x) if x > 1
a if not startswith(input.s, "x")
b if not f(input.n)
c if not input.missing
d if not input.flag
e if not data.x.a`),
		query:  each("a", "b", "c", "d", "e"),
		inputs: []string{`{"s":"xy","n":2,"flag":true}`, `{"s":"ay","n":0,"flag":false}`},
	},
	{
		name:    "not/in query",
		modules: mod(`p if input.a`),
		query:   "not data.x.p; r := 1",
		inputs:  []string{`{"a":true}`, `{"a":false}`, `{}`},
	},
	{
		name: "not/around an iteration",
		modules: mod(`any_neg if { some x in input.xs; x < 0 }
ok if not any_neg`),
		query:  "r := data.x.ok",
		inputs: []string{`{"xs":[1,2]}`, `{"xs":[1,-2]}`, `{}`},
	},
	// some ... in.
	{
		name: "some in/array object set",
		modules: mod(`arr contains [i, x] if some i, x in input.arr
obj contains [k, v] if some k, v in input.obj
vals contains v if some v in input.obj
st contains [a, b] if { s := {1, 2, "x"}; some a, b in s }
pairs contains a + b if some [a, b] in input.pairs`),
		query:  "r := [data.x.arr, data.x.obj, data.x.vals, data.x.st, data.x.pairs]",
		inputs: []string{`{"arr":["a","b"],"obj":{"k":1,"j":2},"pairs":[[1,2],[3,4],[5]]}`, `{}`},
	},
	{
		name:    "some in/query variables",
		modules: mod(`xs := [3, 1, 2]`),
		query:   "some i, x in data.x.xs; x > 1",
		inputs:  []string{``},
	},
	{
		name:    "some/implicit iteration",
		modules: mod(`p contains i if input.xs[i] == 3`),
		query:   "r := data.x.p; input.xs[_] > 2",
		inputs:  []string{`{"xs":[3,1,3]}`, `{"xs":[1]}`},
	},
	// Data and virtual documents.
	{
		name:    "data/nested lookups",
		modules: mod(`role := data.users[input.user].role`),
		data:    `{"users":{"alice":{"role":"admin"},"bob":{}}}`,
		query:   "r := data.x.role",
		inputs:  []string{`{"user":"alice"}`, `{"user":"bob"}`, `{"user":"carol"}`, `{}`},
	},
	{
		name: "data/virtual doc with variable key",
		modules: mod(`sub[k] := {"y": v} if some k, v in input.m
first := data.x.sub[input.k].y`),
		query:  "r := data.x.first; some k; s := data.x.sub[k].y",
		inputs: []string{`{"m":{"a":1,"b":2},"k":"a"}`, `{"m":{"a":1},"k":"c"}`},
	},
	{
		name: "data/package iterated by a variable key",
		modules: mod(`p := 1
q := input.v
s contains 2`),
		query:  "some k; r := data.x[k]",
		inputs: []string{`{"v":"v"}`, `{}`},
	},
	{
		name:    "data/rules and base documents under one prefix",
		modules: []string{"package x.y\n\np := input.v\n", "package x.z\n\nq := 2\n"},
		data:    `{"x":{"base":{"k":1},"y":{"other":true}}}`,
		query:   "r := data.x",
		inputs:  []string{`{"v":"v"}`, `{}`},
	},
	{
		name:    "data/dynamic key into rules of another package",
		modules: []string{"package x.y\n\np := input.v\n", "package x.z\n\np := 2\n", "package w\n\nval := data.x[input.pkg].p\n"},
		query:   "r := data.w.val",
		inputs:  []string{`{"v":"v","pkg":"y"}`, `{"pkg":"z"}`, `{"pkg":"w"}`, `{"pkg":1}`},
	},
	{
		name:    "data/base document under a rule's path",
		modules: []string{"package x.y\n\np := input.v\nq[k] := 1 if some k in input.ks\n"},
		data:    `{"x":{"y":{"p":5,"q":{"a":2},"z":1}}}`,
		query:   "r := [v | v := data.x]; s := [v | v := data.x.y.p]; t := [v | v := data.x.y.q]",
		inputs:  []string{`{"v":"v","ks":["a"]}`, `{"v":5,"ks":["b","a"]}`, `{}`},
	},
	{
		name:    "data/base document scalar where rules are",
		modules: []string{"package x.y\n\np := input.v\n"},
		data:    `{"x":{"y":7}}`,
		query:   "r := [v | v := data.x]; s := [v | v := data.x.y]",
		inputs:  []string{`{"v":"v"}`, `{}`},
	},
	{
		name: "ref head/variable and constant keys under one prefix",
		modules: mod(`a.b[x] := y if some x, y in input.m
a.b.c := 1
a.d contains x if some x, _ in input.m
g := count(a.b)`),
		query:  "r := [v | v := data.x.a.b]; s := [v | v := data.x.a]; t := [v | v := data.x.a.b.c]; g := [v | v := data.x.g]; some k; u := data.x.a.b[k]",
		inputs: []string{`{"m":{"k":"v"}}`, `{"m":{"c":1}}`, `{"m":{"c":2}}`, `{}`},
	},
	{
		name:    "data/dynamic key reaching base data",
		modules: []string{"package x.y\n\np := input.v\n", "package w\n\nval := data.x[input.pkg].p\nall contains [k, v] if { some k; v := data.x[k].p }\n"},
		data:    `{"x":{"b":{"p":"base"},"c":{"q":1}}}`,
		query:   "r := [v | v := data.w.val]; a := data.w.all",
		inputs:  []string{`{"v":"v","pkg":"y"}`, `{"pkg":"b"}`, `{"pkg":"c"}`, `{"pkg":"w"}`},
	},
	// Membership.
	{
		name: "in/membership",
		modules: mod(`a if input.x in input.list
b if "a" in {"a", "b"}
c if {"k": 1} in input.objs
d if "k", 1 in {"k": 1}
e if 1, "b" in input.list
f := input.x in input.list`),
		query:  each("a", "b", "c", "d", "e", "f"),
		inputs: []string{`{"x":1,"list":["a","b"],"objs":[{"k":1}]}`, `{"x":"a","list":["a"],"objs":[{"k":2}]}`, `{"list":[]}`},
	},
	// walk.
	{
		name: "walk/paths and count",
		modules: mod(`paths contains p if { walk(input, [p, v]); v == 1 }
n := count([1 | walk(input, _)])`),
		query:  "r := data.x.paths; n := data.x.n",
		inputs: []string{`{"a":{"b":1,"c":[1,2]},"d":1}`, `{}`, `1`},
	},
	// Built-ins that fail.
	{
		name:    "builtin error/to_number",
		modules: mod(`p := to_number(input.s)`),
		query:   "r := data.x.p",
		inputs:  []string{`{"s":"12"}`, `{"s":"abc"}`, `{}`},
	},
	{
		name:    "builtin error/divide by zero",
		modules: mod(`p := input.a / input.b`),
		query:   "r := data.x.p",
		inputs:  []string{`{"a":1,"b":2}`, `{"a":1,"b":0}`},
	},
	{
		name: "builtin error/wrong operand types",
		modules: mod(`p := count(input.v)
q if startswith(input.v, "a")`),
		query:  "r := data.x.p; data.x.q",
		inputs: []string{`{"v":"abc"}`, `{"v":5}`, `{"v":[1]}`},
	},
	{
		name:    "builtin error/inside not",
		modules: mod(`p if not to_number(input.s) == 1`),
		query:   "r := data.x.p",
		inputs:  []string{`{"s":"1"}`, `{"s":"2"}`, `{"s":"x"}`},
	},
	{
		name:    "builtin error/inside a comprehension",
		modules: mod(`p := [to_number(s) | some s in input.xs]`),
		query:   "r := data.x.p",
		inputs:  []string{`{"xs":["1","2"]}`, `{"xs":["1","x"]}`},
	},
	{
		name: "builtin error/after a body already held",
		modules: mod(`p if { some x in input.xs; to_number(x) > 0 }
q contains x if { some x in input.xs; to_number(x) > 0 }
r := 1 if { to_number(input.xs[0]) > 0 } else := 2 if { to_number(input.xs[1]) > 0 }
f(xs) if { some x in xs; to_number(x) > 0 }
s := f(input.xs)`),
		query:  each("p", "q", "r", "s"),
		inputs: []string{`{"xs":["1","abc"]}`, `{"xs":["abc","1"]}`, `{"xs":["-1","2"]}`},
	},
	// Undefined and false.
	{
		name: "undefined/false versus undefined",
		modules: mod(`p := input.flag
q if input.flag == false
t := input.a == input.b`),
		query:  "r := [x | x := data.x.p]; q := [x | x := data.x.q]; t := [x | x := data.x.t]",
		inputs: []string{`{"flag":false,"a":1,"b":1}`, `{"flag":true,"a":1,"b":2}`, `{}`},
	},
	{
		name:    "undefined/function argument",
		modules: mod(`f(x) := [x]`),
		query:   "r := data.x.f(input.missing)",
		inputs:  []string{`{}`, `{"missing":null}`},
	},
	{
		name: "undefined/false-valued rules and functions",
		modules: mod(`p := false
f(x) := false if x == 1
f(x) := true if x == 2
q if p
r if not p
s if not f(input.n)
t if f(input.n)`),
		query:  each("p", "q", "r", "s", "t"),
		inputs: []string{`{"n":1}`, `{"n":2}`, `{"n":3}`},
	},
	{
		name: "ordering/values of different types",
		modules: mod(`order := [null < false, false < 0, 0 < "", "" < [], [] < {}, [1] < [1, 0], {"a": 1} < {"b": 0}, input.a < input.b]
sorted := sort([input.a, input.b, "s", 1, null, false, [1], {"k": 1}, {1}])`),
		query:  each("order", "sorted"),
		inputs: []string{`{"a":1,"b":"1"}`, `{"a":[1,2],"b":[1,3]}`, `{"a":{"a":1},"b":{"a":1.0}}`},
	},
	{
		name:    "objects/composite keys from a partial object",
		modules: mod(`o[x] := 1 if some x in input.xs`),
		query:   "n := count(data.x.o); r := data.x.o[[2]]",
		inputs:  []string{`{"xs":[1,[2],{"a":1}]}`, `{"xs":["a"]}`},
	},
	{
		name: "builtins/the evaluation's time",
		modules: mod(`p if time.now_ns() > 1700000000000000000
q if time.now_ns() == time.now_ns()`),
		query:  each("p", "q"),
		inputs: []string{``},
	},
	{
		name: "constants/escaped strings and number literals",
		modules: mod(`s := "é\n\"\t\\ \u263a"
eq if input.s == "é\n"
nums := [1e3, -0, 0.1, 1E-2, 12345678901234567890123, -7.5e+2, 0.0]
big if 1e3 == 1000
raw := ` + "`a\\nb`" + ``),
		query:  each("s", "eq", "nums", "big", "raw"),
		inputs: []string{`{"s":"é\n"}`, `{"s":"e"}`},
	},
	// Literals: fuse makes them in one statement, or once when constant.
	{
		name: "literals/constant array object set, nested",
		modules: mod(`o := {"a": 1, "b": null, "c": [1, "x", 2.5, true], "d": {"x": "y", "z": {"w": []}}, "e": {1, 2, 1.0}, "f": {}, "g": set()}
in_set if object.get(input, "e", null) in {null, "", 1, 2.5, true}
in_arr if input.e in ["a", "b", null]
grown := array.concat(["a", "b"], [input.e])
added := [x | some x in {"a", "b"}]`),
		query:  each("o", "in_set", "in_arr", "grown", "added"),
		inputs: []string{`{"e":null}`, `{"e":""}`, `{"e":1.0}`, `{"e":"b"}`, `{"e":[1]}`, `{}`},
	},
	{
		name: "literals/made from input",
		modules: mod(`a := [input.a, "x", input.b, [input.a, {"k": input.b}]]
o := {"k": input.a, "l": [input.b, 1], "m": {input.a, input.b, 1}, "n": {"p": input.a}}
s := {input.a, input.b, 1, 1.0, "x"}
n := count({input.a, input.b})
dup := {"k": input.a, "k2": input.a}
nk := {input.a: 1, "z": 2}
msg := sprintf("%v %v", [input.a, o])`),
		query:  each("a", "o", "s", "n", "dup", "nk", "msg"),
		inputs: []string{`{"a":1,"b":1.0}`, `{"a":"x","b":"y"}`, `{"a":{"x":[1]},"b":{"x":[1]}}`, `{"a":1}`, `{}`},
	},
	{
		name: "literals/constant set of objects as the alert rules write it",
		modules: mod(`alert contains {} if input.a == 1
alert contains {} if input.b == 1
alert contains {"k": [1, "x"]} if input.a
other contains {"k": input.a} if input.a`),
		query:  "r := data.x.alert; s := data.x.other; t := data.x.alert[_]",
		inputs: []string{`{"a":1,"b":1}`, `{"a":true}`, `{"b":1}`, `{}`},
	},
	{
		name: "literals/sets made empty and added to later",
		modules: mod(`s := {x | some x in input.xs}
e if s == set()
n := count(s)
both := [s, {x | some x in input.xs; x > 1}, {"k": s}]
alert contains x if some x in input.xs
none contains x if { some x in input.xs; x > 100 }
u := alert | none
eq if alert == {x | some x in input.xs}`),
		query:  each("s", "e", "n", "both", "alert", "none", "u", "eq"),
		inputs: []string{`{"xs":[]}`, `{"xs":[1,2,2,1.0]}`, `{"xs":{"a":3}}`, `{}`},
	},
	// Numbers.
	{
		name: "numbers/1 and 1.0",
		modules: mod(`a if 1 == 1.0
b if input.n == 1
c := count({1, 1.0, input.n})
d := {1: "one"}[input.n]
e if input.n in [1]
f := [10, 20][input.n]
g if 12345678901234567890 == 12345678901234567890.0
h := input.n + 0.5`),
		query:  each("a", "b", "c", "d", "e", "f", "g", "h"),
		inputs: []string{`{"n":1.0}`, `{"n":1}`, `{"n":1.5}`},
	},
	{
		name: "numbers/arithmetic and comparison",
		modules: mod(`p := [input.a + input.b, input.a - input.b, input.a * input.b, input.a % 3, input.a > input.b, input.a <= input.b]
q := round(input.a / 3)`),
		query:  "r := data.x.p; q := data.x.q",
		inputs: []string{`{"a":7,"b":2}`, `{"a":-1.5,"b":2}`},
	},
	// Composite values.
	{
		name: "equality/composite values",
		modules: mod(`eq if input.a == input.b
ne if input.a != input.b`),
		query: "r := [x | x := data.x.eq]; s := [x | x := data.x.ne]",
		inputs: []string{
			`{"a":{"x":1,"y":[1,2]},"b":{"y":[1,2],"x":1}}`,
			`{"a":[1,2],"b":[2,1]}`,
			`{"a":"s","b":"s"}`,
			`{"a":{"x":1},"b":{"x":1.0}}`,
			`{"a":null,"b":false}`,
		},
	},
	{
		name: "equality/sets of objects",
		modules: mod(`s := {{"a": 1}, {"a": 1}, {"b": [2]}}
n := count(s)
has if {"b": [2]} in s
eq if s == {{"b": [2]}, {"a": 1.0}}`),
		query:  "r := [data.x.n, data.x.has, data.x.eq]; s := data.x.s",
		inputs: []string{``},
	},
	{
		name: "unification/destructuring",
		modules: mod(`p := a + b if [a, b] = input.pair
q := v if {"k": v} = input.o
s := v if { [_, {"z": v}] := input.nested }`),
		query:  "r := [x | x := data.x.p]; q := [x | x := data.x.q]; s := [x | x := data.x.s]",
		inputs: []string{`{"pair":[1,2],"o":{"k":"v"},"nested":[0,{"z":3}]}`, `{"pair":[1],"o":{"k":"v","j":1},"nested":[0,{"y":3}]}`},
	},
	// Strings and other built-ins.
	{
		name: "builtins/strings",
		modules: mod(`p := [sprintf("%s-%d", [input.s, input.n]), concat(",", split(input.s, "b")), lower(input.s), count(input.s), regex.match("^a.c", input.s), glob.match("a*", [], input.s)]
q := trim_space(input.s)`),
		query:  "r := data.x.p; q := data.x.q",
		inputs: []string{`{"s":"abc","n":3}`, `{"s":"héllo","n":1}`},
	},
	{
		name: "builtins/objects and arrays",
		modules: mod(`p := object.get(input.o, "k", "dflt")
q := object.union(input.o, {"z": 1})
r := array.concat(input.xs, [9])
s := json.unmarshal(input.j)
t := object.keys(input.o)
u := object.get(input.o, ["a", "b"], 0)`),
		query:  "r := [data.x.p, data.x.q, data.x.r, data.x.s, data.x.t, data.x.u]",
		inputs: []string{`{"o":{"k":1,"a":{"b":2}},"xs":[1],"j":"{\"a\":[1]}"}`, `{"o":{},"xs":[],"j":"[]"}`},
	},
	{
		name:    "builtins/json.unmarshal error",
		modules: mod(`p := json.unmarshal(input.j)`),
		query:   "r := data.x.p",
		inputs:  []string{`{"j":"{"}`, `{"j":"1"}`},
	},
	// print() without a hook: no output, and the body goes on.
	{
		name: "print/no hook",
		modules: mod(`p if { print("x is", input.x, input.missing); input.x > 1 }
f(v) := v if print(v)`),
		query:  "r := [x | x := data.x.p]; s := data.x.f(input.x)",
		inputs: []string{`{"x":2}`, `{"x":0}`},
		print:  true,
	},
	// More built-ins, and what they need from the evaluation.
	{
		name:    "builtins/jwt verification reads the evaluation's time",
		modules: mod(`p := io.jwt.decode_verify(input.t, {"secret": "s"})`),
		query:   "r := data.x.p",
		inputs: []string{
			// HS256 over {"alg":"HS256","typ":"JWT"}.{"sub":"1"} with key "s"; and rubbish.
			`{"t":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.6sENuoKdZ8BFXWmvgmpsuiJNmdTf1tUcK5TUkD_JDQc"}`,
			`{"t":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjoxfQ.x"}`,
			`{"t":"x"}`,
		},
	},
	{
		name: "builtins/net and time",
		modules: mod(`cidr := net.cidr_contains(input.net, input.ip)
ns := time.parse_rfc3339_ns(input.ts)
day := time.weekday(ns)`),
		query:  each("cidr", "ns", "day"),
		inputs: []string{`{"net":"10.0.0.0/8","ip":"10.1.2.3","ts":"2024-01-02T03:04:05Z"}`, `{"net":"bad","ip":"10.1.2.3","ts":"x"}`},
	},
	{
		name: "builtins/sets and aggregates",
		modules: mod(`u := input.a | input.b
i := input.a & input.b
d := input.a - input.b
n := [sum(input.xs), max(input.xs), min(input.xs), count(input.xs)]
sorted := sort(input.xs)
rng := numbers.range(1, 3)`),
		query:  each("u", "i", "d", "n", "sorted", "rng"),
		inputs: []string{`{"a":{1,2},"b":{2,3},"xs":[3,1,2]}`, `{"a":{1},"b":[1],"xs":[]}`, `{"a":{1},"b":{1},"xs":["a"]}`},
	},
	{
		name: "builtins/string slicing",
		modules: mod(`a := substring(input.s, 1, 2)
b := indexof(input.s, "l")
c := strings.replace_n({"l": "L"}, input.s)
d := array.slice([1, 2, 3, 4], 1, 3)
e := split(input.s, "")
f := format_int(input.n, 16)`),
		query:  each("a", "b", "c", "d", "e", "f"),
		inputs: []string{`{"s":"hello","n":255}`, `{"s":"","n":-1.5}`, `{"s":1,"n":"x"}`},
	},
	// Iteration corners.
	{
		name: "iteration/negative and fractional array index",
		modules: mod(`a := input.xs[input.i]
b contains x if { some i; x := input.xs[i]; i >= input.i }`),
		query:  each("a", "b"),
		inputs: []string{`{"xs":[1,2],"i":-1}`, `{"xs":[1,2],"i":1.0}`, `{"xs":[1,2],"i":0.5}`, `{"xs":{"1":"s"},"i":1}`},
	},
	{
		name: "iteration/over scalars and null",
		modules: mod(`a contains x if some x in input.v
b contains k if some k, _ in input.v
c := count(input.v)`),
		query:  each("a", "b"),
		inputs: []string{`{"v":"str"}`, `{"v":null}`, `{"v":1}`, `{"v":true}`, `{}`},
	},
	{
		name:    "complete/several values from one body",
		modules: mod(`p := x if some x in input.xs`),
		query:   "r := data.x.p",
		inputs:  []string{`{"xs":[1]}`, `{"xs":[1,1]}`, `{"xs":[1,2]}`, `{"xs":[]}`},
	},
	{
		name: "complete/whole input and root documents",
		modules: mod(`whole := input
users := data.users`),
		data:   `{"users":["a"]}`,
		query:  each("whole", "users"),
		inputs: []string{``, `{"a":1}`, `[1,2]`, `"s"`, `null`},
	},
	{
		name: "in/partial rules",
		modules: mod(`s contains x if some x in input.xs
o[k] := true if some k in input.xs
a if "a" in s
b if true in o
c if some "a", true in o`),
		query:  each("a", "b", "c"),
		inputs: []string{`{"xs":["a"]}`, `{"xs":["b"]}`},
	},
	{
		name: "objects/non-string keys",
		modules: mod(`o := {1: "a", "1": "b"}
v := [o[1], o["1"]]
k := object.keys({[1]: 1, true: 2})`),
		query:  "r := data.x.v; n := count(data.x.o); k := data.x.k",
		inputs: []string{``},
	},
	{
		name: "function/else without value and nested not",
		modules: mod(`f(x) if { x > 1 } else = false
g(x) := "n" if { not f(x) } else := "y"
h(x) if { not g(x) == "y" }`),
		query:  "r := [data.x.f(input.n), data.x.g(input.n)]; s := [v | v := data.x.h(input.n)]",
		inputs: []string{`{"n":2}`, `{"n":0}`, `{"n":"a"}`},
	},
	{
		name: "function/argument is a collection from a comprehension",
		modules: mod(`total(xs) := sum([x | some x in xs])
p := total({x | some x in input.xs})`),
		query:  "r := data.x.p",
		inputs: []string{`{"xs":[1,1,2]}`, `{"xs":["a"]}`},
	},
	{
		name: "data/iterating base documents",
		modules: mod(`admins contains n if { some n, u in data.users; u.role == "admin" }
roles := {r | some u in data.users; r := u.role}
bykey[k] := count(v) if some k, v in data.groups`),
		data:   `{"users":{"a":{"role":"admin"},"b":{"role":"dev"},"c":{"role":"admin"}},"groups":{"g":[1,2],"h":[]}}`,
		query:  each("admins", "roles", "bykey"),
		inputs: []string{``},
	},
	{
		name: "rules/many alerts as the engine asks",
		modules: []string{`package rules.pack.name

alert contains {"msg": msg, "sev": sev} if {
	some r in input.Records
	r.eventName in {"DeleteTrail", "StopLogging"}
	not r.errorCode
	sev := severity(r)
	msg := sprintf("%s by %s", [r.eventName, object.get(r.userIdentity, "arn", "?")])
}

severity(r) := "high" if { r.userIdentity.type == "Root" } else := "medium"`},
		query:  `data.rules["pack"]["name"].alert[result]`,
		inputs: []string{`{"Records":[{"eventName":"StopLogging","userIdentity":{"type":"Root"}},{"eventName":"DeleteTrail","errorCode":"x"},{"eventName":"DeleteTrail","userIdentity":{"arn":"a"}}]}`, `{"Records":[]}`},
	},
	// Refusals: the engine runs these with OPA's evaluator.
	{
		name:    "refuse/with in the query",
		modules: mod(`p := input.a`),
		query:   `r := data.x.p with input as {"a": 1}`,
		refuse:  true,
	},
	{
		name: "refuse/with in a rule",
		modules: mod(`p := input.a
q := v if { v := p with input as {"a": 1} }`),
		query:  "r := data.x.q",
		refuse: true,
	},
	{
		name:    "refuse/built-in that needs the evaluator",
		modules: mod(`p := opa.runtime()`),
		query:   "r := data.x.p",
		refuse:  true,
	},
	// Queries and rules with more than one result.
	{
		name:    "query/several variables",
		modules: mod(`m := {"a": [1, 2], "b": [3]}`),
		query:   "some k; some i; v := data.x.m[k][i]",
		inputs:  []string{``},
	},
	{
		name:    "query/bare reference",
		modules: mod(`p if input.a`),
		query:   "data.x.p",
		inputs:  []string{`{"a":true}`, `{"a":false}`},
	},
	{
		name: "rules/chained rules with input",
		modules: mod(`user := input.user
admin if data.x.user.role == "admin"
alert contains msg if { admin; some a in input.actions; msg := sprintf("%s did %s", [user.name, a]) }`),
		query:  "data.x.alert[result]",
		inputs: []string{`{"user":{"role":"admin","name":"n"},"actions":["x","y"]}`, `{"user":{"role":"dev"},"actions":["x"]}`},
	},
}

// fastBuiltinCases are one case per call of the built-ins irvm answers
// itself (strs.go), so that a built-in's type error on one input does not
// hide another's answer.
func fastBuiltinCases() []diffCase {
	rules := strings.Split(`lo := lower(input.s)
up := upper(input.s)
lo_eq if lower(input.s) == "assumedrole"
lo_in if lower(input.s) in {"assumedrole", "", "ärger", "x"}
sw := startswith(input.s, input.t)
ew := endswith(input.s, input.t)
co := contains(input.s, input.t)
pre := strings.any_prefix_match(input.s, ["Ass", "ass", "", "Ä"])
pre_t := strings.any_prefix_match(input.s, input.t)
suf := strings.any_suffix_match(input.s, ["role", "Role", "ß"])
suf_t := strings.any_suffix_match(input.s, input.t)
late := strings.any_prefix_match(input.s, ["A", input.n])
both := strings.any_prefix_match([input.s, "b"], input.t)
lo_again := lower(lower(input.s))
is_s := is_string(input.s)
is_n := is_number(input.s)
is_b := is_boolean(input.s)
is_nl := is_null(input.s)
is_a := is_array(input.s)
is_st := is_set(input.t)
is_o := is_object(input.s)
is_in := is_object(input)
in_t := input.s in input.t
in_arr := input.s in [1, "a", [1], {"k": 1}, null, "ärger"]
in_lit := input.s in {1, "assumedrole", "A", ["A"]}
in_low := lower(input.s) in {"assumedrole", "ärger"}`, "\n")
	inputs := []string{
		`{"s":"AssumedRole","t":"Ass","n":1}`, `{"s":"assumedrole","t":"role","n":"x"}`, `{"s":"ASSUMEDROLE","t":["x","ASS"]}`,
		`{"s":"","t":""}`, `{"s":"Ärger ß İstanbul ǅ","t":"ß"}`, `{"s":"ärger","t":{"ä"}}`, `{"s":"ÄRGER","t":["Ä"]}`,
		`{"s":"` + "AbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAbAb" + `","t":"Ab"}`, `{"s":1,"t":"a"}`, `{"s":"a","t":1}`, `{"s":null,"t":null}`,
		`{"s":["A"],"t":["a"]}`, `{"s":1.0,"t":[1]}`, `{"s":{"k":1},"t":{"a":{"k":1.0}}}`, `{"s":true,"t":[true]}`, `{"s":"a","t":"abc"}`, `{"s":{"A":1},"t":"A"}`, `{"s":"x1-_.Z","t":"x"}`, `{"t":"a"}`, `{}`,
	}
	var cases []diffCase
	for _, r := range rules {
		name, _, _ := strings.Cut(r, " ")
		cases = append(cases, diffCase{name: "builtins/fast " + name, modules: mod(r), query: each(name), inputs: inputs})
	}
	return cases
}

// oneSetCases use a partial set of one element (an oneSet) wherever a set
// can go, each use in its own query: the first use that makes the set whole
// makes it whole for the rest of the evaluation.
func oneSetCases() []diffCase {
	uses := map[string]string{
		"is_set": "is_set(s)", "count": "count(s)", "in": "3 in s", "dot": "s[3]", "f": "f(s)",
		"eq": "s == {3}", "neq": "s != {3}", "arr": "[s]", "obj": `{"s": s}`, "set": "{s}",
		"ref": "count({k | s[k]})", "union": "s | {9}", "every": "true if { every v in s { v == 3 } }",
		"scan": `concat(",", [sprintf("%v", [v]) | some v in s])`, "add": "s2",
	}
	var cases []diffCase
	for name, use := range uses {
		cases = append(cases, diffCase{
			name: "partial set/one element: " + name,
			modules: mod(`s contains x if { some x in input.a }
s contains 7 if input.seven
s2 contains x if { some x in s }
s2 contains 8 if input.eight
f(y) := count(y)
t := ` + use),
			query:  "r := data.x.t",
			inputs: []string{`{"a":[3]}`, `{"a":[4]}`, `{"a":[3,3]}`, `{"a":[3],"seven":true}`, `{"a":[7],"seven":true}`, `{"a":[]}`, `{"a":[3],"eight":true}`},
		})
	}
	return cases
}

func TestDifferential(t *testing.T) {
	ctx := context.Background()
	seen := map[string]bool{}
	for _, tc := range append(append(diffCases, fastBuiltinCases()...), oneSetCases()...) {
		if seen[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			diff, err := compare(ctx, tc)
			if err != nil {
				t.Fatal(err)
			}
			if diff != "" {
				t.Errorf("query %s disagrees, %s", tc.query, diff)
			}
		})
	}
}

// TestEvalConcurrently runs every case's program from several goroutines at
// once (under -race in CI): a Program is shared by the engine's workers, so
// an evaluation must change nothing in it.
func TestEvalConcurrently(t *testing.T) {
	ctx := context.Background()
	for _, tc := range append(append(diffCases, fastBuiltinCases()...), oneSetCases()...) {
		if tc.refuse {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			cc, err := compileCase(tc)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := Plan(ctx, cc.compiler, inmem.NewFromObject(cc.data), tc.query)
			if err != nil {
				t.Fatal(err)
			}
			data, err := ast.InterfaceToValue(cc.data)
			if err != nil {
				t.Fatal(err)
			}
			inputs := tc.inputs
			if len(inputs) == 0 {
				inputs = []string{""}
			}
			want := make([]string, len(inputs))
			for i, in := range inputs {
				input, err := parseInput(in)
				if err != nil {
					t.Fatal(err)
				}
				want[i] = irvmEval(ctx, prog, input, data).String()
			}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 5 {
						for i, in := range inputs {
							input, _ := parseInput(in)
							if got := irvmEval(ctx, prog, input, data).String(); got != want[i] {
								t.Errorf("input %s: %s concurrently, %s alone", in, got, want[i])
								return
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestEvalCancelled: a cancelled evaluation stops with ErrCancelled rather
// than running a long scan to its end.
func TestEvalCancelled(t *testing.T) {
	ctx := context.Background()
	tc := diffCase{modules: mod(`n := count([1 | some i in input; some j in input; i == j])`), query: "r := data.x.n"}
	cc, err := compileCase(tc)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Plan(ctx, cc.compiler, inmem.New(), tc.query)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([]*ast.Term, 2000)
	for i := range xs {
		xs[i] = ast.IntNumberTerm(i)
	}
	input := ast.NewArray(xs...)
	c := topdown.NewCancel()
	c.Cancel()
	if _, err := prog.Eval(ctx, ast.NewTerm(input), ast.NewTerm(ast.NewObject()), Options{Cancel: c}); !errors.Is(err, ErrCancelled) {
		t.Fatalf("cancelled evaluation: %v, want ErrCancelled", err)
	}
	rs, err := prog.Eval(ctx, ast.NewTerm(input), ast.NewTerm(ast.NewObject()), Options{Cancel: topdown.NewCancel()})
	if err != nil || len(rs) != 1 {
		t.Fatalf("evaluation: %v, %v", rs, err)
	}
	if n := rs[0].Value.(ast.Object).Get(ast.StringTerm("r")); n == nil || n.Value.Compare(ast.Number("2000")) != 0 {
		t.Fatalf("r = %v, want 2000", n)
	}
}

// TestEvalVarErrors: EvalVar names a variable the query does not have, and
// stops at the first error of its callback with that error.
func TestEvalVarErrors(t *testing.T) {
	ctx := context.Background()
	tc := diffCase{modules: mod(`s contains x if some x in input`), query: "data.x.s[v]"}
	cc, err := compileCase(tc)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Plan(ctx, cc.compiler, inmem.New(), tc.query)
	if err != nil {
		t.Fatal(err)
	}
	in, data := ast.ArrayTerm(ast.IntNumberTerm(1), ast.IntNumberTerm(2)), ast.ObjectTerm()
	none := func(*ast.Term) error { return nil }
	if err := prog.EvalVar(ctx, in, data, "w", Options{}, none); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Fatalf("EvalVar of a variable the query does not have: %v", err)
	}
	stop := errors.New("stop")
	calls := 0
	err = prog.EvalVar(ctx, in, data, "v", Options{}, func(*ast.Term) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("EvalVar after a failing callback: %v after %d calls, want stop after 1", err, calls)
	}
	var got []string
	if err := prog.EvalVar(ctx, in, data, "v", Options{}, func(v *ast.Term) error { got = append(got, v.String()); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "1,2" {
		t.Fatalf("EvalVar's values %v, want 1,2", got)
	}
}
